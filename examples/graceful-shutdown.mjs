// Graceful shutdown, as Go services do it: the first SIGINT or SIGTERM cancels the root
// context (background work stops taking jobs), the server stops accepting and drains the
// requests in flight under a deadline, then the resources close in reverse order of opening,
// their errors joined in one AggregateError. A second signal ends the process at once.
//
//   node examples/graceful-shutdown.mjs     then: curl localhost:<port>/slow & kill -TERM <pid>

import { createServer } from 'node:http'
import { context, errgroup, http, signal, time } from 'afterfunc'

/** A stand-in for a connection pool or a cache: something to close last, in order. */
function open(name) {
  return { close: async () => console.log(`${name}: closed`) }
}

/** Background work: one job every 50 ms until ctx is done (the loop then just ends). */
async function consumeQueue(ctx) {
  for await (const _ of time.tick(50 * time.Millisecond, { ctx })) {
    // take a job from the queue and do it
  }
}

function handler(req, res) {
  console.log(`GET ${req.url}: started`)
  time.afterFunc(req.url === '/slow' ? 300 : 0, () => {
    res.end('done\n')
    console.log(`GET ${req.url}: answered`)
  })
}

// --- the recipe -------------------------------------------------------------------------
const db = open('db')
const cache = open('cache')
const [ctx, stop] = signal.notifyContext(context.background()) // SIGINT, SIGTERM
const [workers, workCtx] = errgroup.withContext(ctx)
workers.go(() => consumeQueue(workCtx))
const server = createServer(handler).listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})

await ctx.done() // the first signal; from now on a second one ends the process
console.log(`shutting down: ${context.cause(ctx).message}`)
const [drainCtx, cancelDrain] = context.withTimeout(context.background(), 10 * time.Second)
const errors = []
await http.shutdown(server, drainCtx).then(() => console.log('http: drained'), (err) => errors.push(err))
await workers.wait().then(() => console.log('workers: stopped'), (err) => errors.push(err))
for (const resource of [cache, db]) await resource.close().catch((err) => errors.push(err))
cancelDrain()
stop()
if (errors.length > 0) throw new AggregateError(errors, 'shutdown failed')
console.log('shutdown complete')
