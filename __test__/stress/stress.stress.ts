// Stress: 10M timers armed at random durations in 0–2 s, a random half stopped and a random
// quarter reset, each at a random moment (before or after it fired): zero lost, zero doubled,
// zero early, and every stop()/reset() result true to the timer's state. One child process per
// engine (children/stress.cjs has the bookkeeping); wall time and peak RSS are reported.

import { describe, expect, test } from 'vitest'
import { expectClean, record, round, runScenario, scaled } from './harness.ts'

interface StressResult {
  backend: string
  n: number
  armMs: number
  wallMs: number
  peakRssMB: number
  runs: number
  runsPromised: number
  lost: number
  doubled: number
  early: number
  ranAfterStop: number
  stopMismatch: number
  resetMismatch: number
  stopTrue: number
  stopFalse: number
  resetTrue: number
  resetFalse: number
  untouched: number
  lateP50Ms: number
  lateP99Ms: number
  lateMaxMs: number
}

const N = scaled(10_000_000)

describe.each(['native', 'js'] as const)('stress on the %s engine', (kind) => {
  test(`${N.toLocaleString('en')} timers, half stopped, a quarter reset: none lost, doubled or early`, async () => {
    // 10M closures and Timer objects at once need more than V8's default old space on some hosts.
    const run = await runScenario<StressResult>('stress.cjs', kind, { STRESS_N: N }, 15 * 60_000, ['--max-old-space-size=8192'])
    const r = expectClean(run, `stress (${kind})`)
    record(`stress.${kind}`, {
      timers: r.n,
      wallMs: Math.round(r.wallMs),
      armMs: Math.round(r.armMs),
      peakRssMB: Math.round(r.peakRssMB),
      lost: r.lost,
      doubled: r.doubled,
      early: r.early,
      ranAfterStop: r.ranAfterStop,
      stopResultWrong: r.stopMismatch,
      resetResultWrong: r.resetMismatch,
      runs: r.runs,
      stop: { true: r.stopTrue, false: r.stopFalse },
      reset: { true: r.resetTrue, false: r.resetFalse },
      untouched: r.untouched,
      latenessMs: { p50: r.lateP50Ms, p99: r.lateP99Ms, max: round(r.lateMaxMs) },
    })
    expect(r.backend).toBe(kind)
    expect(r.n).toBe(N)
    expect({ lost: r.lost, doubled: r.doubled, early: r.early, ranAfterStop: r.ranAfterStop }).toEqual({ lost: 0, doubled: 0, early: 0, ranAfterStop: 0 })
    expect({ stopMismatch: r.stopMismatch, resetMismatch: r.resetMismatch }).toEqual({ stopMismatch: 0, resetMismatch: 0 })
    expect(r.runs).toBe(r.runsPromised)
    // The operations did hit both sides of the race: before and after the timer ran.
    expect(Math.min(r.stopTrue, r.stopFalse, r.resetTrue, r.resetFalse)).toBeGreaterThan(0)
    expect(r.stopTrue + r.stopFalse).toBeGreaterThan(N * 0.45)
    expect(r.resetTrue + r.resetFalse).toBeGreaterThan(N * 0.2)
  })
})
