// S1/S2/S3 "steady": tinybench per-operation time with N live timers already pending,
// after warm-up. Each tinybench iteration runs K operations and then awaits one microtask, so
// the timed region includes the scheduler's per-turn publish (and, for the TypeScript engine,
// the wheel work it does there); the figure is the iteration's time / K.
//
// Figures ("pair" keeps the population at exactly N; "alone" isolates one operation, the
// inverse operation running untimed in tinybench's afterEach hook, so the population moves
// between N and N+K or N-K):
//   S1 arm:   pair  = arm a new timer (60 s + (j mod 4096)·7 ms), then stop that same timer
//             alone = arm K new timers              (afterEach: stop them)
//   S2 reset: reset = reset pending timer j (j cycles over the N) to its own duration
//             (Node: timeout.refresh(); Go: t.Reset(d))
//   S3 stop:  pair  = stop pending timer j, then arm a replacement in its place
//             alone = stop K pending timers         (afterEach: arm their replacements)
//   S1 floor: the same loop with no timer at all: a new two-field object (a number and the
//             callback, the `Timer`'s shape) stored in a slot of a long-lived table, then the
//             slot cleared. An engine that returns one object per timer and keeps it where it
//             finds it at expiry pays at least this per arm+stop pair (one that kept a timer
//             out of its table until the end of the turn would spare this pair the store and
//             add a pass to every timer that outlives its turn); measured in every engine's
//             process, with its N timers pending, so it shares the pair's heap and machine.
// Process CPU per op (every thread: includes the native wheel thread applying the commands)
// is measured over the timed run of the pair tasks.
//
// The TimerSet engines: arm = reset of a key that is not pending (keys N.. for the new timers
// of S1, the stopped key itself for S3's replacement), reset = reset of pending key j, stop =
// stop of pending key j.
//
// After each task, the bytes of V8's heap it allocates: per operation (`alloc_bytes`) and per
// iteration besides (`alloc_turn_bytes`: the turn's publish, the iteration's promise). What an
// iteration allocates is the change of `used_heap_size` over it, less the change over an
// iteration that only awaits a microtask, each the median of ALLOC_ROUNDS (a collection inside
// a round moves that round only, and the median ignores it); iterations of K and of 4K
// operations tell the part that grows with the operations from the part that does not. V8's
// heap only: what the native engine mallocs is not in it (S4's RSS is where that shows).

import v8 from 'node:v8'
import { Bench } from 'tinybench'
import { Bare, cpuDelta, cpuSnapshot, duration, gcMemory, median, sleep, slots, wheelThreadId } from './common.mjs'
import { timerOps } from './timers.mjs'

export const K = 1000
/** Iterations of a task measured for its allocation (and as many of an empty one). */
const ALLOC_ROUNDS = 101
/** Operations per iteration of the allocation's second reading. */
const ALLOC_BATCH = 4 * K

export async function steady(engine, lib, N, which, { time, warmupTime }) {
  const f = () => {}
  const timers = slots(N)
  const { arm, reset, stop, settle } = timerOps(engine, lib, f)
  // Keys N..N+ALLOC_BATCH-1 are the set engines' fresh keys (S1); the next one they settle with.
  const spare = N + ALLOC_BATCH
  for (let i = 0; i < N; i++) timers[i] = arm(i, duration(i))
  await settle(spare)
  const wheelTid = wheelThreadId()
  // The S1 floor's table, made before the collection below so that it is long-lived (old
  // generation), as a slot table holding timers is: storing a new object in it goes through
  // V8's write barrier, as afterfunc's `arm` does.
  const table = which === 'arm' ? slots(K) : undefined
  await sleep(100)
  gcMemory()

  let j = 0 // rotating position among the N pending timers
  let s = 0 // rotating duration index for new timers
  let batch = K // operations per iteration: K, but for one allocation reading
  const buf = slots(ALLOC_BATCH)
  let ops = 0

  /** name -> fn, or [fn, { afterEach }] */
  const tasks = {}
  if (which === 'arm') {
    tasks.pair = async () => {
      for (let k = 0; k < batch; k++) stop(arm(N + k, duration(s++)))
      ops += batch
      await null
    }
    tasks.alone = [
      async () => {
        for (let k = 0; k < batch; k++) buf[k] = arm(N + k, duration(s++))
        await null
      },
      {
        afterEach: async () => {
          for (let k = 0; k < batch; k++) stop(buf[k])
          await null
        },
      },
    ]
    tasks.floor = async () => {
      for (let k = 0; k < K; k++) {
        table[k] = new Bare(duration(s++), f)
        table[k] = 0
      }
      await null
    }
  } else if (which === 'reset') {
    tasks.pair = async () => {
      for (let k = 0; k < batch; k++) {
        reset(timers[j], duration(j))
        if (++j === N) j = 0
      }
      ops += batch
      await null
    }
  } else if (which === 'stop') {
    tasks.pair = async () => {
      for (let k = 0; k < batch; k++) {
        stop(timers[j])
        timers[j] = arm(j, duration(j))
        if (++j === N) j = 0
      }
      ops += batch
      await null
    }
    let from = 0
    tasks.alone = [
      async () => {
        from = j
        for (let k = 0; k < batch; k++) {
          stop(timers[j])
          if (++j === N) j = 0
        }
        await null
      },
      {
        afterEach: async () => {
          for (let k = 0, i = from; k < batch; k++) {
            timers[i] = arm(i, duration(i))
            if (++i === N) i = 0
          }
          await null
        },
      },
    ]
  } else {
    throw new Error(`unknown steady suite ${which}`)
  }

  const out = {}
  for (const [name, spec] of Object.entries(tasks)) {
    const [fn, opts] = Array.isArray(spec) ? spec : [spec, undefined]
    // The "alone" tasks spend most of their wall time in the untimed hook: measure them for a
    // quarter of the time (still thousands of samples) to keep the run short.
    const bench = new Bench({ time: name === 'alone' ? time / 4 : time, warmupTime, warmup: true, retainSamples: false })
    bench.add(name, fn, opts)
    let c0
    bench.addEventListener('start', () => {
      ops = 0
      c0 = cpuSnapshot(wheelTid)
    })
    await bench.run()
    const d = cpuDelta(c0, cpuSnapshot(wheelTid))
    const r = bench.tasks[0].result
    if (r.state !== 'completed') throw new Error(`tinybench task ${name}: ${r.state} ${r.error ?? ''}`)
    out[name] = {
      ns: (r.latency.mean * 1e6) / K,
      p50_ns: (r.latency.p50 * 1e6) / K,
      rme_pct: r.latency.rme,
      samples: r.latency.samplesCount,
      ...(name === 'pair' && ops > 0 ? { cpu_ns: d.process / ops, wheel_cpu_ns: d.wheel / ops, ops } : {}),
    }
    if (name !== 'floor') {
      await settle(spare)
      const perIteration = await allocated(fn, opts?.afterEach)
      batch = ALLOC_BATCH
      const perLongIteration = await allocated(fn, opts?.afterEach)
      batch = K
      out[name].alloc_bytes = (perLongIteration - perIteration) / (ALLOC_BATCH - K)
      out[name].alloc_turn_bytes = perIteration - K * out[name].alloc_bytes
    }
    await settle(spare)
  }
  return out
}

/**
 * Bytes of V8's heap an iteration of `fn` allocates: the median change of `used_heap_size` over
 * one, less the median change over an iteration that only awaits a microtask (what the reading
 * and the awaiting allocate themselves).
 */
async function allocated(fn, afterEach) {
  const used = () => v8.getHeapStatistics().used_heap_size
  const empty = async () => {
    await null
  }
  const base = []
  const full = []
  for (let r = 0; r < ALLOC_ROUNDS; r++) {
    let h0 = used()
    await empty()
    base.push(used() - h0)
    h0 = used()
    await fn()
    full.push(used() - h0)
    if (afterEach !== undefined) await afterEach()
  }
  return median(full) - median(base)
}
