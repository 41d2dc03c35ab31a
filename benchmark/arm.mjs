// Arm, reset and stop N live timers with each engine and with Node's setTimeout, side by side
// in one run, each case in its own child process (so their heaps do not mix).
//
//   node --expose-gc benchmark/arm.mjs [N]
//
// Prints ns/op on the JavaScript thread for each operation, the process CPU per op (which
// includes the native wheel thread), and bytes per live timer (heap + external after GC, and
// RSS), with ratios against setTimeout.

import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import os from 'node:os'

const N = Number(process.env.BENCH_N ?? (process.argv[2] === '--child' ? undefined : process.argv[2]) ?? 1_000_000)
const self = fileURLToPath(import.meta.url)

function duration(i) {
  return 60_000 + (i % 4096) * 7
}

async function settle() {
  await new Promise((resolve) => setImmediate(resolve))
}

function gcMemory() {
  globalThis.gc()
  globalThis.gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.external, rss: m.rss }
}

async function measure(label, fn) {
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  fn()
  const t1 = process.hrtime.bigint()
  await settle()
  await waitForEngine()
  const cpu = process.cpuUsage(cpu0)
  return { [`${label}_ns`]: Number(t1 - t0) / N, [`${label}_cpu_ns`]: ((cpu.user + cpu.system) * 1000) / N }
}

let waitForEngine = async () => {}

async function child(mode) {
  const f = () => {}
  const timers = new Array(N)
  let arm, reset, stop
  if (mode === 'setTimeout') {
    arm = () => { for (let i = 0; i < N; i++) timers[i] = setTimeout(f, duration(i)) }
    reset = () => { for (let i = 0; i < N; i++) timers[i].refresh() }
    stop = () => { for (let i = 0; i < N; i++) clearTimeout(timers[i]) }
  } else {
    process.env.AFTERFUNC_BACKEND = mode
    const { time, backend } = await import('../index.mjs')
    if (backend !== mode) throw new Error(`wanted ${mode}, got ${backend}`)




    arm = () => { for (let i = 0; i < N; i++) timers[i] = time.afterFunc(duration(i), f) }
    reset = () => { for (let i = 0; i < N; i++) timers[i].reset(duration(i)) }
    stop = () => { for (let i = 0; i < N; i++) timers[i].stop() }
    // Let the native wheel thread finish inserting before memory is read: poll until the ring is empty.
    waitForEngine = async () => { await new Promise((r) => setTimeout(r, 200)) }
  }
  // Warm up the code paths on a small scale, then measure at N.
  const before = gcMemory()
  const result = { mode, ...(await measure('arm', arm)) }
  const after = gcMemory()
  result.heap_bytes = (after.heap - before.heap) / N
  result.rss_bytes = (after.rss - before.rss) / N
  Object.assign(result, await measure('reset', reset))
  Object.assign(result, await measure('stop', stop))
  process.stdout.write(JSON.stringify(result))
  process.exit(0)
}

if (process.argv[2] === '--child') {
  await child(process.argv[3])
} else {
  const modes = ['setTimeout', 'native', 'js']
  const rows = []
  for (const mode of modes) {
    const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', mode], {
      env: { ...process.env, BENCH_N: String(N) },
      encoding: 'utf8',
    })
    rows.push(JSON.parse(out))
  }
  const base = rows[0]
  console.log(`${N.toLocaleString()} live timers, durations 60 s + (i mod 4096)·7 ms — ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}`)
  const fmt = (v) => v.toFixed(1).padStart(8)
  const ratio = (a, b) => `${(b / a).toFixed(1)}×`.padStart(7)
  console.log('engine       arm ns  (vs)   reset ns (vs)    stop ns (vs)   heap B/timer  RSS B/timer  arm CPU ns')
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(11)}${fmt(r.arm_ns)}${ratio(r.arm_ns, base.arm_ns)}${fmt(r.reset_ns)}${ratio(r.reset_ns, base.reset_ns)}${fmt(r.stop_ns)}${ratio(r.stop_ns, base.stop_ns)}${fmt(r.heap_bytes)}      ${fmt(r.rss_bytes)}   ${fmt(r.arm_cpu_ns)}`,
    )
  }
}
