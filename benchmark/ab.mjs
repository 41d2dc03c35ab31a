// `npm run bench:ab -- <rev>`: this checkout against an earlier revision of afterfunc, side by
// side, to tell whether a change moved a figure on a machine where one run's figures move by
// ±30%.
//
//   node benchmark/ab.mjs <rev> [--suites steady-arm,steady-stop,...]
//                               [--engine native|js|set-native|set-js] [--rounds R] [--n N]
//   BENCH_NODE=24 node benchmark/ab.mjs ...   the same on Node 24 as scripts/runtimes.mjs installs it
//
// The baseline is `git archive <rev>` unpacked into target/ab/<commit>/ and built there once
// (`npm run build:ts`, and `npm run build:native` when the native engine is measured, with this
// checkout's node_modules and its own Cargo target directory, target/ab/cargo); later runs
// against the same commit reuse it. The candidate is this checkout
// as it is on disk, uncommitted changes included: `npm run bench:ab` compiles its TypeScript,
// but its native addon is the one last built (`npm run build:native`; a warning names Rust
// sources newer than the addon).
//
// Both are measured by this checkout's harness (benchmark/child.mjs, one fresh process per
// case, BENCH_PACKAGE naming the package to load), so only the library differs. Each round runs
// every suite once for each side, the order alternating (A B, then B A) so drift in the
// machine's load hits both alike; like `npm run bench`, each case waits for a quiet machine and
// records the foreign load. For each figure it prints the baseline's and the candidate's median
// over the rounds, their ratio, how many rounds' pairs the candidate won and the two-sided
// sign-test p-value of that count: a change is a change when the ratio is clear of 1 and p is
// small, not when one run says so. Every round's raw records go to target/ab/<commit>-vs-HEAD.json.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { onBenchNode } from './lib/bench-node.mjs'
import { median } from './lib/common.mjs'
import { foreignNote, measured, NOISY_PCT, runResult, serveAndLoad } from './lib/orchestrate.mjs'

onBenchNode()

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.dirname(here)
const abDir = path.join(root, 'target', 'ab')
const t0 = Date.now()
const log = (msg) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`)

/** Figures per suite: [label, getter from the child's record, 'higher' if higher is better (else lower)]. */
const FIGURES = {
  'steady-arm': [
    ['S1 steady arm+stop pair, ns/op', (r) => r.pair?.ns],
    ['S1 steady arm alone, ns/op', (r) => r.alone?.ns],
    ['S1 steady pair, process CPU ns/op', (r) => r.pair?.cpu_ns],
    ['S1 steady pair, wheel-thread CPU ns/op (native)', (r) => r.pair?.wheel_cpu_ns],
  ],
  'steady-reset': [
    ['S2 steady reset, ns/op', (r) => r.pair?.ns],
    ['S2 steady reset, process CPU ns/op', (r) => r.pair?.cpu_ns],
    ['S2 steady reset, wheel-thread CPU ns/op (native)', (r) => r.pair?.wheel_cpu_ns],
  ],
  'steady-stop': [
    ['S3 steady stop+arm pair, ns/op', (r) => r.pair?.ns],
    ['S3 steady stop alone, ns/op', (r) => r.alone?.ns],
    ['S3 steady pair, process CPU ns/op', (r) => r.pair?.cpu_ns],
    ['S3 steady pair, wheel-thread CPU ns/op (native)', (r) => r.pair?.wheel_cpu_ns],
  ],
  scale: [
    ['S1 scale first N arms, JS-thread ns/op', (r) => r.arm?.wall_ns],
    ['S2 scale first N resets, JS-thread ns/op', (r) => r.reset?.wall_ns],
    ['S3 scale first N stops, JS-thread ns/op', (r) => r.stop?.wall_ns],
    ['S4 heapUsed+external B/timer', (r) => r.memory?.heap_bytes],
    ['S4 RSS B/timer', (r) => r.memory?.rss_bytes],
  ],
  fire: [
    ['S5 main-thread CPU ns/fire', (r) => r.main_cpu_per_fire_ns],
    ['S5 delivery (main-thread CPU minus the callbacks), ns/fire', (r) => r.main_cpu_per_fire_ns - r.callback_floor_ns],
    ['S5 process CPU ns/fire', (r) => r.cpu_per_fire_ns],
    ['S5 wheel-thread CPU ns/fire (native)', (r) => r.wheel_cpu_per_fire_ns],
    ['S5 lateness p99, ms', (r) => r.late_p99_ms],
  ],
  'fire-noop': [
    ['S5 no-op callback: main-thread CPU ns/fire', (r) => r.main_cpu_per_fire_ns],
    ['S5 no-op callback: process CPU ns/fire', (r) => r.cpu_per_fire_ns],
  ],
  'fire-burst': [
    ['S5 burst: main-thread CPU ns/fire', (r) => r.main_cpu_per_fire_ns],
    ['S5 burst: lateness p99, ms', (r) => r.late_p99_ms],
  ],
  ctx: [
    ['S6 withTimeout+cancel ns/request', (r) => r.request_ns],
    ['S6 under a parent, ns/request', (r) => r.request_child_ns],
  ],
  'ctx-bytes': [
    ['S6 heapUsed+external B per in-flight request', (r) => r.heap_bytes],
    ['S6 under a parent, heapUsed+external B per request', (r) => r.child_heap_bytes],
  ],
  precision: [
    ['precision: lone timers, lateness p50, ms', (r) => r.lone?.p50_ms],
    ['precision: lone timers, lateness p99, ms', (r) => r.lone?.p99_ms],
    ['precision: lone timers, lateness max, ms', (r) => r.lone?.max_ms],
    ['precision: lone timers, early fires', (r) => r.lone?.early],
    ['precision: 10k over 1 s, lateness p50, ms', (r) => r.spread?.p50_ms],
    ['precision: 10k over 1 s, lateness p99, ms', (r) => r.spread?.p99_ms],
    ['precision: 10k over 1 s, early fires', (r) => r.spread?.early],
  ],
  'idle-conn': [
    ['idle-conn: process CPU ns per reset', (r) => r.cpu_per_reset_ns],
    ['idle-conn: main-thread CPU ns per reset', (r) => r.main_cpu_per_reset_ns],
    ['idle-conn: wheel-thread CPU ns per reset (native)', (r) => r.wheel_cpu_per_reset_ns],
    ['idle-conn: RSS B per key', (r) => r.rss_bytes],
    ['idle-conn: heapUsed+external B per key', (r) => r.heap_bytes],
    ['idle-conn: expiry lateness p99, ms', (r) => r.late_p99_ms],
  ],
  server: [
    ['S8 HTTP server req/s (higher is better)', (r) => r.rps, 'higher'],
    ['S8 server CPU µs/request', (r) => r.server_cpu_us_per_request],
    ['S8 p99 latency, ms', (r) => r.latency_p99_ms],
  ],
}
/** S8 as `npm run bench` runs it in full: connections, measured seconds, warm-up seconds. */
const S8 = { connections: 2000, seconds: 3, warmup: 1 }
const DEFAULT_SUITES = ['steady-arm', 'steady-reset', 'steady-stop', 'fire-noop']
/** N of a suite unless --n says otherwise: as `npm run bench` runs it in full. */
const DEFAULT_N = { ctx: 100_000, 'ctx-bytes': 100_000, precision: 500 }
/** The suites a TimerSet engine runs (one set has one callback, and no contexts or server). */
const SET_SUITES = ['scale', 'steady-arm', 'steady-reset', 'steady-stop', 'fire-noop', 'idle-conn']
/** The afterfunc engine (AFTERFUNC_BACKEND) behind an engine of ab.mjs. */
const backendOf = (engine) => engine.replace(/^set-/, '')

function usage(message) {
  if (message) process.stderr.write(`ab: ${message}\n`)
  process.stderr.write(
    'usage: node benchmark/ab.mjs <rev> [--suites a,b,...] [--engine native|js|set-native|set-js] [--rounds R] [--n N]\n' +
      `  suites: ${Object.keys(FIGURES).join(', ')} (default ${DEFAULT_SUITES.join(',')})\n` +
      `  engine: native (default), js, or one TimerSet on either (set-native, set-js: ${SET_SUITES.join(', ')})\n` +
      '  rounds: default 6; n: live timers, default 1000000 (S6: requests in flight, default 100000; precision: lone timers, default 500; S8 (server): not used)\n',
  )
  process.exit(2)
}

function parseArgs(argv) {
  const opts = { rev: undefined, suites: DEFAULT_SUITES, engine: 'native', rounds: 6, n: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`))
    if (a === '--suites') opts.suites = value().split(',')
    else if (a === '--engine') opts.engine = value()
    else if (a === '--rounds') opts.rounds = Number(value())
    else if (a === '--n') opts.n = Number(value())
    else if (a === '-h' || a === '--help') usage()
    else if (a.startsWith('-')) usage(`unknown option ${a}`)
    else if (opts.rev === undefined) opts.rev = a
    else usage(`unexpected argument ${a}`)
  }
  if (opts.rev === undefined) usage('which revision is the baseline?')
  for (const s of opts.suites) if (!(s in FIGURES)) usage(`unknown suite ${s}`)
  if (!['native', 'js', 'set-native', 'set-js'].includes(opts.engine)) usage(`engine must be native, js, set-native or set-js, got ${opts.engine}`)
  const notForSets = opts.suites.filter((suite) => !SET_SUITES.includes(suite))
  if (opts.engine.startsWith('set-') && notForSets.length > 0) usage(`${opts.engine} does not run ${notForSets.join(', ')}`)
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) usage('--rounds must be a positive integer')
  if (opts.n !== undefined && !(Number.isInteger(opts.n) && opts.n > 0)) usage('--n must be a positive integer')
  return opts
}

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...options })
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr ?? ''}`)
  }
  return r.stdout
}

/**
 * Unpacks and builds the baseline once (the TypeScript always, the addon when the native engine
 * is measured); returns its directory. A stamp file per part records what was built.
 */
function prepareBaseline(commit, engine) {
  const dir = path.join(abDir, commit)
  const tsStamp = path.join(dir, '.ab-built-ts')
  const nativeStamp = path.join(dir, '.ab-built-native')
  if (!existsSync(tsStamp)) {
    log(`unpacking the baseline ${commit.slice(0, 12)} into ${path.relative(root, dir)} (once per commit)`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    sh('bash', ['-c', `git archive ${commit} | tar -x -C "${dir}"`])
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
    sh('npm', ['run', 'build:ts'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
    writeFileSync(tsStamp, `${new Date().toISOString()}\n`)
  }
  if (engine === 'native' && !existsSync(nativeStamp)) {
    log(`building the baseline's native addon (Cargo target ${path.relative(root, path.join(abDir, 'cargo'))})`)
    const env = { ...process.env, CARGO_TARGET_DIR: path.join(abDir, 'cargo') }
    sh('npm', ['run', 'build:native'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] })
    writeFileSync(nativeStamp, `${new Date().toISOString()}\n`)
  }
  return dir
}

/** Checks that `dir`'s package loads `engine`; exits with the loader's message if not. */
function checkLoads(dir, engine, name) {
  const r = spawnSync(process.execPath, ['-e', "import('./index.mjs').then((m) => { if (m.backend !== process.env.AFTERFUNC_BACKEND) { console.error('backend: ' + m.backend); process.exit(1) } })"], {
    cwd: dir,
    env: { ...process.env, AFTERFUNC_BACKEND: engine },
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    process.stderr.write(`ab: the ${name} (${dir}) does not load the ${engine} engine:\n${r.stderr}`)
    process.exit(1)
  }
}

/** Rust sources of this checkout modified after its native addon was built. */
function staleRust() {
  const addon = readdirSync(root).find((f) => f.endsWith('.node'))
  if (addon === undefined) return []
  const built = statSync(path.join(root, addon)).mtimeMs
  const newer = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.(rs|toml)$/.test(e.name) && statSync(p).mtimeMs > built) newer.push(path.relative(root, p))
    }
  }
  walk(path.join(root, 'crates'))
  return newer
}

/** Two-sided exact sign test: the probability of a split at least this uneven among `n` fair coin flips. */
function signTest(wins, n) {
  if (n === 0) return 1
  const k = Math.min(wins, n - wins)
  let p = 0
  let c = 1 // C(n, 0)
  for (let i = 0; i <= k; i++) {
    p += c
    c = (c * (n - i)) / (i + 1)
  }
  return Math.min(1, (2 * p) / 2 ** n)
}

const fmt = (x) => (x === undefined || Number.isNaN(x) ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2))

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const commit = sh('git', ['rev-parse', '--verify', `${opts.rev}^{commit}`]).trim()
  const head = sh('git', ['rev-parse', 'HEAD']).trim()
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']).trim() !== ''
  const backend = backendOf(opts.engine)
  const baseline = prepareBaseline(commit, backend)
  checkLoads(baseline, backend, 'baseline')
  checkLoads(root, backend, 'candidate')
  if (backend === 'native') {
    const stale = staleRust()
    if (stale.length) log(`warning: Rust sources newer than this checkout's addon (run \`npm run build:native\`): ${stale.join(', ')}`)
  }
  const sides = [
    { name: 'baseline', label: `${commit.slice(0, 7)}`, dir: baseline },
    { name: 'candidate', label: `${head.slice(0, 7)}${dirty ? '+changes' : ''}`, dir: root },
  ]
  log(`A/B: ${sides[0].label} (baseline) against ${sides[1].label} (candidate), ${opts.engine} engine, ${opts.rounds} rounds of ${opts.suites.join(', ')}`)

  const records = []
  for (let round = 0; round < opts.rounds; round++) {
    for (const suite of opts.suites) {
      const n = opts.n ?? DEFAULT_N[suite] ?? 1_000_000
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const env = { ...process.env, AFTERFUNC_BACKEND: backend, BENCH_PACKAGE: side.dir }
        const record = await measured(async () => {
          const result =
            suite === 'server'
              ? await serveAndLoad({ variant: opts.engine, env, cwd: root, ...S8 }).catch((err) => ({ error: String(err) }))
              : await runResult(process.execPath, ['--expose-gc', path.join(here, 'child.mjs'), suite, opts.engine, String(n)], env, root)
          return { ...result, side: side.name, suite, n, round }
        })
        records.push(record)
        log(
          `${suite.padEnd(13)} ${side.name.padEnd(9)} round ${round + 1}/${opts.rounds} ${record.error ? `FAILED: ${record.error}` : `${(record.elapsed_ms / 1000).toFixed(1)} s`}` +
            foreignNote(record),
        )
        if (record.error) process.exitCode = 1
      }
    }
  }

  const rows = []
  for (const suite of opts.suites) {
    for (const [label, get, better] of FIGURES[suite]) {
      const value = (side, round) => {
        const r = records.find((x) => x.suite === suite && x.side === side && x.round === round && !x.error)
        const v = r === undefined ? undefined : get(r)
        return typeof v === 'number' && Number.isFinite(v) ? v : undefined
      }
      const pairs = []
      for (let round = 0; round < opts.rounds; round++) {
        const a = value('baseline', round)
        const b = value('candidate', round)
        if (a !== undefined && b !== undefined) pairs.push([a, b])
      }
      if (pairs.length === 0) continue
      const a = median(pairs.map((p) => p[0]))
      const b = median(pairs.map((p) => p[1]))
      if (a === 0 && b === 0) continue // a figure this engine does not have (wheel-thread CPU of the js engine)
      const decided = pairs.filter(([x, y]) => x !== y)
      const wins = decided.filter(([x, y]) => (better === 'higher' ? y > x : y < x)).length
      const ratios = pairs.map(([x, y]) => y / x)
      rows.push({
        figure: label,
        baseline: a,
        candidate: b,
        ratio: b / a,
        round_ratio_min: Math.min(...ratios),
        round_ratio_max: Math.max(...ratios),
        candidate_wins: wins,
        rounds: decided.length,
        p: signTest(wins, decided.length),
      })
    }
  }

  const header = ['figure (lower is better unless marked)', `baseline ${sides[0].label}`, `candidate ${sides[1].label}`, 'candidate/baseline', 'per-round range', 'candidate won', 'sign test p']
  const lines = rows.map((r) => [
    r.figure,
    fmt(r.baseline),
    fmt(r.candidate),
    r.ratio.toFixed(3),
    `${r.round_ratio_min.toFixed(2)}–${r.round_ratio_max.toFixed(2)}`,
    `${r.candidate_wins} of ${r.rounds}`,
    r.p < 0.001 ? '<0.001' : r.p.toFixed(3),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  console.log(`\n${os.cpus()[0]?.model}, ${os.cpus().length} cores, Node ${process.version}; ${opts.engine} engine; ${opts.rounds} rounds, medians`)
  console.log(row(header))
  console.log(row(widths.map((w) => '-'.repeat(w))))
  for (const l of lines) console.log(row(l))
  const noisy = records.filter((r) => r.foreign_cpu_pct >= NOISY_PCT).length
  if (noisy) console.log(`\n${noisy} of ${records.length} cases ran while other processes used ≥ ${NOISY_PCT}% of the machine (foreign_cpu_pct in the JSON)`)

  const out = path.join(abDir, `${commit.slice(0, 12)}-vs-${head.slice(0, 12)}${dirty ? '-dirty' : ''}.json`)
  writeFileSync(out, `${JSON.stringify({ baseline: commit, candidate: head, candidate_dirty: dirty, options: opts, date: new Date().toISOString(), rows, records }, null, 1)}\n`)
  log(`wrote ${path.relative(root, out)}`)
}

try {
  await main()
} catch (err) {
  process.stderr.write(`ab: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
