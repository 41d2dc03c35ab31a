// Soak: 100 cycles of arming 1M timers, half of which fire and half are stopped; after each
// cycle (two full GCs) RSS and the V8 heap must be back at the baseline, ±5%. The baseline is
// the reading after a warm-up that holds 1M timers at once (growing the structures kept at
// their high-water mark by design: the scheduler's slot table and generations, the engine's
// per-slot storage) and one ordinary cycle; the reading before any timer is reported beside it.
// One child process per engine (children/soak.cjs).

import { describe, expect, test } from 'vitest'
import { expectClean, record, round, runScenario, scaled } from './harness.ts'

interface Reading {
  rssMB: number
  heapUsedMB: number
  externalMB: number
  ms: number
}
interface SoakResult {
  backend: string
  n: number
  cycles: number
  before: Reading
  afterWarmUp: Reading
  baseline: Reading
  peakRssMB: number
  cyclesData: Reading[]
  errors: unknown[]
}

const CYCLES = scaled(100)
const N = scaled(1_000_000)
const TOLERANCE = 0.05

describe.each(['native', 'js'] as const)('soak on the %s engine', (kind) => {
  test(`${CYCLES} cycles of ${N.toLocaleString('en')} timers fired or stopped: RSS and heap back to baseline ±5%`, async () => {
    const r = expectClean(
      await runScenario<SoakResult>('soak.cjs', kind, { SOAK_CYCLES: CYCLES, SOAK_N: N }, 15 * 60_000),
      `soak (${kind})`,
    )
    const base = r.baseline
    const cycles = r.cyclesData.slice(1)
    const last = cycles[cycles.length - 1]!
    const tail = cycles.slice(-10)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const ratio = (x: number, b: number) => round(x / b, 3)
    record(`soak.${kind}`, {
      cycles: r.cycles,
      timersPerCycle: r.n,
      beforeAnyTimer: { rssMB: round(r.before.rssMB), heapUsedMB: round(r.before.heapUsedMB, 2) },
      baseline: { rssMB: round(base.rssMB), heapUsedMB: round(base.heapUsedMB, 2), externalMB: round(base.externalMB, 2) },
      final: { rssMB: round(last.rssMB), heapUsedMB: round(last.heapUsedMB, 2), externalMB: round(last.externalMB, 2) },
      finalVsBaseline: { rss: ratio(last.rssMB, base.rssMB), heap: ratio(last.heapUsedMB, base.heapUsedMB) },
      rangeVsBaseline: {
        rss: [ratio(Math.min(...cycles.map((c) => c.rssMB)), base.rssMB), ratio(Math.max(...cycles.map((c) => c.rssMB)), base.rssMB)],
        heap: [ratio(Math.min(...cycles.map((c) => c.heapUsedMB)), base.heapUsedMB), ratio(Math.max(...cycles.map((c) => c.heapUsedMB)), base.heapUsedMB)],
      },
      perCycle: {
        rssMB: cycles.map((c) => round(c.rssMB)),
        heapUsedMB: cycles.map((c) => round(c.heapUsedMB, 2)),
        ms: cycles.map((c) => Math.round(c.ms)),
      },
      peakRssMB: Math.round(r.peakRssMB),
      totalMs: Math.round(r.cyclesData.reduce((a, c) => a + c.ms, 0)),
    })
    expect(r.errors).toEqual([])
    expect(cycles).toHaveLength(CYCLES)
    for (const [what, x, b] of [
      ['final RSS', last.rssMB, base.rssMB],
      ['final heap', last.heapUsedMB, base.heapUsedMB],
      ['mean RSS of the last 10 cycles', mean(tail.map((c) => c.rssMB)), base.rssMB],
      ['mean heap of the last 10 cycles', mean(tail.map((c) => c.heapUsedMB)), base.heapUsedMB],
    ] as const) {
      expect(Math.abs(x / b - 1), `${what}: ${round(x, 2)} MB against a baseline of ${round(b, 2)} MB`).toBeLessThanOrEqual(TOLERANCE)
    }
  })
})
