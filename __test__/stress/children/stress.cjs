// Stress: STRESS_N timers armed at random durations in [0, STRESS_SPAN_MS), STRESS_CHUNK per
// turn of the event loop (so arming, operations and deliveries interleave); a random half are
// stopped and a random quarter reset (to a new random duration), each at a random moment in
// [0, 1.1 * SPAN) after it was armed, so some operations come before the timer fired and some
// after. Checked per timer with typed arrays indexed by timer number:
//
// - never early: performance.now() inside the callback >= performance.now() taken before the
//   afterFunc (or reset) call + the duration;
// - exactly the runs the API promised: stop() true => no run (for that arming), stop() false =>
//   it had run; reset() true => the old arming never runs, reset() false => it had run; each
//   arming that was not stopped runs exactly once;
// - stop() and reset() return what the timer's observed state says they must.
//
// Prints { wallMs, armMs, peakRssMB, lost, doubled, early, ... }.
'use strict'

const { load, int, rng, peakRssMB, done } = require('./common.cjs')

const { time, backend } = load()
const N = int('STRESS_N', 10_000_000)
const SPAN = int('STRESS_SPAN_MS', 2000)
const CHUNK = int('STRESS_CHUNK', 20_000)
const random = rng(int('STRESS_SEED', 1))
const BUCKET_MS = 2
const HORIZON_MS = 30 * 60_000
const GRACE_MS = 300
const GIVE_UP_MS = 15_000

const fires = new Uint8Array(N)
/** Runs the API promised for timer i so far (0, 1 or 2). */
const want = new Uint8Array(N)
/** 1: stop it later, 2: reset it later. */
const op = new Uint8Array(N)
/** Earliest moment the current arming of timer i may run. */
const expected = new Float64Array(N)
/** 1 once stop() returned true. */
const stopped = new Uint8Array(N)
/** Timers with an operation still to do (dropped once done). Grown by push: `new Array(N)`
 * would start in V8's slow dictionary mode. */
const timers = []
/** Operation schedule: singly linked lists of timer numbers per BUCKET_MS of time. */
const nextInBucket = new Int32Array(N)
const bucketHead = new Int32Array(Math.ceil(HORIZON_MS / BUCKET_MS)).fill(-1)
/** Lateness histogram, 1 ms buckets, the last one open-ended. */
const lateHist = new Uint32Array(60_001)

let ran = 0
let early = 0
let ranAfterStop = 0
let maxLate = 0
let lastRunAt = 0
let stopTrue = 0
let stopFalse = 0
let resetTrue = 0
let resetFalse = 0
let stopMismatch = 0
let resetMismatch = 0
let opsPending = 0
let maxExpected = 0

function fire(i) {
  const now = performance.now()
  fires[i]++
  ran++
  const late = now - expected[i]
  if (late < 0) early++
  else {
    lateHist[late < 60_000 ? late | 0 : 60_000]++
    if (late > maxLate) maxLate = late
  }
  if (stopped[i] !== 0) ranAfterStop++
  lastRunAt = now
}
const callback = (i) => () => fire(i)

const t0 = performance.now()
let armed = 0
let armedAt = 0
let nextBucket = 0

function schedule(i, at) {
  let b = Math.floor((at - t0) / BUCKET_MS)
  if (b >= bucketHead.length) b = bucketHead.length - 1
  if (b < nextBucket) b = nextBucket
  nextInBucket[i] = bucketHead[b]
  bucketHead[b] = i
  opsPending++
}

function arm(until) {
  for (let i = armed; i < until; i++) {
    const d = random() * SPAN
    const u = random()
    const before = performance.now()
    const t = time.afterFunc(d, callback(i))
    expected[i] = before + d
    if (expected[i] > maxExpected) maxExpected = expected[i]
    want[i] = 1
    if (u < 0.75) {
      op[i] = u < 0.5 ? 1 : 2
      timers.push(t)
      schedule(i, before + random() * SPAN * 1.1)
    } else {
      timers.push(undefined)
    }
  }
  armed = until
}

function operate(i) {
  const t = timers[i]
  timers[i] = undefined
  opsPending--
  const hadRun = fires[i] !== 0
  if (op[i] === 1) {
    const r = t.stop()
    if (r === hadRun) stopMismatch++
    if (r) {
      stopTrue++
      stopped[i] = 1
      want[i] = 0
    } else stopFalse++
  } else {
    const d = random() * SPAN
    const before = performance.now()
    const r = t.reset(d)
    expected[i] = before + d
    if (expected[i] > maxExpected) maxExpected = expected[i]
    if (r === hadRun) resetMismatch++
    if (r) resetTrue++
    else {
      resetFalse++
      want[i] = 2
    }
  }
}

function step() {
  const now = performance.now()
  const upTo = Math.min(Math.floor((now - t0) / BUCKET_MS), bucketHead.length - 1)
  for (; nextBucket <= upTo; nextBucket++) {
    for (let i = bucketHead[nextBucket]; i !== -1; ) {
      const next = nextInBucket[i]
      operate(i)
      i = next
    }
    bucketHead[nextBucket] = -1
  }
  if (armed < N) {
    arm(Math.min(armed + CHUNK, N))
    if (armed === N) armedAt = performance.now()
    setImmediate(step)
    return
  }
  if (opsPending > 0 || now < maxExpected + GRACE_MS) {
    setTimeout(step, 1)
    return
  }
  let wantTotal = 0
  for (let i = 0; i < N; i++) wantTotal += want[i]
  if (ran < wantTotal && now < maxExpected + GIVE_UP_MS) {
    setTimeout(step, 5)
    return
  }
  finish(wantTotal)
}

function finish(wantTotal) {
  let lost = 0
  let doubled = 0
  for (let i = 0; i < N; i++) {
    if (fires[i] < want[i]) lost++
    else if (fires[i] > want[i]) doubled++
  }
  const q = (p) => {
    const target = p * (ran - early)
    let acc = 0
    for (let k = 0; k < lateHist.length; k++) {
      acc += lateHist[k]
      if (acc >= target) return k + 1
    }
    return lateHist.length
  }
  done({
    backend,
    n: N,
    spanMs: SPAN,
    armMs: armedAt - t0,
    wallMs: lastRunAt - t0,
    peakRssMB: peakRssMB(),
    runs: ran,
    runsPromised: wantTotal,
    lost,
    doubled,
    early,
    ranAfterStop,
    stopMismatch,
    resetMismatch,
    stopTrue,
    stopFalse,
    resetTrue,
    resetFalse,
    untouched: N - stopTrue - stopFalse - resetTrue - resetFalse,
    lateP50Ms: q(0.5),
    lateP99Ms: q(0.99),
    lateMaxMs: maxLate,
  })
}

step()
