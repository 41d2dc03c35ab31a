// Exit with pending unref'd timers: arms UNREF_N timers at 1 s to 1 h, each unref()'d, prints
// its result line with the moment arming ended (epoch ms, high resolution), and returns. The
// process must then exit by itself, at once: the parent measures from that moment to the
// child's exit. STRESS_MODE node does the same with setTimeout(...).unref() for comparison.
'use strict'

const { load, int, rng, peakRssMB, done } = require('./common.cjs')

const N = int('UNREF_N', 1_000_000)
const random = rng(int('STRESS_SEED', 3))
const started = performance.now()
if (process.env.STRESS_MODE === 'node') {
  for (let i = 0; i < N; i++) setTimeout(() => {}, 1000 + random() * 3_599_000).unref()
} else {
  const { time } = load()
  for (let i = 0; i < N; i++) time.afterFunc(1000 + random() * 3_599_000, () => {}).unref()
}
const armMs = performance.now() - started
// The batches are published in a microtask; report once they are, just before the loop idles.
queueMicrotask(() =>
  setImmediate(() => done({ n: N, armMs, peakRssMB: peakRssMB(), armedAt: performance.timeOrigin + performance.now() })),
)
