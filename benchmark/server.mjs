// S8: an HTTP server on 127.0.0.1 with a per-request deadline and a per-connection idle timer
// reset on every request. One variant per process:
//
//   none          neither timer (the control: what the HTTP stack itself costs)
//   node-timeout  deadline: AbortController + setTimeout(abort, 30 s) + clearTimeout
//                 idle:     setTimeout(destroy, 60 s), timeout.refresh() per request, clearTimeout on close
//   node-signal   deadline: AbortSignal.timeout(30 s) (no cancel; its timer lives until the signal is collected)
//                 idle:     as node-timeout
//   native, js    deadline: context.withTimeout(background, 30 s) + cancel() (the handler checks ctx.err(),
//                           as a Go handler checks ctx.Err(); it does not read ctx.signal)
//                 idle:     time.afterFunc(60 s, destroy), Timer.reset(60 s) per request, stop() on close
//   native-signal as native, and the handler reads ctx.signal (what it would pass to fetch), so
//                 cancel() aborts that signal as Go's cancel closes Done
//
// BENCH_PACKAGE (set by ab.mjs) names the afterfunc package to load instead of this checkout's.
// Prints `listening <port>` when ready. On an IPC message 'stats' it replies with its request
// count and CPU time, and exits.

import http from 'node:http'
import { loadEngine } from './lib/common.mjs'

const variant = process.argv[2]
const DEADLINE_MS = 30_000
const IDLE_MS = 60_000
// This checkout's package, or the one BENCH_PACKAGE names (ab.mjs); loadEngine checks the backend.
const lib = variant === 'native' || variant === 'js' || variant === 'native-signal' ? await loadEngine(variant.replace('-signal', '')) : undefined

const BODY = 'ok'
const HEADERS = { 'content-type': 'text/plain', 'content-length': '2' }
let requests = 0
const IDLE = Symbol('idle')

function respond(res) {
  res.writeHead(200, HEADERS)
  res.end(BODY)
}

let onRequest
let onConnection = () => {}
if (variant === 'none') {
  onRequest = (req, res) => {
    requests++
    respond(res)
  }
} else if (variant === 'node-timeout' || variant === 'node-signal') {
  onConnection = (socket) => {
    const t = setTimeout(() => socket.destroy(), IDLE_MS)
    socket[IDLE] = t
    socket.once('close', () => clearTimeout(t))
  }
  onRequest =
    variant === 'node-timeout'
      ? (req, res) => {
          requests++
          req.socket[IDLE].refresh()
          const ac = new AbortController()
          const deadline = setTimeout(() => ac.abort(), DEADLINE_MS)
          if (ac.signal.aborted) res.statusCode = 504
          respond(res)
          clearTimeout(deadline)
        }
      : (req, res) => {
          requests++
          req.socket[IDLE].refresh()
          const signal = AbortSignal.timeout(DEADLINE_MS)
          if (signal.aborted) res.statusCode = 504
          respond(res)
        }
} else if (lib !== undefined) {
  const { time, context } = lib
  const bg = context.background()
  onConnection = (socket) => {
    const t = time.afterFunc(IDLE_MS, () => socket.destroy())
    socket[IDLE] = t
    socket.once('close', () => t.stop())
  }
  onRequest =
    variant === 'native-signal'
      ? (req, res) => {
          requests++
          req.socket[IDLE].reset(IDLE_MS)
          const [ctx, cancel] = context.withTimeout(bg, DEADLINE_MS)
          if (ctx.signal.aborted) res.statusCode = 504
          respond(res)
          cancel()
        }
      : (req, res) => {
          requests++
          req.socket[IDLE].reset(IDLE_MS)
          const [ctx, cancel] = context.withTimeout(bg, DEADLINE_MS)
          if (ctx.err() !== undefined) res.statusCode = 504
          respond(res)
          cancel()
        }
} else {
  throw new Error(`unknown S8 variant ${variant}`)
}

const server = http.createServer(onRequest)
server.on('connection', onConnection)
// A backlog above the connection count, so connecting 2000 clients at once loses no SYN.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})
const cpu0 = process.cpuUsage()
process.on('message', (m) => {
  if (m !== 'stats') return
  const cpu = process.cpuUsage(cpu0)
  process.send({ requests, cpu_ms: (cpu.user + cpu.system) / 1000 }, () => process.exit(0))
})
