// Soak: SOAK_CYCLES cycles; each arms SOAK_N timers, STRESS_CHUNK per turn, a random half at
// durations in [0, 50) ms, which fire, and the other half at 60 s and more, which are all
// stopped once the cycle's arming is done. A cycle ends when every timer that should fire has
// fired; then two full GCs and a memory reading (RSS, V8 heap used).
//
// Before the cycles, a warm-up arms SOAK_N timers at 60 s and stops them all: that grows what
// is kept by design at its high-water mark (the scheduler's slot table and generation array,
// sized by the most timers pending at once, which no cycle can exceed; the engine's per-slot
// storage; V8's compiled code). Then SOAK_SETTLE ordinary cycles that are checked but not
// measured: over its first hundred or so cycles the process's RSS creeps up by 3-6 MB, ever
// more slowly, nearly all of it in glibc's malloc heaps (the main one and the arenas of the
// other threads), while V8's pages and heap stay flat. Seen in /proc/self/smaps: with the
// TypeScript engine, which allocates no native memory itself, as with the native one, whose
// malloc heaps grew 4.5 MB over cycles 5-100 of a 300-cycle run, 1.3 MB over 100-200 and
// 0.2 MB over 200-300 (with glibc's default of one arena per thread; the suite runs this child
// with MALLOC_ARENA_MAX=1, under which that creep is gone). Then SOAK_CYCLES + 1 measured
// cycles; the suite (soak.stress.ts) takes its baseline from the first five readings. The
// readings before any timer, after the warm-up and after the settling cycles are reported too.
//
// Prints { backend, n, cycles, settle, before, afterWarmUp, afterSettle, peakRssMB,
// cyclesData: [{ rssMB, heapUsedMB, externalMB, ms }], errors }.
'use strict'

const { load, int, rng, settledMemory, peakRssMB, done, tick, sleep } = require('./common.cjs')

const { time, backend } = load()
const N = int('SOAK_N', 1_000_000)
const CYCLES = int('SOAK_CYCLES', 100)
const SETTLE = int('SOAK_SETTLE', 40)
const CHUNK = int('STRESS_CHUNK', 50_000)
const random = rng(int('STRESS_SEED', 7))

async function cycle() {
  const started = performance.now()
  let fired = 0
  let firedStopped = 0
  let shouldFire = 0
  const toStop = []
  for (let armed = 0; armed < N; ) {
    const end = Math.min(armed + CHUNK, N)
    for (; armed < end; armed++) {
      if (random() < 0.5) {
        shouldFire++
        time.afterFunc(random() * 50, () => {
          fired++
        })
      } else {
        toStop.push(
          time.afterFunc(60_000 + random() * 1000, () => {
            firedStopped++
          }),
        )
      }
    }
    await tick()
  }
  let stopFalse = 0
  for (const t of toStop) if (!t.stop()) stopFalse++
  const stopped = toStop.length
  toStop.length = 0
  const giveUp = performance.now() + 30_000
  while (fired < shouldFire && performance.now() < giveUp) await sleep(5)
  const ms = performance.now() - started
  // Anything that would run twice, or run after stop, has had its chance.
  await sleep(60)
  return { fired, shouldFire, firedStopped, stopped, stopFalse, ms }
}

async function warmUp() {
  const all = []
  for (let armed = 0; armed < N; ) {
    const end = Math.min(armed + CHUNK, N)
    for (; armed < end; armed++) all.push(time.afterFunc(60_000, () => {}))
    await tick()
  }
  for (const t of all) t.stop()
  await sleep(20)
}

async function main() {
  const before = settledMemory()
  await warmUp()
  const afterWarmUp = settledMemory()
  const cycles = []
  const errors = []
  // Settling cycles -SETTLE..-1, then cycles 0..CYCLES: the suite compares cycles 1..CYCLES with
  // a baseline from the first five. Every cycle's timers are checked.
  let afterSettle = afterWarmUp
  for (let c = -SETTLE; c <= CYCLES; c++) {
    const r = await cycle()
    if (r.fired !== r.shouldFire || r.firedStopped !== 0 || r.stopFalse !== 0) {
      errors.push({ cycle: c, ...r })
    }
    const m = settledMemory()
    if (c < 0) afterSettle = m
    else cycles.push({ rssMB: m.rssMB, heapUsedMB: m.heapUsedMB, externalMB: m.externalMB, ms: r.ms })
  }
  done({ backend, n: N, cycles: CYCLES, settle: SETTLE, before, afterWarmUp, afterSettle, peakRssMB: peakRssMB(), cyclesData: cycles, errors })
}

main()
