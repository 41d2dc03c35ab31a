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

import { Bench } from 'tinybench'
import { Bare, cpuDelta, cpuSnapshot, duration, gcMemory, settle, sleep, slots, wheelThreadId } from './common.mjs'

export const K = 1000

export async function steady(lib, N, which, { time, warmupTime }) {
  const f = () => {}
  const timers = slots(N)
  const node = lib === undefined
  const afterFunc = node ? undefined : lib.time.afterFunc
  if (node) for (let i = 0; i < N; i++) timers[i] = setTimeout(f, duration(i))
  else for (let i = 0; i < N; i++) timers[i] = afterFunc(duration(i), f)
  await settle(lib)
  const wheelTid = wheelThreadId()
  // The S1 floor's table, made before the collection below so that it is long-lived (old
  // generation), as a slot table holding timers is: storing a new object in it goes through
  // V8's write barrier, as afterfunc's `arm` does.
  const table = which === 'arm' ? slots(K) : undefined
  await sleep(100)
  gcMemory()

  let j = 0 // rotating position among the N pending timers
  let s = 0 // rotating duration index for new timers
  const buf = slots(K)
  let ops = 0

  /** name -> [fn, fnOptions, counts CPU] */
  const tasks = {}
  if (which === 'arm') {
    tasks.pair = node
      ? async () => {
          for (let k = 0; k < K; k++) clearTimeout(setTimeout(f, duration(s++)))
          ops += K
          await null
        }
      : async () => {
          for (let k = 0; k < K; k++) afterFunc(duration(s++), f).stop()
          ops += K
          await null
        }
    tasks.alone = [
      node
        ? async () => {
            for (let k = 0; k < K; k++) buf[k] = setTimeout(f, duration(s++))
            await null
          }
        : async () => {
            for (let k = 0; k < K; k++) buf[k] = afterFunc(duration(s++), f)
            await null
          },
      {
        afterEach: node
          ? async () => {
              for (let k = 0; k < K; k++) clearTimeout(buf[k])
              await null
            }
          : async () => {
              for (let k = 0; k < K; k++) buf[k].stop()
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
    tasks.pair = node
      ? async () => {
          for (let k = 0; k < K; k++) {
            timers[j].refresh()
            if (++j === N) j = 0
          }
          ops += K
          await null
        }
      : async () => {
          for (let k = 0; k < K; k++) {
            timers[j].reset(duration(j))
            if (++j === N) j = 0
          }
          ops += K
          await null
        }
  } else if (which === 'stop') {
    tasks.pair = node
      ? async () => {
          for (let k = 0; k < K; k++) {
            clearTimeout(timers[j])
            timers[j] = setTimeout(f, duration(j))
            if (++j === N) j = 0
          }
          ops += K
          await null
        }
      : async () => {
          for (let k = 0; k < K; k++) {
            timers[j].stop()
            timers[j] = afterFunc(duration(j), f)
            if (++j === N) j = 0
          }
          ops += K
          await null
        }
    let from = 0
    tasks.alone = [
      node
        ? async () => {
            from = j
            for (let k = 0; k < K; k++) {
              clearTimeout(timers[j])
              if (++j === N) j = 0
            }
            await null
          }
        : async () => {
            from = j
            for (let k = 0; k < K; k++) {
              timers[j].stop()
              if (++j === N) j = 0
            }
            await null
          },
      {
        afterEach: node
          ? async () => {
              for (let k = 0, i = from; k < K; k++) {
                timers[i] = setTimeout(f, duration(i))
                if (++i === N) i = 0
              }
              await null
            }
          : async () => {
              for (let k = 0, i = from; k < K; k++) {
                timers[i] = afterFunc(duration(i), f)
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
    await settle(lib)
  }
  return out
}
