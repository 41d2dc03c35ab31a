// The scheduler's side of the command ring, against a fake engine that consumes commands
// lazily (as a busy wheel thread would): it must never overwrite a command the engine has not
// consumed, never lose one, and leave the engine holding exactly the active timers.

import { expect, test } from 'vitest'
import { K } from '../src/constants.ts'
import { createJsEngine, POLL_LIMIT } from '../src/engine/js.ts'
import { Ring } from '../src/engine/ring.ts'
import type { Deliver, Engine } from '../src/engine/types.ts'
import { Scheduler, type Schedulable } from '../src/scheduler.ts'
import { until } from './helpers.ts'

class LazyEngine implements Engine {
  /** When true, `published` consumes nothing: only `makeRoom` does. */
  idle = false
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly armed = new Map<number, number>()
  errors: string[] = []
  /** CANCELs that found their slot not armed. */
  noopCancels = 0
  private rand: () => number

  constructor(rand: () => number) {
    const memory = new ArrayBuffer(K.CTRL_BYTES + K.RING_CAPACITY * K.CMD_BYTES)
    this.i32 = new Int32Array(memory)
    this.f64 = new Float64Array(memory)
    this.rand = rand
  }

  private check(): void {
    const used = (Atomics.load(this.i32, K.CTRL_TAIL) - Atomics.load(this.i32, K.CTRL_HEAD)) | 0
    if (used < 0 || used > K.RING_CAPACITY) this.errors.push(`published ${used} commands ahead of the consumer`)
  }

  /** Applies up to `max` published commands. */
  consume(max = Infinity): void {
    this.check()
    const tail = Atomics.load(this.i32, K.CTRL_TAIL)
    let head = Atomics.load(this.i32, K.CTRL_HEAD)
    let base = Number.NaN
    for (let n = 0; head !== tail && n < max; n++) {
      const w = K.CTRL_BYTES / 4 + (head & (K.RING_CAPACITY - 1)) * (K.CMD_BYTES / 4)
      const word0 = this.i32[w]!
      const index = this.i32[w + 1]!
      const value = this.f64[(w >> 1) + 1]!
      const gen = (word0 >>> K.CMD_KIND_BITS) & K.GEN_MASK
      switch (word0 & K.CMD_KIND_MASK) {
        case K.CMD_BASE:
          base = value
          if (!(value > 0)) this.errors.push(`BASE without a time: ${value}`)
          break
        case K.CMD_ARM_AFTER:
          if (!(value >= 0)) this.errors.push(`bad delay ${value}`)
          this.armed.set(index, gen)
          break
        case K.CMD_CANCEL:
          // As in both engines, a CANCEL disarms its slot whatever the generation, and does
          // nothing when the slot is not armed: the scheduler sends one when a timer armed and
          // stopped in the same turn turns its ARM into a CANCEL of the slot's previous arming,
          // which may be gone already. It carries no generation; were one a CANCEL of the
          // wrong arming, the checks of `run` below would find an active timer missing here.
          if (gen !== 0) this.errors.push(`CANCEL ${index} with generation bits ${gen}`)
          if (!this.armed.delete(index)) this.noopCancels++
          break
        default:
          this.errors.push(`corrupt command ${word0}`)
      }
      head = (head + 1) | 0
    }
    void base
    Atomics.store(this.i32, K.CTRL_HEAD, head)
  }

  /** Where the last published batch ended. */
  private seenTail = 0

  published(earliest: number): void {
    // `earliest` must be a lower bound of every deadline the batch arms (the native engine
    // wakes its thread on it): check it against the batch's BASE and ARM commands.
    const tail = Atomics.load(this.i32, K.CTRL_TAIL)
    let base = Number.NaN
    let min = Infinity
    for (let seq = this.seenTail; seq !== tail; seq = (seq + 1) | 0) {
      const w = K.CTRL_BYTES / 4 + (seq & (K.RING_CAPACITY - 1)) * (K.CMD_BYTES / 4)
      const kind = this.i32[w]! & K.CMD_KIND_MASK
      if (kind === K.CMD_BASE) base = this.f64[(w >> 1) + 1]!
      else if (kind === K.CMD_ARM_AFTER) min = Math.min(min, base + this.f64[(w >> 1) + 1]!)
    }
    this.seenTail = tail
    if (!(earliest <= min)) this.errors.push(`a batch arming at ${min} was published with earliest ${earliest}`)
    // A busy wheel thread: sometimes nothing, sometimes part, sometimes everything.
    if (this.idle) return
    const r = this.rand()
    this.consume(r < 0.3 ? 0 : r < 0.6 ? Math.floor(this.rand() * K.RING_CAPACITY) : Infinity)
  }

  makeRoom(): void {
    this.consume()
  }

  setRef(): void {}
  stats() {
    return { armed: this.armed.size, protocolErrors: this.errors.length, rounds: 0 }
  }
  deadlineOf(): number | undefined {
    return undefined
  }
  takeAll(): Float64Array {
    this.consume()
    const taken = Float64Array.from([...this.armed].flatMap(([index, gen]) => [index, gen, 0]))
    this.armed.clear()
    return taken
  }
  close(): void {}
}

function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/**
 * A scheduler on a LazyEngine that consumes every published batch in full (its random source
 * always says "everything"); `engine()` is that engine, once the scheduler has created it.
 */
function lazyScheduler(): { s: Scheduler; engine: () => LazyEngine } {
  let engine: LazyEngine | undefined
  const s = new Scheduler(
    () => (engine = new LazyEngine(() => 0.9)),
    () => performance.now(),
  )
  return {
    s,
    engine: () => {
      if (engine === undefined) throw new Error('the scheduler has not created its engine yet')
      return engine
    },
  }
}

async function run(seed: number, sizes: number[], idle: boolean): Promise<void> {
  const rand = prng(seed)
  let engine: LazyEngine | undefined
  const s = new Scheduler(
    () => {
      engine = new LazyEngine(rand)
      engine.idle = idle
      return engine
    },
    () => performance.now(),
  )
  const live = new Set<Schedulable>()
  const all: Schedulable[] = []
  let wrongReturns = 0
  // Delays grow with every arm, so the first ARM of a batch is its earliest: a batch whose
  // `earliest` leaves out an ARM carried over a batch boundary is caught (see `published`).
  let n = 0
  for (const size of sizes) {
    for (let op = 0; op < size; op++) {
      const r = idle ? 0 : rand()
      if (r < 0.5 || all.length === 0) {
        const t: Schedulable = { _k: 0, _f: () => {} }
        s.arm(t, 1e9 + ++n + rand() / 2)
        all.push(t)
        live.add(t)
      } else {
        const t = all[Math.floor(rand() * all.length)]!
        const wasLive = live.has(t)
        const returned = r < 0.75 ? s.stop(t) : s.reset(t, 1e9 + ++n)
        if (returned !== wasLive) wrongReturns++
        if (r < 0.75) live.delete(t)
        else live.add(t)
      }
    }
    await Promise.resolve()
    if (!idle) engine!.consume()
    expect(engine!.errors, `seed ${seed}, turn of ${size}`).toEqual([])
    if (idle) continue
    expect(wrongReturns).toBe(0)
    expect(engine!.armed.size).toBe(live.size)
    let missing = 0
    for (const t of live) if (!engine!.armed.has(t._k >> 1)) missing++
    expect(missing).toBe(0)
    if (all.length > 300_000) all.splice(0, all.length - 100_000)
  }
  engine!.consume()
  expect(engine!.errors).toEqual([])
  expect(engine!.armed.size).toBe(live.size)
}

test('turns of every size around the batch and ring limits keep the engine exactly in step', async () => {
  const sizes = [
    1, 2, 100, 1023, 1024, 1025, 4097, 5121, 32766, 32767, 32768, 32769, 65531, 65532, 65533, 65534, 65535, 65536, 65537,
    131075, 200003,
  ]
  for (const seed of [1, 2]) await run(seed, sizes, false)
}, 60_000)

test('an engine that consumes only when the ring is full is never overrun', async () => {
  // 65531 arms leave the ring three short of full after the turn's flush; the next turn's
  // BASE and first command then land exactly on the limit.
  await run(7, [65531, 10, 65531, 3, 1, 65534, 2, 40000, 40000], true)
}, 60_000)

test('a timer armed and stopped in the same turn adds no command: its ARM becomes a CANCEL in place, or is taken back', async () => {
  const { s, engine } = lazyScheduler()
  const kinds = (from: number, to: number): string[] => {
    const out: string[] = []
    for (let seq = from; seq < to; seq++) {
      const w = K.CTRL_BYTES / 4 + (seq & (K.RING_CAPACITY - 1)) * (K.CMD_BYTES / 4)
      const word0 = engine().i32[w]!
      out.push(`${['?', 'BASE', 'ARM', 'CANCEL'][word0 & K.CMD_KIND_MASK]} ${engine().i32[w + 1]}/${(word0 >>> K.CMD_KIND_BITS) & K.GEN_MASK}`)
    }
    return out
  }
  const t = (): Schedulable => ({ _k: 0, _f: () => {} })
  const a = t()
  const b = t()
  s.arm(a, 1e9) // slot 0, generation 1
  s.arm(b, 1e9) // slot 1, generation 1
  await Promise.resolve()
  expect(kinds(0, 3)).toEqual(['BASE 0/0', 'ARM 0/1', 'ARM 1/1'])
  // Next turn: b stopped (its ARM was published: a CANCEL), a reset then stopped (its new ARM,
  // the last command, becomes a CANCEL of its published arming: a reset's ARM is never taken
  // back), and 100 timers armed and stopped on the freed slot (each ARM, the last command and
  // on a free slot, taken back).
  expect(s.stop(b)).toBe(true)
  expect(s.reset(a, 5)).toBe(true)
  expect(s.stop(a)).toBe(true)
  for (let i = 0; i < 100; i++) {
    const c = t()
    s.arm(c, 1)
    expect(s.stop(c)).toBe(true)
  }
  // Then c1 and c2 armed, c1 stopped (its ARM is not the last: a CANCEL in place), c2 stopped
  // (the last and on a free slot: taken back), c3 armed and kept.
  const [c1, c2, c3] = [t(), t(), t()]
  s.arm(c1, 1)
  s.arm(c2, 1)
  expect(s.stop(c1)).toBe(true)
  expect(s.stop(c2)).toBe(true)
  s.arm(c3, 1)
  await Promise.resolve()
  const tail = Atomics.load(engine().i32, K.CTRL_TAIL)
  expect(tail).toBe(3 + 1 + 2 + 2)
  // Slot 0 (the last freed) took generations 3..102 for the 100 timers, then 103 for c1;
  // slot 1 (freed by b) took generation 2 for c2, then 3 for c3. A CANCEL has no generation.
  expect(kinds(3, 8)).toEqual(['BASE 0/0', 'CANCEL 1/0', 'CANCEL 0/0', 'CANCEL 0/0', 'ARM 1/3'])
  engine().consume()
  expect(engine().errors).toEqual([])
  expect([...engine().armed]).toEqual([[c3._k >> 1, 3]])
})

test('a stop after a take-back rewrites the ARM now last, which may be a reset', async () => {
  const { s, engine } = lazyScheduler()
  const t = (): Schedulable => ({ _k: 0, _f: () => {} })
  const [a, b] = [t(), t()]
  s.arm(a, 1e9) // slot 0, generation 1
  await Promise.resolve()
  // a reset (a move in the engine), then b armed and stopped (taken back): a's ARM is the last
  // command again, but stopping a must still cancel its published arming.
  expect(s.reset(a, 1e9)).toBe(true)
  s.arm(b, 1)
  expect(s.stop(b)).toBe(true)
  expect(s.stop(a)).toBe(true)
  await Promise.resolve()
  engine().consume()
  expect(engine().errors).toEqual([])
  expect(engine().armed.size).toBe(0)
})

test('every ARM of an open batch is found in place, at every offset the batch has', async () => {
  // Timer i is armed, then timer i-1 stopped: each stop finds its ARM one command back, at
  // every offset of every batch, so only the first stop after a batch was published (its ARM
  // went with that batch) needs a CANCEL of its own.
  const { s, engine } = lazyScheduler()
  // Enough batches for their keys to come round again.
  const n = 6 * Ring.BATCH_MAX + 7
  let previous: Schedulable | undefined
  for (let i = 0; i < n; i++) {
    const t: Schedulable = { _k: 0, _f: () => {} }
    s.arm(t, 1e9 + i)
    if (previous !== undefined) expect(s.stop(previous)).toBe(true)
    previous = t
  }
  await Promise.resolve()
  const tail = Atomics.load(engine().i32, K.CTRL_TAIL)
  const counts = { base: 0, arm: 0, cancel: 0 }
  for (let seq = 0; seq < tail; seq++) {
    const kind = engine().i32[K.CTRL_BYTES / 4 + seq * (K.CMD_BYTES / 4)]! & K.CMD_KIND_MASK
    if (kind === K.CMD_BASE) counts.base++
    else if (kind === K.CMD_ARM_AFTER) counts.arm++
    else if (kind === K.CMD_CANCEL) counts.cancel++
  }
  // Seven batches; the ARMs of the stopped timers became CANCELs in place, so every CANCEL but
  // the six at batch boundaries stands where an ARM was written.
  expect(counts.base).toBe(7)
  expect(tail).toBe(n + counts.base + 6)
  expect(counts.arm).toBe(1 + 6)
  engine().consume()
  expect(engine().errors).toEqual([])
  expect([...engine().armed.keys()]).toEqual([previous!._k >> 1])
})

test('a timer whose ARM went with a batch four batches back (the same key) gets a CANCEL of its own', async () => {
  const { s, engine } = lazyScheduler()
  const t = (): Schedulable => ({ _k: 0, _f: () => {} })
  const x = t()
  s.arm(x, 1e9) // offset 1 of the first batch
  // Exactly four more batches open: the fifth batch has x's batch key again, and its offset 1
  // holds another timer's ARM.
  const others: Schedulable[] = []
  for (let i = 0; i < 4 * Ring.BATCH_MAX - 1; i++) others.push(t())
  for (const o of others) s.arm(o, 1e9)
  const before = Atomics.load(engine().i32, K.CTRL_TAIL)
  expect(s.stop(x)).toBe(true)
  await Promise.resolve()
  const tail = Atomics.load(engine().i32, K.CTRL_TAIL)
  const w = K.CTRL_BYTES / 4 + ((tail - 1) & (K.RING_CAPACITY - 1)) * (K.CMD_BYTES / 4)
  expect(engine().i32[w]! & K.CMD_KIND_MASK).toBe(K.CMD_CANCEL)
  expect(engine().i32[w + 1]).toBe(x._k >> 1)
  expect(tail).toBeGreaterThan(before)
  engine().consume()
  expect(engine().errors).toEqual([])
  expect(engine().armed.size).toBe(others.length)
  expect(engine().armed.has(x._k >> 1)).toBe(false)
})

test('delivery skips the generation check only for a batch of the current engine polled after every command', async () => {
  // A fresh batch (the engine polled after applying every command written) needs no
  // generation check; one from an engine swapped out must not pass for fresh because its ring
  // position happens to equal the current ring's.
  const delivers: Deliver[] = []
  const factory = (deliver: Deliver): LazyEngine => {
    delivers.push(deliver)
    return new LazyEngine(() => 0.9)
  }
  const now = (): number => performance.now()
  const s = new Scheduler(factory, now)
  const ran: string[] = []
  const a: Schedulable = { _k: 0, _f: () => ran.push('a') }
  s.arm(a, 1e9) // engine 0: BASE, ARM(0, 1)
  await Promise.resolve() // published and applied: engine 0's head is 2
  const restore = s.swapEngine(factory, now) // engine 1: BASE, ARM(0, 2)
  await Promise.resolve()
  // Engine 0 delivers slot 0's old arming, with a head equal to engine 1's tail (2).
  delivers[0]!(Uint32Array.of(0, 1), 0, 2)
  expect(ran).toEqual([])
  // The current engine, when it cannot vouch for its ring (head -1, after a protocol error).
  delivers[1]!(Uint32Array.of(0, 1), 0, -1)
  expect(ran).toEqual([])
  // The current engine's batch with that head is fresh: slot 0 runs, generation unchecked.
  delivers[1]!(Uint32Array.of(0, 2), 0, 2)
  expect(ran).toEqual(['a'])
  restore()
})

test('the TypeScript engine hands a storm over in batches of at most POLL_LIMIT timers, one poll per turn', async () => {
  const batches: Array<{ timers: number; turn: number }> = []
  let turn = 0
  let turning = true
  const nextTurn = (): void => {
    turn++
    if (turning) setImmediate(nextTurn)
  }
  let engine: Engine | undefined
  const s = new Scheduler(
    (deliver, now) =>
      (engine = createJsEngine((ids, nowTick, head) => {
        batches.push({ timers: ids.length / 2, turn })
        deliver(ids, nowTick, head)
      }, now)),
    () => performance.now(),
  )
  const n = 3 * POLL_LIMIT + 5
  let ran = 0
  for (let i = 0; i < n; i++) s.arm({ _k: 0, _f: () => void ran++ }, 1)
  const end = performance.now() + 5
  while (performance.now() < end) {
    // every timer is due before the engine first polls
  }
  setImmediate(nextTurn)
  try {
    await until(() => ran === n)
  } finally {
    turning = false
    engine?.close()
  }
  expect(batches.map((b) => b.timers)).toEqual([POLL_LIMIT, POLL_LIMIT, POLL_LIMIT, 5])
  // Each poll in a turn of its own.
  expect(new Set(batches.map((b) => b.turn)).size).toBe(batches.length)
})
