// `npm run bench`: every suite of the benchmark, on every engine, side by side in one run.
//
//   node benchmark/run.mjs                 full run (N = 10k, 100k, 1M)
//   BENCH_QUICK=1 node benchmark/run.mjs   quick run (N = 10k, 100k, shorter runs of each case)
//   BENCH_ROUNDS=3 node benchmark/run.mjs  every case before S8 three times, the whole sequence
//                                          repeated, each figure the median of its rounds (S8
//                                          always runs its own rounds); 3× as long
//   BENCH_NODE=24 node benchmark/run.mjs   the same on Node 24 as scripts/runtimes.mjs installs it
//
// Engines: afterfunc's native engine and TypeScript engine (the public package, with
// AFTERFUNC_BACKEND=native|js), the same with one TimerSet (set-native, set-js), Node's own
// timers, the npm package retimer, and Go (benchmark/go, built once).
// Each (suite, engine, N) runs in its own child process (`node --expose-gc benchmark/child.mjs`),
// so no two cases share a heap. Prints one table (figures at the largest N, ratios against
// Node's timers in the same run, the issue's first targets marked met or missed), writes
// benchmark/results.json (every raw figure and the machine) and benchmark/chart.svg (S1, S3
// and S5 against N). How each figure is measured: benchmark/README.md.

import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { onBenchNode } from './lib/bench-node.mjs'
import { chartSvg } from './lib/chart.mjs'
import { median } from './lib/common.mjs'
import { foreignNote, measured, NOISY_PCT, runResult, serveAndLoad } from './lib/orchestrate.mjs'
import { fmt, renderTable, target } from './lib/table.mjs'

onBenchNode()

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.dirname(here)
// Where the results and the chart go: benchmark/results.json and chart.svg, or, with
// BENCH_RESULTS=<name>, benchmark/<name>.json and <name>.svg (a run kept beside the reference
// one, such as the figures on another Node).
const resultsName = process.env.BENCH_RESULTS || 'results'
const resultsFile = path.join(here, `${resultsName}.json`)
const chartFile = path.join(here, resultsName === 'results' ? 'chart.svg' : `${resultsName}.svg`)
// `--report`: print the table and redraw the chart from the saved results, running nothing.
const saved = process.argv.includes('--report') ? JSON.parse(readFileSync(resultsFile, 'utf8')) : undefined
const QUICK = saved ? saved.config.quick : process.env.BENCH_QUICK === '1'
const NS = saved
  ? saved.config.ns
  : process.env.BENCH_NS
    ? process.env.BENCH_NS.split(',').map(Number)
    : QUICK
      ? [10_000, 100_000]
      : [10_000, 100_000, 1_000_000]
const NMAX = NS[NS.length - 1]
const config = saved?.config ?? {
  quick: QUICK,
  ns: NS,
  tinybench_time_ms: QUICK ? 300 : 1000,
  tinybench_warmup_ms: QUICK ? 100 : 300,
  idle_ms: QUICK ? 2000 : 5000,
  idle_conn_ms: QUICK ? 2000 : 10_000,
  precision_lone: QUICK ? 100 : 500,
  s6_in_flight: QUICK ? 10_000 : 100_000,
  s8_connections: 2000,
  s8_rounds: QUICK ? 2 : 4,
  s8_seconds_per_round: QUICK ? 2 : 3,
  s8_warmup_seconds: 1,
  rounds: Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 1)) || 1),
}
const ROUNDS = config.rounds ?? 1
const t0 = Date.now()
const log = (msg) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`)
const fmtN = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n))

// ---------------------------------------------------------------- machine and engines

function machineInfo() {
  const cpus = os.cpus()
  const git = (args) => {
    const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' })
    return r.status === 0 ? r.stdout.trim() : undefined
  }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' })
  return {
    name: process.env.BENCH_MACHINE ?? 'polyglot',
    hostname: os.hostname(),
    cpu_model: cpus[0]?.model,
    cores: cpus.length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    node_binary: process.execPath,
    bench_node: process.env.BENCH_NODE || undefined,
    v8: process.versions.v8,
    go: go.status === 0 ? go.stdout.trim() : undefined,
    date: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    worktree_dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    loadavg_at_start: os.loadavg(),
  }
}

function nativeAvailable() {
  const r = spawnSync(process.execPath, ['-e', "import('./index.mjs').then((m) => { if (m.backend !== 'native') process.exit(1) })"], {
    cwd: root,
    env: { ...process.env, AFTERFUNC_BACKEND: 'native' },
    encoding: 'utf8',
  })
  if (r.status !== 0) log(`the native engine does not load (run \`npm run build:native\`); it is left out:\n${r.stderr}`)
  return r.status === 0
}

function buildGo() {
  const out = path.join(os.tmpdir(), `afterfunc-bench-go-${process.pid}`)
  const r = spawnSync('go', ['build', '-o', out, '.'], { cwd: path.join(here, 'go'), encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    log(`Go is not available (${r.error?.message ?? r.stderr.trim()}); the Go column is left out`)
    return undefined
  }
  return out
}

// ---------------------------------------------------------------- children

function envFor(engine) {
  const env = {
    ...process.env,
    BENCH_TIME_MS: String(config.tinybench_time_ms),
    BENCH_WARMUP_MS: String(config.tinybench_warmup_ms),
    BENCH_IDLE_MS: String(config.idle_ms),
    BENCH_IDLE_CONN_MS: String(config.idle_conn_ms),
  }
  delete env.AFTERFUNC_BACKEND
  if (engine === 'native' || engine === 'js') env.AFTERFUNC_BACKEND = engine
  if (engine === 'native-signal' || engine === 'set-native') env.AFTERFUNC_BACKEND = 'native'
  if (engine === 'set-js') env.AFTERFUNC_BACKEND = 'js'
  return env
}

const runs = []
let goBin
/** Readings of 250 ms to wait at most for a quiet machine before each case. */
const QUIET_TRIES = QUICK ? 4 : 12

async function run(suite, engine, n, round) {
  const record = await measured(async () => {
    const result =
      engine === 'go'
        ? await runResult(goBin, ['-suite', suite, '-n', String(n), '-time', `${config.tinybench_time_ms}ms`, '-warmup', `${config.tinybench_warmup_ms}ms`], process.env, root)
        : await runResult(process.execPath, ['--expose-gc', path.join(here, 'child.mjs'), suite, engine, String(n)], envFor(engine), root)
    return { ...result, suite, engine, n, round }
  }, QUIET_TRIES)
  runs.push(record)
  log(
    `${suite.padEnd(13)} ${engine.padEnd(12)} N=${fmtN(n).padEnd(5)}${ROUNDS > 1 ? ` round ${round + 1}/${ROUNDS}` : ''} ${record.error ? `FAILED: ${record.error}` : `${(record.elapsed_ms / 1000).toFixed(1)} s`}` +
      foreignNote(record),
  )
  return record
}

// S8: a server process per variant, autocannon in another process; rounds in alternating order.
async function serve(variant, round) {
  const record = await measured(() => serveOnce(variant, round), QUIET_TRIES)
  runs.push(record)
  log(
    `server        ${variant.padEnd(13)} round ${round}: ${record.error ? `FAILED: ${record.error}` : `${Math.round(record.rps)} req/s, p99 ${record.latency_p99_ms} ms`}` +
      foreignNote(record),
  )
}

async function serveOnce(variant, round) {
  const result = await serveAndLoad({
    variant,
    env: envFor(variant),
    cwd: root,
    connections: config.s8_connections,
    seconds: config.s8_seconds_per_round,
    warmup: config.s8_warmup_seconds,
  })
  return { suite: 'server', engine: variant, round, ...result }
}

// ---------------------------------------------------------------- the run

// ENGINES: afterfunc's engines and Node's timers, in every suite; WITH_GO: and Go where it has
// the suite; SETS: one TimerSet on each afterfunc engine; PEERS: the npm packages users pick
// instead (S1–S4 and idle-conn).
const PEERS = ['retimer']
let machine, ENGINES, WITH_GO, SETS, elapsed
if (saved) {
  machine = saved.machine
  runs.push(...saved.runs)
  elapsed = saved.elapsed_s
  ENGINES = ['native', 'js', 'node'].filter((e) => runs.some((r) => r.engine === e))
  WITH_GO = runs.some((r) => r.engine === 'go') ? [...ENGINES, 'go'] : ENGINES
  SETS = ['set-native', 'set-js'].filter((e) => runs.some((r) => r.engine === e))
} else {
  machine = machineInfo()
  log(`${machine.cpu_model}, ${machine.cores} cores, Node ${machine.node}, ${machine.go ?? 'no Go'}; N = ${NS.map(fmtN).join(', ')}${QUICK ? ' (quick)' : ''}`)
  const native = nativeAvailable()
  ENGINES = native ? ['native', 'js', 'node'] : ['js', 'node']
  SETS = native ? ['set-native', 'set-js'] : ['set-js']
  goBin = buildGo()
  WITH_GO = goBin ? [...ENGINES, 'go'] : ENGINES

  // With rounds, the whole sequence repeats, so that each case's rounds are minutes apart and a
  // passing disturbance of the machine moves one round of a figure, not all of them.
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of NS) {
      for (const suite of ['scale', 'steady-arm', 'steady-reset', 'steady-stop']) {
        for (const engine of [...WITH_GO, ...PEERS, ...SETS]) await run(suite, engine, n, round)
      }
      for (const engine of WITH_GO) await run('fire', engine, n, round)
    }
    await run('memory-floor', 'node', NMAX, round)
    for (const engine of ENGINES) await run('fire-burst', engine, NMAX, round)
    for (const engine of [...ENGINES, ...SETS]) await run('fire-noop', engine, NMAX, round)
    for (const suite of ['ctx', 'ctx-bytes']) {
      for (const engine of [...ENGINES, 'node-ac', 'node-signal', 'node-any'].filter((e) => e !== 'node')) await run(suite, engine, config.s6_in_flight, round)
    }
    for (const engine of ENGINES) await run('idle', engine, NMAX, round)
    for (const engine of ENGINES) await run('precision', engine, config.precision_lone, round)
    for (const engine of [...ENGINES, ...PEERS, ...SETS, 'none']) await run('idle-conn', engine, NMAX, round)
  }
  const S8 = ['none', 'node-timeout', 'node-signal', ...ENGINES.filter((e) => e !== 'node'), ...(ENGINES.includes('native') ? ['native-signal'] : [])]
  for (let round = 0; round < config.s8_rounds; round++) {
    for (const v of round % 2 === 0 ? S8 : [...S8].reverse()) await serve(v, round)
  }
  machine.loadavg_at_end = os.loadavg()
  elapsed = (Date.now() - t0) / 1000
}

// ---------------------------------------------------------------- figures

/**
 * One record standing for the rounds of a case: every number is the median of that number over
 * the rounds (nested objects likewise), anything else is the first round's. With one round, that
 * round's record itself.
 */
function medianRecord(records) {
  if (records.length === 1) return records[0]
  const merge = (xs) => {
    const first = xs[0]
    if (typeof first === 'number') return median(xs.filter((x) => typeof x === 'number'))
    if (first === null || typeof first !== 'object' || Array.isArray(first)) return first
    const out = {}
    for (const key of Object.keys(first)) out[key] = merge(xs.map((x) => x?.[key]).filter((x) => x !== undefined))
    return out
  }
  return merge(records)
}
const get = (suite, engine, n = NMAX) => {
  const rs = runs.filter((r) => r.suite === suite && r.engine === engine && r.n === n && !r.error)
  return rs.length === 0 ? undefined : medianRecord(rs)
}
/**
 * Values of one figure per column of the table (each an engine's own column, unless
 * `engineOf` names the engine whose record fills it); `noisy` lists the columns whose case ran
 * beside other load.
 */
function pick(suite, f, n = NMAX, columns = ['native', 'js', 'node', 'retimer', 'go'], engineOf = {}) {
  const values = {}
  const noisy = new Set()
  for (const column of columns) {
    const e = engineOf[column] ?? column
    const r = get(suite, e, n)
    if (!r) continue
    values[column] = f(r, e)
    if (values[column] !== undefined && r.foreign_cpu_pct >= NOISY_PCT) noisy.add(column)
  }
  return { values, noisy }
}
/** A TimerSet row: the native and js columns hold one set on each engine (set-native, set-js), beside Node's timers. */
const pickSet = (suite, f, n = NMAX) => pick(suite, f, n, ['native', 'js', 'node'], { native: 'set-native', js: 'set-js' })
const SET = 'TimerSet:'
/** Median over the S8 rounds of one variant. */
const serverAvg = (variant, f) => {
  const vs = runs.filter((r) => r.suite === 'server' && r.engine === variant && !r.error).map(f)
  return vs.length === 0 ? undefined : median(vs)
}
const serverNoisy = (variant) => runs.some((r) => r.suite === 'server' && r.engine === variant && r.foreign_cpu_pct >= NOISY_PCT)

const rows = []
const add = (suite, figure, kind, picked, targets = () => [], unit) => {
  const { values, noisy } = picked.values ? picked : { values: picked, noisy: new Set() }
  const row = { suite, figure, kind, values, unit, noisy: [...noisy] }
  row.targets = targets(row)
  rows.push(row)
  return row
}
const N = fmtN(NMAX)

const s1Pair = add('S1 arm', `steady: arm+stop pair, ns/op (${N} live)`, 'lower', pick('steady-arm', (r) => r.pair?.ns), (row) => [
  target.faster(row, 'native', 10),
  target.faster(row, 'native', 20, '20× faster (stretch)'),
  target.faster(row, 'js', 5),
  target.noSlowerThanGo(row, 'native'),
], 'op')
add('S1 arm', `${SET} steady: reset of a key not pending, then stop of it, ns/op`, 'lower', pickSet('steady-arm', (r) => r.pair?.ns), undefined, 'op')
add('S1 arm', 'steady floor: a new two-field object put in a long-lived table, then taken out, ns/op (no timer)', 'abs', pick('steady-arm', (r) => r.floor?.ns, NMAX, ['native', 'js', 'node']), () => [
  target.info(`10× Node's pair needs ≤ ${fmt(s1Pair.values.node / 10)} ns per pair, this floor included`),
], 'op')
add('S1 arm', 'steady: arm alone (stop untimed), ns/op', 'lower', pick('steady-arm', (r) => r.alone?.ns, NMAX, ['native', 'js', 'node', 'retimer']), undefined, 'op')
add('S1 arm', 'steady: arm+stop pair, process CPU ns/op', 'lower', pick('steady-arm', (r) => r.pair?.cpu_ns), undefined, 'cpu')
add('S1 arm', `scale: first ${N} arms, JS-thread ns/op`, 'lower', pick('scale', (r) => r.arm.wall_ns), undefined, 'op')
add('S1 arm', `${SET} scale: first reset of ${N} keys, JS-thread ns/op (Node: first ${N} setTimeout calls)`, 'lower', pickSet('scale', (r) => r.arm.wall_ns), undefined, 'op')
add('S1 arm', `scale: first ${N} arms, process CPU ns/op`, 'lower', pick('scale', (r) => r.arm.cpu_ns), undefined, 'cpu')
add('S1 arm', `${SET} scale: first reset of ${N} keys, process CPU ns/op`, 'lower', pickSet('scale', (r) => r.arm.cpu_ns), undefined, 'cpu')
add('S2 reset', 'steady: reset (Node: refresh(); retimer: reschedule()), ns/op', 'lower', pick('steady-reset', (r) => r.pair?.ns), (row) => [target.faster(row, 'native', 5)], 'op')
add('S2 reset', `${SET} steady: reset of pending key j, ns/op`, 'lower', pickSet('steady-reset', (r) => r.pair?.ns), undefined, 'op')
add('S2 reset', 'steady: reset, V8 heap bytes allocated per op', 'abs', pick('steady-reset', (r) => r.pair?.alloc_bytes, NMAX, ['native', 'js', 'node', 'retimer']))
add('S2 reset', `${SET} steady: reset, V8 heap bytes allocated per op`, 'abs', pickSet('steady-reset', (r) => r.pair?.alloc_bytes))
add('S2 reset', 'steady: reset, process CPU ns/op', 'lower', pick('steady-reset', (r) => r.pair?.cpu_ns), undefined, 'cpu')
add('S2 reset', `${SET} steady: reset, process CPU ns/op`, 'lower', pickSet('steady-reset', (r) => r.pair?.cpu_ns), undefined, 'cpu')
add('S2 reset', `scale: first ${N} resets, JS-thread ns/op`, 'lower', pick('scale', (r) => r.reset.wall_ns), undefined, 'op')
add('S2 reset', `${SET} scale: first ${N} resets of pending keys, JS-thread ns/op`, 'lower', pickSet('scale', (r) => r.reset.wall_ns), undefined, 'op')
add('S2 reset', `scale: first ${N} resets, process CPU ns/op`, 'lower', pick('scale', (r) => r.reset.cpu_ns), undefined, 'cpu')
add('S3 stop', 'steady: stop+arm pair (Node: clearTimeout), ns/op', 'lower', pick('steady-stop', (r) => r.pair?.ns), (row) => [target.faster(row, 'native', 5)], 'op')
add('S3 stop', `${SET} steady: stop of pending key j, then reset of it, ns/op`, 'lower', pickSet('steady-stop', (r) => r.pair?.ns), undefined, 'op')
add('S3 stop', 'steady: stop alone (re-arm untimed), ns/op', 'lower', pick('steady-stop', (r) => r.alone?.ns, NMAX, ['native', 'js', 'node', 'retimer']), (row) => [
  target.faster(row, 'native', 5),
], 'op')
add('S3 stop', `${SET} steady: stop alone of pending keys (reset untimed), ns/op`, 'lower', pickSet('steady-stop', (r) => r.alone?.ns), undefined, 'op')
add('S3 stop', 'steady: stop alone, V8 heap bytes allocated per op', 'abs', pick('steady-stop', (r) => r.alone?.alloc_bytes, NMAX, ['native', 'js', 'node', 'retimer']))
add('S3 stop', `${SET} steady: stop alone, V8 heap bytes allocated per op`, 'abs', pickSet('steady-stop', (r) => r.alone?.alloc_bytes))
add('S3 stop', 'steady: stop+arm pair, process CPU ns/op', 'lower', pick('steady-stop', (r) => r.pair?.cpu_ns), undefined, 'cpu')
add('S3 stop', `scale: first ${N} stops, JS-thread ns/op`, 'lower', pick('scale', (r) => r.stop.wall_ns), undefined, 'op')
add('S3 stop', `${SET} scale: first ${N} stops of pending keys, JS-thread ns/op`, 'lower', pickSet('scale', (r) => r.stop.wall_ns), undefined, 'op')
add('S3 stop', `scale: first ${N} stops, process CPU ns/op`, 'lower', pick('scale', (r) => r.stop.cpu_ns), undefined, 'cpu')
add('S4 memory', `heapUsed+external B/timer (${N} live)`, 'bytes', pick('scale', (r) => r.memory.heap_bytes))
add('S4 memory', `${SET} heapUsed+external B per pending key (${N})`, 'bytes', pickSet('scale', (r) => r.memory.heap_bytes))
const s4Rss = add('S4 memory', `RSS B/timer (${N} live)`, 'bytes', pick('scale', (r) => r.memory.rss_bytes), (row) => [
  target.fraction(row, 'native', 0.5),
  target.fraction(row, 'js', 0.6),
])
add('S4 memory', `${SET} RSS B per pending key (${N}), everything included`, 'bytes', pickSet('scale', (r) => r.memory.rss_bytes))
add('S4 memory', `floor: RSS B per plain two-field object, ${N} made in one loop and held (no timer library)`, 'abs', pick('memory-floor', (r) => r.memory.rss_bytes, NMAX, ['node']), () => [
  target.info(`0.5× Node's timers is ≤ ${fmt(s4Rss.values.node / 2)} B per timer, this floor included`),
])
add('S5 fire', `main-thread CPU ns/fire (${N} in 100 ms; Go: process)`, 'lower', pick('fire', (r, e) => (e === 'go' ? r.cpu_per_fire_ns : r.main_cpu_per_fire_ns)), (row) => [target.faster(row, 'native', 10, '10× less')], 'cpu')
add('S5 fire', 'process CPU ns/fire (all threads)', 'lower', pick('fire', (r) => r.cpu_per_fire_ns), undefined, 'cpu')
add('S5 fire', 'main-thread CPU ns/fire, one shared no-op callback (no lateness recorded)', 'lower', pick('fire-noop', (r) => r.main_cpu_per_fire_ns, NMAX, ['native', 'js', 'node']), undefined, 'cpu')
add('S5 fire', `${SET} main-thread CPU ns/expiry, the set's one callback (no-op)`, 'lower', pickSet('fire-noop', (r) => r.main_cpu_per_fire_ns), undefined, 'cpu')
add('S5 fire', 'wheel-thread CPU ns/fire', 'abs', pick('fire', (r, e) => (e === 'native' ? r.wheel_cpu_per_fire_ns : undefined)))
add('S5 fire', 'callbacks alone, plain loop, ns/fire (floor)', 'abs', pick('fire', (r) => r.callback_floor_ns, NMAX, ['native', 'js', 'node']))
add('S5 fire', 'delivery alone: main-thread CPU minus the floor, ns/fire', 'lower', pick('fire', (r) => r.main_cpu_per_fire_ns - r.callback_floor_ns, NMAX, ['native', 'js', 'node']), undefined, 'cpu')
add('S5 fire', 'lateness p50, ms', 'lower', pick('fire', (r) => r.late_p50_ms), undefined, 'ms')
add('S5 fire', 'lateness p99, ms', 'lower', pick('fire', (r) => r.late_p99_ms), (row) => [target.atMost(row, 'native', 20, ' ms')], 'ms')
for (const n of NS.slice(0, -1)) {
  add('S5 fire', `lateness p99 at N = ${fmtN(n)}, ms`, 'lower', pick('fire', (r) => r.late_p99_ms, n), (row) => [target.atMost(row, 'native', 20, ' ms')], 'ms')
  add('S5 fire', `early fires at N = ${fmtN(n)}`, 'abs', pick('fire', (r) => r.early, n))
}
add('S5 fire', 'lateness max, ms', 'lower', pick('fire', (r) => r.late_max_ms), undefined, 'ms')
add('S5 fire', 'early fires (count)', 'abs', pick('fire', (r) => r.early), (row) => [target.atMost(row, 'native', 0, ''), target.atMost(row, 'js', 0, '')])
add('S5 fire', `burst (all ${N} armed in one synchronous run): lateness p50, ms`, 'lower', pick('fire-burst', (r) => r.late_p50_ms, NMAX, ['native', 'js', 'node']), undefined, 'ms')
add('S5 fire', 'burst: lateness p99, ms', 'lower', pick('fire-burst', (r) => r.late_p99_ms, NMAX, ['native', 'js', 'node']), undefined, 'ms')
add('S5 fire', 'burst: early fires (count)', 'abs', pick('fire-burst', (r) => r.early, NMAX, ['native', 'js', 'node']))
const ctx = (e, f, suite = 'ctx') => { const r = get(suite, e, config.s6_in_flight); return r ? f(r) : undefined }
const ctxNoisy = (suite, ...es) => new Set(es.filter((e) => get(suite, e, config.s6_in_flight)?.foreign_cpu_pct >= NOISY_PCT).map((e) => (e.startsWith('node') ? 'node' : e)))
const s6 = (f, base, suite = 'ctx') => ({
  values: { native: ctx('native', f, suite), js: ctx('js', f, suite), node: ctx(base, f, suite) },
  noisy: ctxNoisy(suite, 'native', 'js', base),
})
add('S6 server pattern', 'withTimeout+cancel ns/request vs AbortController+setTimeout+clearTimeout', 'lower', s6((r) => r.request_ns, 'node-ac'), undefined, 'op')
add('S6 server pattern', 'withTimeout+cancel ns/request vs AbortSignal.timeout', 'lower', s6((r) => r.request_ns, 'node-signal'), undefined, 'op')
add('S6 server pattern', 'same, reading ctx.signal, ns/request vs AbortController+setTimeout+clearTimeout', 'lower', {
  values: { native: ctx('native', (r) => r.request_with_signal_ns), js: ctx('js', (r) => r.request_with_signal_ns), node: ctx('node-ac', (r) => r.request_ns) },
  noisy: ctxNoisy('ctx', 'native', 'js', 'node-ac'),
}, undefined, 'op')
add('S6 server pattern', `heapUsed+external B per in-flight request (${fmtN(config.s6_in_flight)}) vs AbortController+setTimeout`, 'bytes', s6((r) => r.heap_bytes, 'node-ac', 'ctx-bytes'))
add('S6 server pattern', 'RSS B per in-flight request vs AbortController+setTimeout', 'bytes', s6((r) => r.rss_bytes, 'node-ac', 'ctx-bytes'))
add('S6 server pattern', 'RSS B per in-flight request vs AbortSignal.timeout', 'bytes', s6((r) => r.rss_bytes, 'node-signal', 'ctx-bytes'))
add('S6 server pattern', 'under a parent: withTimeout(parent)+cancel ns/request vs AbortSignal.any([parent, AbortSignal.timeout])', 'lower', {
  values: { native: ctx('native', (r) => r.request_child_ns), js: ctx('js', (r) => r.request_child_ns), node: ctx('node-any', (r) => r.request_ns) },
  noisy: ctxNoisy('ctx', 'native', 'js', 'node-any'),
}, undefined, 'op')
add('S6 server pattern', 'under a parent: heapUsed+external B per in-flight request vs AbortSignal.any', 'bytes', {
  values: { native: ctx('native', (r) => r.child_heap_bytes, 'ctx-bytes'), js: ctx('js', (r) => r.child_heap_bytes, 'ctx-bytes'), node: ctx('node-any', (r) => r.heap_bytes, 'ctx-bytes') },
  noisy: ctxNoisy('ctx-bytes', 'native', 'js', 'node-any'),
})
add('S7 idle', `CPU over ${config.idle_ms / 1000} s with ${N} far-future timers, % of a core`, 'abs', pick('idle', (r) => r.core_pct, NMAX, ['native', 'js', 'node']), (row) => [
  target.atMost(row, 'native', 1, '% of a core'),
])
const LONE = config.precision_lone
const precisionOf = (part, f) => pick('precision', (r) => f(r[part]), LONE, ['native', 'js', 'node'])
add('precision', `lone timers at 0.5–20 ms, ${LONE} one after another: lateness p50, ms`, 'lower', precisionOf('lone', (p) => p.p50_ms), undefined, 'ms')
add('precision', 'lone: lateness p90, ms', 'lower', precisionOf('lone', (p) => p.p90_ms), undefined, 'ms')
add('precision', 'lone: lateness p99, ms', 'lower', precisionOf('lone', (p) => p.p99_ms), undefined, 'ms')
add('precision', 'lone: lateness max, ms', 'lower', precisionOf('lone', (p) => p.max_ms), undefined, 'ms')
add('precision', 'lone: early fires (count)', 'abs', precisionOf('lone', (p) => p.early))
add('precision', '10k timers armed at once, due over 1 s: lateness p50, ms', 'lower', precisionOf('spread', (p) => p.p50_ms), undefined, 'ms')
add('precision', '10k over 1 s: lateness p90, ms', 'lower', precisionOf('spread', (p) => p.p90_ms), undefined, 'ms')
add('precision', '10k over 1 s: lateness p99, ms', 'lower', precisionOf('spread', (p) => p.p99_ms), undefined, 'ms')
add('precision', '10k over 1 s: lateness max, ms', 'lower', precisionOf('spread', (p) => p.max_ms), undefined, 'ms')
add('precision', '10k over 1 s: early fires (count)', 'abs', precisionOf('spread', (p) => p.early))
const IDLE_CONN = ['native', 'js', 'node', 'retimer']
const idleConnOf = (f) => pick('idle-conn', f, NMAX, IDLE_CONN)
const idleConnSet = (f) => pickSet('idle-conn', f)
const driver = get('idle-conn', 'none')
const lateness = (r) => `${fmt(r.late_p50_ms)} / ${fmt(r.late_p99_ms)} / ${fmt(r.late_max_ms)}`
add('idle-conn', `process CPU ns per reset (${N} keys, ${fmt(config.idle_conn_ms / 1000)} s measured)`, 'lower', idleConnOf((r) => r.cpu_per_reset_ns), () => [
  target.info(`the driver alone, no timer: ${fmt(driver?.cpu_per_reset_ns)} ns, in every figure`),
], 'cpu')
add('idle-conn', `${SET} process CPU ns per reset`, 'lower', idleConnSet((r) => r.cpu_per_reset_ns), undefined, 'cpu')
add('idle-conn', 'main-thread CPU ns per reset', 'lower', idleConnOf((r) => r.main_cpu_per_reset_ns), () => [
  target.info(`the driver alone: ${fmt(driver?.main_cpu_per_reset_ns)} ns`),
], 'cpu')
add('idle-conn', `${SET} main-thread CPU ns per reset`, 'lower', idleConnSet((r) => r.main_cpu_per_reset_ns), undefined, 'cpu')
add('idle-conn', 'RSS B per key after arming every key (its callback included)', 'bytes', idleConnOf((r) => r.rss_bytes), () => [
  target.info(`the driver alone: ${fmt(driver?.rss_bytes)} B`),
])
add('idle-conn', `${SET} RSS B per key after arming every key`, 'bytes', idleConnSet((r) => r.rss_bytes))
add('idle-conn', 'heapUsed+external B per key', 'bytes', idleConnOf((r) => r.heap_bytes))
add('idle-conn', `${SET} heapUsed+external B per key`, 'bytes', idleConnSet((r) => r.heap_bytes))
add('idle-conn', 'expiries due in the window: lateness p50 / p99 / max, ms', 'abs', idleConnOf(lateness))
add('idle-conn', `${SET} expiries due in the window: lateness p50 / p99 / max, ms`, 'abs', idleConnSet(lateness))
add('idle-conn', 'expiries due in the window: early / all', 'abs', idleConnOf((r) => `${r.early} / ${r.expired_in_window}`))
add('idle-conn', `${SET} expiries due in the window: early / all`, 'abs', idleConnSet((r) => `${r.early} / ${r.expired_in_window}`))
const s8 = (f, base) => ({
  values: { native: serverAvg('native', f), js: serverAvg('js', f), node: serverAvg(base, f) },
  noisy: new Set([['native', 'native'], ['js', 'js'], ['node', base]].filter(([, v]) => serverNoisy(v)).map(([e]) => e)),
})
const none = serverAvg('none', (r) => r.rps)
add('S8 HTTP server', `req/s (median of ${config.s8_rounds} rounds), ${config.s8_connections} conns, vs setTimeout+clearTimeout/refresh (no timers at all: ${none ? Math.round(none) : '—'})`, 'higher', s8((r) => r.rps, 'node-timeout'))
add('S8 HTTP server', 'req/s vs AbortSignal.timeout + refresh()', 'higher', s8((r) => r.rps, 'node-signal'))
add('S8 HTTP server', `p99 latency ms vs setTimeout+clearTimeout/refresh (no timers: ${serverAvg('none', (r) => r.latency_p99_ms) ?? '—'})`, 'lower', s8((r) => r.latency_p99_ms, 'node-timeout'), undefined, 'ms')
add('S8 HTTP server', 'p99 latency ms vs AbortSignal.timeout + refresh()', 'lower', s8((r) => r.latency_p99_ms, 'node-signal'), undefined, 'ms')
add('S8 HTTP server', 'server CPU µs/request vs setTimeout+clearTimeout/refresh', 'lower', s8((r) => r.server_cpu_us_per_request, 'node-timeout'), undefined, 'cpu')
if (ENGINES.includes('native')) {
  add('S8 HTTP server', 'req/s, native reading ctx.signal (js column) vs setTimeout+clearTimeout', 'higher', {
    values: { native: serverAvg('native', (r) => r.rps), js: serverAvg('native-signal', (r) => r.rps), node: serverAvg('node-timeout', (r) => r.rps) },
    noisy: new Set([['native', 'native'], ['js', 'native-signal'], ['node', 'node-timeout']].filter(([, v]) => serverNoisy(v)).map(([e]) => e)),
  })
}

// ---------------------------------------------------------------- chart

/** The engines of the S1 and S3 panels. */
const CHARTED = [...WITH_GO, ...PEERS, ...SETS]
const series = (suite, f, dashed, engines = WITH_GO) =>
  engines.map((engine) => ({ engine, dashed, points: NS.map((n) => { const r = get(suite, engine, n); return [n, r ? f(r, engine) : undefined] }) }))
const svg = chartSvg({
  title: 'afterfunc vs Node timers vs Go, against the number of live timers',
  subtitle: `${machine.name}: ${machine.cpu_model}, ${machine.cores} cores, Node ${machine.node}, ${machine.go?.split(' ')[2] ?? ''}, ${machine.date.slice(0, 10)}${QUICK ? ' (quick run)' : ''}${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}; lower is better`,
  panels: [
    {
      title: 'S1 arm',
      unit: 'ns per op',
      solidLabel: 'steady arm+stop pair',
      dashedLabel: 'cold: first N arms',
      series: [...series('steady-arm', (r) => r.pair?.ns, false, CHARTED), ...series('scale', (r) => r.arm.wall_ns, true, CHARTED)],
    },
    {
      title: 'S3 stop',
      unit: 'ns per op',
      solidLabel: 'steady stop+arm pair',
      dashedLabel: 'cold: first N stops',
      series: [...series('steady-stop', (r) => r.pair?.ns, false, CHARTED), ...series('scale', (r) => r.stop.wall_ns, true, CHARTED)],
    },
    {
      title: 'S5 fire (N due in 100 ms)',
      unit: 'CPU ns per fire',
      solidLabel: 'main thread (Go: process)',
      dashedLabel: 'whole process',
      series: [
        ...series('fire', (r, e) => (e === 'go' ? r.cpu_per_fire_ns : r.main_cpu_per_fire_ns), false),
        ...series('fire', (r) => r.cpu_per_fire_ns, true, ENGINES),
      ],
    },
  ],
})
writeFileSync(chartFile, svg)

const table = renderTable(rows)
const results = { machine, config, elapsed_s: elapsed, table: rows, runs }
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n')

console.log(
  `\nafterfunc benchmark — ${machine.name} (${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gib} GiB), Node ${machine.node}, ${machine.go ?? 'no Go'}, ${machine.date}` +
    `\nfigures at N = ${N} unless stated${ROUNDS > 1 ? `, each the median of ${ROUNDS} rounds` : ''}; ratios against Node's timers in this run; ${QUICK ? 'QUICK run' : 'full run'} in ${elapsed.toFixed(0)} s` +
    `\nload average 1 min at start ${machine.loadavg_at_start[0].toFixed(2)}, at end ${machine.loadavg_at_end[0].toFixed(2)}\n`,
)
console.log(table)
console.log(`\nRows that begin "${SET}": the native and js columns are one time.newTimerSet on each engine (set-native, set-js), keys 0..N-1, one callback.`)
if (rows.some((r) => r.noisy.length)) console.log(`\n† measured while other processes used ≥ ${NOISY_PCT}% of the machine (see foreign_cpu_pct in results.json)`)
const failed = runs.filter((r) => r.error)
if (failed.length) console.log(`\n${failed.length} case(s) failed: ${failed.map((r) => `${r.suite}/${r.engine}/${r.n}`).join(', ')}`)
console.log(`\nwrote ${path.relative(root, resultsFile)} and ${path.relative(root, chartFile)}${saved ? ' (redrawn from the saved results)' : ''}`)
if (goBin) rmSync(goBin, { force: true })
