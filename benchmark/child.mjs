// One (suite, engine) of the benchmark, in a fresh process, so no two cases share a heap.
//
//   node --expose-gc benchmark/child.mjs <suite> <engine> [N]
//
// suite: scale | memory-floor | memory-floor-design | steady-arm | steady-reset | steady-stop |
//        fire | fire-burst | fire-noop | ctx | ctx-bytes | idle | precision | idle-conn
// engine: native | js (the public package with AFTERFUNC_BACKEND set) | node (Node's timers;
//         for ctx: node-ac, node-signal or node-any) | retimer (the npm package) | set-native |
//         set-js (one time.newTimerSet on that engine) | none (idle-conn: the driver alone);
//         ENGINES_OF says which suite takes which
// N: timers (keys), or requests in flight (ctx, ctx-bytes), or lone timers (precision)
// Prints one line `@@RESULT {json}` on stdout. Tunables (set by run.mjs): BENCH_TIME_MS,
// BENCH_WARMUP_MS (tinybench), BENCH_IDLE_MS (S7), BENCH_IDLE_CONN_MS (idle-conn's window);
// BENCH_PACKAGE (set by ab.mjs): the directory of the afterfunc package to measure instead of
// this checkout's; BENCH_DESIGN_WORD and BENCH_DESIGN_ENTRY (memory-floor-design, run by hand):
// bytes of the slot word (default 4) and of the wheel entry (default 12), each a multiple of 4.

import { loadEngine, report } from './lib/common.mjs'
import { ctxSuite } from './lib/ctx.mjs'
import { fire } from './lib/fire.mjs'
import { idle } from './lib/idle.mjs'
import { idleConn } from './lib/idle-conn.mjs'
import { precision } from './lib/precision.mjs'
import { memoryFloor, scale } from './lib/scale.mjs'
import { steady } from './lib/steady.mjs'
import { TIMER_ENGINES } from './lib/timers.mjs'

/** The engines each suite measures (ctx and ctx-bytes: the afterfunc engines and Node's variants). */
const ENGINES_OF = {
  scale: TIMER_ENGINES,
  'steady-arm': TIMER_ENGINES,
  'steady-reset': TIMER_ENGINES,
  'steady-stop': TIMER_ENGINES,
  'memory-floor': ['node'],
  'memory-floor-design': ['node'],
  fire: ['native', 'js', 'node'],
  'fire-burst': ['native', 'js', 'node'],
  'fire-noop': ['native', 'js', 'node', 'set-native', 'set-js'],
  ctx: ['native', 'js', 'node-ac', 'node-signal', 'node-any'],
  'ctx-bytes': ['native', 'js', 'node-ac', 'node-signal', 'node-any'],
  idle: ['native', 'js', 'node'],
  precision: ['native', 'js', 'node'],
  'idle-conn': [...TIMER_ENGINES, 'none'],
}

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

const [suite, engine, nArg] = process.argv.slice(2)
if (!(suite in ENGINES_OF)) throw new Error(`unknown suite ${suite}`)
if (!ENGINES_OF[suite].includes(engine)) throw new Error(`suite ${suite} runs on ${ENGINES_OF[suite].join(', ')}, not ${engine}`)
const N = Number(nArg ?? 0)
const bench = { time: Number(process.env.BENCH_TIME_MS ?? 1000), warmupTime: Number(process.env.BENCH_WARMUP_MS ?? 300) }

/** The per-timer bytes that `memory-floor-design` adds beside the 8-byte slot. */
function designBytes() {
  const bytes = (name, fallback) => {
    const v = Number(process.env[name] ?? fallback)
    if (!Number.isInteger(v) || v < 0 || v % 4 !== 0) throw new RangeError(`${name} must be a non-negative multiple of 4, got ${process.env[name]}`)
    return v
  }
  return { word: bytes('BENCH_DESIGN_WORD', 4), entry: bytes('BENCH_DESIGN_ENTRY', 12) }
}

let result
if (suite === 'ctx' || suite === 'ctx-bytes') {
  const variant = engine.startsWith('node') ? engine : 'afterfunc'
  const lib = variant === 'afterfunc' ? await loadEngine(engine) : undefined
  result = await ctxSuite(lib, variant, N, bench, suite === 'ctx' ? 'time' : 'bytes')
} else {
  const lib = await loadEngine(engine)
  if (suite === 'scale') result = await scale(engine, lib, N)
  else if (suite === 'memory-floor') result = await memoryFloor(lib, N)
  else if (suite === 'memory-floor-design') result = await memoryFloor(lib, N, designBytes())
  else if (suite.startsWith('steady-')) result = await steady(engine, lib, N, suite.slice('steady-'.length), bench)
  else if (suite === 'fire') result = await fire(engine, lib, N, 'chunked')
  else if (suite === 'fire-burst') result = await fire(engine, lib, N, 'burst')
  else if (suite === 'fire-noop') result = await fire(engine, lib, N, 'noop')
  else if (suite === 'idle') result = await idle(lib, N, Number(process.env.BENCH_IDLE_MS ?? 5000))
  else if (suite === 'precision') result = await precision(lib, N)
  else if (suite === 'idle-conn') result = await idleConn(engine, lib, N, Number(process.env.BENCH_IDLE_CONN_MS ?? 10_000))
  else throw new Error(`unknown suite ${suite}`)
}
report({ suite, engine, n: N, ...result })
// Pending timers (the point of most suites) would keep the process alive.
process.exit(0)
