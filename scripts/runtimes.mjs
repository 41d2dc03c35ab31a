// Runs the test suites on every runtime afterfunc supports, each installed from the npm registry
// into a cache inside the clone:
//
//   node scripts/runtimes.mjs            install what is missing, then test on every runtime
//   node scripts/runtimes.mjs smoke      the same without the vitest suites (a quick look)
//   node scripts/runtimes.mjs install    install what is missing, print what is installed
//   node scripts/runtimes.mjs install node-24 ...   the same for the runtimes named (ids as the
//                                        cache's folders: node-20 … node-26, bun-1, deno-2)
//
// - Node 20, 22, 24 and 26 (the `node-<os>-<cpu>` packages, which repackage the official
//   builds as bin/node): the vitest suites, each behaviour on both engines, then the smoke
//   script. Node 20 is the registry's too, not whatever node runs this script.
// - Bun and Deno (the platform packages `@oven/bun-<os>-<cpu>` and `@deno/<os>-<cpu>` that the
//   `bun` and `deno` packages install as optional dependencies): the smoke script
//   (`__test__/smoke/smoke.mjs`) on both engines, and for Deno the engine each permission set
//   gets. Every runtime also runs it with a truncated binary (the TypeScript engine, one
//   warning).
//
// Each runtime is pinned to a major version. The first run installs the newest release of that
// major (`npm pack`, then untar: no install scripts run) and records the exact version in
// `installed.json` beside it; later runs reuse it without asking the registry. A runtime that
// cannot be installed or does not run fails the whole run: nothing is skipped.
//
// The cache is `node_modules/.cache/afterfunc-runtimes/`, or AFTERFUNC_RUNTIMES_DIR. Delete a
// runtime's folder there to install the newest release of its major again.

import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const cache = resolve(process.env.AFTERFUNC_RUNTIMES_DIR || join(root, 'node_modules', '.cache', 'afterfunc-runtimes'))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** The Node majors tested: the minimum in package.json's engines, then every even release after it. */
const NODE_MAJORS = [20, 22, 24, 26]
const BUN_MAJOR = 1
const DENO_MAJOR = 2

/** The permission flags with which Deno loads the native engine (README, "Supported runtimes"). */
const DENO_NATIVE_FLAGS = ['--allow-ffi', '--allow-env', '--allow-read']

class Failure extends Error {}

/** Which registry package holds each runtime's binary on this system, and where in it. */
function runtimeList() {
  const where = `${process.platform}-${process.arch}`
  const supported = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64']
  if (!supported.includes(where)) {
    throw new Failure(`scripts/runtimes.mjs knows the runtime packages for ${supported.join(', ')}, not for ${where}`)
  }
  if (process.platform === 'linux' && !process.report.getReport().header.glibcVersionRuntime) {
    throw new Failure('the registry builds of Node, Bun and Deno need glibc, and this Linux has none (musl?)')
  }
  const cpu = process.arch === 'x64' ? 'x64' : 'aarch64'
  // Bun's x64 build needs AVX2; its `-baseline` build runs on any x64 CPU.
  const bunBaseline = process.arch === 'x64' && !hasAvx2()
  return [
    ...NODE_MAJORS.map((major) => ({
      id: `node-${major}`,
      kind: 'node',
      spec: `node-${where}@${major}`,
      binary: join('package', 'bin', 'node'),
    })),
    {
      id: `bun-${BUN_MAJOR}`,
      kind: 'bun',
      spec: `@oven/bun-${process.platform}-${cpu}${bunBaseline ? '-baseline' : ''}@${BUN_MAJOR}`,
      binary: join('package', 'bin', 'bun'),
    },
    {
      id: `deno-${DENO_MAJOR}`,
      kind: 'deno',
      spec: `@deno/${where}${process.platform === 'linux' ? '-glibc' : ''}@${DENO_MAJOR}`,
      binary: join('package', 'deno'),
    },
  ]
}

function hasAvx2() {
  if (process.platform === 'linux') return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))
  const r = spawnSync('sysctl', ['-n', 'machdep.cpu.leaf7_features'], { encoding: 'utf8' })
  return /\bAVX2\b/.test(r.stdout ?? '')
}

/** What `<binary> --version` prints, or throws saying why it does not run. */
function versionOf(binary) {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 })
  if (r.error !== undefined || r.status !== 0) {
    throw new Failure(`${binary} --version failed: ${r.error?.message ?? `exit ${r.status ?? r.signal}`} ${r.stderr ?? ''}`.trim())
  }
  return r.stdout.trim().split('\n')[0]
}

/** Returns the installed runtime, installing it first if the cache lacks it. */
function ensure(runtime) {
  const dir = join(cache, runtime.id)
  const recordFile = join(dir, 'installed.json')
  if (existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, 'utf8'))
    const binary = join(dir, runtime.binary)
    if (record.spec === runtime.spec && existsSync(binary)) {
      let reported
      try {
        reported = versionOf(binary)
      } catch (error) {
        throw new Failure(`${error.message} (delete ${dir} to install it again)`)
      }
      if (!reported.includes(record.version)) throw new Failure(`${binary} reports ${reported}, but ${recordFile} records ${record.version} (delete ${dir} to install it again)`)
      return { ...runtime, binary, version: record.version, installed: 'cached' }
    }
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(cache, { recursive: true })
  const staging = mkdtempSync(join(cache, `.${runtime.id}-`))
  try {
    let packed
    try {
      packed = JSON.parse(execFileSync(npm, ['pack', runtime.spec, '--json', '--pack-destination', staging], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' }))[0]
    } catch (error) {
      // npm's first lines say what failed (code, then the reason); the rest is its stack.
      const said = String(error.stderr || error.message).split('\n').filter((line) => !/^npm error\s+at /.test(line)).slice(0, 4)
      throw new Failure(`npm pack ${runtime.spec} failed: ${said.join(' | ')}`)
    }
    execFileSync('tar', ['-xzf', join(staging, packed.filename), '-C', staging])
    rmSync(join(staging, packed.filename))
    const reported = versionOf(join(staging, runtime.binary))
    if (!reported.includes(packed.version)) throw new Failure(`${packed.name}@${packed.version} runs, but reports ${reported}`)
    writeFileSync(
      join(staging, 'installed.json'),
      `${JSON.stringify({ spec: runtime.spec, package: packed.name, version: packed.version, integrity: packed.integrity, installedAt: new Date().toISOString() }, null, 2)}\n`,
    )
    renameSync(staging, dir)
    return { ...runtime, binary: join(dir, runtime.binary), version: packed.version, installed: 'installed now' }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * Installs every runtime, or those of `ids` (all of them known, else a Failure naming the
 * known ones), reporting all that fail before failing.
 */
function ensureAll(ids = []) {
  const all = runtimeList()
  const unknown = ids.filter((id) => !all.some((r) => r.id === id))
  if (unknown.length > 0) {
    throw new Failure(`unknown runtime ${unknown.map((id) => JSON.stringify(id)).join(', ')}: the runtimes are ${all.map((r) => r.id).join(', ')}`)
  }
  const installed = []
  const failures = []
  for (const runtime of ids.length > 0 ? all.filter((r) => ids.includes(r.id)) : all) {
    try {
      const r = ensure(runtime)
      installed.push(r)
      console.log(`runtimes: ${r.kind} ${r.version} (${r.spec}, ${r.installed}) at ${r.binary}`)
    } catch (error) {
      if (!(error instanceof Failure)) throw error
      failures.push(`${runtime.spec}: ${error.message}`)
    }
  }
  if (failures.length > 0) {
    throw new Failure(`these runtimes could not be installed, so they cannot be tested:\n  ${failures.join('\n  ')}`)
  }
  return installed
}

/** Runs the vitest suites on a Node runtime; returns the counts, per engine, from vitest's JSON report. */
function vitest(runtime, work) {
  const report = join(work, `vitest-${runtime.id}.json`)
  const entry = join(dirname(createRequire(join(root, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs')
  console.log(`\nruntimes: vitest on Node ${runtime.version}`)
  // That Node first on PATH, so whatever the suites start by name runs on it too.
  const env = { ...process.env, PATH: `${dirname(runtime.binary)}${delimiter}${process.env.PATH}` }
  const r = spawnSync(runtime.binary, [entry, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { cwd: root, env, stdio: 'inherit' })
  const counts = Object.fromEntries(['native', 'js', 'not per engine'].map((k) => [k, { passed: 0, failed: 0, skipped: 0 }]))
  if (!existsSync(report)) return { ok: false, counts, note: `vitest wrote no report (exit ${r.status ?? r.signal})` }
  const json = JSON.parse(readFileSync(report, 'utf8'))
  for (const file of json.testResults) {
    for (const test of file.assertionResults) {
      const engine = /on the (native|js) engine/.exec(test.ancestorTitles.join(' > '))?.[1] ?? 'not per engine'
      const c = counts[engine]
      if (test.status === 'passed') c.passed++
      else if (test.status === 'failed') c.failed++
      else c.skipped++ // skipped or todo: the suites have none that may be left out, so it fails the run
    }
  }
  const ok = r.status === 0 && json.success && json.numPendingTests === 0 && json.numTodoTests === 0 && counts.native.passed > 0 && counts.js.passed > 0
  return { ok, counts, note: `${json.numTotalTests} tests, exit ${r.status ?? r.signal}` }
}

/**
 * An application with the packed package installed as a user installs it (scripts/pack.mjs's
 * tarballs: the root package and this platform's package), the smoke script as its main, and
 * a copy of it whose platform package holds a truncated binary.
 */
function smokeApp(work) {
  const tarballs = JSON.parse(execFileSync(process.execPath, [join(root, 'scripts', 'pack.mjs'), '--out', join(work, 'tarballs')], { encoding: 'utf8' }))
  const rootTarball = tarballs.find((t) => /[\\/]afterfunc-\d/.test(t))
  const platformTarball = tarballs.find((t) => !/[\\/]afterfunc-\d/.test(t))
  if (platformTarball === undefined) throw new Failure('no native binary to pack: run `npm run build:native` first')
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'afterfunc-smoke', private: true }))
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', rootTarball, platformTarball], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' })
  copyFileSync(join(root, '__test__', 'smoke', 'smoke.mjs'), join(app, 'smoke.mjs'))
  // The same application with its platform package's binary truncated.
  const broken = join(work, 'app-broken')
  cpSync(app, broken, { recursive: true })
  const platformDir = join(broken, 'node_modules', readdirSync(join(broken, 'node_modules')).find((name) => name.startsWith('afterfunc-')))
  const binary = join(platformDir, JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')).main)
  writeFileSync(binary, truncated(readFileSync(binary)))
  return { app, broken }
}

/**
 * The first bytes of a binary, cut where the loader refuses it with an error: for ELF, inside
 * its program headers (cut after them, glibc maps the missing pages and the process dies of
 * SIGBUS); for other formats, inside the first header.
 */
function truncated(whole) {
  const isElf = whole.readUInt32BE(0) === 0x7f454c46
  return whole.subarray(0, isElf ? Number(whole.readBigUInt64LE(0x20)) + whole.readUInt16LE(0x36) : 64)
}

/** The smoke cases for a runtime: how to start it, in which app, and what the package must do there. */
function smokeCases(runtime) {
  const withBackend = (backend) => ({ ...process.env, AFTERFUNC_BACKEND: backend })
  const unset = { ...process.env }
  delete unset.AFTERFUNC_BACKEND
  if (runtime.kind !== 'deno') {
    return [
      { name: 'native', env: withBackend('native'), args: ['smoke.mjs', '--backend', 'native'] },
      { name: 'js', env: withBackend('js'), args: ['smoke.mjs', '--backend', 'js'] },
      { name: 'default (unset)', env: unset, args: ['smoke.mjs', '--backend', 'native'] },
      { name: 'default, truncated binary', broken: true, env: unset, args: ['smoke.mjs', '--backend', 'js', '--warning', 'failed to load'] },
    ]
  }
  const run = (flags, ...rest) => ['run', ...flags, 'smoke.mjs', ...rest]
  return [
    { name: `native, ${DENO_NATIVE_FLAGS.join(' ')}`, env: withBackend('native'), args: run(DENO_NATIVE_FLAGS, '--backend', 'native') },
    { name: 'js, --allow-env', env: withBackend('js'), args: run(['--allow-env'], '--backend', 'js') },
    // What the warning advises for choosing the TypeScript engine without it.
    { name: 'js, --allow-env=AFTERFUNC_BACKEND', env: withBackend('js'), args: run(['--allow-env=AFTERFUNC_BACKEND'], '--backend', 'js') },
    { name: `default, ${DENO_NATIVE_FLAGS.join(' ')}`, env: unset, args: run(DENO_NATIVE_FLAGS, '--backend', 'native') },
    // No flags at all: the setting is unreadable, so unset; the native engine is not permitted.
    { name: 'no flags (AFTERFUNC_BACKEND=native unreadable)', env: withBackend('native'), args: run([], '--backend', 'js', '--warning', 'Run with --allow-ffi') },
    { name: 'default, --allow-ffi --allow-read (no --allow-env)', env: unset, args: run(['--allow-ffi', '--allow-read'], '--backend', 'js', '--warning', 'not granted --allow-env') },
    { name: 'native, --allow-env (no --allow-ffi): import fails', env: withBackend('native'), args: run(['--allow-env'], '--import-error', 'Deno has not granted --allow-ffi, --allow-read') },
    { name: `default, ${DENO_NATIVE_FLAGS.join(' ')}, truncated binary`, broken: true, env: unset, args: run(DENO_NATIVE_FLAGS, '--backend', 'js', '--warning', 'failed to load') },
  ]
}

/** Runs the smoke cases on a runtime; returns one line per case. */
function smoke(runtime, apps) {
  return smokeCases(runtime).map((c) => {
    const r = spawnSync(runtime.binary, c.args, { cwd: c.broken ? apps.broken : apps.app, env: { ...c.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 })
    const summary = /^smoke: (\d+) passed, (\d+) failed/m.exec(r.stdout ?? '')
    const ok = r.status === 0 && summary !== null && summary[2] === '0'
    const detail = summary === null ? `no summary (exit ${r.status ?? r.signal})` : `${summary[1]} passed, ${summary[2]} failed`
    if (!ok) process.stdout.write(`${r.stdout ?? ''}${r.stderr ?? ''}`)
    return { ok, line: `smoke ${c.name}: ${detail}` }
  })
}

function main() {
  const [command = 'test', ...ids] = process.argv.slice(2)
  if (!['test', 'smoke', 'install'].includes(command)) throw new Failure(`unknown command ${JSON.stringify(command)}: use test, smoke or install`)
  if (command !== 'install' && ids.length > 0) throw new Failure(`${command} runs on every runtime; only install takes runtime names`)
  const runtimes = ensureAll(ids)
  if (command === 'install') return true
  const work = mkdtempSync(join(tmpdir(), 'afterfunc-runtimes-'))
  try {
    const apps = smokeApp(work)
    const results = []
    for (const runtime of runtimes) {
      const started = performance.now()
      const lines = []
      let ok = true
      if (runtime.kind === 'node' && command === 'test') {
        const v = vitest(runtime, work)
        ok &&= v.ok
        lines.push(`vitest: ${v.note}`)
        for (const [engine, c] of Object.entries(v.counts)) lines.push(`  ${engine}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`)
      }
      for (const s of smoke(runtime, apps)) {
        ok &&= s.ok
        lines.push(s.line)
      }
      results.push({ runtime, ok, lines, seconds: (performance.now() - started) / 1000 })
    }
    console.log('\nruntimes: summary')
    for (const { runtime, ok, lines, seconds } of results) {
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${runtime.kind} ${runtime.version} (${runtime.spec}, ${seconds.toFixed(0)} s)`)
      for (const line of lines) console.log(`       ${line}`)
    }
    return results.every((r) => r.ok)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

try {
  process.exitCode = main() ? 0 : 1
} catch (error) {
  if (!(error instanceof Failure)) throw error
  console.error(`\nruntimes: FAILED: ${error.message}`)
  process.exitCode = 1
}
