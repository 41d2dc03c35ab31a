// Storms: 1M timers due in the same tick all run, once each, in arming order, never
// early, while the process keeps serving TCP on 127.0.0.1 (a pinger in another process sends
// a byte every millisecond; the storm process records when each is served). Figures:
// monitorEventLoopDelay p99 and the largest gap between served bytes, for native, js, and
// Node's setTimeout doing the same (children/storm.cjs). Plus: throwing callbacks in the middle
// of the 1M batch lose none of the rest.

import { afterAll, describe, expect, test } from 'vitest'
import { expectClean, record, round, runScenario, scaled, type Mode } from './harness.ts'

interface StormResult {
  mode: Mode
  n: number
  armMs: number
  armedBeforeDue: boolean
  resetRounds: number
  notSameTick: number
  firstRunLateMs: number
  drainMs: number
  ioMaxGapMs: number
  ioServedInWindow: number
  windowMs: number
  eldP50Ms: number
  eldP99Ms: number
  eldMaxMs: number
  runs: number
  lost: number
  doubled: number
  early: number
  outOfOrder: number
  uncaught: string[]
  peakRssMB: number
}

const N = scaled(1_000_000)

/**
 * The largest I/O gap allowed while afterfunc drains the storm. Delivery runs in slices of
 * SLICE_MS = 8 ms, so the designed gap is about 8 ms plus one callback; measured here: 11-21 ms
 * on the native engine. The TypeScript engine adds one step that is not sliced: its wheel
 * expires the whole tick (cascading the slot and collecting 1M ids into a typed array) in one
 * synchronous poll before the first slice, measured at 35-37 ms for 1M timers on this 2-core
 * machine (75-90 ms when it collected into a plain array). The bounds leave room for what a
 * noisy 2-core CI machine adds (the wheel thread, the pinger, the vitest parent and other
 * tenants share the cores; a young-generation GC can land in a slice): about 5x the measured
 * native gap, 3x the measured js gap. Node's setTimeout, which does not slice, stalls for
 * seconds on the same storm (reported, not asserted).
 */
const MAX_IO_GAP_MS: Record<'native' | 'js', number> = { native: 100, js: 120 }

const figures: Record<string, unknown> = {}
afterAll(() => record('storm', figures))

function summary(r: StormResult) {
  return {
    timers: r.n,
    eventLoopDelayMs: { p50: round(r.eldP50Ms), p99: round(r.eldP99Ms), max: round(r.eldMaxMs) },
    ioLargestGapMs: round(r.ioMaxGapMs),
    ioServedInWindow: r.ioServedInWindow,
    firstRunAfterDueMs: round(r.firstRunLateMs),
    drainMs: Math.round(r.drainMs),
    lost: r.lost,
    doubled: r.doubled,
    early: r.early,
    outOfOrder: r.outOfOrder,
    peakRssMB: Math.round(r.peakRssMB),
  }
}

/** Every timer ran exactly once, never early, in arming order. */
function expectEachRanOnceInOrder(r: StormResult): void {
  expect({ runs: r.runs, lost: r.lost, doubled: r.doubled, early: r.early, outOfOrder: r.outOfOrder }).toEqual({
    runs: N,
    lost: 0,
    doubled: 0,
    early: 0,
    outOfOrder: 0,
  })
}

describe.each(['native', 'js'] as const)('storm on the %s engine', (kind) => {
  test(`${N.toLocaleString('en')} timers due in the same tick all run while TCP is served`, async () => {
    const r = expectClean(await runScenario<StormResult>('storm.cjs', kind, { STORM_N: N }, 5 * 60_000), `storm (${kind})`)
    figures[kind] = summary(r)
    expect(r.armedBeforeDue).toBe(true)
    expect(r.notSameTick).toBe(0)
    expectEachRanOnceInOrder(r)
    expect(r.ioServedInWindow).toBeGreaterThan(0)
    expect(r.ioMaxGapMs).toBeLessThan(MAX_IO_GAP_MS[kind])
  })

  test(`throwing callbacks at the start, middle and end of a ${N.toLocaleString('en')}-timer batch lose none of the rest`, async () => {
    const at = [0, 1, Math.floor(N / 2) - 1, Math.floor(N / 2), N - 1]
    const r = expectClean(
      await runScenario<StormResult>('storm.cjs', kind, { STORM_N: N, STORM_THROW_AT: at.join(',') }, 5 * 60_000),
      `storm with throwing callbacks (${kind})`,
    )
    figures[`${kind}.throwing`] = { ...summary(r), uncaught: r.uncaught.length }
    // In the order of their arming, which a re-reset (see storm.cjs) may change: compare as sets.
    expect([...r.uncaught].sort()).toEqual(at.map((i) => `boom ${i}`).sort())
    expectEachRanOnceInOrder(r)
  })
})

test(`baseline: Node's setTimeout with ${N.toLocaleString('en')} timers due at once (reported, not asserted)`, async () => {
  const r = expectClean(await runScenario<StormResult>('storm.cjs', 'node', { STORM_N: N }, 5 * 60_000), 'storm (setTimeout)')
  figures['setTimeout'] = summary(r)
  expect(r.runs).toBe(N)
})
