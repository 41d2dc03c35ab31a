/**
 * The scheduler: the JavaScript half of every timer, shared by both engines.
 *
 * HOW
 *
 * ```text
 *  time.afterFunc / Timer.stop / Timer.reset            (JavaScript thread)
 *        |  O(1): a slot (slots.ts), a new generation, one command in the ring (engine/ring.ts)
 *        v
 *  command ring  [BASE t][ARM i g d][CANCEL i][ARM ...]   (memory shared with the engine)
 *        |  published at the end of the synchronous run (a microtask), or every BATCH_MAX commands
 *        v
 *  engine: Rust wheel thread (native) or TypeScript wheel (js)
 *        |  batches of expired (slot, generation) pairs
 *        v
 *  delivery (delivery.ts): claim the slot if the generation is current, call the callback
 * ```
 *
 * WHY
 *
 * - `stop()` and `reset()` are answered here, from the slot table, without asking the engine:
 *   a timer is pending iff it holds its slot. An expiry already on its way when a timer is
 *   stopped or re-armed carries an old generation and is dropped at delivery, so `stop()`
 *   returning true means the callback never runs.
 * - The hot path never crosses into native code and never reads the clock. A command records
 *   the delay, not the deadline; the batch starts with a BASE command whose time is read
 *   once, when the batch is published, after every command in it was made. A deadline
 *   computed from that later reading is never early (the rule Node's setTimeout breaks by
 *   using the loop's cached time); it is late by at most the rest of the synchronous run.
 * - Pending timers are held by the slot table, so an unreachable `Timer` still fires; once it
 *   fires or is stopped its slot forgets it, so its callback can be collected.
 * - Whether the engine keeps the process alive follows the count of pending timers that do;
 *   it is brought up to date when a batch is published.
 *
 * COST
 *
 * arm, stop, reset, ref, unref: O(1), no native call, no clock read. Publishing: one clock
 * read, one `Atomics.store` and one promise reaction per synchronous run that armed or
 * stopped something. Delivery: O(1) per expired timer plus the callback.
 */

import { type Claims, Delivery } from './delivery'
import { RingWriter } from './engine/ring'
import type { Engine, EngineFactory, EngineStats } from './engine/types'
import { type Schedulable, SlotTable } from './slots'
import { Shared } from './constants'

/**
 * A batch is published once it holds this many commands, so that the engine can start on a
 * long synchronous run of them before it ends.
 */
const BATCH_MAX = 1024

const resolved = Promise.resolve()

/** Pending timers of one engine, with the commands that maintain them. */
export class Scheduler implements Claims {
  private readonly factory: EngineFactory
  /** The clock of the current engine (ms); every deadline is measured on it. */
  private now: () => number
  private engine: Engine | undefined
  private writer: RingWriter | undefined
  private readonly table = new SlotTable()
  private readonly delivery = new Delivery(this)

  /** Whether a batch is open: its BASE is written and it is not published yet. */
  private batchOpen = false
  /** While timers are moved to another engine: the time the batches' BASE commands carry. */
  private pinnedBase: number | undefined = undefined
  /** Sequence number of the open batch's BASE command. */
  private batchBase = 0
  /** Commands that may still be written into the open batch; 0 when none is open. */
  private writesLeft = 0
  /**
   * The ring position just after the last ARM `arm` wrote for a slot that was free, and that
   * slot. While the position is the writer's and a batch is open, that ARM is the last command
   * and the engine has never seen it.
   */
  private freshArmEnd = -1
  private freshArmSlot = -1
  private flushScheduled = false
  /** The ref count crossed zero since the engine's ref state was last set. */
  private refChanged = false
  /** Whether the engine is told to keep the process alive. */
  private engineRef = false

  constructor(factory: EngineFactory, now: () => number) {
    this.factory = factory
    this.now = now
  }

  /** The current engine's clock, in ms: the clock every deadline is measured on. */
  clock(): number {
    return this.now()
  }

  /** Number of pending timers (armed and not yet delivered or stopped). */
  get active(): number {
    return this.table.pending
  }

  /** Number of pending timers that keep the process alive. */
  get refs(): number {
    return this.table.refs
  }

  /** Size of the slot table: the most timers that were pending at once. */
  get slots(): number {
    return this.table.size
  }

  /** The engine's counters (zeros before the engine is created), for tests and diagnostics. */
  engineStats(): EngineStats {
    return this.engine?.stats() ?? { armed: 0, protocolErrors: 0, rounds: 0 }
  }

  /**
   * The deadline the engine holds for slot `index`, in ms on the scheduler's clock (a whole
   * tick), for diagnostics; undefined if none (commands not yet applied are not seen).
   */
  deadlineOf(index: number): number | undefined {
    const tick = this.engine?.deadlineOf(index)
    return tick === undefined ? undefined : tick / Shared.TICKS_PER_MS
  }

  /** Whether `t` is pending: armed, and neither delivered nor stopped since. */
  isPending(t: Schedulable): boolean {
    return this.table.holds(t)
  }

  /** Arms `t`, which is not pending, to run `delay` ms from now (`delay` already validated and clamped). */
  arm(t: Schedulable, delay: number): void {
    if (this.table.add(t)) this.refCountCrossedZero()
    const index = t._slotRef >> 1
    this.writeArm(index, delay)
    this.freshArmEnd = this.writer!.position()
    this.freshArmSlot = index
  }

  /**
   * Arms or re-arms `t` to run at `time` on the scheduler's clock, in ms (a validated number;
   * a time already past runs as soon as possible). Returns true iff it was pending.
   */
  resetAt(t: Schedulable, time: number): boolean {
    const pending = this.table.holds(t)
    if (!pending && this.table.add(t)) this.refCountCrossedZero()
    const index = t._slotRef >> 1
    const generation = this.table.nextGeneration(index)
    this.reserveWrite()
    this.writer!.writeArmAt(index, generation, time)
    return pending
  }

  /** Stops `t`; returns true iff it was pending (so this call prevented the run). */
  stop(t: Schedulable): boolean {
    if (!this.table.holds(t)) return false
    if (this.table.remove(t)) this.refCountCrossedZero()
    const index = t._slotRef >> 1
    const writer = this.writer!
    if (this.batchOpen && index === this.freshArmSlot && writer.position() === this.freshArmEnd) {
      // Armed on a free slot and stopped with nothing written since: the engine holds no
      // arming of the slot that the ring does not already cancel, so the ARM is taken back.
      // This is a request's deadline cancelled in the turn that made it (per-request contexts).
      writer.takeBack()
      this.writesLeft++
      this.freshArmSlot = -1
      return true
    }
    this.reserveWrite()
    writer.writeCancel(index)
    return true
  }

  /** Re-arms `t` to run `delay` ms from now; returns true iff it was pending. */
  reset(t: Schedulable, delay: number): boolean {
    if (this.table.holds(t)) {
      this.writeArm(t._slotRef >> 1, delay)
      return true
    }
    this.arm(t, delay)
    return false
  }

  /** Makes `t` keep the process alive while it is pending (the default). */
  ref(t: Schedulable): void {
    if (this.table.setRef(t, true)) this.refCountCrossedZero()
  }

  /** Lets the process exit while `t` is pending. */
  unref(t: Schedulable): void {
    if (this.table.setRef(t, false)) this.refCountCrossedZero()
  }

  /** Stops the engine; pending timers never run. Idempotent. */
  close(): void {
    this.engine?.close()
  }

  /**
   * Moves every pending timer to a new engine made by `factory` on the clock `now`; from then
   * on every command goes there. Each timer keeps its deadline tick exactly, and its place in
   * the order: the new clock must read, at the swap, the current time rounded up to a tick (as
   * the virtual clock does), so a deadline means the same instant on both. Returns `restore`,
   * which moves the timers pending at that point back to the previous engine and clock, each
   * with the time it had left on the new clock, and closes the new engine (idempotent).
   * Expirations the previous engine had already sent on their way are still delivered: they
   * were due. Used by the virtual clock; call {@link publish} before reading the time the new
   * clock starts at, so that no timer armed before is published after it.
   */
  swapEngine(factory: EngineFactory, now: () => number): () => void {
    const previous = this.ensureEngine()
    const previousNow = this.now
    const next = this.createEngine(factory, now)
    this.moveTo(next, now, 0)
    let restored = false
    return () => {
      if (restored) return
      restored = true
      this.moveTo(previous, previousNow, previousNow() - now())
      next.close()
    }
  }

  /** Publishes the commands written so far, now rather than at the end of the synchronous run. */
  publish(): void {
    this.flush()
  }

  /** Every pending timer with the generation of its current arming, for the virtual clock. */
  pendingArmings(): Map<Schedulable, number> {
    const armings = new Map<Schedulable, number>()
    this.table.forEachPending((t, generation) => armings.set(t, generation))
    return armings
  }

  /** For delivery: see `Claims` (delivery.ts). */
  readAhead(ids: Uint32Array, from: number, to: number): number {
    return this.table.readAhead(ids, from, to)
  }

  /** For delivery: the timer of slot `index` if `generation` is its current arming, its slot freed; else undefined. */
  claim(index: number, generation: number): Schedulable | undefined {
    const t = this.table.at(index)
    if (t === undefined || this.table.generation(index) !== generation) return undefined
    if (this.table.remove(t)) this.refCountCrossedZero()
    return t
  }

  /** Writes an ARM of slot `index` with a new generation. */
  private writeArm(index: number, delay: number): void {
    const generation = this.table.nextGeneration(index)
    this.reserveWrite()
    this.writer!.writeArm(index, generation, delay)
  }

  /** Makes sure a batch is open with room for one more command, which the caller then writes. */
  private reserveWrite(): void {
    if (this.writesLeft > 0) this.writesLeft--
    else this.openBatch()
  }

  /**
   * Publishes the open batch, if any (it is full, or the ring is), then opens a new one with
   * room for at least the command about to be written. When the ring has no room for a BASE
   * and that command, the engine applies what is published first.
   */
  private openBatch(): void {
    if (this.batchOpen) this.flush()
    const engine = this.ensureEngine()
    const writer = this.writer!
    if (writer.room() < 2) engine.makeRoom()
    this.batchBase = writer.writeBase()
    this.batchOpen = true
    // One of these is the command the caller writes now.
    this.writesLeft = Math.min(BATCH_MAX - 1, writer.room()) - 1
    this.scheduleFlush()
  }

  /** Publishes the open batch and brings the engine's ref state up to date. */
  private flush(): void {
    const engine = this.engine
    if (engine === undefined) return
    if (this.batchOpen) {
      const earliest = this.writer!.publish(this.batchBase, this.pinnedBase ?? this.now())
      this.batchOpen = false
      this.writesLeft = 0
      engine.published(earliest)
    }
    if (this.refChanged) {
      this.refChanged = false
      const want = this.table.refs > 0
      if (want !== this.engineRef) {
        this.engineRef = want
        engine.setRef(want)
      }
    }
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  /** Publishes at the end of this synchronous run (one microtask), unless already scheduled. */
  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true
      resolved.then(this.flushTask)
    }
  }

  private refCountCrossedZero(): void {
    this.refChanged = true
    this.scheduleFlush()
  }

  /** The engine, created on first use. */
  private ensureEngine(): Engine {
    if (this.engine === undefined) this.useEngine(this.createEngine(this.factory, this.now), this.now)
    return this.engine!
  }

  /** An engine on the clock `now`, whose batches are delivered against that same clock. */
  private createEngine(factory: EngineFactory, now: () => number): Engine {
    return factory((ids, nowTick) => this.delivery.receive(ids, nowTick, now), now)
  }

  /** Makes `engine`, on the clock `now`, the one every command goes to. */
  private useEngine(engine: Engine, now: () => number): void {
    this.engine = engine
    this.writer = new RingWriter(engine.ring)
    this.now = now
    this.batchOpen = false
    this.writesLeft = 0
    this.freshArmSlot = -1
  }

  /**
   * Moves every pending timer to `to`, on the clock `toNow`, its deadline moved by `shiftMs`.
   * The moved ARMs count from one BASE time read once, so that a deadline already on a tick
   * stays on the same tick.
   */
  private moveTo(to: Engine, toNow: () => number, shiftMs: number): void {
    this.flush()
    const from = this.ensureEngine()
    const taken = from.takeAll()
    if (this.engineRef) {
      from.setRef(false)
      this.engineRef = false
    }
    this.useEngine(to, toNow)
    const base = toNow()
    this.pinnedBase = base
    for (let k = 0; k < taken.length; k += 3) {
      const index = taken[k]!
      // Skip what was stopped or re-armed while its command was in flight; re-arming with a
      // new generation drops any expiry of the old arming still on its way.
      if (this.table.generation(index) !== taken[k + 1] || this.table.at(index) === undefined) continue
      this.writeArm(index, Math.max(0, taken[k + 2]! / Shared.TICKS_PER_MS + shiftMs - base))
    }
    this.refChanged = true
    this.flush()
    this.pinnedBase = undefined
  }
}
