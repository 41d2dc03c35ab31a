// What a user does: install the published tarballs into a fresh directory outside the
// repository, with no Rust toolchain on PATH, and use the package from ESM, CommonJS and
// TypeScript. Tarballs come from scripts/pack.mjs, the same script the release publishes with.

import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const repo = resolve(__dirname, '..')
const work = mkdtempSync(join(tmpdir(), 'afterfunc-install-'))
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc')

/** PATH with only node's own directory and the system's: no cargo, no rustc. */
const PATH = [dirname(process.execPath), ...(process.platform === 'win32' ? [process.env['SystemRoot'] + '\\System32'] : ['/usr/bin', '/bin'])].join(delimiter)
const env: NodeJS.ProcessEnv = { ...process.env, PATH }
delete env['AFTERFUNC_BACKEND']

let root = ''
let platform = ''

const windows = process.platform === 'win32'

function npm(cwd: string, args: string[]): string {
  return execFileSync(windows ? 'npm.cmd' : 'npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: windows })
}

function app(name: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }))
  return dir
}

function node(cwd: string, file: string, source: string) {
  writeFileSync(join(cwd, file), source)
  const r = spawnSync(process.execPath, [file], { cwd, env, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const esm = `import { time, backend } from 'afterfunc'
const start = performance.now()
time.afterFunc(5, () => console.log('esm', backend, performance.now() - start >= 5))
`
const cjs = `const { time, backend } = require('afterfunc')
const start = performance.now()
time.afterFunc(5, () => console.log('cjs', backend, performance.now() - start >= 5))
`

beforeAll(() => {
  const tarballs = JSON.parse(execFileSync(process.execPath, [join(repo, 'scripts', 'pack.mjs'), '--out', join(work, 'tarballs')], { encoding: 'utf8' })) as string[]
  root = tarballs.find((t) => /[\\/]afterfunc-\d/.test(t))!
  platform = tarballs.find((t) => t.includes(`afterfunc-${process.platform}-${process.arch}`))!
  expect(root).toBeDefined()
  expect(platform).toBeDefined()
  expect(spawnSync('cargo', ['--version'], { env }).error).toBeDefined() // really no Rust toolchain
}, 120_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('installed from the tarballs', () => {
  test('with the platform package: ESM and CommonJS both run the native engine', () => {
    const dir = app('with-native')
    npm(dir, ['install', '--offline', '--no-audit', '--no-fund', root, platform])
    expect(node(dir, 'esm.mjs', esm)).toEqual({ code: 0, stdout: 'esm native true\n', stderr: '' })
    expect(node(dir, 'cjs.cjs', cjs)).toEqual({ code: 0, stdout: 'cjs native true\n', stderr: '' })
    const both = node(dir, 'both.mjs', `import { time } from 'afterfunc'\nimport { createRequire } from 'node:module'\nconsole.log(createRequire(import.meta.url)('afterfunc').time === time)\n`)
    expect(both.stdout).toBe('true\n') // one runtime, not two
  }, 60_000)

  test('the root package alone (optional dependencies omitted): the TypeScript engine, no warning', () => {
    const dir = app('js-only')
    npm(dir, ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', root])
    expect(node(dir, 'esm.mjs', esm)).toEqual({ code: 0, stdout: 'esm js true\n', stderr: '' })
    expect(node(dir, 'cjs.cjs', cjs)).toEqual({ code: 0, stdout: 'cjs js true\n', stderr: '' })
  }, 60_000)

  test('the published manifest declares no install-time scripts', () => {
    const dir = app('manifest')
    npm(dir, ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', root])
    const manifest = JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require('afterfunc/package.json'))`], { cwd: dir, encoding: 'utf8' }))
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[script]).toBeUndefined()
    for (const version of Object.values(manifest.optionalDependencies)) expect(version).toBe(manifest.version)
    expect(Object.keys(manifest.optionalDependencies)).toHaveLength(7)
  }, 60_000)

  describe('types: a strict consumer type-checks', () => {
    const consumer = `import { time, backend, context, testing, http, signal as signals, errgroup } from 'afterfunc'
import type { IncomingMessage, ServerResponse, Server } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, Http2SecureServer } from 'node:http2'
declare const req: IncomingMessage
declare const res: ServerResponse
declare const server: Server
declare const req2: Http2ServerRequest
declare const res2: Http2ServerResponse
declare const server2: Http2SecureServer
const signalName: NodeJS.Signals = 'SIGHUP'
const kind: 'native' | 'js' = backend
const [ctx, cancel]: [context.Context, context.CancelFunc] = context.withTimeout(context.background(), time.Second)
const signal: AbortSignal = ctx.signal
const err: Error | undefined = ctx.err()
const sentinel: context.CanceledError | context.DeadlineExceededError | undefined = ctx.err()
const errName: 'CanceledError' | 'DeadlineExceededError' | undefined = ctx.err()?.name
const portKey: context.Key<number> = context.key<number>('port')
const withPort: context.Context = context.withValue(ctx, portKey, 8080)
const port: number | undefined = withPort.value(portKey)
const untyped: unknown = withPort.value('a key of any other kind')
// @ts-expect-error a key's values have its type
context.withValue(ctx, portKey, 'eighty')
// @ts-expect-error value(key) has the key's type
const portName: string | undefined = withPort.value(portKey)
// @ts-expect-error a hand-made object with the same methods is not a Context
const fake: context.Context = { deadline: () => undefined, done: () => new Promise<void>(() => {}), err: () => undefined, value: () => undefined, signal }
cancel()
const slept: Promise<void> = time.sleep(10, { ctx, signal })
const ticker: time.Ticker = time.newTicker(time.Second, () => {})
ticker.stop()
{
  using disposable = time.afterFunc(1, () => {})
  void disposable
}
const clock: testing.VirtualClock = testing.virtualClock()
const advanced: Promise<void> = clock.advance(time.Minute)
clock[Symbol.dispose]()
// @ts-expect-error withTimeout takes a parent context
context.withTimeout({}, 5)
// @ts-expect-error newTicker needs a callback
time.newTicker(5)
const t: time.Timer = time.afterFunc(5 * time.Millisecond, () => {})
const active: boolean = t.stop()
const was: boolean = t.reset(time.Second)
const same: time.Timer = t.unref().ref()
const refd: boolean = same.hasRef()
// @ts-expect-error a duration is a number of milliseconds
time.afterFunc('5', () => {})
// @ts-expect-error the callback takes no arguments and is required
time.afterFunc(5)
// @ts-expect-error backend is a closed set
const other: 'wasm' = backend
const [requestCtx, requestDone]: [context.Context, context.CancelFunc] = http.requestContext(ctx, req, res)
const [request2Ctx] = http.requestContext(ctx, req2, res2)
const shutDown: Promise<void> = http.shutdown(server, ctx)
const shutDown2: Promise<void> = http.shutdown(server2, ctx)
const [signalled, stopSignals]: [context.Context, () => void] = signals.notifyContext(ctx, 'SIGTERM', signalName)
const [group, groupCtx] = errgroup.withContext(ctx)
group.go(async () => {})
const waited: Promise<void> = group.wait()
// @ts-expect-error not a signal name
signals.notifyContext(ctx, 'SIGNOPE')
// @ts-expect-error a request needs its response
http.requestContext(ctx, req)
requestDone()
stopSignals()
export { kind, active, was, refd, other, signal, err, slept, advanced, sentinel, errName, port, untyped, portName, fake, requestCtx, request2Ctx, shutDown, shutDown2, signalled, groupCtx, waited }
`
    let dir = ''
    beforeAll(() => {
      dir = app('types')
      npm(dir, ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', root])
      // The consumer's own dev dependencies, taken from the repository (no network needed).
      cpSync(join(repo, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), { recursive: true })
      cpSync(join(repo, 'node_modules', 'undici-types'), join(dir, 'node_modules', 'undici-types'), { recursive: true })
      writeFileSync(join(dir, 'consumer.mts'), consumer)
      writeFileSync(join(dir, 'consumer.cts'), consumer)
      writeFileSync(join(dir, 'consumer.ts'), consumer)
    }, 60_000)

    test('with neither @types/node nor the DOM library', () => {
      writeFileSync(
        join(dir, 'bare.ts'),
        `import { time, context, testing } from 'afterfunc'
const [ctx, cancel] = context.withTimeout(context.background(), time.Second)
const aborted: boolean = ctx.signal.aborted
const fromSignal: context.Context = context.fromSignal(ctx.signal)
const slept: Promise<void> = time.sleep(10, { ctx, signal: ctx.signal })
const stopped: boolean = time.afterFunc(5, () => {}).stop()
using clock = testing.virtualClock()
cancel()
export { aborted, fromSignal, slept, stopped, clock }
`,
      )
      const config = join(dir, 'tsconfig.bare.json')
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022'], types: [], skipLibCheck: false },
          files: ['bare.ts'],
        }),
      )
      const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: dir, encoding: 'utf8' })
      expect(r.stdout + r.stderr).toBe('')
      expect(r.status).toBe(0)
    }, 60_000)

    test.each([
      ['node16', ['consumer.mts', 'consumer.cts'], 'node16'],
      ['nodenext', ['consumer.mts', 'consumer.cts'], 'nodenext'],
      ['bundler', ['consumer.ts'], 'esnext'],
    ])('moduleResolution %s', (resolution, files, module) => {
      const config = join(dir, `tsconfig.${resolution}.json`)
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, module, moduleResolution: resolution, target: 'es2022', types: ['node'], skipLibCheck: false },
          files,
        }),
      )
      const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: dir, encoding: 'utf8' })
      expect(r.stdout + r.stderr).toBe('')
      expect(r.status).toBe(0)
    }, 60_000)
  })
})
