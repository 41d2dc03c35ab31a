// ctx.signal with the Node APIs that take an AbortSignal, each for real (sockets on loopback,
// files, child processes): every one must end with exactly the context's cause.
//
// Two shapes of rejection, as Node has them: fetch rejects with the signal's reason itself, so
// `err === context.cause(ctx)`; Node's own APIs reject with an `AbortError` (code ABORT_ERR)
// whose `cause` is the reason.

import { execFile, execFileSync, spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as readline from 'node:readline/promises'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as nodeDelay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { context as ContextApi } from '../index'
import { engines, runtime } from './helpers.ts'

type Context = ContextApi.Context

/** A context that becomes done with a known cause when `end()` is called (or by itself, for a deadline). */
interface Ending {
  ctx: Context
  /** Makes the context done (a deadline needs nothing: it ends by itself shortly). */
  end(): void
  /** What `context.cause(ctx)` must be once it is done. */
  cause: unknown
  /** Releases the context. */
  release(): void
}

const why = new Error('upstream went away')

/** The four ways a context ends: cancel, deadline, a cause given to cancel, and a parent's cause. */
const endings: [string, (ns: typeof ContextApi) => Ending][] = [
  [
    'Canceled',
    (ns) => {
      const [ctx, cancel] = ns.withCancel(ns.background())
      return { ctx, end: cancel, cause: ns.Canceled, release: cancel }
    },
  ],
  [
    'DeadlineExceeded',
    (ns) => {
      const [ctx, cancel] = ns.withTimeout(ns.background(), 30)
      return { ctx, end: () => {}, cause: ns.DeadlineExceeded, release: cancel }
    },
  ],
  [
    'a custom cause',
    (ns) => {
      const [ctx, cancel] = ns.withCancelCause(ns.background())
      return { ctx, end: () => cancel(why), cause: why, release: () => cancel() }
    },
  ],
  [
    "a parent's cause",
    (ns) => {
      const [parent, cancelParent] = ns.withCancelCause(ns.background())
      const [ctx, cancel] = ns.withTimeout(parent, 60_000)
      return {
        ctx,
        end: () => cancelParent(why),
        cause: why,
        release: () => {
          cancel()
          cancelParent()
        },
      }
    },
  ],
]

/** Asserts that `p` rejects with Node's AbortError carrying `cause`. */
async function rejectsWithAbortError(p: Promise<unknown>, cause: unknown): Promise<void> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
  expect((err as Error).cause).toBe(cause)
}

let server: Server
let base: string
let dir: string

beforeAll(async () => {
  // Headers never come for /slow; /body sends its headers and a first chunk, then nothing.
  server = createServer((req, res) => {
    if (req.url === '/body') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first chunk')
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dir = mkdtempSync(join(tmpdir(), 'afterfunc-abort-'))
})

afterAll(async () => {
  server.closeAllConnections()
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe.each(engines)('ctx.signal with Node APIs on the %s engine', (kind) => {
  describe.each(endings)('ended by %s', (_label, make) => {
    test('fetch rejects with exactly cause(ctx) before the headers arrive', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const p = fetch(`${base}/slow`, { signal: e.ctx.signal })
        setTimeout(e.end, 10)
        const err = await p.then(
          () => undefined,
          (x: unknown) => x,
        )
        expect(err).toBe(e.cause)
        expect(context.cause(e.ctx)).toBe(e.cause)
      } finally {
        e.release()
      }
    })

    test('fetch rejects with exactly cause(ctx) while the body is read', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const res = await fetch(`${base}/body`, { signal: e.ctx.signal })
        expect(res.status).toBe(200)
        const body = res.text()
        e.end()
        await expect(body).rejects.toBe(e.cause)
      } finally {
        e.release()
      }
    })

    test('fetch with a context that is already done rejects with exactly cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        e.end()
        await e.ctx.done()
        await expect(fetch(`${base}/slow`, { signal: e.ctx.signal })).rejects.toBe(e.cause)
      } finally {
        e.release()
      }
    })

    test('events.once rejects with an AbortError whose cause is cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const emitter = new EventEmitter()
        const p = once(emitter, 'never', { signal: e.ctx.signal })
        e.end()
        await rejectsWithAbortError(p, e.cause)
        expect(emitter.listenerCount('never')).toBe(0)
      } finally {
        e.release()
      }
    })

    test('timers/promises setTimeout rejects with an AbortError whose cause is cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const p = nodeDelay(60_000, 'value', { signal: e.ctx.signal })
        e.end()
        await rejectsWithAbortError(p, e.cause)
      } finally {
        e.release()
      }
    })

    test('stream.pipeline rejects with an AbortError whose cause is cause(ctx), and destroys the streams', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const source = new PassThrough()
        const sink = new PassThrough()
        source.write('some data')
        const p = pipeline(source, sink, { signal: e.ctx.signal })
        e.end()
        await rejectsWithAbortError(p, e.cause)
        expect(source.destroyed).toBe(true)
        expect(sink.destroyed).toBe(true)
      } finally {
        e.release()
      }
    })

    test('fs.promises.readFile rejects with an AbortError whose cause is cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      // A FIFO: the read waits for data we write, so the context ends while it is in flight.
      const fifo = join(dir, `fifo-${kind}-${Math.random().toString(36).slice(2)}`)
      execFileSync('mkfifo', [fifo])
      try {
        const checked = rejectsWithAbortError(readFile(fifo, { signal: e.ctx.signal }), e.cause)
        const writer = await open(fifo, 'w')
        await writer.write('a first chunk')
        e.end()
        await e.ctx.done()
        // Wakes the read if it still waits, which then sees the abort; if it saw the abort
        // after the first chunk and closed the FIFO already, the write finds no reader.
        await writer.write('a second chunk').catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EPIPE') throw err
        })
        await writer.close()
        await checked
      } finally {
        e.release()
        rmSync(fifo, { force: true })
      }
    })

    test('child_process.spawn reports an AbortError whose cause is cause(ctx) and kills the child', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { signal: e.ctx.signal })
        const failed = new Promise((_resolve, reject) => child.on('error', reject))
        // Not events.once: it would reject on the 'error' event too.
        const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve([code, signal])))
        await new Promise((resolve) => child.on('spawn', resolve))
        e.end()
        await rejectsWithAbortError(failed, e.cause)
        expect(await exited).toEqual([null, 'SIGTERM'])
      } finally {
        e.release()
      }
    })

    test('child_process.execFile calls back with an AbortError whose cause is cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const p = new Promise<void>((resolve, reject) => {
          const child = execFile(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { signal: e.ctx.signal }, (err) =>
            err ? reject(err) : resolve(),
          )
          child.once('spawn', e.end)
        })
        await rejectsWithAbortError(p, e.cause)
      } finally {
        e.release()
      }
    })

    test('readline question rejects with an AbortError whose cause is cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      const rl = readline.createInterface({ input: new PassThrough(), output: new PassThrough() })
      try {
        const p = rl.question('name? ', { signal: e.ctx.signal })
        e.end()
        await rejectsWithAbortError(p, e.cause)
      } finally {
        rl.close()
        e.release()
      }
    })

    test('AbortSignal.any([ctx.signal, other]) aborts with exactly cause(ctx)', async () => {
      const { context } = runtime(kind)
      const e = make(context)
      try {
        const other = new AbortController()
        const any = AbortSignal.any([e.ctx.signal, other.signal])
        const aborted = once(any, 'abort')
        e.end()
        await aborted
        expect(any.reason).toBe(e.cause)
        other.abort('too late')
        expect(any.reason).toBe(e.cause)
      } finally {
        e.release()
      }
    })
  })
})
