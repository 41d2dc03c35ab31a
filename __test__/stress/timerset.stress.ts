// Timer-set churn: 5M resets and stops of 1M keys in one set, interleaved with their expiries:
// every return value true to a model of the keys, no key run that the model does not hold
// pending, none early, none lost, and the set's size always the model's. One child per engine
// (children/timerset.cjs has the bookkeeping).

import { describe, expect, test } from 'vitest'
import { expectClean, record, runScenario, scaled } from './harness.ts'

interface TimerSetResult {
  keys: number
  ops: number
  resets: number
  stops: number
  runs: number
  lost: number
  unexpected: number
  early: number
  resetMismatch: number
  stopMismatch: number
  sizeMismatch: number
  wallMs: number
  peakRssMB: number
}

const KEYS = scaled(1_000_000)
const OPS = scaled(5_000_000)

describe.each(['native', 'js'] as const)('timer-set churn on the %s engine', (kind) => {
  test(`${OPS.toLocaleString('en')} resets and stops of ${KEYS.toLocaleString('en')} keys: exact accounting`, async () => {
    const run = await runScenario<TimerSetResult>('timerset.cjs', kind, { STRESS_KEYS: KEYS, STRESS_OPS: OPS }, 10 * 60_000)
    const r = expectClean(run, `timer-set churn (${kind})`)
    record(`timerset.${kind}`, { ...r, wallMs: Math.round(r.wallMs), peakRssMB: Math.round(r.peakRssMB) })
    expect(r.resets + r.stops).toBe(OPS)
    expect(r.runs).toBeGreaterThan(0)
    expect({ lost: r.lost, unexpected: r.unexpected, early: r.early, resetMismatch: r.resetMismatch, stopMismatch: r.stopMismatch, sizeMismatch: r.sizeMismatch }).toEqual({
      lost: 0,
      unexpected: 0,
      early: 0,
      resetMismatch: 0,
      stopMismatch: 0,
      sizeMismatch: 0,
    })
  }, 12 * 60_000)
})
