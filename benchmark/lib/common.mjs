// Helpers shared by every child process of the benchmark: loading an engine, settling it,
// reading memory and per-thread CPU, statistics, and the result protocol.

import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import { pathToFileURL } from 'node:url'

/** The duration of the i-th timer of S1–S4 and S7: 60 s + (i mod 4096)·7 ms. */
export const duration = (i) => 60_000 + (i % 4096) * 7

/**
 * The floors' object (S1 and S4): two fields, a number and the callback, the shape of
 * afterfunc's `Timer` (`src/time.ts`), with no timer behind it.
 */
export class Bare {
  constructor(k, f) {
    this._k = k
    this._f = f
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const immediate = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Loads what the engine a child runs needs: 'native' and 'js', and the TimerSet engines
 * 'set-native' and 'set-js', import the public package (its ESM entry) with AFTERFUNC_BACKEND
 * set and return it; 'retimer' returns the `retimer` function (the npm package); 'node' (Node's
 * own timers) and 'none' (no timer: idle-conn's driver alone) import nothing and return
 * undefined. The package is this checkout's, or the one in the directory BENCH_PACKAGE names
 * (an A/B run's baseline, ab.mjs).
 */
export async function loadEngine(engine) {
  if (engine === 'node' || engine === 'none') return undefined
  if (engine === 'retimer') return (await import('retimer')).default
  const backend = engine.startsWith('set-') ? engine.slice('set-'.length) : engine
  if (backend !== 'native' && backend !== 'js') throw new Error(`unknown engine ${engine}`)
  process.env.AFTERFUNC_BACKEND = backend
  const pkg = process.env.BENCH_PACKAGE
  const lib = await import(pkg ? pathToFileURL(path.join(pkg, 'index.mjs')).href : '../../index.mjs')
  if (lib.backend !== backend) throw new Error(`wanted the ${backend} engine, got ${lib.backend}`)
  if (backend !== engine && typeof lib.time.newTimerSet !== 'function') throw new Error(`engine ${engine}: this afterfunc has no time.newTimerSet`)
  return lib
}

/**
 * Waits until the engine has applied every command made so far. The engine applies the
 * command ring in order, so a 0 ms timer armed now fires only after all earlier commands
 * were applied (for the native engine: by the wheel thread). Then one turn of the loop.
 */
export async function settle(lib) {
  if (lib !== undefined) await new Promise((resolve) => lib.time.afterFunc(0, resolve))
  await immediate()
}

/**
 * heapUsed + external, RSS, and the memory V8's young generation holds (`young`: new space's
 * physical size, which does not shrink back after the young generation grew), after two full
 * collections.
 */
export function gcMemory() {
  globalThis.gc()
  globalThis.gc()
  const m = process.memoryUsage()
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? NaN
  return { heap: m.heapUsed + m.external, rss: m.rss, young }
}

/** CPU time of the whole process (every thread), in ns. */
export function processCpuNs() {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

/**
 * CPU time of one thread of this process, in ns, from /proc/self/task/<tid>/schedstat (the
 * scheduler's own nanosecond count; Node 20 has no process.threadCpuUsage). NaN off Linux.
 */
export function threadCpuNs(tid) {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
  } catch {
    return NaN
  }
}

/** CPU time of the JavaScript (main) thread, in ns. Its thread id is the process id. */
export const mainThreadCpuNs = () => threadCpuNs(process.pid)

/** Thread id of the native engine's wheel thread ("afterfunc-wheel"), if there is one. */
export function wheelThreadId() {
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'afterfunc-wheel') return Number(tid)
    }
  } catch {}
  return undefined
}

/** Per-thread CPU readings: the whole process, the main thread, the wheel thread (if any). */
export function cpuSnapshot(wheelTid) {
  return {
    process: processCpuNs(),
    main: mainThreadCpuNs(),
    wheel: wheelTid === undefined ? 0 : threadCpuNs(wheelTid),
    wall: performance.now(),
  }
}

/** Difference of two cpuSnapshot()s, in ns (wall in ns too). */
export function cpuDelta(a, b) {
  return {
    process: b.process - a.process,
    main: b.main - a.main,
    wheel: b.wheel - a.wheel,
    wall: (b.wall - a.wall) * 1e6,
  }
}

/** The median of numbers, in any order (the mean of the middle two for an even count). */
export function median(vs) {
  const sorted = [...vs].sort((a, b) => a - b)
  const m = sorted.length >> 1
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
}

/** Quantile q of an ascending Float64Array (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/**
 * xorshift32 (Marsaglia) from `seed`: a function returning the next state, an integer in
 * 1..2^32-1. A fixed seed gives every engine the same sequence.
 */
export function xorshift32(seed) {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
}

/** An array of n small integers in fast (packed SMI) elements, so filling it later allocates nothing. */
export function slots(n) {
  const a = []
  for (let i = 0; i < n; i++) a.push(0)
  return a
}

/** Prints the child's result for the orchestrator: one line, marked, at the end of stdout. */
export function report(result) {
  const cpu = process.cpuUsage()
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ...result, self_cpu_ms: (cpu.user + cpu.system) / 1000 })}\n`)
}

/** Busy and total jiffies of the whole machine, from /proc/stat (undefined off Linux). */
export function machineJiffies() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = f[3] + (f[4] ?? 0)
    const total = f.reduce((a, b) => a + b, 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}
