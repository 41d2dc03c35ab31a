// A server that gives every request a deadline. Each handler derives its context from the
// request's (done when the client goes away or the response is sent) with a 200 ms timeout on
// top, and hands it to its upstream call: fetch aborts when the deadline passes, the handler
// answers 504, and the context's timer is released with the request.

import { createServer } from 'node:http'
import { once } from 'node:events'
import { context, http, time } from 'afterfunc'

const REQUEST_TIMEOUT = 200 * time.Millisecond

// The upstream service: answers /quick at once and /sluggish after a second.
const upstream = createServer((req, res) => {
  const timer = time.afterFunc(req.url === '/sluggish' ? time.Second : 0, () => res.end(`upstream says hi to ${req.url}`))
  res.on('close', () => timer.stop()) // the caller gave up: no answer needed
})

const server = createServer(async (req, res) => {
  const [requestCtx, release] = http.requestContext(context.background(), req, res)
  const [ctx, cancel] = context.withTimeout(requestCtx, REQUEST_TIMEOUT)
  try {
    const answer = await fetch(`${origin(upstream)}${req.url}`, { signal: ctx.signal })
    res.end(await answer.text())
  } catch (err) {
    res.statusCode = ctx.err() === context.DeadlineExceeded ? 504 : 502
    res.end(ctx.err()?.message ?? String(err))
  } finally {
    cancel()
    release()
  }
})

function origin(s) {
  return `http://127.0.0.1:${s.address().port}`
}

for (const s of [upstream, server]) {
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
}

for (const path of ['/quick', '/sluggish']) {
  const started = performance.now()
  const res = await fetch(`${origin(server)}${path}`)
  const took = performance.now() - started < time.Second ? 'under a second' : 'a second or more'
  console.log(`GET ${path} -> ${res.status} ${await res.text()} (${took})`)
}

const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
await Promise.all([http.shutdown(server, ctx), http.shutdown(upstream, ctx)])
cancel()
console.log('servers stopped')
