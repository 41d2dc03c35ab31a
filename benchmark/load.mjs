// S8 load generator: autocannon against 127.0.0.1:<port>, a warm-up run and then the measured
// run, each with fresh connections. Prints `@@RESULT {json}`.
//
//   node benchmark/load.mjs <port> <connections> <seconds> <warmup seconds>

import autocannon from 'autocannon'
import { report } from './lib/common.mjs'

const [port, connections, seconds, warmup] = process.argv.slice(2).map(Number)
const run = (duration) =>
  autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration, pipelining: 1, timeout: 10 })

if (warmup > 0) await run(warmup)
const r = await run(seconds)
report({
  connections,
  seconds,
  requests: r.requests.total,
  rps: r.requests.average,
  latency_p50_ms: r.latency.p50,
  latency_p99_ms: r.latency.p99,
  latency_max_ms: r.latency.max,
  errors: r.errors,
  timeouts: r.timeouts,
  non2xx: r.non2xx,
})
