// Storm: STORM_N timers due in the same tick, while this process serves I/O.
//
// A TCP server on 127.0.0.1 receives one byte per millisecond from a pinger in another process
// (./pinger.cjs, so the storm cannot delay the sender). The storm process records when each
// byte is served; the largest gap between two served bytes around the storm is how long I/O
// waited. monitorEventLoopDelay (1 ms resolution) runs over the same window.
//
// Arming, for STRESS_MODE native and js: every timer is first armed a minute ahead; then each is
// reset to d = target - performance.now() at its call, where target is an instant LEAD ms
// after the start, 0.9 of a tick before the start of a tick T, in chunks of 250 resets separated
// by a microtask. A reset allocates nothing (no GC pause falls between a call and the
// publication of its batch) and each chunk is published within a fraction of a tick of its
// calls, so each deadline (publication + d, rounded up to a tick) is tick T. Then every deadline the wheel holds is
// read back; the few that a preemption pushed to T+1 are reset again, until all N are in tick
// T (reported as sameTick, asserted by the suite). Timers due in one tick run in the order of
// their last arming, which the callbacks check (outOfOrder). For STRESS_MODE node (the
// baseline): setTimeout(cb, LEAD) for every timer in one synchronous run, so all share Node's
// cached loop time and duration: one list, due at the same instant.
//
// Never early: afterfunc's callbacks must run at or after target (= the call's
// performance.now() + d). For setTimeout the same rule (performance.now() before the call +
// LEAD) is counted and reported, not asserted: Node measures from its cached loop time.
//
// STORM_THROW_AT: comma-separated timer numbers whose callbacks throw (counted by an
// uncaughtException handler); every other callback must still run.
//
// Prints { ioMaxGapMs, eldP99Ms, drainMs, lost, doubled, early, outOfOrder, ... }.
'use strict'

const net = require('node:net')
const { spawn } = require('node:child_process')
const { join } = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { int, peakRssMB, done, sleep } = require('./common.cjs')

const MODE = process.env.STRESS_MODE
const N = int('STORM_N', 1_000_000)
const LEAD = int('STORM_LEAD_MS', 4000)
const CHUNK = 250
const throwAt = new Set((process.env.STORM_THROW_AT ?? '').split(',').filter(Boolean).map(Number))

// Loaded only in the afterfunc modes; the internal runtime module of the built package gives
// the scheduler, to sample the deadlines the wheel holds.
let rt
let TICK_MS = 1
if (MODE !== 'node') {
  const runtime = require(join(process.env.AFTERFUNC_ENTRY, '..', 'runtime.js'))
  rt = runtime.createRuntime(runtime.selectEngine())
  TICK_MS = runtime.TICK_MS
}

const fires = new Uint8Array(N)
/** setTimeout baseline only: performance.now() before each call + LEAD. */
const expected = MODE === 'node' ? new Float64Array(N) : undefined
let ran = 0
let early = 0
let outOfOrder = 0
let lastSeq = -1
/** Order of each timer's last arming, for the FIFO check. */
const seq = new Int32Array(N)
let nextSeq = 0
let firstRunAt = 0
let lastRunAt = 0
let target = 0
let resetRounds = 0
let notSameTick = 0
let onDrained = () => {}

const uncaught = []
process.on('uncaughtException', (err) => uncaught.push(String(err && err.message)))

function fire(i) {
  const now = performance.now()
  if (ran === 0) firstRunAt = now
  fires[i]++
  ran++
  if (now < (expected === undefined ? target : expected[i])) early++
  if (seq[i] < lastSeq) outOfOrder++
  lastSeq = seq[i]
  lastRunAt = now
  if (ran === N) onDrained()
  if (throwAt.has(i)) throw new Error(`boom ${i}`)
}
const callback = (i) => () => fire(i)

// --- I/O: served bytes, as (start, end) of each gap between two of them.
const gapEnds = new Float64Array(1 << 20)
const gapLens = new Float64Array(1 << 20)
let gaps = 0
let lastServed = 0
const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  socket.on('data', (buf) => {
    const now = performance.now()
    if (lastServed !== 0 && gaps < gapEnds.length) {
      gapEnds[gaps] = now
      gapLens[gaps] = now - lastServed
      gaps++
    }
    lastServed = now
    socket.write(buf)
  })
  socket.on('error', () => {})
})

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const pinger = spawn(process.execPath, [join(__dirname, 'pinger.cjs'), String(server.address().port)], { stdio: 'ignore' })
  while (lastServed === 0) await sleep(5)
  await sleep(200)
  global.gc()

  const armStart = performance.now()
  if (MODE === 'node') {
    target = armStart + LEAD
    for (let i = 0; i < N; i++) {
      expected[i] = performance.now() + LEAD
      setTimeout(callback(i), LEAD)
    }
  } else {
    const { time } = rt
    const timers = []
    for (let i = 0; i < N; i++) timers.push(time.afterFunc(60_000, callback(i)))
    await sleep(20)
    global.gc()
    // T: the start of a tick, in ms (ticks are exact binary fractions of a millisecond).
    const T = Math.ceil((performance.now() + LEAD) / TICK_MS) * TICK_MS
    target = T - 0.9 * TICK_MS
    let todo = Array.from({ length: N }, (_, i) => i)
    for (let round = 0; todo.length > 0 && round < 10 && performance.now() < target - 500; round++) {
      for (let k = 0; k < todo.length; ) {
        const end = Math.min(k + CHUNK, todo.length)
        for (; k < end; k++) {
          const i = todo[k]
          seq[i] = nextSeq++
          timers[i].reset(target - performance.now())
        }
        await null
      }
      // Wake the wheel thread (an earlier deadline) so it applies every command, then read back.
      await new Promise((r) => time.afterFunc(0, r))
      await sleep(5)
      todo = todo.filter((i) => rt.scheduler.deadlineOf(i) !== T)
      resetRounds = round + 1
    }
    notSameTick = todo.length
  }
  const armMs = performance.now() - armStart
  const armedBeforeDue = performance.now() < target - 100
  global.gc()

  // Watch from 100 ms before the deadline to 100 ms after the last callback.
  const eld = monitorEventLoopDelay({ resolution: 1 })
  await sleep(Math.max(0, target - 100 - performance.now()))
  const windowStart = performance.now()
  eld.enable()
  await new Promise((r) => {
    onDrained = r
    if (ran === N) r()
    setTimeout(r, LEAD + 60_000).unref()
  })
  await sleep(100)
  eld.disable()
  const windowEnd = performance.now()
  pinger.kill()
  server.close()

  let ioMaxGapMs = 0
  let served = 0
  for (let k = 0; k < gaps; k++) {
    // A gap counts if any part of it lies inside the window.
    if (gapEnds[k] < windowStart || gapEnds[k] - gapLens[k] > windowEnd) continue
    served++
    if (gapLens[k] > ioMaxGapMs) ioMaxGapMs = gapLens[k]
  }
  let lost = 0
  let doubled = 0
  for (let i = 0; i < N; i++) {
    if (fires[i] === 0) lost++
    else if (fires[i] > 1) doubled++
  }
  done({
    mode: MODE,
    n: N,
    armMs,
    armedBeforeDue,
    resetRounds,
    notSameTick,
    firstRunLateMs: firstRunAt - target,
    drainMs: lastRunAt - firstRunAt,
    ioMaxGapMs,
    ioServedInWindow: served,
    windowMs: windowEnd - windowStart,
    eldP50Ms: eld.percentile(50) / 1e6,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
    runs: ran,
    lost,
    doubled,
    early,
    outOfOrder,
    uncaught,
    peakRssMB: peakRssMB(),
  })
  if (rt !== undefined) rt.close()
}

main()
