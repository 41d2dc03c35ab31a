// Soak: 100 cycles of arming 1M timers, half of which fire and half are stopped; after each
// cycle (two full GCs) RSS and the V8 heap must be back at the baseline, ±5%, and must not
// keep growing. The baseline comes after a warm-up that holds 1M timers at once (growing the
// structures kept at their high-water mark by design: the scheduler's slot table and
// generations, the engine's per-slot storage) and SETTLE_CYCLES ordinary cycles, checked but
// not measured (chosen when glibc's per-thread arenas still let RSS creep up 3-6 MB over the
// first hundred or so cycles; see below): the median of the readings after the first
// BASELINE_CYCLES measured cycles. One reading is not enough:
// RSS after a cycle moves by a few MB either way (malloc's and V8's free pages), and a single
// low first reading once put the bar 3% lower than the settled level. A leak shows as growth:
// the second half of the cycles must not trend upward by more than MAX_GROWTH_MB over 100
// cycles. The readings before any timer, after the warm-up and after the settling cycles are
// reported beside them. One child process per engine (children/soak.cjs).
//
// The children run with MALLOC_ARENA_MAX=1: glibc then serves every thread (the JavaScript
// thread, the wheel thread, V8's and libuv's workers) from one heap instead of one arena per
// thread. With the per-thread arenas, RSS kept creeping by 1-5 MB over the measured cycles
// (the native engine's CI run at ba86df5 ended 3.9% above its baseline, of the 5% allowed)
// with nothing leaked; with one heap it stays flat (native, 60 cycles: 113-116 MB, trend -1.2
// MB per 100 cycles; default arenas in the same comparison: 122.6-128.1 MB, +1.4 MB). A leak
// grows that one heap just the same, so the bars below still catch one.

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
  settle: number
  before: Reading
  afterWarmUp: Reading
  afterSettle: Reading
  peakRssMB: number
  cyclesData: Reading[]
  errors: unknown[]
}

const CYCLES = scaled(100)
const N = scaled(1_000_000)
const TOLERANCE = 0.05
const BASELINE_CYCLES = 5
/**
 * Ordinary cycles run after the warm-up and before the first measured one. With 10 and glibc's
 * default arenas, a CI run of the native engine ended 4.0% above its baseline (of the 5%
 * allowed); most of that creep was in the first 40 cycles (see children/soak.cjs). Kept with
 * MALLOC_ARENA_MAX=1, which leaves V8's own settling.
 */
const SETTLE_CYCLES = 40
/**
 * The largest upward trend allowed over the second half of the cycles, scaled to 100 cycles.
 * Measured with glibc's default arenas over cycles 50-100 counted from the warm-up: 2.8 MB
 * (TypeScript engine, quiet run), 5.1 MB (TypeScript engine, a CI run, which failed the 5 MB
 * bar this had then), 2.6 MB (native); over cycles 100-300 of 300-cycle runs 0.6-0.8 MB
 * (TypeScript) and 1.2-1.3 MB (native); with MALLOC_ARENA_MAX=1, -0.8 to 1.6 MB. One byte
 * leaked per timer would be 100 MB, so this bar still catches a leak of a tenth of a byte per
 * timer.
 */
const MAX_GROWTH_MB = 10

/** Median of `xs`. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Least-squares slope of `ys` against their index. */
function slope(ys: number[]): number {
  const n = ys.length
  const mx = (n - 1) / 2
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  })
  return den === 0 ? 0 : num / den
}

describe.each(['native', 'js'] as const)('soak on the %s engine', (kind) => {
  test(`${CYCLES} cycles of ${N.toLocaleString('en')} timers fired or stopped: RSS and heap back to baseline ±5%`, async () => {
    const r = expectClean(
      await runScenario<SoakResult>(
        'soak.cjs',
        kind,
        { SOAK_CYCLES: CYCLES, SOAK_N: N, SOAK_SETTLE: scaled(SETTLE_CYCLES), MALLOC_ARENA_MAX: 1 },
        15 * 60_000,
      ),
      `soak (${kind})`,
    )
    const warm = r.cyclesData.slice(0, BASELINE_CYCLES)
    const base = {
      rssMB: median(warm.map((c) => c.rssMB)),
      heapUsedMB: median(warm.map((c) => c.heapUsedMB)),
      externalMB: median(warm.map((c) => c.externalMB)),
    }
    const cycles = r.cyclesData.slice(1)
    const secondHalf = cycles.slice(cycles.length >> 1)
    const growth = {
      rssMB: slope(secondHalf.map((c) => c.rssMB)) * 100,
      heapUsedMB: slope(secondHalf.map((c) => c.heapUsedMB)) * 100,
    }
    const last = cycles[cycles.length - 1]!
    const tail = cycles.slice(-10)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const ratio = (x: number, b: number) => round(x / b, 3)
    record(`soak.${kind}`, {
      cycles: r.cycles,
      timersPerCycle: r.n,
      mallocArenaMax: 1,
      beforeAnyTimer: { rssMB: round(r.before.rssMB), heapUsedMB: round(r.before.heapUsedMB, 2) },
      afterWarmUp: { rssMB: round(r.afterWarmUp.rssMB), heapUsedMB: round(r.afterWarmUp.heapUsedMB, 2) },
      afterSettle: { rssMB: round(r.afterSettle.rssMB), heapUsedMB: round(r.afterSettle.heapUsedMB, 2), cycles: r.settle },
      baseline: { rssMB: round(base.rssMB), heapUsedMB: round(base.heapUsedMB, 2), externalMB: round(base.externalMB, 2), of: `median of cycles 0-${BASELINE_CYCLES - 1}` },
      trendPer100CyclesOverSecondHalf: { rssMB: round(growth.rssMB, 2), heapUsedMB: round(growth.heapUsedMB, 3) },
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
    // The end state: the median of the last five readings, for the same reason as the baseline.
    const end = cycles.slice(-5)
    for (const [what, x, b] of [
      ['final RSS (median of the last 5 cycles)', median(end.map((c) => c.rssMB)), base.rssMB],
      ['final heap (median of the last 5 cycles)', median(end.map((c) => c.heapUsedMB)), base.heapUsedMB],
      ['mean RSS of the last 10 cycles', mean(tail.map((c) => c.rssMB)), base.rssMB],
      ['mean heap of the last 10 cycles', mean(tail.map((c) => c.heapUsedMB)), base.heapUsedMB],
    ] as const) {
      expect(Math.abs(x / b - 1), `${what}: ${round(x, 2)} MB against a baseline of ${round(b, 2)} MB`).toBeLessThanOrEqual(TOLERANCE)
    }
    expect(growth.rssMB, `RSS trend over the second half: ${round(growth.rssMB, 2)} MB per 100 cycles`).toBeLessThan(MAX_GROWTH_MB)
    expect(growth.heapUsedMB, `heap trend over the second half: ${round(growth.heapUsedMB, 3)} MB per 100 cycles`).toBeLessThan(MAX_GROWTH_MB / 10)
  })
})
