// What only a whole process shows: uncaught exceptions, exit, worker threads. Each test runs a
// small script against the built package in a child process, once per engine.

import { describe, expect, test } from 'vitest'
import { engines, entry, runChild } from './helpers.ts'

describe.each(engines)('process behaviour on the %s engine', (kind) => {
  test('the package reports the engine it runs', async () => {
    const r = await runChild(kind, `console.log(afterfunc.backend)`)
    expect(r.stdout.trim()).toBe(kind)
  })

  describe('a throwing callback', () => {
    test('surfaces as uncaughtException and loses no other timer', async () => {
      const r = await runChild(
        kind,
        `
        const { time } = afterfunc
        const seen = []
        process.on('uncaughtException', (err, origin) => seen.push(origin + ':' + err.message))
        const ran = []
        for (let i = 0; i < 2000; i++) {
          time.afterFunc(5, () => {
            ran.push(i)
            if (i === 3 || i === 1000) throw new Error('boom' + i)
          })
        }
        time.afterFunc(6, () => ran.push('later'))
        process.on('exit', () => {
          const ok = ran.length === 2001 && ran.slice(0, 2000).every((v, i) => v === i) && ran[2000] === 'later'
          console.log(JSON.stringify({ seen, ok, n: ran.length }))
        })
        `,
      )
      expect(r.code).toBe(0)
      const out = JSON.parse(r.stdout.trim())
      expect(out.seen).toEqual(['uncaughtException:boom3', 'uncaughtException:boom1000'])
      expect(out.ok).toBe(true)
    })

    test('without a handler it ends the process like a throwing setTimeout callback', async () => {
      const ours = await runChild(kind, `afterfunc.time.afterFunc(1, () => { throw new Error('boom-from-callback') })`)
      const node = await runChild(kind, `setTimeout(() => { throw new Error('boom-from-callback') }, 1)`)
      expect(ours.code).toBe(node.code)
      expect(ours.code).toBe(1)
      expect(ours.stderr).toContain('Error: boom-from-callback')
    })

    test('the rest of the batch runs no later than the next turn', async () => {
      const r = await runChild(
        kind,
        `
        const { time } = afterfunc
        let ranAfter = 0
        const atNextTurn = []
        process.on('uncaughtException', () => {
          setImmediate(() => atNextTurn.push(ranAfter))
        })
        process.on('exit', () => console.log(JSON.stringify({ ranAfter, atNextTurn })))
        time.afterFunc(2, () => { throw new Error('x') })
        for (let i = 0; i < 10; i++) time.afterFunc(2, () => ranAfter++)
        `,
      )
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout.trim())).toEqual({ ranAfter: 10, atNextTurn: [10] })
    })
  })

  describe('a callback that returns a promise', () => {
    test('its rejection is an unhandledRejection, not an uncaughtException, and loses no other timer', async () => {
      const r = await runChild(
        kind,
        `
        const { time, context } = afterfunc
        const seen = []
        process.on('uncaughtException', (err) => seen.push('uncaughtException:' + err.message))
        process.on('unhandledRejection', (err) => seen.push('unhandledRejection:' + err.message))
        const ran = []
        time.afterFunc(2, async () => { ran.push('timer'); throw new Error('from a timer') })
        time.afterFunc(2, () => ran.push('next'))
        const ticker = time.newTicker(3, async () => { ticker.stop(); ran.push('tick'); throw new Error('from a ticker') })
        const [ctx, cancel] = context.withCancel(context.background())
        context.afterFunc(ctx, async () => { ran.push('context'); throw new Error('from context.afterFunc') })
        cancel()
        process.on('exit', () => console.log(JSON.stringify({ seen: seen.sort(), ran: ran.sort() })))
        `,
      )
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout.trim())).toEqual({
        seen: ['unhandledRejection:from a ticker', 'unhandledRejection:from a timer', 'unhandledRejection:from context.afterFunc'],
        ran: ['context', 'next', 'tick', 'timer'],
      })
    })

    test('without a handler the rejection ends the process, as Node does for any unhandled rejection', async () => {
      const r = await runChild(kind, `afterfunc.time.afterFunc(1, async () => { throw new Error('async-boom') })`)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('async-boom')
    })
  })

  describe('process lifetime', () => {
    test('a pending timer keeps the process alive until it fires', async () => {
      const r = await runChild(kind, `afterfunc.time.afterFunc(150, () => console.log('fired'))`)
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('fired')
      expect(r.ms).toBeGreaterThanOrEqual(150)
    })

    test('an unref\'d timer lets the process exit promptly', async () => {
      const r = await runChild(kind, `afterfunc.time.afterFunc(60_000, () => console.log('fired')).unref(); console.log('ok')`)
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('ok')
      expect(r.ms).toBeLessThan(10_000)
    })

    test('a million pending unref\'d timers let the process exit promptly', async () => {
      const r = await runChild(
        kind,
        `const { time } = afterfunc; for (let i = 0; i < 1e6; i++) time.afterFunc(1000 + i, () => {}).unref(); console.log('armed')`,
      )
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('armed')
    })

    test('unref then ref keeps it alive again', async () => {
      const r = await runChild(kind, `afterfunc.time.afterFunc(100, () => console.log('fired')).unref().ref()`)
      expect(r.stdout.trim()).toBe('fired')
    })

    test('with nothing pending the process exits promptly', async () => {
      const r = await runChild(
        kind,
        `const { time } = afterfunc
         time.afterFunc(60_000, () => {}).stop()
         time.afterFunc(1, () => console.log('fired'))`,
      )
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('fired')
      expect(r.ms).toBeLessThan(10_000)
    })

    test('process.exit() with pending timers never crashes, 20 times', async () => {
      const runs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          runChild(
            kind,
            `const { time } = afterfunc
             for (let i = 0; i < 10000; i++) time.afterFunc(i % 50, () => {})
             setTimeout(() => process.exit(7), ${i % 5})`,
          ),
        ),
      )
      for (const r of runs) {
        expect(r.signal).toBeNull()
        expect(r.code).toBe(7)
        expect(r.stderr).toBe('')
      }
    })
  })

  describe('worker threads', () => {
    test('each worker has its own timers, and terminating one with pending timers is safe', async () => {
      const r = await runChild(
        kind,
        `
        const { Worker } = require('node:worker_threads')
        const code = \`
          const { parentPort, workerData } = require('node:worker_threads')
          const { time, backend } = require(${JSON.stringify(entry)})
          for (let i = 0; i < 100000; i++) time.afterFunc(60000 + i, () => {})
          const order = []
          time.afterFunc(20, () => order.push(workerData + ':b'))
          time.afterFunc(10, () => order.push(workerData + ':a'))
          time.afterFunc(30, () => parentPort.postMessage({ backend, order }))
        \`
        const results = []
        let left = 4
        for (let w = 0; w < 4; w++) {
          const worker = new Worker(code, { eval: true, workerData: w })
          worker.on('message', (m) => { results.push(m); worker.terminate() })
          worker.on('error', (e) => { console.error(e); process.exitCode = 3 })
          worker.on('exit', () => { if (--left === 0) console.log(JSON.stringify(results)) })
        }
        `,
      )
      expect(r.code).toBe(0)
      const results = JSON.parse(r.stdout.trim())
      expect(results).toHaveLength(4)
      for (const m of results) {
        expect(m.backend).toBe(kind)
        const w = m.order[0].split(':')[0]
        expect(m.order).toEqual([`${w}:a`, `${w}:b`])
      }
    })

    test('creating and terminating workers with pending timers 40 times neither crashes nor grows', async () => {
      const r = await runChild(
        kind,
        `
        const { Worker } = require('node:worker_threads')
        const code = \`
          const { parentPort } = require('node:worker_threads')
          const { time } = require(${JSON.stringify(entry)})
          for (let i = 0; i < 20000; i++) time.afterFunc(1 + (i % 5000), () => {})
          parentPort.postMessage('armed')
        \`
        async function once() {
          const worker = new Worker(code, { eval: true })
          await new Promise((resolve) => worker.once('message', resolve))
          await worker.terminate()
        }
        ;(async () => {
          for (let i = 0; i < 10; i++) await once()
          global.gc()
          const base = process.memoryUsage().rss
          for (let i = 0; i < 30; i++) await once()
          global.gc()
          const grown = process.memoryUsage().rss - base
          console.log(JSON.stringify({ grownMB: grown / 2 ** 20 }))
        })()
        `,
        60_000,
      )
      expect(r.signal).toBeNull()
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout.trim()).grownMB).toBeLessThan(64)
    })
  })
})

test('AFTERFUNC_BACKEND rejects unknown values with a clear error', async () => {
  const r = await runChild('js', `0`)
  expect(r.code).toBe(0)
  const bad = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const { execFile } = require('node:child_process') as typeof import('node:child_process')
    execFile(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], { env: { ...process.env, AFTERFUNC_BACKEND: 'nativ' } }, (error, _o, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, stderr }),
    )
  })
  expect(bad.code).toBe(1)
  expect(bad.stderr).toContain(`AFTERFUNC_BACKEND must be 'native', 'js' or unset, got "nativ"`)
})

describe('engine selection when the native binary is missing or broken', () => {
  // A copy of the built package without the native binding beside it.
  const { cpSync, mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs')
  const { tmpdir } = require('node:os') as typeof import('node:os')
  const { dirname, join } = require('node:path') as typeof import('node:path')
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process')

  function packageWithout(binding?: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'afterfunc-fallback-'))
    cpSync(dirname(entry), join(dir, 'dist'), { recursive: true })
    if (binding !== undefined) writeFileSync(join(dir, 'binding.js'), binding)
    return join(dir, 'dist', 'index.js')
  }

  function run(main: string, backend: string | undefined, script: string) {
    const env = { ...process.env }
    delete env['AFTERFUNC_BACKEND']
    if (backend !== undefined) env['AFTERFUNC_BACKEND'] = backend
    const r = spawnSync(process.execPath, ['-e', `const afterfunc = require(${JSON.stringify(main)});${script}`], {
      env,
      encoding: 'utf8',
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }

  const fire = `afterfunc.time.afterFunc(5, () => console.log(afterfunc.backend + ' fired'))`

  test('without a binary: the TypeScript engine, silently', () => {
    const main = packageWithout()
    const r = run(main, undefined, fire)
    expect(r).toEqual({ code: 0, stdout: 'js fired\n', stderr: '' })
  })

  test('without a binary, AFTERFUNC_BACKEND=native fails loudly at import', () => {
    const r = run(packageWithout(), 'native', fire)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('afterfunc: the native engine cannot load')
  })

  test('with a broken binary: one warning, then the TypeScript engine', () => {
    const main = packageWithout(`throw new Error('invalid ELF header')`)
    const r = run(main, undefined, `${fire}; require(${JSON.stringify(main)})`)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('js fired\n')
    expect(r.stderr.match(/AFTERFUNC_NATIVE_UNAVAILABLE/g)).toHaveLength(1)
    expect(r.stderr).toContain('invalid ELF header')
  })
})
