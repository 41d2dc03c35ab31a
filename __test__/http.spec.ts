// http.requestContext and http.shutdown against real servers on loopback, with real clients
// (keep-alive agents, fetch, HTTP/2 sessions, raw sockets), on both engines. The TLS
// certificate is made by openssl for each run.

import { execFileSync } from 'node:child_process'
import { hasSubscribers } from 'node:diagnostics_channel'
import { getEventListeners, once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as nodeHttp from 'node:http'
import * as nodeHttp2 from 'node:http2'
import * as nodeHttps from 'node:https'
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { context as ContextApi } from '../index'
import { engines, runtime, sleep } from './helpers.ts'

type Context = ContextApi.Context

let key = ''
let cert = ''
beforeAll(() => {
  // A self-signed certificate for 127.0.0.1, made with the openssl command line. The request is
  // described in a configuration file rather than with -subj/-addext, which not every openssl
  // (LibreSSL on macOS) has.
  const dir = mkdtempSync(join(tmpdir(), 'afterfunc-tls-'))
  try {
    writeFileSync(
      join(dir, 'openssl.cnf'),
      ['[req]', 'distinguished_name = subject', 'prompt = no', '[subject]', 'CN = localhost', '[server]', 'subjectAltName = IP:127.0.0.1,DNS:localhost', ''].join('\n'),
    )
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-config', join(dir, 'openssl.cnf'), '-extensions', 'server',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' })
    key = readFileSync(join(dir, 'key.pem'), 'utf8')
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const servers: NetServer[] = []
afterAll(() => {
  for (const s of servers) s.close()
})

type Handler = (req: nodeHttp.IncomingMessage | nodeHttp2.Http2ServerRequest, res: nodeHttp.ServerResponse | nodeHttp2.Http2ServerResponse) => void

/** The four kinds of server a request context works with. */
const KINDS = ['http', 'https', 'http2', 'http2-tls'] as const
type ServerKind = (typeof KINDS)[number]

function makeServer(kind: ServerKind, handler: Handler): NetServer {
  const s: NetServer =
    kind === 'http' ? nodeHttp.createServer(handler)
    : kind === 'https' ? nodeHttps.createServer({ key, cert }, handler)
    : kind === 'http2' ? nodeHttp2.createServer(handler)
    : nodeHttp2.createSecureServer({ key, cert }, handler)
  servers.push(s)
  return s
}

async function listen(server: NetServer): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** A client for one kind of server: `request` sends a GET and returns the stream-ish handle. */
interface Client {
  /** Sends GET `path`; resolves with the response or rejects with the connection error. */
  get(path: string): { response: Promise<{ status: number; headers: Record<string, unknown>; body: string }>; abort(): void }
  close(): void
}

function client(kind: ServerKind, port: number): Client {
  if (kind === 'http2' || kind === 'http2-tls') {
    const session = nodeHttp2.connect(`${kind === 'http2' ? 'http' : 'https'}://127.0.0.1:${port}`, kind === 'http2' ? {} : { ca: cert })
    session.on('error', () => {})
    return {
      get(path) {
        const stream = session.request({ ':path': path })
        const response = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          let body = ''
          let headers: Record<string, unknown> = {}
          stream.setEncoding('utf8')
          stream.on('response', (h) => (headers = h))
          stream.on('data', (c: string) => (body += c))
          stream.on('end', () => {
            if (headers[':status'] === undefined) reject(new Error('the stream ended without a response'))
            else resolve({ status: Number(headers[':status']), headers, body })
          })
          stream.on('error', reject)
          stream.on('close', () => reject(new Error('stream closed')))
        })
        response.catch(() => {})
        return { response, abort: () => stream.close(nodeHttp2.constants.NGHTTP2_CANCEL) }
      },
      close: () => session.close(),
    }
  }
  const mod = kind === 'https' ? nodeHttps : nodeHttp
  const agent = new mod.Agent({ keepAlive: true, ...(kind === 'https' ? { ca: cert } : {}) })
  return {
    get(path) {
      const req = mod.request({ host: '127.0.0.1', port, path, agent })
      const response = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => (body += c))
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
          res.on('error', reject)
        })
        req.on('error', reject)
      })
      response.catch(() => {})
      req.end()
      return { response, abort: () => req.destroy() }
    },
    close: () => agent.destroy(),
  }
}

/** Listener counts of the events requestContext listens to. */
function counts(req: NodeJS.EventEmitter, res: NodeJS.EventEmitter): number[] {
  return [res.listenerCount('finish'), res.listenerCount('close'), req.listenerCount('close')]
}

/** A promise and its resolve function. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

describe.each(engines)('http on the %s engine', (engine) => {
  describe('requestContext', () => {
    describe.each(KINDS)('on a %s server', (kind) => {
      test('pending while the handler works, done with Canceled once the response has ended; listeners removed', async () => {
        const rt = runtime(engine)
        const { http, context } = rt
        const seen = signal<Record<string, unknown>>()
        const server = makeServer(kind, (req, res) => {
          const before = counts(req, res)
          const [ctx] = http.requestContext(context.background(), req, res)
          const [timed] = context.withTimeout(ctx, 60_000)
          const during = counts(req, res)
          setTimeout(() => {
            const pendingBeforeEnd = ctx.err() === undefined
            res.end('ok')
            void ctx.done().then(() => {
              seen.resolve({
                pendingBeforeEnd,
                err: ctx.err() === context.Canceled,
                cause: context.cause(ctx) === context.Canceled,
                timed: timed.err() === context.Canceled,
                writableEnded: res.writableEnded,
                added: during.map((n, i) => n - before[i]!),
                left: counts(req, res).map((n, i) => n - before[i]!),
                timers: rt.scheduler.active,
              })
            })
          }, 20)
        })
        const c = client(kind, await listen(server))
        const r = await c.get('/').response
        expect(r.status).toBe(200)
        expect(r.body).toBe('ok')
        const s = await seen.promise
        expect(s).toMatchObject({ pendingBeforeEnd: true, err: true, cause: true, timed: true, writableEnded: true, timers: 0 })
        expect(s['added']).toEqual([1, 1, 1])
        // Node's own listeners may come and go around 'finish'; ours are gone.
        expect((s['left'] as number[]).every((n) => n <= 0)).toBe(true)
        c.close()
      })

      test('done with Canceled when the client goes away before the response ended; its timers are freed', async () => {
        const rt = runtime(engine)
        const { http, context } = rt
        const inHandler = signal()
        const seen = signal<Record<string, unknown>>()
        const server = makeServer(kind, (req, res) => {
          const [ctx] = http.requestContext(context.background(), req, res)
          const [timed] = context.withTimeout(ctx, 60_000)
          inHandler.resolve()
          void timed.done().then(() => {
            seen.resolve({ err: ctx.err() === context.Canceled, writableEnded: res.writableEnded, timers: rt.scheduler.active, timed: timed.err() === context.Canceled })
          })
        })
        const c = client(kind, await listen(server))
        const { response, abort } = c.get('/wait')
        await inHandler.promise
        expect(rt.scheduler.active).toBe(1)
        abort()
        expect(await seen.promise).toEqual({ err: true, writableEnded: false, timers: 0, timed: true })
        await expect(response).rejects.toBeDefined()
        c.close()
      })

      test('the returned cancel removes every listener at once and cancels; later calls do nothing', async () => {
        const { http, context } = runtime(engine)
        const seen = signal<Record<string, unknown>>()
        const server = makeServer(kind, (req, res) => {
          const before = counts(req, res)
          const [ctx, cancel] = http.requestContext(context.background(), req, res)
          const during = counts(req, res)
          cancel()
          ;(cancel as (...args: unknown[]) => void)(new Error('ignored'))
          seen.resolve({ before, during, after: counts(req, res), err: ctx.err() === context.Canceled, cause: context.cause(ctx) === context.Canceled, writable: !res.writableEnded })
          res.end('still works')
        })
        const c = client(kind, await listen(server))
        expect((await c.get('/').response).body).toBe('still works')
        const s = await seen.promise
        expect(s['after']).toEqual(s['before'])
        expect(s['during']).toEqual((s['before'] as number[]).map((n) => n + 1))
        expect(s).toMatchObject({ err: true, cause: true, writable: true })
        c.close()
      })

      test('a parent already done, or a response already ended: done at birth, nothing registered', async () => {
        const { http, context } = runtime(engine)
        const seen = signal<Record<string, unknown>>()
        const server = makeServer(kind, (req, res) => {
          const [parent, cancel] = context.withCancelCause(context.background())
          cancel('gone')
          const before = counts(req, res)
          const [ctx] = http.requestContext(parent, req, res)
          const atBirth = { cause: context.cause(ctx), same: counts(req, res).every((n, i) => n === before[i]) }
          res.end('x')
          res.on('finish', () => {
            const after = counts(req, res)
            const [late] = http.requestContext(context.background(), req, res)
            seen.resolve({ ...atBirth, late: late.err() === context.Canceled, lateSame: counts(req, res).every((n, i) => n === after[i]) })
          })
        })
        const c = client(kind, await listen(server))
        await c.get('/').response
        expect(await seen.promise).toEqual({ cause: 'gone', same: true, late: true, lateSame: true })
        c.close()
      })

      test('the parent done first cancels it with the parent\'s cause', async () => {
        const { http, context } = runtime(engine)
        const seen = signal<unknown>()
        const [parent, cancel] = context.withCancelCause(context.background())
        const server = makeServer(kind, (req, res) => {
          const [ctx, release] = http.requestContext(parent, req, res)
          cancel('server stopping')
          seen.resolve(context.cause(ctx))
          release()
          res.end()
        })
        const c = client(kind, await listen(server))
        await c.get('/').response
        expect(await seen.promise).toBe('server stopping')
        c.close()
      })
    })

    test('a pipelined request whose connection closes before its turn is done too', async () => {
      const { http, context } = runtime(engine)
      const done: string[] = []
      const both = signal()
      const server = makeServer('http', (req, res) => {
        const [ctx] = http.requestContext(context.background(), req, res)
        void ctx.done().then(() => {
          done.push(`${req.url} ${ctx.err() === context.Canceled} ${res.writableEnded}`)
          if (done.length === 2) both.resolve()
        })
        if (req.url === '/second') socket.destroy() // the first has not answered: the second is queued
      })
      const port = await listen(server)
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n')
      await both.promise
      expect(done.sort()).toEqual(['/first true false', '/second true false'])
    })

    test('bad input throws a TypeError and registers nothing', async () => {
      const { http, context } = runtime(engine)
      const seen = signal<Record<string, unknown>>()
      let previous: [nodeHttp.IncomingMessage, nodeHttp.ServerResponse] | undefined
      const server = makeServer('http', (req, res) => {
        const r = req as nodeHttp.IncomingMessage
        const s = res as nodeHttp.ServerResponse
        const before = counts(r, s)
        const bg = context.background()
        const errors: string[] = []
        const attempts: (() => unknown)[] = [
          () => http.requestContext({} as Context, r, s),
          () => http.requestContext(bg, {} as never, s),
          () => http.requestContext(bg, r, {} as never),
          () => http.requestContext(bg, r, undefined as never),
        ]
        if (previous !== undefined) attempts.push(() => http.requestContext(bg, r, previous![1]))
        for (const attempt of attempts) {
          try {
            attempt()
            errors.push('no error')
          } catch (err) {
            errors.push(`${(err as Error).constructor.name}: ${(err as Error).message}`)
          }
        }
        if (previous === undefined) previous = [r, s]
        else seen.resolve({ errors, same: counts(r, s).every((n, i) => n === before[i]) })
        s.end()
      })
      const c = client('http', await listen(server))
      await c.get('/1').response
      await c.get('/2').response
      const s = await seen.promise
      expect(s['same']).toBe(true)
      expect(s['errors']).toEqual([
        'TypeError: http.requestContext: the parent must be a Context, got an object',
        'TypeError: http.requestContext: req must be a request of a node:http, node:https or node:http2 server, got an object',
        'TypeError: http.requestContext: res must be a response of a node:http, node:https or node:http2 server, got an object',
        'TypeError: http.requestContext: res must be a response of a node:http, node:https or node:http2 server, got undefined',
        'TypeError: http.requestContext: res is not the response to req',
      ])
      c.close()
    })
  })

  describe.each(['http', 'https'] as const)('shutdown of an %s server', (kind) => {
    /** A server with /fast, /slow (200 ms), /hang (never answers) and a hook when a request arrives. */
    function start(rtHttp: ReturnType<typeof runtime>) {
      const arrived: string[] = []
      const waiters: { path: string; resolve: () => void }[] = []
      const server = makeServer(kind, (req, res) => {
        arrived.push(req.url!)
        for (const w of waiters.splice(0)) if (w.path === req.url) w.resolve()
        if (req.url === '/fast') res.end('fast')
        else if (req.url === '/slow') setTimeout(() => res.end('slow done'), 200)
      }) as nodeHttp.Server
      const arrival = (path: string) => new Promise<void>((resolve) => (arrived.includes(path) ? resolve() : waiters.push({ path, resolve })))
      void rtHttp
      return { server, arrival }
    }

    /** What a shutdown leaves registered: must be what the server had before. */
    function registrations(server: NetServer) {
      return { request: server.listenerCount('request'), close: server.listenerCount('close'), finish: hasSubscribers('http.server.response.finish') }
    }

    test('does not wait for an idle keep-alive connection, and closes it', async () => {
      const rt = runtime(engine)
      const { http, context, time } = rt
      const { server } = start(rt)
      const before = registrations(server)
      const port = await listen(server)
      const c = client(kind, port)
      expect((await c.get('/fast').response).headers['connection']).toBe('keep-alive')
      const sockets = (await new Promise<number>((r) => server.getConnections((_e, n) => r(n))))
      expect(sockets).toBe(1)
      const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
      const started = performance.now()
      await http.shutdown(server, ctx)
      expect(performance.now() - started).toBeLessThan(500)
      expect(server.listening).toBe(false)
      expect(registrations(server)).toEqual(before)
      expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
      cancel()
      c.close()
    })

    test('waits for a slow response in flight, which arrives whole; its connection is closed right after', async () => {
      const rt = runtime(engine)
      const { http, context, time } = rt
      const { server, arrival } = start(rt)
      const c = client(kind, await listen(server))
      await c.get('/fast').response // an idle connection too
      const slow = c.get('/slow').response
      await arrival('/slow')
      const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
      let resolvedAt = 0
      const shut = http.shutdown(server, ctx).then(() => (resolvedAt = performance.now()))
      await sleep(100)
      expect(resolvedAt).toBe(0)
      const r = await slow
      const answeredAt = performance.now()
      expect(r).toMatchObject({ status: 200, body: 'slow done' })
      await shut
      expect(resolvedAt - answeredAt).toBeLessThan(200) // not the keep-alive timeout (5 s or more)
      cancel()
      c.close()
    })

    test('a request arriving during the shutdown on an open connection is served with Connection: close', async () => {
      const rt = runtime(engine)
      const { http, context, time } = rt
      const { server, arrival } = start(rt)
      const port = await listen(server)
      // Half a request before the shutdown (so the connection is busy, not idle), the rest after.
      const socket = await rawConnect(kind, port)
      let received = ''
      socket.setEncoding('utf8').on('data', (d: string) => (received += d))
      socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n')
      await sleep(20)
      const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
      const shut = http.shutdown(server, ctx)
      socket.write('\r\n')
      await arrival('/fast')
      await once(socket, 'close')
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(received.toLowerCase()).toContain('connection: close')
      expect(received.endsWith('fast')).toBe(true)
      await shut
      cancel()
    })

    test('ctx done first: the remaining connections are destroyed and it rejects with the cause', async () => {
      const rt = runtime(engine)
      const { http, context } = rt
      const { server, arrival } = start(rt)
      const c = client(kind, await listen(server))
      const hung = c.get('/hang').response
      await arrival('/hang')
      const why = new Error('drain deadline')
      const [ctx, cancel] = context.withTimeoutCause(context.background(), 100, why)
      const started = performance.now()
      const closed = once(server, 'close')
      await expect(http.shutdown(server, ctx)).rejects.toBe(why)
      expect(performance.now() - started).toBeGreaterThanOrEqual(99)
      await expect(hung).rejects.toThrow(/socket hang up|ECONNRESET/)
      await closed
      expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
      cancel()
      c.close()
    })

    test('ctx already done: every connection is destroyed at once and it rejects with DeadlineExceeded', async () => {
      const rt = runtime(engine)
      const { http, context } = rt
      const { server, arrival } = start(rt)
      const c = client(kind, await listen(server))
      await c.get('/fast').response
      const hung = c.get('/hang').response
      await arrival('/hang')
      const [ctx] = context.withTimeout(context.background(), 0)
      const closed = once(server, 'close')
      await expect(http.shutdown(server, ctx)).rejects.toBe(context.DeadlineExceeded)
      await expect(hung).rejects.toThrow()
      await closed
      c.close()
    })

    test('a connection that has sent no request is closed as idle (Node 26) or, where Node does not count it idle, destroyed when ctx is done', async () => {
      const rt = runtime(engine)
      const { http, context } = rt
      const { server } = start(rt)
      const socket = await rawConnect(kind, await listen(server))
      const closed = once(socket, 'close')
      const [ctx, cancel] = context.withTimeout(context.background(), 100)
      const started = performance.now()
      const outcome = await http.shutdown(server, ctx).then(
        () => 'closed as idle',
        (err: unknown) => (err === context.DeadlineExceeded ? 'destroyed at the deadline' : err),
      )
      const took = performance.now() - started
      if (outcome === 'closed as idle') expect(took).toBeLessThan(99)
      else expect([outcome, took >= 99]).toEqual(['destroyed at the deadline', true])
      await closed
      cancel()
    })

    test('a client that disconnects mid-request ends the wait for its connection', async () => {
      const rt = runtime(engine)
      const { http, context, time } = rt
      const { server, arrival } = start(rt)
      const c = client(kind, await listen(server))
      const { abort } = c.get('/hang')
      await arrival('/hang')
      const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
      const shut = http.shutdown(server, ctx)
      await sleep(20)
      abort()
      await expect(shut).resolves.toBeUndefined()
      cancel()
      c.close()
    })

    test('a second call waits for the same connections; a server that never listened resolves', async () => {
      const rt = runtime(engine)
      const { http, context, time } = rt
      const { server, arrival } = start(rt)
      const c = client(kind, await listen(server))
      const slow = c.get('/slow').response
      await arrival('/slow')
      const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
      const first = http.shutdown(server, ctx)
      const second = http.shutdown(server, ctx)
      await Promise.all([first, second, slow])
      await http.shutdown(server, ctx) // closed and drained: at once
      const { server: idle } = start(rt)
      await http.shutdown(idle, ctx)
      cancel()
      c.close()
    })

    test('bad input throws a TypeError and changes nothing', async () => {
      const rt = runtime(engine)
      const { http, context } = rt
      const { server } = start(rt)
      await listen(server)
      const before = registrations(server)
      expect(() => http.shutdown({} as NetServer, context.background())).toThrow('http.shutdown: server must be a net.Server (node:http, node:https, node:http2 or node:net), got an object')
      expect(() => http.shutdown(server, {} as Context)).toThrow('http.shutdown: ctx must be a Context, got an object')
      expect(() => http.shutdown(undefined as never, undefined as never)).toThrow(TypeError)
      expect(server.listening).toBe(true)
      expect(registrations(server)).toEqual(before)
      server.close()
    })
  })

  test('fetch, whose connections stay alive, does not delay the shutdown of an http server', async () => {
    const { http, context, time } = runtime(engine)
    const server = makeServer('http', (req, res) => res.end(`hello ${req.url}`))
    const port = await listen(server)
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/${i}`)
      expect(await r.text()).toBe(`hello /${i}`)
    }
    const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
    const started = performance.now()
    await http.shutdown(server, ctx)
    expect(performance.now() - started).toBeLessThan(500)
    cancel()
  })

  test('any other net.Server: close and wait; ctx done rejects without destroying anything', async () => {
    const { http, context, time } = runtime(engine)
    const sockets: Socket[] = []
    const server = createNetServer((s) => sockets.push(s))
    servers.push(server)
    const port = await listen(server)
    const client1 = connect(port, '127.0.0.1')
    await once(server, 'connection')
    const [short] = context.withTimeout(context.background(), 20)
    await expect(http.shutdown(server, short)).rejects.toBe(context.DeadlineExceeded)
    expect(sockets[0]!.destroyed).toBe(false)
    const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
    const shut = http.shutdown(server, ctx)
    client1.end()
    await expect(shut).resolves.toBeUndefined()
    cancel()
  })
})

/** A raw connection to an http or https server on loopback. */
async function rawConnect(kind: 'http' | 'https', port: number): Promise<Socket> {
  if (kind === 'http') {
    const s = connect(port, '127.0.0.1')
    await once(s, 'connect')
    return s
  }
  const tls = await import('node:tls')
  const s = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' })
  await once(s, 'secureConnect')
  return s
}
