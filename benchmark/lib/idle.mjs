// S7 idle: CPU of the whole process over IDLE_MS with N far-future timers pending (60 s +
// (i mod 4096)·7 ms, armed, applied and collected before the measurement starts), as a
// percentage of one core. The wait itself is one Node timer in every variant.

import { cpuDelta, cpuSnapshot, duration, gcMemory, settle, sleep, slots, wheelThreadId } from './common.mjs'

export async function idle(lib, N, idleMs) {
  const f = () => {}
  const timers = slots(N)
  if (lib === undefined) for (let i = 0; i < N; i++) timers[i] = setTimeout(f, duration(i))
  else for (let i = 0; i < N; i++) timers[i] = lib.time.afterFunc(duration(i), f)
  await settle(lib)
  gcMemory()
  await sleep(1000) // let V8 finish concurrent sweeping and the engine park
  const wheelTid = wheelThreadId()
  const c0 = cpuSnapshot(wheelTid)
  await sleep(idleMs)
  const d = cpuDelta(c0, cpuSnapshot(wheelTid))
  return {
    n: N,
    idle_ms: d.wall / 1e6,
    core_pct: (100 * d.process) / d.wall,
    main_core_pct: (100 * d.main) / d.wall,
    wheel_core_pct: (100 * d.wheel) / d.wall,
    pending: timers.length,
  }
}
