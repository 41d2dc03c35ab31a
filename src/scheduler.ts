/**
 * The scheduler: the JavaScript half of every timer, shared by both engines.
 *
 * HOW
 *
 * ```text
 *  time.afterFunc / Timer.stop / Timer.reset            (JavaScript thread)
 *        |  O(1): a slot in `timers`, a generation bump, a 16-byte command
 *        v
 *  command ring  [BASE t][ARM i g d][CANCEL i g][ARM ...]   (memory shared with the engine)
 *        |  published once per turn of the event loop (a microtask), or every BATCH_MAX commands
 *        v
 *  engine: Rust wheel thread (native) or TypeScript wheel (js)
 *        |  one batch of (index, generation) pairs per tick that has expirations
 *        v
 *  deliver: check generation and slot, free the slot, call f  (JavaScript thread)
 * ```
 *
 * WHY
 *
 * - The hot path never crosses into native code and never reads the clock. A command records
 *   the delay, not the deadline; the batch starts with a BASE command whose time is read once,
 *   when the batch is published, after every command in it was made. A deadline computed from
 *   that later reading is never early (the rule Node's setTimeout breaks by using the loop's
 *   cached time); it is late by at most the rest of the current turn.
 * - State that answers `stop()` and `reset()` lives here, so neither waits for the engine:
 *   a timer is active iff `timers[index] === timer`. Freed slots hold the next free index
 *   (an intrusive free list), so the table is also the allocator.
 * - Each arming gets a new generation (the low GEN_BITS bits of `gens[index]`). A delivered
 *   pair whose generation is not the current one is stale (the timer was stopped, reset or its
 *   slot reused while the expiry was on its way) and is dropped. So `stop()` returning true
 *   means `f` will not run, even if the engine already expired it. Only a command written
 *   after the engine polled can make a pair stale, so a batch that comes with the ring
 *   position the engine had applied (its `head`), equal to `tail`, is checked by slot alone
 *   until this thread writes a command (`receive`).
 * - A timer armed and stopped in the same turn costs the engine nothing: `stop` finds its ARM
 *   still in the open batch and turns it into a CANCEL of the slot's previous arming in place
 *   (`cancelInBatch`), so no command is added and none is reordered; when that ARM is the last
 *   command and armed a free slot (`afterFunc(d, f).stop()`), it is simply taken back. Only
 *   then does `stop` need the slot's word (`gens`): while the open batch holds no ARM, its
 *   CANCEL, which carries no generation, is written without reading it.
 * - Pending timers are held by `timers`, so an unreachable `Timer` still fires; once it fires
 *   or is stopped its slot forgets it, so its closure can be collected.
 * - Expired timers run in the order the engine reports them (deadline, then arming order). A
 *   batch runs for at most SLICE_MS of wall time; the rest continues in a `setImmediate`, so
 *   a storm of expirations cannot starve I/O. A callback that throws rethrows to the engine's
 *   caller (an `uncaughtException`, as from setTimeout); the rest of its batch continues in
 *   a `setImmediate` too, so nothing is lost or held back past the next turn.
 *
 * COST
 *
 * arm, stop, reset, ref, unref: O(1), no native call, no clock read, one allocation for a new
 * Timer object. Publishing: one clock read, one `Atomics.store` and one promise reaction per
 * turn that armed or stopped something. Delivery: O(1) per expired timer plus the callback.
 */

import { K } from './constants'
import { Ring } from './engine/ring'
import type { Engine, EngineFactory, EngineStats } from './engine/types'

/**
 * What the scheduler keeps per timer object. `_k` packs the slot index (`_k >> 1`, the last
 * slot the timer was armed in) with the {@link UNREF} bit; `_f` is the callback.
 */
export interface Schedulable {
  _k: number
  _f: () => void
}

/** The scheduler's constants: a `const enum`, so each use compiles to its value (`constants.ts`). */
export const enum S {
  /** Bit of `Schedulable._k` set when the timer does not keep the process alive. */
  UNREF = 1,
  /** Longest a batch of callbacks runs before yielding to the event loop, in ms. */
  SLICE_MS = 8,
  /**
   * Slots kept free below the limit: a command checks the limit once, then `room` may write a
   * batch's BASE before the command itself, so it can pass the limit by one and must still fit.
   */
  RESERVE = 2,
  /** `freeHead` when no slot is free. */
  NO_SLOT = -1,
  /** Slots of the first `gens` table; it doubles when full. */
  INITIAL_SLOTS = 1024,
}

const resolved = Promise.resolve()

/** Remaining work of a batch that was cut short. */
interface Pending {
  ids: Uint32Array
  from: number
  nowTick: number
  /** The clock of the engine that sent the batch. */
  now: () => number
  /** `opens` when the batch was received, if it was fresh then; -1 if not (see `receive`). */
  mark: number
}

/** Pending timers of one engine, with the commands that maintain them. */
export class Scheduler {
  private readonly factory: EngineFactory
  /** The clock of the current engine (ms); every deadline is measured on it. */
  private now: () => number
  private engine: Engine | undefined
  private i32: Int32Array = new Int32Array(0)
  private f64: Float64Array = new Float64Array(0)

  /** Active timer at each slot, or the next free slot (a number) for a free one. */
  private readonly timers: (Schedulable | number)[] = []
  private freeHead: number = S.NO_SLOT
  /**
   * Per slot, one word: the generation of its current arming in the low GEN_BITS bits, and
   * above them (KEY_BITS) the position key of that arming's ARM command: its batch's key plus
   * its offset from the batch's BASE. Meaningful only while that batch is open and the command
   * still reads ARM(slot, generation): `stop` then rewrites it in place instead of writing a
   * CANCEL (see {@link Scheduler.cancelInBatch}; when it is the last command, `stop` takes it
   * back: see `freshTail`). One array, not two, so stop and reset touch one cache line less
   * per timer and a slot costs 4 bytes less.
   */
  private gens = new Int32Array(S.INITIAL_SLOTS)
  /** Active timers that keep the process alive. */
  private refCount = 0
  private engineRef = false
  private refDirty = false

  /** Sequence number of the next command (wrapping int32). */
  private tail = 0
  /** `tail` at which `room()` must run before writing; equal to `tail` while no batch is open. */
  private limit = 0
  /** Last consumer position read from the ring. */
  private head = 0
  private batchOpen = false
  /** Sequence number of the open batch's BASE command. */
  private batchStart = 0
  /**
   * Key of the open batch: successive batches take 0, BATCH_MAX, 2 * BATCH_MAX, ... modulo
   * 2^KEY_BITS, so a key plus an offset in the batch (< BATCH_MAX) fits KEY_BITS and tells the
   * last few batches apart (both are members of `Ring`).
   */
  private batchKey = 0
  /**
   * `tail` right after the last ARM that `arm` wrote, for slot `freshIndex`, which was free.
   * While a batch is open and it equals `tail`, the last command in the ring is that ARM, of
   * the slot's current arming (any later arming or stop would have written a command after
   * it), and the engine holds no arming of the slot that a command before it does not already
   * cancel (a slot is freed only by a stop, which sends its CANCEL or takes its ARM back, or by
   * a delivery, after the engine dropped the arming). So `stop` of that slot takes the ARM
   * back: `tail` steps back over it and the engine never hears of the timer. `open` sets it to
   * the batch's start, which `tail` is past for the whole batch.
   */
  private freshTail = 0
  /** The slot of the ARM that `freshTail` follows. */
  private freshIndex = -1
  /** Smallest delay armed in the open batch. */
  private batchMinDelay = Infinity
  /**
   * Batches opened so far. Every command is written in an open batch, so while it keeps the
   * value it had when a fresh batch of expirations came in (no batch was open then), no
   * command has been written since (see `receive`).
   */
  private opens = 0
  private flushScheduled = false

  private readonly backlog: Pending[] = []
  /** Written by `touch` so that its reads are not optimized away; means nothing. */
  touched = 0
  private backlogScheduled = false

  constructor(factory: EngineFactory, now: () => number) {
    this.factory = factory
    this.now = now
  }

  /** The current engine's clock, in ms: the clock every deadline is measured on. */
  clock(): number {
    return this.now()
  }

  /** Number of active timers (armed and not yet delivered or stopped). */
  get active(): number {
    let n = 0
    for (const t of this.timers) if (typeof t !== 'number') n++
    return n
  }

  /** Number of active timers that keep the process alive. */
  get refs(): number {
    return this.refCount
  }

  /** Size of the slot table: the most timers that were active at once. */
  get slots(): number {
    return this.timers.length
  }

  /** The engine's counters (zeros before the engine is created), for tests and diagnostics. */
  engineStats(): EngineStats {
    return this.engine?.stats() ?? { armed: 0, protocolErrors: 0, rounds: 0 }
  }

  /** The deadline tick the engine holds for slot `index`, for diagnostics; undefined if none. */
  deadlineOf(index: number): number | undefined {
    return this.engine?.deadlineOf(index)
  }

  /** Arms an inactive timer to run `delay` ms from now (`delay` already validated and clamped). */
  arm(t: Schedulable, delay: number): void {
    let index = this.freeHead
    if (index === S.NO_SLOT) {
      index = this.newSlot(t)
    } else {
      this.freeHead = this.timers[index] as number
      this.timers[index] = t
    }
    const k = (index << 1) | (t._k & S.UNREF)
    t._k = k
    if ((k & S.UNREF) === 0 && this.refCount++ === 0) this.markRefDirty()
    this.armSlot(index, delay)
    this.freshTail = this.tail
    this.freshIndex = index
  }

  /** Stops `t`; true iff it was active (so this call prevented the run). */
  stop(t: Schedulable): boolean {
    const k = t._k
    const index = k >> 1
    const timers = this.timers
    if (timers[index] !== t) return false
    timers[index] = this.freeHead
    this.freeHead = index
    if ((k & S.UNREF) === 0 && --this.refCount === 0) this.markRefDirty()
    if (this.batchOpen && this.tail === this.freshTail && index === this.freshIndex) {
      // Armed in this turn and nothing written since (`afterFunc(d, f).stop()`): take it back.
      this.tail = (this.tail - 1) | 0
    } else if (this.batchMinDelay === Infinity || !this.cancelInBatch(index, this.gens[index]!)) {
      // While the open batch holds no ARM (`batchMinDelay` is Infinity until one is written),
      // this timer's ARM cannot be in it: the slot's word, a read of memory that nothing else
      // in this stop touches, is skipped (measured: S3 stop alone 18.4 -> 14.4 ns, 10 of 10
      // rounds of `npm run bench:ab`).
      this.putCancel(index)
    }
    return true
  }

  /**
   * Writes a CANCEL of the current arming of slot `index` (a CANCEL names only the slot).
   * Neither this nor `cancelInBatch` is reached when `stop` takes an ARM back, so a loop that
   * arms and stops in one turn inlines neither: `stop` and `arm` then fit V8's inlining budget
   * for one loop (see `constants.ts`).
   */
  private putCancel(index: number): void {
    if (((this.limit - this.tail) | 0) <= 0) this.room()
    this.put(K.CMD_CANCEL, index)
  }

  /**
   * Cancels the current arming of slot `index` (`word` is its slot word: that arming's
   * generation and the position key of its ARM) without a new command when its ARM command is
   * still in the open batch (armed and stopped in the same turn, but not the last command of a
   * fresh slot, which `stop` takes back): the engine has not seen that ARM. It becomes a
   * CANCEL, which at that place in the ring disarms the slot's previous arming if the engine
   * still holds it (a timer reset, then stopped, in this turn) and otherwise does nothing.
   * Nothing else moves: the ring order of every other command is kept. Returns false, changing
   * nothing, when the ARM is not in the open batch.
   *
   * The key in `word` minus the open batch's key is the ARM's offset in the open batch if it
   * is there. It is at least BATCH_MAX, more than the batch holds, when the ARM went with one
   * of the three batches before (so a timer armed in an earlier turn is mostly turned away by
   * this one comparison, whose outcome is predictable), and any offset when it went with one
   * published earlier still, or the key comes from the ring of an engine swapped out. So the
   * command at that offset is checked to be exactly ARM(index, gen): an ARM of the current
   * generation of a slot is only ever written once.
   */
  private cancelInBatch(index: number, word: number): boolean {
    const offset = ((word >>> K.GEN_BITS) - this.batchKey) & Ring.KEY_MASK
    if (!this.batchOpen || offset >= ((this.tail - this.batchStart) | 0)) return false
    const seq = (this.batchStart + offset) | 0
    const gen = word & K.GEN_MASK
    const w = Ring.I32 + (seq & Ring.MASK) * Ring.CMD_I32
    const i32 = this.i32
    if (i32[w] !== (K.CMD_ARM_AFTER | (gen << K.CMD_KIND_BITS)) || i32[w + 1] !== index) return false
    i32[w] = K.CMD_CANCEL
    return true
  }

  /** Re-arms `t` to run `delay` ms from now; true iff it was active. */
  reset(t: Schedulable, delay: number): boolean {
    const index = t._k >> 1
    if (this.timers[index] === t) {
      this.armSlot(index, delay)
      return true
    }
    this.arm(t, delay)
    return false
  }

  /** Makes `t` keep the process alive while it is active (the default). */
  ref(t: Schedulable): void {
    const k = t._k
    if ((k & S.UNREF) === 0) return
    t._k = k & ~S.UNREF
    if (this.timers[k >> 1] === t && this.refCount++ === 0) this.markRefDirty()
  }

  /** Lets the process exit while `t` is active. */
  unref(t: Schedulable): void {
    const k = t._k
    if ((k & S.UNREF) !== 0) return
    t._k = k | S.UNREF
    if (this.timers[k >> 1] === t && --this.refCount === 0) this.markRefDirty()
  }

  /** Stops the engine; pending timers never run. Idempotent. */
  close(): void {
    this.engine?.close()
  }

  private armSlot(index: number, delay: number): void {
    const gens = this.gens
    // The carry of the increment, if any, goes to the key bits, which the mask drops.
    const gen = (gens[index]! + 1) & K.GEN_MASK
    // `room` first: it may publish the open batch to make room, and this ARM then opens the
    // next batch, whose `earliest` must count it (counted before, it went to the batch
    // published without it, and the native wheel thread was not woken for it). The new
    // generation goes in before, so that batch's `minLiveDelay` sees an earlier ARM of this
    // slot there as superseded.
    if (((this.limit - this.tail) | 0) <= 0) {
      gens[index] = gen
      this.room()
    }
    if (delay < this.batchMinDelay) this.batchMinDelay = delay
    const tail = this.tail
    gens[index] = gen | ((this.batchKey + ((tail - this.batchStart) | 0)) << K.GEN_BITS)
    // The command, written as `put` writes one: not a call to it, so that this path, the one
    // every arm and reset takes, fits V8's inlining budget (see `constants.ts`). Measured: a
    // `put` that also wrote the value, called here, cost the S1 arm+stop pair 18.4 -> 19.9 ns
    // (`npm run bench:ab`, 0 of 6 rounds better) and a CANCEL its store of an unused value.
    const slot = tail & Ring.MASK
    const w = Ring.I32 + slot * Ring.CMD_I32
    const i32 = this.i32
    i32[w] = K.CMD_ARM_AFTER | (gen << K.CMD_KIND_BITS)
    i32[w + 1] = index
    this.f64[Ring.F64 + slot * Ring.CMD_F64 + 1] = delay
    this.tail = (tail + 1) | 0
  }

  /**
   * Writes the next command's kind word and index: a CANCEL, or a BASE, whose time `flush`
   * writes when it publishes the batch (`armSlot` writes its ARM, value included, itself). The
   * caller has made room (`limit`).
   */
  private put(word0: number, index: number): void {
    const w = Ring.I32 + (this.tail & Ring.MASK) * Ring.CMD_I32
    this.i32[w] = word0
    this.i32[w + 1] = index
    this.tail = (this.tail + 1) | 0
  }

  /** Starts a batch with a BASE command whose time is filled in when the batch is published. */
  private open(): void {
    this.opens++
    this.batchOpen = true
    this.batchStart = this.tail
    this.batchKey = (this.batchKey + Ring.BATCH_MAX) & Ring.KEY_MASK
    this.freshTail = this.batchStart
    this.put(K.CMD_BASE, 0) // its time is written by `flush`
    this.scheduleFlush()
  }

  /**
   * Slow path of writing a command, run when `tail` reaches `limit`: creates the engine on
   * first use, publishes a batch that reached BATCH_MAX, when the ring has no room beyond
   * RESERVE publishes everything and has the engine apply it now, and opens a batch if none
   * is open. Afterwards a batch is open and one command may be written (`limit` may equal
   * `tail` then, when the ring is down to RESERVE: the next command comes back here).
   */
  private room(): void {
    const engine = this.ensureEngine()
    if (this.batchOpen && ((this.tail - this.batchStart) | 0) >= Ring.BATCH_MAX) this.flush()
    this.head = Atomics.load(this.i32, K.CTRL_HEAD)
    if (this.free() <= 0) {
      this.flush()
      engine.makeRoom()
      this.head = Atomics.load(this.i32, K.CTRL_HEAD)
    }
    if (!this.batchOpen) this.open()
    this.updateLimit()
  }

  /** The engine, created on first use. */
  private ensureEngine(): Engine {
    if (this.engine === undefined) {
      this.engine = this.createEngine(this.factory, this.now)
      this.i32 = this.engine.i32
      this.f64 = this.engine.f64
    }
    return this.engine
  }

  /** An engine on the clock `now`, whose batches are checked against that same clock. */
  private createEngine(factory: EngineFactory, now: () => number): Engine {
    // An engine never delivers from inside its own constructor, so `engine` is set by then.
    const engine: Engine = factory(
      (ids, nowTick, head) => this.receive(ids, nowTick, now, engine === this.engine ? head : -1),
      now,
    )
    return engine
  }

  /**
   * Moves every pending timer to a new engine made by `factory` on the clock `now`; from then
   * on every command goes there. Each timer keeps the time it had left, counted on the new
   * clock from the move, and its place in the order. Returns `restore`, which moves the
   * timers pending at that point back to the previous engine and clock the same way and
   * closes the new engine (idempotent). Expirations the previous engine had already sent on
   * their way are still delivered: they were due. Used by the virtual clock.
   */
  swapEngine(factory: EngineFactory, now: () => number): () => void {
    const previous = this.ensureEngine()
    const previousNow = this.now
    const next = this.createEngine(factory, now)
    this.moveTo(next, now)
    let restored = false
    return () => {
      if (restored) return
      restored = true
      this.moveTo(previous, previousNow)
      next.close()
    }
  }

  private moveTo(to: Engine, toNow: () => number): void {
    this.flush()
    const from = this.ensureEngine()
    const fromNow = this.now()
    const taken = from.takeAll()
    if (this.engineRef) {
      from.setRef(false)
      this.engineRef = false
    }
    this.engine = to
    this.i32 = to.i32
    this.f64 = to.f64
    this.now = toNow
    this.tail = Atomics.load(this.i32, K.CTRL_TAIL)
    this.head = Atomics.load(this.i32, K.CTRL_HEAD)
    this.updateLimit()
    for (let k = 0; k < taken.length; k += 3) {
      const index = taken[k]!
      // Skip what was stopped or re-armed while its command was in flight; re-arming with a
      // new generation drops any expiry of the old arming still on its way.
      if ((this.gens[index]! & K.GEN_MASK) !== taken[k + 1] || typeof this.timers[index] !== 'object') continue
      this.armSlot(index, Math.max(0, taken[k + 2]! / K.TICKS_PER_MS - fromNow))
    }
    this.refDirty = true
    this.flush()
  }

  /**
   * Slots that may be written before `room` must run, keeping RESERVE for a command's
   * overshoot past the limit.
   */
  private free(): number {
    return K.RING_CAPACITY - S.RESERVE - ((this.tail - this.head) | 0)
  }

  /** Sets `limit`: `tail` while no batch is open (the next command opens one in `room`). */
  private updateLimit(): void {
    if (!this.batchOpen) {
      this.limit = this.tail
      return
    }
    const batchLeft = Ring.BATCH_MAX - ((this.tail - this.batchStart) | 0)
    this.limit = (this.tail + Math.min(this.free(), batchLeft)) | 0
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  /** Publishes the open batch and brings the engine's ref state up to date. */
  private flush(): void {
    const engine = this.engine
    if (engine === undefined) return
    if (this.batchOpen) {
      const base = this.now()
      this.f64[Ring.F64 + (this.batchStart & Ring.MASK) * Ring.CMD_F64 + 1] = base
      this.batchOpen = false
      Atomics.store(this.i32, K.CTRL_TAIL, this.tail)
      const earliest = base + this.batchMinDelay
      this.batchMinDelay = Infinity
      this.updateLimit()
      const from = this.batchStart
      const to = this.tail
      engine.published(earliest, () => base + this.minLiveDelay(from, to))
    }
    if (this.refDirty) {
      this.refDirty = false
      const want = this.refCount > 0
      if (want !== this.engineRef) {
        this.engineRef = want
        engine.setRef(want)
      }
    }
  }

  /**
   * The smallest delay among the ARM commands in ring positions `from..to` whose arming is
   * still current (not stopped or re-armed since); Infinity if there is none. Reads only
   * commands this thread wrote, which the engine never writes to.
   */
  private minLiveDelay(from: number, to: number): number {
    let min = Infinity
    const i32 = this.i32
    const f64 = this.f64
    for (let seq = from; seq !== to; seq = (seq + 1) | 0) {
      const slot = seq & Ring.MASK
      const w = Ring.I32 + slot * Ring.CMD_I32
      const word0 = i32[w]!
      if ((word0 & K.CMD_KIND_MASK) !== K.CMD_ARM_AFTER) continue
      const index = i32[w + 1]!
      if ((this.gens[index]! & K.GEN_MASK) !== word0 >>> K.CMD_KIND_BITS) continue
      if (typeof this.timers[index] !== 'object') continue
      const delay = f64[Ring.F64 + slot * Ring.CMD_F64 + 1]!
      if (delay < min) min = delay
    }
    return min
  }

  private markRefDirty(): void {
    this.refDirty = true
    this.scheduleFlush()
  }

  /** Publishes at the end of this synchronous run (one microtask), unless already scheduled. */
  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true
      resolved.then(this.flushTask)
    }
  }

  /**
   * A new slot at the end of the table, holding `t`: `arm`'s path when no slot is free, out of
   * line so that `arm` stays small enough for V8 to inline (see `constants.ts`).
   */
  private newSlot(t: Schedulable): number {
    const index = this.timers.length
    if (index > K.MAX_INDEX) throw new RangeError(`afterfunc: more than ${K.MAX_INDEX + 1} pending timers`)
    if (index === this.gens.length) this.growGens()
    this.timers.push(t)
    return index
  }

  private growGens(): void {
    const gens = new Int32Array(this.gens.length * 2)
    gens.set(this.gens)
    this.gens = gens
  }

  /**
   * Receives a batch from an engine whose clock is `now`; `head` is where that engine had
   * applied the ring up to when it polled the batch's first timer, or -1 if the batch comes
   * from an engine other than the current one (another ring) or from one that cannot vouch
   * for its ring (it met a command that broke the protocol).
   *
   * The batch is *fresh* when `tail` equals `head`: the engine had applied every command ever
   * written before it polled, so every pair in the batch is the current arming of its slot.
   * (No batch is open then: an open batch's BASE lies beyond the published tail, which `head`
   * never passes.) It stays fresh for as long as `opens` keeps its value: any `stop`, `reset`
   * or arm since (from a callback, say) wrote a command, in a batch it opened. While it is
   * fresh, delivery skips the generation check, a read of `gens` at a random place per timer
   * (measured: S5 main-thread CPU per fire 303 -> 276 ns, 8 rounds of `npm run bench:ab`);
   * the slot check (`timers[index]` still holds a timer), which reads what delivery needs
   * anyway, is always made.
   */
  private receive(ids: Uint32Array, nowTick: number, now: () => number, head: number): void {
    const mark = head !== -1 && this.tail === (head | 0) ? this.opens : -1
    if (this.backlog.length > 0) {
      // Earlier work is still waiting; keep the order.
      this.backlog.push({ ids, from: 0, nowTick, now, mark })
      return
    }
    this.run(ids, 0, nowTick, now, mark)
  }

  /**
   * Runs the callbacks of `ids[from..]`. Returns normally when done or when the time slice
   * is used up (the rest is queued), rethrows what a callback throws (the rest is queued).
   */
  private run(ids: Uint32Array, from: number, nowTick: number, clock: () => number, mark: number): void {
    let now = clock()
    if (nowTick > now * K.TICKS_PER_MS) {
      // The engine's clock ran ahead of ours: never run early; come back when it is time.
      this.suspend(ids, from, nowTick, clock, nowTick / K.TICKS_PER_MS - now, mark)
      return
    }
    const sliceEnd = now + S.SLICE_MS
    const timers = this.timers
    for (let k = from; k < ids.length; k += 2) {
      if ((k & 62) === (from & 62)) this.touch(ids, k, Math.min(ids.length, k + 64), this.opens === mark)
      const index = ids[k]!
      // Fresh (see `receive`): no command since the engine polled, so no generation to check.
      if (this.opens !== mark && (this.gens[index]! & K.GEN_MASK) !== ids[k + 1]) continue
      const t = timers[index]
      if (typeof t !== 'object') continue
      timers[index] = this.freeHead
      this.freeHead = index
      if ((t._k & S.UNREF) === 0 && --this.refCount === 0) this.markRefDirty()
      try {
        t._f()
      } catch (err) {
        this.suspend(ids, k + 2, nowTick, clock, 0, mark)
        throw err
      }
      if ((k & 62) === 62 && k + 2 < ids.length) {
        now = clock()
        if (now > sliceEnd) {
          this.suspend(ids, k + 2, nowTick, clock, 0, mark)
          return
        }
      }
    }
  }

  /**
   * Reads, for the pairs `ids[from..to]`, each slot's generation (unless `fresh`: then
   * delivery does not read it), its timer, the timer's fields and the header of its callback,
   * keeping nothing: the timers of a batch lie scattered in memory (in arming order, not
   * deadline order), and so do their callbacks when each timer has its own closure; reading
   * them in a tight loop lets the CPU fetch many at once, where the delivery loop, which calls
   * a callback between two reads, waits for each in turn.
   * The result goes to `touched` only so the reads cannot be optimized away.
   */
  private touch(ids: Uint32Array, from: number, to: number, fresh: boolean): void {
    const timers = this.timers
    const gens = this.gens
    let x = 0
    for (let k = from; k < to; k += 2) {
      const index = ids[k]!
      if (!fresh) x ^= gens[index]!
      const t = timers[index]
      if (typeof t === 'object') {
        x ^= t._k
        if (typeof t._f === 'function') x++ // reads the closure's header
      }
    }
    this.touched = x
  }

  /** Queues the rest of a batch at the front of the backlog and schedules its continuation. */
  private suspend(
    ids: Uint32Array,
    from: number,
    nowTick: number,
    now: () => number,
    waitMs: number,
    mark: number,
  ): void {
    const first = this.backlog[0]
    if (first !== undefined && first.ids === ids) {
      first.from = from
    } else if (from < ids.length) {
      this.backlog.unshift({ ids, from, nowTick, now, mark })
    }
    if (this.backlog.length === 0 || this.backlogScheduled) return
    this.backlogScheduled = true
    if (waitMs > 0) setTimeout(this.drainBacklog, Math.ceil(waitMs))
    else setImmediate(this.drainBacklog)
  }

  private readonly drainBacklog = (): void => {
    this.backlogScheduled = false
    while (this.backlog.length > 0) {
      const p = this.backlog[0]!
      this.run(p.ids, p.from, p.nowTick, p.now, p.mark)
      // `run` either finished the batch, or moved `p.from` on and scheduled a continuation.
      if (this.backlogScheduled) return
      this.backlog.shift()
    }
  }
}
