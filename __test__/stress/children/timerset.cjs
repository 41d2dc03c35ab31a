// Timer-set churn: STRESS_OPS operations on STRESS_KEYS keys of one set, STRESS_CHUNK per turn
// of the event loop, each a reset (70%, to a random delay in [0, STRESS_SPAN_MS)) or a stop
// (30%) of a random key, so expiries, resets and stops of the same keys interleave. A model
// of every key (pending or not, and the earliest time its arming may run) is kept beside the
// set and checked:
//
// - every reset() and stop() returns what the model says (was the key pending);
// - the callback runs only for a key the model holds pending (never twice for one arming,
//   never after stop), and never before its arming's earliest time;
// - set.size equals the model's count after every chunk, and every arming not stopped has run
//   once the last deadline has passed: none lost.
//
// Prints { keys, ops, runs, lost, unexpected, early, resetMismatch, stopMismatch, sizeMismatch,
// wallMs, peakRssMB }.
'use strict'

const { load, int, rng, peakRssMB, done } = require('./common.cjs')

const { time, backend } = load()
const KEYS = int('STRESS_KEYS', 1_000_000)
const OPS = int('STRESS_OPS', 5_000_000)
const SPAN = int('STRESS_SPAN_MS', 1000)
const CHUNK = int('STRESS_CHUNK', 20_000)
const GIVE_UP_MS = 15_000
const random = rng(int('STRESS_SEED', 7))

/** The model: whether each key is pending, and the earliest moment its arming may run. */
const pending = new Uint8Array(KEYS)
const earliest = new Float64Array(KEYS)
let modelSize = 0
let runs = 0
let unexpected = 0
let early = 0
let resetMismatch = 0
let stopMismatch = 0
let sizeMismatch = 0
let resets = 0
let stops = 0

const start = performance.now()
const set = time.newTimerSet((key) => {
  const now = performance.now()
  if (pending[key] === 0) {
    unexpected++
    return
  }
  if (now < earliest[key]) early++
  pending[key] = 0
  modelSize--
  runs++
})

let done_ = 0
function chunk() {
  for (let i = 0; i < CHUNK && done_ < OPS; i++, done_++) {
    const key = Math.floor(random() * KEYS)
    if (random() < 0.7) {
      const d = random() * SPAN
      const before = performance.now()
      if (set.reset(key, d) !== (pending[key] === 1)) resetMismatch++
      if (pending[key] === 0) {
        pending[key] = 1
        modelSize++
      }
      earliest[key] = before + d
      resets++
    } else {
      if (set.stop(key) !== (pending[key] === 1)) stopMismatch++
      if (pending[key] === 1) {
        pending[key] = 0
        modelSize--
      }
      stops++
    }
  }
  if (set.size !== modelSize) sizeMismatch++
  if (done_ < OPS) setImmediate(chunk)
  else drain(performance.now())
}

function drain(lastOpAt) {
  if (modelSize === 0 || performance.now() > lastOpAt + SPAN + GIVE_UP_MS) {
    done({
      backend,
      keys: KEYS,
      ops: OPS,
      resets,
      stops,
      runs,
      lost: modelSize,
      unexpected,
      early,
      resetMismatch,
      stopMismatch,
      sizeMismatch: sizeMismatch + (set.size === modelSize ? 0 : 1),
      wallMs: performance.now() - start,
      peakRssMB: peakRssMB(),
    })
    process.exit(0)
  }
  setTimeout(() => drain(lastOpAt), 20)
}

chunk()
