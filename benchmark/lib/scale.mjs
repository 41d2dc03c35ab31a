// S1/S2/S3 "scale" and S4: the first N arms, resets and stops in a fresh process, and the
// memory the N live timers hold; and S4's floors (`memoryFloor`), measured the same way.
//
// Cold on purpose: the loops run once, with no warm-up beyond one arm+stop that creates the
// engine. Every Timer (or Node Timeout) survives, so the arm loop is dominated by V8's
// young-generation collector copying survivors and promoting them; that cost is real for an
// application that arms N long-lived timers at once, and the same for every engine.
//
// The TimerSet engines arm keys 0..N-1 of one set (the first reset of each key): nothing is
// made per timer, and the set's tables grow as the keys do, inside the arm loop.

import { Bare, cpuDelta, cpuSnapshot, duration, gcMemory, sleep, slots, wheelThreadId } from './common.mjs'
import { timerOps } from './timers.mjs'

/** ms slept after the engine applied every command and before memory is read. */
export const MEMORY_SLEEP_MS = 100

export async function scale(engine, lib, N) {
  const f = () => {}
  const timers = slots(N)
  const { arm, reset, stop, settle } = timerOps(engine, lib, f)

  // Create the engine (and its command ring) before the baseline, then measure. Key 0 serves
  // the set engines' settling here, before any timer is armed; key N afterwards (it fits the
  // tables that keys 0..N-1 grow to unless N is a power of two).
  stop(arm(0, 1))
  await settle(0)
  const wheelTid = wheelThreadId()
  await sleep(MEMORY_SLEEP_MS)
  const mem0 = gcMemory()

  const phase = async (loop) => {
    const c0 = cpuSnapshot(wheelTid)
    const t0 = process.hrtime.bigint()
    loop()
    const t1 = process.hrtime.bigint()
    await null // the batch is published in a microtask: include it
    const t2 = process.hrtime.bigint()
    await settle(N) // until the engine has applied every command
    const d = cpuDelta(c0, cpuSnapshot(wheelTid))
    return {
      wall_ns: Number(t1 - t0) / N,
      wall_flush_ns: Number(t2 - t0) / N,
      cpu_ns: d.process / N,
      main_cpu_ns: d.main / N,
      wheel_cpu_ns: d.wheel / N,
    }
  }

  const armPhase = await phase(() => {
    for (let i = 0; i < N; i++) timers[i] = arm(i, duration(i))
  })
  await sleep(MEMORY_SLEEP_MS)
  const memory = perItem(mem0, gcMemory(), N)

  const resetPhase = await phase(() => {
    for (let i = 0; i < N; i++) reset(timers[i], duration(i))
  })
  const stopPhase = await phase(() => {
    for (let i = 0; i < N; i++) stop(timers[i])
  })
  return { arm: armPhase, reset: resetPhase, stop: stopPhase, memory }
}

/**
 * The S4 floor, in a process that loads no timer library: the memory N plain two-field
 * objects (the `Timer`'s shape) hold when made in one loop and kept in an array, measured as
 * `scale` measures timers (the same array, baseline, sleeps and collections). An engine that
 * returns one object per timer cannot use less, whatever else it keeps; RSS also counts what
 * V8 keeps of making and promoting N surviving objects in one run (its young generation's
 * pages, the malloc arenas of its collector threads), which `gc()` does not give back.
 *
 * With `design` (suite `memory-floor-design`, run by hand: see benchmark/README.md, S4), each
 * object also gets the least that an engine built as afterfunc is keeps per timer, with next
 * to no slack: an 8-byte slot in a table of the objects (what maps a fired index back to its
 * object), a `design.word`-byte slot word (the generation) and a `design.entry`-byte wheel
 * entry outside V8's heap (deadline and links), each table grown in chunks of CHUNK slots that
 * are big enough to be allocated outside the young generation, and every entry written so that
 * its pages are resident. The last chunk's unused slots are the only slack (at N = 1M, under
 * 0.5 B per timer: of them, only the slot table's pages are written, by `fill`).
 */
export async function memoryFloor(lib, N, design) {
  if (lib !== undefined) throw new Error('memory-floor loads no timer library: run it with engine node')
  const CHUNK = 65_536
  const f = () => {}
  const objects = slots(N)
  const table = []
  const words = []
  const entries = []
  await sleep(MEMORY_SLEEP_MS)
  const mem0 = gcMemory()
  if (design === undefined) {
    for (let i = 0; i < N; i++) objects[i] = new Bare(duration(i), f)
  } else {
    const { word, entry } = design
    for (let i = 0; i < N; i++) {
      const o = new Bare(duration(i), f)
      objects[i] = o
      const c = Math.floor(i / CHUNK)
      const j = i % CHUNK
      if (j === 0) {
        table.push(new Array(CHUNK).fill(0))
        words.push(new Uint8Array(CHUNK * word))
        entries.push(new Uint8Array(CHUNK * entry))
      }
      table[c][j] = o
      for (let b = 0; b < word; b += 4) words[c][j * word + b] = 1
      for (let b = 0; b < entry; b += 4) entries[c][j * entry + b] = 1
    }
  }
  await null
  await sleep(MEMORY_SLEEP_MS)
  const mem1 = gcMemory()
  // A use of `objects` (and of each table) after the readings: a suspended async function
  // keeps only the variables it still uses, so without one V8 may collect the array, and the
  // objects with it, at an `await` above (seen in a harness that did not read its array
  // afterwards, and here: with only `table` read, the two byte tables were collected).
  if (objects[N - 1]._f !== f) throw new Error('unreachable: the objects are held')
  if (design !== undefined) {
    const c = Math.floor((N - 1) / CHUNK)
    const j = (N - 1) % CHUNK
    const written = (a, bytes) => bytes === 0 || a[c][j * bytes] === 1
    if (table[c][j] !== objects[N - 1] || !written(words, design.word) || !written(entries, design.entry)) {
      throw new Error('unreachable: the tables are held and written')
    }
  }
  return { memory: perItem(mem0, mem1, N), ...(design && { design: { slot: 8, ...design, chunk: CHUNK } }) }
}

/**
 * Bytes per item between two `gcMemory` readings, N items apart. `young_bytes` is the part of
 * the RSS growth that is V8's young generation growing while the items were made (recorded in
 * results.json; it explains the RSS floor, see benchmark/README.md).
 */
function perItem(mem0, mem1, N) {
  return {
    heap_bytes: (mem1.heap - mem0.heap) / N,
    rss_bytes: (mem1.rss - mem0.rss) / N,
    young_bytes: (mem1.young - mem0.young) / N,
  }
}
