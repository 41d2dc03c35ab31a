// Faults: workers created and terminated 200 times with 100k pending timers each (no crash, no
// growth of RSS, heap or threads); a process with 1M pending unref'd timers exits at once;
// callbacks that re-enter the API (afterFunc, stop, reset, contexts and their cancel, context
// afterFunc and its stop, tickers, sleeps) keep every promise the API makes. A throwing
// callback in a 1M-timer batch is in storm.stress.ts. One child process per engine.

import { afterAll, describe, expect, test } from 'vitest'
import { expectClean, record, round, runScenario, scaled } from './harness.ts'

interface Memory {
  rssMB: number
  heapUsedMB: number
  externalMB: number
  threads: number
}
interface WorkersResult {
  cycles: number
  timersPerWorker: number
  warmup: number
  backends: string[]
  ms: number
  threadsBefore: number
  baseline: Memory
  final: Memory
  peakRssMB: number
  errors: string[]
}
interface UnrefResult {
  n: number
  armMs: number
  armedAt: number
  peakRssMB: number
}
interface ReentrantResult {
  backend: string
  ms: number
  actions: number
  errors: Record<string, number>
  lost: { timers: number; registrations: number; sleeps: number }
  counts: Record<string, number>
  peakRssMB: number
}

const WORKERS = scaled(200)
const WORKER_TIMERS = scaled(100_000)
const UNREF = scaled(1_000_000)
const ACTIONS = scaled(1_000_000)
/**
 * Growth allowed between the reading after the warm-up workers and the one after the last:
 * each worker's isolate, heap and (native) wheel thread come and go; what is left is malloc's
 * free lists, which move by a few MB either way (measured: under 1 MB). A leak of one 100k-timer
 * worker's state per cycle would add hundreds of MB over 180 cycles.
 */
const WORKER_RSS_GROWTH_MB = 16
/** Exit within this long of the end of arming: measured 30-40 ms (setTimeout: ~90 ms). */
const EXIT_MS = 1000

const figures: Record<string, unknown> = {}
afterAll(() => record('faults', figures))

describe.each(['native', 'js'] as const)('faults on the %s engine', (kind) => {
  test(`${WORKERS} workers created and terminated with ${WORKER_TIMERS.toLocaleString('en')} timers each: no crash, no growth`, async () => {
    const r = expectClean(
      await runScenario<WorkersResult>('workers.cjs', kind, { WORKER_CYCLES: WORKERS, WORKER_TIMERS }, 10 * 60_000),
      `workers (${kind})`,
    )
    figures[`workers.${kind}`] = {
      cycles: r.cycles,
      timersPerWorker: r.timersPerWorker,
      ms: Math.round(r.ms),
      afterWarmup: { rssMB: round(r.baseline.rssMB), heapUsedMB: round(r.baseline.heapUsedMB, 2), threads: r.baseline.threads },
      final: { rssMB: round(r.final.rssMB), heapUsedMB: round(r.final.heapUsedMB, 2), threads: r.final.threads },
      threadsBefore: r.threadsBefore,
      peakRssMB: Math.round(r.peakRssMB),
    }
    expect(r.errors).toEqual([])
    expect(r.backends).toEqual([kind])
    expect(r.final.rssMB - r.baseline.rssMB).toBeLessThan(WORKER_RSS_GROWTH_MB)
    expect(r.final.heapUsedMB).toBeLessThan(r.baseline.heapUsedMB * 1.05)
    // Every worker's threads (its own, and with the native engine its wheel thread) are gone.
    if (r.threadsBefore > 0) expect(r.final.threads).toBe(r.baseline.threads)
  })

  test(`a process with ${UNREF.toLocaleString('en')} pending unref'd timers exits at once`, async () => {
    const run = await runScenario<UnrefResult>('unref-exit.cjs', kind, { UNREF_N: UNREF }, 120_000)
    const r = expectClean(run, `unref exit (${kind})`)
    const exitMs = run.exitedAt - r.armedAt
    figures[`unrefExit.${kind}`] = { timers: r.n, armMs: Math.round(r.armMs), exitAfterArmedMs: round(exitMs), processMs: Math.round(run.ms) }
    expect(exitMs).toBeLessThan(EXIT_MS)
  })

  test(`${ACTIONS.toLocaleString('en')} random API calls made from inside callbacks keep every promise`, async () => {
    const r = expectClean(await runScenario<ReentrantResult>('reentrant.cjs', kind, { CHAOS_OPS: ACTIONS }, 5 * 60_000), `re-entrance (${kind})`)
    figures[`reentrant.${kind}`] = { actions: r.actions, ms: Math.round(r.ms), errors: r.errors, lost: r.lost, counts: r.counts }
    expect(r.actions).toBe(ACTIONS)
    for (const [what, n] of Object.entries(r.errors)) expect(n, what).toBe(0)
    expect(r.lost).toEqual({ timers: 0, registrations: 0, sleeps: 0 })
    // Every kind of call was made, on both sides of each race.
    for (const [what, n] of Object.entries(r.counts)) expect(n, what).toBeGreaterThan(0)
  })
})

// Runtime.close() (internal: the test suites' runtimes) with a ref'd timer pending: the engine
// stops and must no longer hold the process open. The native engine once left its thread-safe
// function ref'd (set_ref is ignored once closed), and the process never exited.
describe('Runtime.close() with a ref\'d timer pending lets the process exit', () => {
  const check = async (kind: 'native' | 'js') => {
    const run = await runScenario<{ closedAt: number }>('close-pending.cjs', kind, {}, 10_000)
    const r = expectClean(run, `close with a pending timer (${kind})`)
    expect(run.exitedAt - r.closedAt).toBeLessThan(EXIT_MS)
  }
  test('js engine', () => check('js'))
  test('native engine', () => check('native'))
})

test(`baseline: Node's setTimeout with ${UNREF.toLocaleString('en')} pending unref'd timers (reported, not asserted)`, async () => {
  const run = await runScenario<UnrefResult>('unref-exit.cjs', 'node', { UNREF_N: UNREF }, 120_000)
  const r = expectClean(run, 'unref exit (setTimeout)')
  figures['unrefExit.setTimeout'] = { timers: r.n, armMs: Math.round(r.armMs), exitAfterArmedMs: round(run.exitedAt - r.armedAt), processMs: Math.round(run.ms) }
})
