// S5 fire: N timers due at random points of a 100 ms window that opens LEAD_MS after the time
// arming is expected to end (estimated at 1.5 µs per timer from when arming starts). Each
// timer's delay is a whole number of ms (so Node's setTimeout groups them in about a thousand
// duration lists, its good case), and its deadline is performance.now() read just
// before the arm call plus that delay; the callback records performance.now() - deadline.
// Every timer has its own small closure (to know its index): the same for every engine. The
// timers are numbered in deadline order and armed in a random order (see below). The clock is
// `performance` from node:perf_hooks: the global one is a getter, 10-20 ns more per read.
//
// Arming: `chunked` (the main figure) arms CHUNK timers per turn of the event loop, as timers
// armed by separate requests are; `burst` arms all N in one synchronous run; `noop` arms as
// `chunked` with one shared callback that only counts (CPU figures only, no lateness). afterfunc reads
// the clock once per synchronous run, when it publishes the batch, so in a burst every timer
// is late by the rest of the run that armed it (documented, never early); Node reads the
// loop's cached time, taken before the run, so its timers fire early by the same amount.
//
// The TimerSet engines (`set-native`, `set-js`) run `noop` only: one set whose callback is the
// shared one, timer i being key i, armed by `set.reset(i, d)` in the same order and chunks.
//
// CPU is read over the firing window only (from shortly before the first deadline to the last
// callback): the whole process (process.cpuUsage), the main thread and, for the native engine,
// the wheel thread (both from /proc/self/task/<tid>/schedstat).

import { performance } from 'node:perf_hooks'
import { cpuDelta, cpuSnapshot, immediate, mainThreadCpuNs, quantile, settle, sleep, wheelThreadId } from './common.mjs'
import { isSet } from './timers.mjs'

export const WINDOW_MS = 100
const LEAD_MS = 200
export const CHUNK = 1000

export async function fire(engine, lib, N, mode = 'chunked') {
  const node = engine === 'node'
  const setEngine = isSet(engine)
  if (setEngine && mode !== 'noop') throw new Error(`${engine} runs fire-noop only: a set has one callback`)
  const afterFunc = node || setEngine ? undefined : lib.time.afterFunc
  const deadline = new Float64Array(N)
  const late = new Float64Array(N)
  // Random positions in the window, fixed seed (xorshift32), numbered in window order, so timer
  // i's closure, `deadline[i]` and `late[i]` are laid out in the order of those positions. The
  // timers are armed in a random order (`order`), so the engines see deadlines in no order at
  // all. The benchmark's own callbacks run over memory in sequence only to the millisecond: a
  // deadline is the arm time plus whole milliseconds, so it lands anywhere in the millisecond
  // after the timer's position, and within one millisecond (10,000 timers at 1M) deadline order
  // and memory order are unrelated. At 1M the floor below is 210-230 ns a call in deadline
  // order against 45 ns in memory order: cache misses on the closures and their contexts, the
  // same for every engine. (With closures allocated in arming order, each callback's cache
  // misses cost ~600 ns on this machine and hid the engines' own cost.)
  const pos = new Float64Array(N)
  let x = 0x9e3779b9
  const next = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
  for (let i = 0; i < N; i++) pos[i] = next() * WINDOW_MS
  pos.sort()
  const order = new Uint32Array(N)
  for (let i = 0; i < N; i++) order[i] = i
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  let fired = 0
  let done
  const allFired = new Promise((resolve) => (done = resolve))
  // `noop` mode: one shared callback that only counts, so the figure is the engine's alone
  // (nothing about lateness is recorded then).
  const shared = () => {
    if (++fired === N) done()
  }
  const callbacks = new Array(N)
  for (let i = 0; i < N; i++) {
    callbacks[i] =
      mode === 'noop'
        ? shared
        : () => {
            late[i] = performance.now() - deadline[i]
            if (++fired === N) done()
          }
  }
  const set = setEngine ? lib.time.newTimerSet(shared) : undefined
  // Warm the engine (and create it) on a few timers, then a collection, so neither lands in the window.
  if (setEngine) {
    set.reset(N, 1)
    while (set.has(N)) await immediate()
    fired = 0 // the warm-up key went through the shared callback
  } else {
    await new Promise((resolve) => (node ? setTimeout(resolve, 1) : afterFunc(1, resolve)))
  }
  globalThis.gc()
  globalThis.gc()

  // The window opens LEAD_MS after arming is expected to end: estimate arming at 1.5 µs per timer.
  const open = performance.now() + LEAD_MS + N * 0.0015
  // Arms timer i for d ms. Each process drives one engine, so this call site sees one function
  // and V8 inlines it (see the notes of 2026-12-05 on the harness).
  const armOne = node
    ? (i, d) => setTimeout(callbacks[i], d)
    : setEngine
      ? (i, d) => set.reset(i, d)
      : (i, d) => afterFunc(d, callbacks[i])
  const arm = (from, to) => {
    for (let k = from; k < to; k++) {
      const i = order[k]
      const now = performance.now()
      const d = Math.max(1, Math.ceil(open + pos[i] - now))
      deadline[i] = now + d
      armOne(i, d)
    }
  }
  const armStart = performance.now()
  if (mode === 'burst') arm(0, N) // `noop` arms as `chunked` does
  else {
    for (let i = 0; i < N; i += CHUNK) {
      arm(i, Math.min(N, i + CHUNK))
      await immediate()
    }
  }
  const armEnd = performance.now()
  const wheelTid = wheelThreadId()
  const first = deadline.reduce((a, b) => Math.min(a, b), Infinity)
  const wait = first - performance.now() - 20
  if (wait > 0) await sleep(wait)
  const c0 = cpuSnapshot(wheelTid)
  const startedBeforeFirst = performance.now() < first
  await allFired
  const c1 = cpuSnapshot(wheelTid)
  const d = cpuDelta(c0, c1)
  if (!setEngine) await settle(lib)
  if (mode === 'noop') {
    return {
      n: N,
      mode,
      cpu_per_fire_ns: d.process / N,
      main_cpu_per_fire_ns: d.main / N,
      wheel_cpu_per_fire_ns: d.wheel / N,
      window_wall_ms: d.wall / 1e6,
      measured_from_before_first_deadline: startedBeforeFirst,
    }
  }

  const sorted = late.slice().sort()
  let early = 0
  for (let i = 0; i < N; i++) if (late[i] < 0) early++

  // The callbacks' own floor: the same closures called in deadline order from a plain loop,
  // with no timer library. Main-thread CPU per fire minus this is what delivery costs.
  const byDeadline = Array.from({ length: N }, (_, i) => i).sort((a, b) => deadline[a] - deadline[b])
  fired = 0
  const f0 = mainThreadCpuNs()
  for (let k = 0; k < N; k++) callbacks[byDeadline[k]]()
  const floor = (mainThreadCpuNs() - f0) / N

  return {
    n: N,
    mode,
    arm_ms: armEnd - armStart,
    window_opened_after_arming_ms: first - armEnd,
    measured_from_before_first_deadline: startedBeforeFirst,
    cpu_per_fire_ns: d.process / N,
    main_cpu_per_fire_ns: d.main / N,
    wheel_cpu_per_fire_ns: d.wheel / N,
    callback_floor_ns: floor,
    window_wall_ms: d.wall / 1e6,
    late_p50_ms: quantile(sorted, 0.5),
    late_p99_ms: quantile(sorted, 0.99),
    late_max_ms: sorted[N - 1],
    late_min_ms: sorted[0],
    early,
  }
}
