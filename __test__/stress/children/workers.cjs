// Workers: WORKER_CYCLES times, a worker thread loads the package, arms WORKER_TIMERS timers
// (90% at a minute and more, pending; 10% at 0-20 ms, firing while the worker lives), reports
// 'armed', and is terminated: at once on even cycles, 10 ms later (timers firing, the wheel
// thread busy) on odd ones. Every worker has its own engine (for native, its own wheel
// thread), which must stop with it.
//
// After WORKER_WARMUP cycles the process's RSS, heap and thread count are read (after two full
// GCs), and again at the end: no growth means all three back near those readings.
//
// Prints { cycles, errors, baseline, final, threadsBefore, ... }.
'use strict'

const { Worker } = require('node:worker_threads')
const { int, settledMemory, peakRssMB, threads, done, sleep } = require('./common.cjs')

const CYCLES = int('WORKER_CYCLES', 200)
const TIMERS = int('WORKER_TIMERS', 100_000)
const WARMUP = Math.min(int('WORKER_WARMUP', 20), CYCLES)

const code = `
  const { parentPort, workerData } = require('node:worker_threads')
  const { time, backend } = require(${JSON.stringify(process.env.AFTERFUNC_ENTRY)})
  let fired = 0
  for (let i = 0; i < workerData.n; i++) {
    if (i % 10 === 0) time.afterFunc(i % 21, () => { fired++ })
    else time.afterFunc(60000 + (i % 5000), () => {})
  }
  parentPort.postMessage({ backend })
`

const errors = []
let backends = new Set()

async function once(c) {
  const worker = new Worker(code, { eval: true, workerData: { n: TIMERS } })
  worker.on('error', (e) => errors.push(`cycle ${c}: ${e && e.stack}`))
  const exited = new Promise((r) => worker.once('exit', r))
  const msg = await Promise.race([new Promise((r) => worker.once('message', r)), exited.then(() => undefined)])
  if (msg === undefined) {
    errors.push(`cycle ${c}: the worker exited before arming`)
    return
  }
  backends.add(msg.backend)
  if (c % 2 === 1) await sleep(10)
  await worker.terminate()
  await exited
}

async function main() {
  const threadsBefore = threads()
  const started = performance.now()
  for (let c = 0; c < WARMUP; c++) await once(c)
  await sleep(50)
  const baseline = { ...settledMemory(), threads: threads() }
  for (let c = WARMUP; c < CYCLES; c++) await once(c)
  await sleep(50)
  const final = { ...settledMemory(), threads: threads() }
  done({
    cycles: CYCLES,
    timersPerWorker: TIMERS,
    warmup: WARMUP,
    backends: [...backends],
    ms: performance.now() - started,
    threadsBefore,
    baseline,
    final,
    peakRssMB: peakRssMB(),
    errors,
  })
}

main()
