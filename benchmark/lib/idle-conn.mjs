// idle-conn: N idle connections, each with an idle timeout of TIMEOUT_MS that every bit of its
// activity moves back to TIMEOUT_MS from then; a connection that stays silent for TIMEOUT_MS
// expires. The shape of an HTTP or WebSocket server's idle timers.
//
// A key's history is made up, since a 30 s timeout cannot expire in a shorter run: each key
// starts with a remaining time of whole milliseconds, uniform in (0, TIMEOUT_MS], as if it had
// been active before. SILENT_SHARE of the keys are silent (never reset): those whose remaining
// time runs out inside the run expire. Each active key's first activity falls uniformly in
// the first FIRST_ACTIVITY_MS of the run, and its later activities follow at exponential
// intervals of mean MEAN_GAP_MS (a Poisson process) until the run ends. The run is a warm-up
// of WARMUP_MS, then the measured window (`windowMs`, 10 s in a full run).
//
// Variants (one per engine), with a callback per key (what a server writes: `() =>
// conn.destroy()`) except for the set, whose one callback gets the key:
//
// | engine             | arm (remaining r)          | activity                          |
// |--------------------|----------------------------|-----------------------------------|
// | node               | setTimeout(cb, r)          | timeout.refresh()                 |
// | retimer            | retimer(cb, r)             | t.reschedule(TIMEOUT_MS)          |
// | native, js         | time.afterFunc(r, cb)      | timer.reset(TIMEOUT_MS)           |
// | set-native, set-js | set.reset(key, r)          | set.reset(key, TIMEOUT_MS)        |
// | none               | —                          | —                                 |
//
// `none` is the driver alone, with no timer at all: what every other variant's CPU per reset
// includes besides its timers (no key expires, so it has no lateness).
//
// Node's refresh() re-arms for the duration the Timeout was made with, which is what an idle
// timer wants once it was made with TIMEOUT_MS. The made-up history breaks that for the first
// activity: a Timeout made with the remaining time r would be refreshed to r. So in the node
// variant a key's first activity replaces its Timeout with one of TIMEOUT_MS (clearTimeout,
// setTimeout; the same callback), and every later activity is refresh(). That is why first
// activities fall in the warm-up, which no figure counts (its second half leaves a variant
// that fell behind there time to catch up); every other variant resets there.
//
// The driver is the same code for every variant: the activity schedule is made before anything
// is measured (keys in per-millisecond buckets, typed arrays), and one Node timer of 1 ms,
// refreshed after each turn, paces it: each turn performs every activity whose millisecond has
// come, each a reset of the key's timer plus a write of its deadline (performance.now() read
// once per turn, before the turn's resets, plus TIMEOUT_MS; a key armed at setup has the time
// read just before its arm call plus r). The engine's deadline is no earlier than that, so an
// expiry before it is early for certain; lateness is measured against it.
//
// Figures:
// - CPU per reset: process CPU (every thread) and main-thread CPU over the measured window,
//   divided by the resets in it (the driver's own work, the same for every variant, included:
//   `none` measures it alone).
// - Memory per key: heapUsed+external and RSS after arming every key (1000 per turn of the loop,
//   as connections arrive), the engine settled, two collections, against a baseline taken with
//   the schedule made and the engine created. The per-key callbacks are made in the arm loop,
//   so they count.
// - Expirations whose deadline falls inside the measured window: lateness p50/p99/max and the
//   count of early ones. Those due before it (during arming, the memory reading, which runs
//   full collections, and the warm-up) are only counted.

import { performance } from 'node:perf_hooks'
import { cpuDelta, cpuSnapshot, gcMemory, immediate, quantile, settle, sleep, slots, wheelThreadId, xorshift32 } from './common.mjs'
import { isSet } from './timers.mjs'

export const TIMEOUT_MS = 30_000
const SILENT_SHARE = 0.1
const MEAN_GAP_MS = 1000
const FIRST_ACTIVITY_MS = 1000
const WARMUP_MS = 2000
/** Keys armed per turn of the event loop at setup. */
const ARM_CHUNK = 1000

/** Uniform in (0, 1]: the same keys, remaining times and schedule for every variant. */
function random(seed) {
  const next = xorshift32(seed)
  return () => (next() + 1) / 2 ** 32
}

/**
 * The keys' made-up history and the activity schedule: `remaining[k]` (ms), `silent[k]`, and
 * two bucketed lists of keys, `first` (each active key's first activity) and `later` (every
 * other one), each as `starts` (per millisecond of the window, where its keys begin in `keys`).
 */
function schedule(N, runMs) {
  const attributes = random(0x1d1e)
  const remaining = new Uint32Array(N)
  const silent = new Uint8Array(N)
  for (let k = 0; k < N; k++) {
    remaining[k] = Math.ceil(attributes() * TIMEOUT_MS)
    silent[k] = attributes() <= SILENT_SHARE ? 1 : 0
  }
  // Two passes over the same random sequence: count the activities of each millisecond, then
  // place them (a counting sort, so no list of 10^7 times needs sorting).
  const pass = (visit) => {
    const next = random(0xac71)
    for (let k = 0; k < N; k++) {
      if (silent[k]) continue
      let t = next() * FIRST_ACTIVITY_MS
      visit(true, k, t)
      for (t += -Math.log(next()) * MEAN_GAP_MS; t < runMs; t += -Math.log(next()) * MEAN_GAP_MS) visit(false, k, t)
    }
  }
  const firstCount = new Uint32Array(runMs + 1)
  const laterCount = new Uint32Array(runMs + 1)
  pass((isFirst, k, t) => (isFirst ? firstCount : laterCount)[Math.floor(t) + 1]++)
  for (let b = 1; b <= runMs; b++) {
    firstCount[b] += firstCount[b - 1]
    laterCount[b] += laterCount[b - 1]
  }
  const first = { starts: firstCount.slice(), keys: new Uint32Array(firstCount[runMs]) }
  const later = { starts: laterCount.slice(), keys: new Uint32Array(laterCount[runMs]) }
  // firstCount and laterCount now hold where each millisecond's keys begin: the next free place.
  pass((isFirst, k, t) => {
    if (isFirst) first.keys[firstCount[Math.floor(t)]++] = k
    else later.keys[laterCount[Math.floor(t)]++] = k
  })
  return { remaining, silent, first, later }
}

/** The timer operations of one variant on key k, its callback `callbacks[k]` (or the set's `expired`). */
function variant(engine, lib, N, expired, callbacks) {
  const handles = slots(N)
  if (engine === 'node') {
    return {
      arm: (k, r) => (handles[k] = setTimeout(callbacks[k], r)),
      renew: (k) => {
        clearTimeout(handles[k])
        handles[k] = setTimeout(callbacks[k], TIMEOUT_MS)
      },
      reset: (k) => handles[k].refresh(),
      settle: () => immediate(),
    }
  }
  if (engine === 'retimer') {
    const retimer = lib
    const reset = (k) => handles[k].reschedule(TIMEOUT_MS)
    return { arm: (k, r) => (handles[k] = retimer(callbacks[k], r)), renew: reset, reset, settle: () => immediate() }
  }
  if (engine === 'native' || engine === 'js') {
    const afterFunc = lib.time.afterFunc
    const reset = (k) => handles[k].reset(TIMEOUT_MS)
    return { arm: (k, r) => (handles[k] = afterFunc(r, callbacks[k])), renew: reset, reset, settle: () => settle(lib) }
  }
  if (engine === 'none') {
    const nothing = () => {}
    return { arm: nothing, renew: nothing, reset: nothing, settle: () => immediate() }
  }
  if (isSet(engine)) {
    const set = lib.time.newTimerSet(expired)
    const reset = (k) => set.reset(k, TIMEOUT_MS)
    return {
      arm: (k, r) => set.reset(k, r),
      renew: reset,
      reset,
      // `spare`, a key that is not pending, armed at 0 ms, fires once the set's engine applied
      // every earlier command.
      settle: async (spare) => {
        set.reset(spare, 0)
        while (set.has(spare)) await immediate()
      },
    }
  }
  throw new Error(`idle-conn has no variant for engine ${engine}`)
}

export async function idleConn(engine, lib, N, windowMs) {
  if (!(windowMs > 0)) throw new RangeError(`idle-conn needs a measured window, got ${windowMs} ms`)
  const runMs = WARMUP_MS + windowMs
  const { remaining, first, later } = schedule(N, runMs)
  const deadline = new Float64Array(N)
  // At most one expiry per key: an active key that expires before its first activity is
  // re-armed by it and is not silent again within the run.
  const lateness = new Float64Array(N)
  const dueAt = new Float64Array(N)
  let expiries = 0
  const expired = (k) => {
    if (k >= N) return
    dueAt[expiries] = deadline[k]
    lateness[expiries++] = performance.now() - deadline[k]
  }
  // Written once now, so that their pages are resident before the baseline.
  deadline.fill(-1)
  lateness.fill(-1)
  dueAt.fill(-1)
  const callbacks = slots(N)
  const ops = variant(engine, lib, N, expired, callbacks)

  // Baseline: schedule made, engine created (one arm, which fires at once, then settled). The
  // set engines settle with key 0 here, so that their tables have not grown yet, and with key N
  // (no connection's; `expired` ignores it) after arming.
  callbacks[0] = () => {}
  ops.arm(0, 1)
  await sleep(5)
  await ops.settle(0)
  expiries = 0
  await sleep(100)
  const mem0 = gcMemory()

  const onIdle = (k) => () => expired(k)
  const needsCallbacks = !isSet(engine) && engine !== 'none'
  // A function of its own, not a loop inside this long async one, so that V8 optimizes it
  // early and the harness's own numbers (performance.now(), the deadlines) are not boxed on
  // the heap: garbage made here would grow V8's young generation, and RSS with it.
  const armKeys = (from, to) => {
    for (let k = from; k < to; k++) {
      if (needsCallbacks) callbacks[k] = onIdle(k)
      deadline[k] = performance.now() + remaining[k]
      ops.arm(k, remaining[k])
    }
  }
  const armStart = performance.now()
  for (let from = 0; from < N; from += ARM_CHUNK) {
    armKeys(from, Math.min(N, from + ARM_CHUNK))
    await immediate()
  }
  const armMs = performance.now() - armStart
  await ops.settle(N)
  await sleep(100)
  const mem1 = gcMemory()
  // A suspended async function keeps only the variables it still uses: without these uses, the
  // arrays made before the baseline and not read after arming would be collected before mem1.
  if (remaining.length !== N || callbacks.length !== N) throw new Error('unreachable: the setup is held')
  const wheelTid = wheelThreadId()

  // The run: the warm-up, then the measured window.
  const { reset, renew } = ops
  let c0
  let measuredFrom = Infinity // performance.now() when the measured window began
  let resetsBefore = 0
  let turns = 0
  let maxTurnGapMs = 0
  const start = performance.now()
  let lastTurn = start
  let nextFirst = 0 // first-activity bucket to run next
  let nextLater = 0 // later-activity bucket to run next
  const runLater = (until, now) => {
    for (; nextLater < until; nextLater++) {
      for (let e = later.starts[nextLater], end = later.starts[nextLater + 1]; e < end; e++) {
        const k = later.keys[e]
        reset(k)
        deadline[k] = now + TIMEOUT_MS
      }
    }
  }
  const c1 = await new Promise((resolve) => {
    const pacer = setTimeout(function turn() {
      const now = performance.now()
      if (c0 !== undefined) {
        turns++
        maxTurnGapMs = Math.max(maxTurnGapMs, now - lastTurn)
      }
      lastTurn = now
      const due = Math.min(runMs, Math.floor(now - start) + 1) // buckets 0..due-1 have come
      const firstDue = Math.min(due, FIRST_ACTIVITY_MS)
      for (; nextFirst < firstDue; nextFirst++) {
        for (let e = first.starts[nextFirst], end = first.starts[nextFirst + 1]; e < end; e++) {
          const k = first.keys[e]
          renew(k)
          deadline[k] = now + TIMEOUT_MS
        }
      }
      runLater(Math.min(due, WARMUP_MS), now)
      if (c0 === undefined && due >= WARMUP_MS) {
        c0 = cpuSnapshot(wheelTid)
        measuredFrom = performance.now()
        resetsBefore = later.starts[nextLater]
      }
      runLater(due, now)
      if (due === runMs) resolve(cpuSnapshot(wheelTid))
      else pacer.refresh()
    }, 1)
  })
  const end = performance.now()
  const d = cpuDelta(c0, c1)
  const resets = later.starts[runMs] - resetsBefore

  let inWindow = 0
  const late = new Float64Array(expiries)
  for (let i = 0; i < expiries; i++) if (dueAt[i] >= measuredFrom && dueAt[i] <= end) late[inWindow++] = lateness[i]
  const sorted = late.subarray(0, inWindow).sort()
  let early = 0
  for (let i = 0; i < inWindow; i++) if (sorted[i] < 0) early++

  return {
    n: N,
    timeout_ms: TIMEOUT_MS,
    warmup_ms: WARMUP_MS,
    window_ms: end - measuredFrom,
    measured_from_ms: measuredFrom - start,
    arm_ms: armMs,
    resets,
    warmup_activities: first.keys.length + resetsBefore,
    cpu_per_reset_ns: d.process / resets,
    main_cpu_per_reset_ns: d.main / resets,
    wheel_cpu_per_reset_ns: d.wheel / resets,
    turns,
    max_turn_gap_ms: maxTurnGapMs,
    heap_bytes: (mem1.heap - mem0.heap) / N,
    rss_bytes: (mem1.rss - mem0.rss) / N,
    young_bytes: (mem1.young - mem0.young) / N,
    expired_in_window: inWindow,
    expired_before_window: expiries - inWindow,
    late_p50_ms: quantile(sorted, 0.5),
    late_p99_ms: quantile(sorted, 0.99),
    late_max_ms: inWindow > 0 ? sorted[inWindow - 1] : NaN,
    early,
  }
}
