// The scheduler's side of the command ring, against a fake engine that consumes commands
// lazily (as a busy wheel thread would): it must never overwrite a command the engine has not
// consumed, never lose one, and leave the engine holding exactly the active timers.

import { expect, test } from 'vitest'
import { Shared } from '../src/constants.ts'
import { createJsEngine, POLL_LIMIT } from '../src/engine/js.ts'
import { type CommandVisitor, Ring } from '../src/engine/ring.ts'
import type { Deliver, Engine, EngineFactory } from '../src/engine/types.ts'
import { EngineSource } from '../src/engine/link.ts'
import { Scheduler } from '../src/scheduler.ts'

/** A scheduler whose engines come from `factory`, on the clock `now`. */
const newScheduler = (factory: EngineFactory, now: () => number): Scheduler => new Scheduler(new EngineSource(factory, now))
import type { Schedulable } from '../src/slots.ts'
import { until } from './helpers.ts'

class LazyEngine implements Engine, CommandVisitor {
  /** When true, `published` consumes nothing: only `makeRoom` does. */
  idle = false
  readonly ring = Ring.allocate()
  readonly armed = new Map<number, number>()
  errors: string[] = []
  /** CANCELs that found their slot not armed. */
  noopCancels = 0
  private rand: () => number
  /** Where the last published batch ended. */
  private seenTail = 0
  /** While checking a batch: its BASE time. */
  private batchBase = Number.NaN

  constructor(rand: () => number) {
    this.rand = rand
  }

  private check(): void {
    const used = this.ring.unconsumed()
    if (used < 0 || used > Shared.RING_CAPACITY) this.errors.push(`published ${used} commands ahead of the consumer`)
  }

  base(time: number): void {
    this.batchBase = time
    if (!(time > 0)) this.errors.push(`BASE without a time: ${time}`)
  }

  arm(index: number, generation: number, delay: number): void {
    if (!(delay >= 0)) this.errors.push(`bad delay ${delay}`)
    this.armed.set(index, generation)
  }

  armAt(index: number, generation: number, time: number): void {
    if (!(time >= 0)) this.errors.push(`bad time ${time}`)
    this.armed.set(index, generation)
  }

  cancel(index: number): void {
    // As in both engines, a CANCEL disarms its slot whatever the generation, and does nothing
    // when the slot is not armed. Were one a CANCEL of the wrong arming, the checks of `run`
    // below would find a pending timer missing here.
    if (!this.armed.delete(index)) this.noopCancels++
  }

  /** Applies up to `max` published commands. */
  consume(max = Infinity): void {
    this.check()
    const head = this.ring.head()
    const available = this.ring.unconsumed()
    const n = Math.min(max, available)
    const to = (head + n) | 0
    this.ring.visit(head, to, this)
    Atomics.store(this.ring.i32, Shared.CTRL_HEAD, to)
  }

  published(earliest: number): void {
    // Every published batch starts with a BASE whose time is set, and `earliest` is no later
    // than any deadline the new commands arm (the native engine skips its wake-up check on
    // it): both checked on what was just published, before any of it is consumed.
    const tail = this.ring.tail()
    this.batchBase = Number.NaN
    let min = Infinity
    this.ring.visit(this.seenTail, tail, {
      base: (time) => {
        this.batchBase = time
        if (!(time > 0)) this.errors.push(`BASE without a time: ${time}`)
      },
      arm: (_index, _generation, delay) => {
        if (Number.isNaN(this.batchBase)) this.errors.push('an ARM before any BASE')
        min = Math.min(min, this.batchBase + delay)
      },
      armAt: (_index, _generation, time) => {
        min = Math.min(min, time)
      },
      cancel: () => {},
    })
    if (!(earliest <= min)) this.errors.push(`commands arming at ${min} were published with earliest ${earliest}`)
    this.seenTail = tail
    // A busy wheel thread: sometimes nothing, sometimes part, sometimes everything.
    if (this.idle) return
    const r = this.rand()
    this.consume(r < 0.3 ? 0 : r < 0.6 ? Math.floor(this.rand() * Shared.RING_CAPACITY) : Infinity)
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
  const s = newScheduler(
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
  const s = newScheduler(
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
        const t: Schedulable = { _slotRef: 0, _run: () => {} }
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
    for (const t of live) if (!engine!.armed.has(t._slotRef >> 1)) missing++
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

test('timers armed and stopped in the same turn, reset then stopped, or armed at every offset of a batch leave the engine holding exactly the pending timers', async () => {
  const { s, engine } = lazyScheduler()
  const t = (): Schedulable => ({ _slotRef: 0, _run: () => {} })
  const [a, b] = [t(), t()]
  s.arm(a, 1e9)
  s.arm(b, 1e9)
  await Promise.resolve()
  // Next turn: b stopped (its ARM was published), a reset then stopped, 100 timers armed and
  // stopped on the slots freed, then c1 and c2 armed, c1 stopped, c2 stopped, c3 armed and kept.
  expect(s.stop(b)).toBe(true)
  expect(s.reset(a, 5)).toBe(true)
  expect(s.stop(a)).toBe(true)
  for (let i = 0; i < 100; i++) {
    const c = t()
    s.arm(c, 1)
    expect(s.stop(c)).toBe(true)
  }
  const [c1, c2, c3] = [t(), t(), t()]
  s.arm(c1, 1)
  s.arm(c2, 1)
  expect(s.stop(c1)).toBe(true)
  expect(s.stop(c2)).toBe(true)
  s.arm(c3, 1)
  // Timer i armed, then timer i-1 stopped, across several batches.
  let previous: Schedulable | undefined
  for (let i = 0; i < 6 * 1024 + 7; i++) {
    const x = t()
    s.arm(x, 1e9 + i)
    if (previous !== undefined) expect(s.stop(previous)).toBe(true)
    previous = x
  }
  await Promise.resolve()
  engine().consume()
  expect(engine().errors).toEqual([])
  expect(new Set(engine().armed.keys())).toEqual(new Set([c3._slotRef >> 1, previous!._slotRef >> 1]))
  expect(engine().armed.get(c3._slotRef >> 1)).toBeDefined()
})

test('an expiry of an arming stopped or replaced since, from the current engine or one swapped out, never runs', async () => {
  const delivers: Deliver[] = []
  const factory = (deliver: Deliver): LazyEngine => {
    delivers.push(deliver)
    return new LazyEngine(() => 0.9)
  }
  const now = (): number => performance.now()
  const source = new EngineSource(factory, now)
  const s = new Scheduler(source)
  const ran: string[] = []
  const a: Schedulable = { _slotRef: 0, _run: () => ran.push('a') }
  s.arm(a, 1e9) // engine 0: slot 0, generation 1
  await Promise.resolve()
  const restore = source.swap(factory, now) // engine 1: slot 0, generation 2
  await Promise.resolve()
  delivers[0]!(Uint32Array.of(0, 1), 0) // the old engine's expiry of the old arming
  expect(ran).toEqual([])
  delivers[1]!(Uint32Array.of(0, 1), 0) // an old generation, whichever engine reports it
  expect(ran).toEqual([])
  delivers[1]!(Uint32Array.of(0, 2), 0)
  expect(ran).toEqual(['a'])
  delivers[1]!(Uint32Array.of(0, 2), 0) // delivered once only
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
  const s = newScheduler(
    (deliver, now) =>
      (engine = createJsEngine((ids, nowTick) => {
        batches.push({ timers: ids.length / 2, turn })
        deliver(ids, nowTick)
      }, now)),
    () => performance.now(),
  )
  const n = 3 * POLL_LIMIT + 5
  let ran = 0
  for (let i = 0; i < n; i++) s.arm({ _slotRef: 0, _run: () => void ran++ }, 1)
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
