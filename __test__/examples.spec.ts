// Every program in examples/ runs here, on both engines, as a user would run it: copied into a
// directory of its own whose node_modules/afterfunc is this package (built), so its
// `import ... from 'afterfunc'` resolves through the package's exports. Each prints what it
// did; the output is checked line by line. The graceful-shutdown example gets a real SIGTERM.

import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { engines } from './helpers.ts'
import { spawnNode } from './spawn.ts'

const repo = resolve(__dirname, '..')
const examples = join(repo, 'examples')
const TESTED = ['debounce.mjs', 'graceful-shutdown.mjs', 'idle-timeout.mjs', 'request-deadlines.mjs', 'retry.mjs', 'virtual-clock.test.mjs']

let dir = ''
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'afterfunc-examples-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(repo, join(dir, 'node_modules', 'afterfunc'), 'junction')
  symlinkSync(join(repo, 'node_modules', 'vitest'), join(dir, 'node_modules', 'vitest'), 'junction')
  for (const file of readdirSync(examples)) cpSync(join(examples, file), join(dir, file))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The environment of a user's shell: this test runner's own variables removed. */
function userEnv(kind: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AFTERFUNC_BACKEND: kind }
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'NODE_OPTIONS' || name === 'TEST') delete env[name]
  return env
}

function run(kind: string, args: string[]) {
  return spawnNode(args, { cwd: dir, env: userEnv(kind), timeoutMs: 20_000 })
}

test('every example is run by this file', () => {
  expect(readdirSync(examples).sort()).toEqual(TESTED)
})

describe.each(engines)('examples on the %s engine', (kind) => {
  test('request-deadlines: the slow upstream call is cut at the request deadline', async () => {
    const r = await run(kind, ['request-deadlines.mjs']).exit
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')).toEqual([
      'GET /quick -> 200 upstream says hi to /quick (under a second)',
      'GET /sluggish -> 504 context deadline exceeded (under a second)',
      'servers stopped',
      '',
    ])
    expect(r.code).toBe(0)
  })

  test('idle-timeout: quiet connections are closed, talking ones are not', async () => {
    const r = await run(kind, ['idle-timeout.mjs']).exit
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')).toEqual([
      'quiet client: closed by the server after 100 ms without data: true',
      'chatty client: 6 of 6 messages echoed while it talked, then closed when idle: true',
      'server: 2 connections closed for idleness',
      '',
    ])
    expect(r.code).toBe(0)
  })

  test('debounce: one save per burst of keystrokes, and flush saves at once', async () => {
    const r = await run(kind, ['debounce.mjs']).exit
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('save #1: "hello"\nsave #2: "hello world"\nsave #3: "hello world!"\n3 saves for 12 keystrokes\n')
    expect(r.code).toBe(0)
  })

  test('retry: backs off until the flaky service answers, and stops at the deadline', async () => {
    const r = await run(kind, ['retry.mjs']).exit
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')).toEqual([
      '/flaky attempt 1: 503 try again',
      '/flaky attempt 2: 503 try again',
      '/flaky attempt 3: ok',
      '/flaky: ok after 3 attempts',
      '/down: gave up: deadline exceeded',
      '',
    ])
    expect(r.code).toBe(0)
  })

  test('virtual-clock.test: the example test file passes under vitest', async () => {
    const r = await run(kind, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter', 'verbose']).exit
    expect(r.stdout).toContain('3 passed')
    for (const name of [
      'a session expires 30 minutes after its last use, not after its first',
      'a request deadline cuts a slow call at 2 s, not before',
      'a ticker ticks 60 times in an hour, on the minute',
    ]) {
      expect(r.stdout).toContain(name)
    }
    expect(r.code).toBe(0)
  }, 60_000)

  test('graceful-shutdown: SIGTERM drains the request in flight, refuses new ones, closes in order', async () => {
    const p = run(kind, ['graceful-shutdown.mjs'])
    const listening = await p.line(/^listening on /)
    const origin = listening.slice('listening on '.length)
    const slow = fetch(`${origin}/slow`).then(async (r) => `${r.status} ${await r.text()}`)
    await p.line(/^GET \/slow: started$/)
    p.child.kill('SIGTERM')
    await p.line(/^shutting down: /)
    await expect(fetch(`${origin}/fast`)).rejects.toThrow() // no longer accepting
    expect(await slow).toBe('200 done\n')
    const r = await p.exit
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')).toEqual([
      listening,
      'GET /slow: started',
      'shutting down: SIGTERM signal received',
      'GET /slow: answered',
      'http: drained',
      'workers: stopped',
      'cache: closed',
      'db: closed',
      'shutdown complete',
      '',
    ])
    expect(r.code).toBe(0)
    expect(r.signal).toBeNull()
  })

  test('graceful-shutdown: a second signal during the drain ends the process at once', async () => {
    const p = run(kind, ['graceful-shutdown.mjs'])
    const listening = await p.line(/^listening on /)
    const origin = listening.slice('listening on '.length)
    const slow = fetch(`${origin}/slow`).catch(() => 'cut')
    await p.line(/^GET \/slow: started$/)
    p.child.kill('SIGINT')
    await p.line(/^shutting down: SIGINT signal received$/)
    p.child.kill('SIGINT')
    const r = await p.exit
    expect(r.signal).toBe('SIGINT')
    expect(r.stdout).not.toContain('shutdown complete')
    await slow
  })
})
