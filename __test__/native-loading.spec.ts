// How the package behaves when the native binary is missing or cannot load, installed as a user
// has it: the built package in an application's node_modules, beside or without its platform
// package, loaded by the real napi-rs loader in a child process. A broken binary is a real
// truncated copy of the one this checkout built.

import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'

const repo = resolve(__dirname, '..')
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; optionalDependencies: Record<string, string> }

/** The binary this checkout built (`afterfunc.<platform>.node`), and the package that ships it. */
const builtBinary = readdirSync(repo).find((f) => /^afterfunc\..+\.node$/.test(f))
if (builtBinary === undefined) throw new Error('these tests need the native binary: run `npm run build:native` first')
const suffix = builtBinary.slice('afterfunc.'.length, -'.node'.length)
const platformPackage = `afterfunc-${suffix}`
const installCommand = `npm install ${platformPackage}@${manifest.optionalDependencies[platformPackage]}`

const work = realpathSync(mkdtempSync(join(tmpdir(), 'afterfunc-loading-')))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/**
 * The first bytes of the built binary. For an ELF file, the cut falls inside its program
 * headers: glibc's loader then refuses the file with an error. A file cut after them passes
 * that check, and the process dies of SIGBUS when the loader touches the pages past the end,
 * which no JavaScript can catch, so that is not a case the package can handle. Other formats
 * keep only their first header.
 */
function truncatedBinary(): Buffer {
  const whole = readFileSync(join(repo, builtBinary!))
  const isElf = whole.readUInt32BE(0) === 0x7f454c46
  const cut = isElf ? Number(whole.readBigUInt64LE(0x20)) + whole.readUInt16LE(0x36) : 64
  return whole.subarray(0, cut)
}

/**
 * An application with afterfunc in node_modules as `npm install --omit=optional` leaves it, and
 * a truncated binary where `broken` says: at the package root (a local build) or in the
 * platform package.
 */
function app(broken: 'none' | 'local build' | 'platform package'): string {
  const dir = mkdtempSync(join(work, 'app-'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  const pkg = join(dir, 'node_modules', 'afterfunc')
  mkdirSync(pkg, { recursive: true })
  for (const file of ['package.json', 'index.mjs', 'binding.js', 'dist']) cpSync(join(repo, file), join(pkg, file), { recursive: true })
  if (broken === 'local build') writeFileSync(join(pkg, builtBinary!), truncatedBinary())
  if (broken === 'platform package') {
    const platformDir = join(dir, 'node_modules', platformPackage)
    mkdirSync(platformDir)
    cpSync(join(repo, 'npm', suffix, 'package.json'), join(platformDir, 'package.json'))
    writeFileSync(join(platformDir, builtBinary!), truncatedBinary())
  }
  return dir
}

/** Runs `source` as an ES module inside `dir`, with AFTERFUNC_BACKEND as given. */
function run(dir: string, backend: string | undefined, source: string) {
  writeFileSync(join(dir, 'main.mjs'), source)
  const env = { ...process.env }
  delete env['AFTERFUNC_BACKEND']
  if (backend !== undefined) env['AFTERFUNC_BACKEND'] = backend
  const r = spawnSync(process.execPath, ['main.mjs'], { cwd: dir, env, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Imports afterfunc as ESM and requires it as CommonJS, and prints what it saw as JSON. */
const useBoth = `
const warnings = []
process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }))
const esm = await import('afterfunc')
const { createRequire } = await import('node:module')
const cjs = createRequire(import.meta.url)('afterfunc')
const fired = await new Promise((resolve) => esm.time.afterFunc(5, () => resolve(true)))
await new Promise((resolve) => setImmediate(resolve))
console.log(JSON.stringify({ backend: esm.backend, same: esm.time === cjs.time, fired, warnings }))
`

/**
 * Requires afterfunc, which must throw, and prints the error and its cause as JSON. (Node 20
 * reports a CommonJS module that throws under a dynamic import() twice, once as an unhandled
 * rejection, so the check uses require.)
 */
const importFails = `
import { createRequire } from 'node:module'
try {
  createRequire(import.meta.url)('afterfunc')
  console.log(JSON.stringify({ threw: false }))
} catch (e) {
  console.log(JSON.stringify({ threw: true, message: e.message, cause: e.cause?.message }))
}
`

/** What the real loader says about the truncated file, loaded on its own: the first line, without its path. */
function ownLoadError(dir: string, file: string): string {
  const r = run(dir, 'js', `import { createRequire } from 'node:module'\ntry { createRequire(import.meta.url)(${JSON.stringify(file)}) } catch (e) { console.log(e.message.split('\\n')[0]) }`)
  const line = r.stdout.trim()
  expect(line).not.toBe('') // the truncated file must not load
  return line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line
}

describe('no binary for this platform', () => {
  test('the TypeScript engine runs, with no warning', () => {
    const r = run(app('none'), undefined, useBoth)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'js', same: true, fired: true, warnings: [] })
    expect(r.stderr).toBe('')
  })

  test('AFTERFUNC_BACKEND=native: the error names the missing package and how to install it, with the loader error as cause', () => {
    const r = run(app('none'), 'native', importFails)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      threw: true,
      message:
        `afterfunc: the native engine cannot load: the package ${platformPackage}, which holds the binary for this platform, is not installed. ` +
        `Install it with \`${installCommand}\` (npm leaves it out under --omit=optional, or when package-lock.json or node_modules was made on another platform). ` +
        'AFTERFUNC_BACKEND=native requires it; unset AFTERFUNC_BACKEND to run on the TypeScript engine instead.',
      cause: expect.stringMatching(/^Cannot find native binding\b/),
    })
  })
})

describe.each(['local build', 'platform package'] as const)('a truncated binary in the %s', (where) => {
  const dir = app(where)
  const file =
    where === 'local build' ? join(dir, 'node_modules', 'afterfunc', builtBinary) : join(dir, 'node_modules', platformPackage, builtBinary)
  const remedy = where === 'local build' ? 'Rebuild it with `npm run build:native`.' : `Reinstall it with \`${installCommand}\`.`

  test('exactly one AFTERFUNC_NATIVE_UNAVAILABLE warning naming the file and its load error, then the TypeScript engine', () => {
    const reason = ownLoadError(dir, file)
    const r = run(dir, undefined, useBoth)
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({ backend: 'js', same: true, fired: true })
    expect(out.warnings).toEqual([
      {
        code: 'AFTERFUNC_NATIVE_UNAVAILABLE',
        message:
          `afterfunc: the native engine cannot load, so the TypeScript engine runs: the native binary ${file} failed to load: ${reason}. ${remedy} ` +
          'Set AFTERFUNC_BACKEND=js to choose the TypeScript engine without this warning.',
      },
    ])
    expect(r.stderr.match(/\[AFTERFUNC_NATIVE_UNAVAILABLE\]/g)).toHaveLength(1)
  })

  test('AFTERFUNC_BACKEND=native: the error names the file and its load error first, with the loader error as cause', () => {
    const reason = ownLoadError(dir, file)
    const r = run(dir, 'native', importFails)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      threw: true,
      message: `afterfunc: the native engine cannot load: the native binary ${file} failed to load: ${reason}. ${remedy} AFTERFUNC_BACKEND=native requires it; unset AFTERFUNC_BACKEND to run on the TypeScript engine instead.`,
      cause: expect.stringMatching(/^Cannot find native binding\b/),
    })
  })

  test('AFTERFUNC_BACKEND=js: the TypeScript engine, no warning, the binary never opened', () => {
    const r = run(dir, 'js', useBoth)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'js', same: true, fired: true, warnings: [] })
  })
})
