// Re-entrance: callbacks that call the API. Every action below is taken from inside a callback
// (a timer's, a ticker's, a context.afterFunc callback, a sleep's continuation), chosen at
// random, CHAOS_OPS actions in all: arm a new timer; stop or reset a random timer (its own
// included); create a context (withTimeout or withCancel, under a random context); register a
// context.afterFunc callback on a random context; cancel a random context; stop a random
// registration; create, stop or reset a ticker; sleep with a random context.
//
// The script keeps what each call's result must be, and counts every disagreement:
// - a timer callback runs only while its timer is active (armed and not stopped), and never
//   before performance.now() before its last afterFunc/reset call + d;
// - Timer.stop() and Timer.reset() return whether the timer was active;
// - a context.afterFunc callback runs once, only after its context is done, never after its
//   stop() returned true; stop() returns true iff the callback had not started;
// - a ticker never ticks after stop() returned (until reset);
// - a sleep resolves no earlier than d, or rejects with context.cause(ctx).
// At the end, contexts are all cancelled (from inside a callback), and every timer must have
// run, every registration run or been stopped, every sleep settled.
//
// Prints { actions, errors: {...}, lost: {...}, counts }.
'use strict'

const { load, int, rng, peakRssMB, done, sleep } = require('./common.cjs')

const { time, context, backend } = load()
const OPS = int('CHAOS_OPS', 1_000_000)
const D = 20
const random = rng(int('STRESS_SEED', 11))
const pick = (n) => (random() * n) | 0

const errors = {
  timerGhostRun: 0,
  timerEarly: 0,
  stopResult: 0,
  resetResult: 0,
  regGhostRun: 0,
  regBeforeDone: 0,
  regStopResult: 0,
  tickAfterStop: 0,
  sleepEarly: 0,
  sleepWrongReason: 0,
}
const counts = { timers: 0, timerRuns: 0, stopTrue: 0, stopFalse: 0, resetTrue: 0, resetFalse: 0, contexts: 0, cancels: 0, regs: 0, regRuns: 0, regStopTrue: 0, tickers: 0, ticks: 0, sleeps: 0, sleepRejects: 0 }
let budget = OPS

// Timers: Timer objects and the model's view of each.
const timers = []
const active = []
const expected = []
let activeCount = 0
// Contexts and their cancel functions (index 0: background, never cancelled).
const ctxs = [context.background()]
const cancels = [() => {}]
// context.afterFunc registrations: stop functions, state (0 waiting, 1 ran, 2 stopped), context.
const regStops = []
const regState = []
const regCtx = []
// Tickers.
const tickers = []
const tickerStopped = []
const tickerLimit = []
const tickCount = []
let pendingSleeps = 0

function onTimer(i) {
  const now = performance.now()
  if (active[i] !== 1) errors.timerGhostRun++
  else {
    if (now < expected[i]) errors.timerEarly++
    active[i] = 0
    activeCount--
  }
  counts.timerRuns++
  const r = random()
  if (r < 0.05) {
    if (timers[i].stop() !== false) errors.stopResult++
  } else if (r < 0.15 && budget > 0) {
    budget--
    resetTimer(i)
  }
  actions()
}

function onReg(k) {
  if (regState[k] !== 0) errors.regGhostRun++
  if (ctxs[regCtx[k]].err() === undefined) errors.regBeforeDone++
  regState[k] = 1
  counts.regRuns++
  if (random() < 0.05 && regStops[k]() !== false) errors.regStopResult++
  actions()
}

function onTick(k) {
  if (tickerStopped[k] === 1) errors.tickAfterStop++
  counts.ticks++
  if (++tickCount[k] >= tickerLimit[k]) {
    tickers[k].stop()
    tickerStopped[k] = 1
  }
  if (random() < 0.3) actions()
}

/** One to three random actions, while the budget lasts. */
function actions() {
  const n = 1 + pick(3)
  for (let a = 0; a < n && budget > 0; a++) {
    budget--
    const r = random()
    if (r < 0.25) armTimer()
    else if (r < 0.37) stopTimer(pick(timers.length))
    else if (r < 0.5) resetTimer(pick(timers.length))
    else if (r < 0.58) newContext()
    else if (r < 0.68) register()
    else if (r < 0.74) cancelContext()
    else if (r < 0.8) stopReg()
    else if (r < 0.84) newTicker()
    else if (r < 0.88) stopOrResetTicker()
    else newSleep()
  }
}

function armTimer() {
  const i = timers.length
  const d = random() * D
  const before = performance.now()
  timers.push(time.afterFunc(d, () => onTimer(i)))
  active.push(1)
  expected.push(before + d)
  activeCount++
  counts.timers++
}

function stopTimer(k) {
  if (k >= timers.length) return
  const r = timers[k].stop()
  if (r !== (active[k] === 1)) errors.stopResult++
  if (r) {
    counts.stopTrue++
    active[k] = 0
    activeCount--
  } else counts.stopFalse++
}

function resetTimer(k) {
  if (k >= timers.length) return
  const d = random() * D
  const before = performance.now()
  const r = timers[k].reset(d)
  if (r !== (active[k] === 1)) errors.resetResult++
  if (r) counts.resetTrue++
  else {
    counts.resetFalse++
    if (active[k] === 0) activeCount++
  }
  active[k] = 1
  expected[k] = before + d
}

function newContext() {
  const parent = ctxs[random() < 0.2 ? 0 : pick(ctxs.length)]
  const [ctx, cancel] = random() < 0.5 ? context.withTimeout(parent, random() * D * 2) : context.withCancel(parent)
  ctxs.push(ctx)
  cancels.push(cancel)
  counts.contexts++
}

function register() {
  const k = regStops.length
  const c = pick(ctxs.length)
  regState.push(0)
  regCtx.push(c)
  regStops.push(context.afterFunc(ctxs[c], () => onReg(k)))
  counts.regs++
}

function cancelContext() {
  cancels[pick(cancels.length)]()
  counts.cancels++
}

function stopReg() {
  if (regStops.length === 0) return
  const k = pick(regStops.length)
  const r = regStops[k]()
  // Registrations on background() never run; their first stop() is true.
  if (r !== (regState[k] === 0)) errors.regStopResult++
  if (r) {
    regState[k] = 2
    counts.regStopTrue++
  }
}

function newTicker() {
  const k = tickers.length
  tickerStopped.push(0)
  tickerLimit.push(1 + pick(10))
  tickCount.push(0)
  tickers.push(time.newTicker(1 + random() * 4, () => onTick(k)))
  counts.tickers++
}

function stopOrResetTicker() {
  if (tickers.length === 0) return
  const k = pick(tickers.length)
  if (random() < 0.7) {
    tickers[k].stop()
    tickerStopped[k] = 1
  } else {
    tickers[k].reset(1 + random() * 4)
    tickerStopped[k] = 0
    tickCount[k] = 0
  }
}

function newSleep() {
  const d = random() * D
  const ctx = random() < 0.5 ? undefined : ctxs[pick(ctxs.length)]
  const before = performance.now()
  pendingSleeps++
  counts.sleeps++
  time.sleep(d, ctx === undefined ? undefined : { ctx }).then(
    () => {
      pendingSleeps--
      if (performance.now() < before + d) errors.sleepEarly++
      if (random() < 0.5) actions()
    },
    (reason) => {
      pendingSleeps--
      counts.sleepRejects++
      if (ctx === undefined || reason !== context.cause(ctx)) errors.sleepWrongReason++
      if (random() < 0.5) actions()
    },
  )
}

async function main() {
  const started = performance.now()
  // The seed: a few hundred timers armed from the top level; everything else comes from callbacks.
  for (let i = 0; i < 500; i++) armTimer()
  for (let i = 0; i < 50; i++) newContext()
  const giveUp = started + 120_000
  // Run until the budget is spent and every timer has run (or keep reporting, to give up).
  while ((budget > 0 || activeCount > 0) && performance.now() < giveUp) {
    if (activeCount === 0 && budget > 0) time.afterFunc(0, actions) // keep the chain alive
    await sleep(10)
  }
  // Stop the tickers and cancel every context, from inside a callback.
  await new Promise((resolve) =>
    time.afterFunc(0, () => {
      for (let k = 0; k < tickers.length; k++) {
        tickers[k].stop()
        tickerStopped[k] = 1
      }
      for (const cancel of cancels) cancel()
      resolve()
    }),
  )
  const settleBy = performance.now() + 30_000
  let regsWaiting = 0
  for (;;) {
    regsWaiting = 0
    // Registrations on background() never run (it is never done); every other context is done.
    for (let k = 0; k < regState.length; k++) if (regState[k] === 0 && regCtx[k] !== 0) regsWaiting++
    if ((regsWaiting === 0 && pendingSleeps === 0 && activeCount === 0) || performance.now() > settleBy) break
    await sleep(10)
  }
  await sleep(50) // a tick or callback that should not come has its chance
  done({
    backend,
    ms: performance.now() - started,
    actions: OPS - budget,
    errors,
    lost: { timers: activeCount, registrations: regsWaiting, sleeps: pendingSleeps },
    counts,
    peakRssMB: peakRssMB(),
  })
}

main()
