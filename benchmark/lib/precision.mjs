// Precision: how late (or early) timers fire on an idle event loop.
//
// - lone: one timer at a time, at a random delay of 0.5–20 ms (fractions included), armed
//   after the previous one fired; nothing else runs. Lateness is performance.now() at the
//   start of the callback minus (performance.now() just before the arm call + the delay).
// - spread: SPREAD timers armed at once, at random delays spread over one second.
//
// A negative lateness is an early fire. Node's setTimeout takes whole milliseconds and
// measures from the loop's cached time, so it fires some timers early; afterfunc never does.

import { performance } from 'node:perf_hooks'
import { quantile, settle, xorshift32 } from './common.mjs'

const SPREAD = 10_000
const SPREAD_MS = 1000

/** Uniform in [0, 1): the same sequence of delays for every engine. */
function random(seed) {
  const next = xorshift32(seed)
  return () => next() / 2 ** 32
}

/** p50/p90/p99/max of `late` (ms) and the count of early fires. */
function summary(late) {
  const sorted = Float64Array.from(late).sort()
  return {
    p50_ms: quantile(sorted, 0.5),
    p90_ms: quantile(sorted, 0.9),
    p99_ms: quantile(sorted, 0.99),
    max_ms: sorted[sorted.length - 1],
    early: late.filter((l) => l < 0).length,
    n: late.length,
  }
}

/** Arms one timer of `delay` ms; resolves with its lateness. */
function once(lib, delay) {
  return new Promise((resolve) => {
    const armedAt = performance.now()
    const fired = () => resolve(performance.now() - (armedAt + delay))
    if (lib === undefined) setTimeout(fired, delay)
    else lib.time.afterFunc(delay, fired)
  })
}

export async function precision(lib, lone) {
  if (lib !== undefined) await settle(lib)
  const next = random(0x5eed)
  const loneLate = []
  for (let i = 0; i < lone; i++) loneLate.push(await once(lib, 0.5 + 19.5 * next()))

  const spreadLate = new Float64Array(SPREAD)
  let fired = 0
  await new Promise((resolve) => {
    for (let i = 0; i < SPREAD; i++) {
      const delay = SPREAD_MS * next()
      const armedAt = performance.now()
      const f = () => {
        spreadLate[i] = performance.now() - (armedAt + delay)
        if (++fired === SPREAD) resolve()
      }
      if (lib === undefined) setTimeout(f, delay)
      else lib.time.afterFunc(delay, f)
    }
  })
  return { lone: summary(loneLate), spread: summary(spreadLate) }
}
