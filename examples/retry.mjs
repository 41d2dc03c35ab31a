// Retrying with exponential backoff and jitter, under a context: each attempt gets the
// context's signal, and the wait between attempts ends early (and the retrying stops) when the
// context is done.

import { createServer } from 'node:http'
import { once } from 'node:events'
import { context, time } from 'afterfunc'

/**
 * Calls `attempt(ctx, n)` until it resolves, at most `attempts` times, sleeping between tries
 * a random time up to base·2^(n-1) ms, capped at `max` ("full jitter": clients that failed
 * together do not retry together). Rejects with the last error, or with the context's cause
 * if it is done first.
 */
async function retry(ctx, attempt, { attempts = 5, base = 50, max = time.Second } = {}) {
  for (let n = 1; ; n++) {
    try {
      return await attempt(ctx, n)
    } catch (err) {
      if (n === attempts || ctx.err() !== undefined) throw err
      const backoff = Math.min(max, base * 2 ** (n - 1))
      await time.sleep(Math.random() * backoff, { ctx })
    }
  }
}

// A flaky service: /flaky fails twice, then answers; /down always fails.
let flakyCalls = 0
const server = createServer((req, res) => {
  const ok = req.url === '/flaky' && ++flakyCalls > 2
  res.statusCode = ok ? 200 : 503
  res.end(ok ? 'ok' : 'try again')
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const base = `http://127.0.0.1:${server.address().port}`

/** One attempt: a GET that fails on any status but 200. */
async function get(ctx, path) {
  const res = await fetch(`${base}${path}`, { signal: ctx.signal })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`${res.status} ${body}`)
  return body
}

const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
const answer = await retry(ctx, (c, n) =>
  get(c, '/flaky').then(
    (body) => {
      console.log(`/flaky attempt ${n}: ${body}`)
      return body
    },
    (err) => {
      console.log(`/flaky attempt ${n}: ${err.message}`)
      throw err
    },
  ),
)
console.log(`/flaky: ${answer} after ${flakyCalls} attempts`)
cancel()

// With a 300 ms deadline for the whole operation, the retries of /down stop at the deadline,
// whichever attempt or wait they are in.
const [short, cancelShort] = context.withTimeout(context.background(), 300 * time.Millisecond)
try {
  await retry(short, (c) => get(c, '/down'), { attempts: 100 })
} catch (err) {
  console.log(`/down: gave up: ${short.err() === context.DeadlineExceeded ? 'deadline exceeded' : err.message}`)
}
cancelShort()
server.close()
