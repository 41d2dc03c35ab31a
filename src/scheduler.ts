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
 *        |  published once per synchronous run by the engine link (engine/link.ts)
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
import type { EngineLink, EngineSource, TimerTable } from './engine/link'
import type { EngineStats } from './engine/types'
import { type Schedulable, SlotTable } from './slots'

/** Pending timers of one runtime, with the commands that maintain them. */
export class Scheduler implements TimerTable, Claims {
  private readonly link: EngineLink
  private readonly table = new SlotTable()
  private readonly delivery = new Delivery(this)
  /**
   * The ring position just after the last ARM `arm` wrote for a slot that was free, and that
   * slot: while that ARM is the last command and unpublished, the engine has never seen it.
   */
  private freshArmEnd = -1
  private freshArmSlot = -1

  constructor(source: EngineSource) {
    this.link = source.link(this)
  }

  /** The current engine's clock, in ms: the clock every deadline is measured on. */
  clock(): number {
    return this.link.clock()
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
    return this.link.stats()
  }

  /**
   * The deadline the engine holds for slot `index`, in ms on the scheduler's clock (a whole
   * tick), for diagnostics; undefined if none (commands not yet applied are not seen).
   */
  deadlineOf(index: number): number | undefined {
    return this.link.deadlineOf(index)
  }

  /** Whether `t` is pending: armed, and neither delivered nor stopped since. */
  isPending(t: Schedulable): boolean {
    return this.table.holds(t)
  }

  /** Arms `t`, which is not pending, to run `delay` ms from now (`delay` already validated and clamped). */
  arm(t: Schedulable, delay: number): void {
    if (this.table.add(t)) this.refsCrossedZero()
    const index = t._slotRef >> 1
    this.link.arm(index, this.table.nextGeneration(index), delay)
    this.freshArmEnd = this.link.position()
    this.freshArmSlot = index
  }

  /**
   * Arms or re-arms `t` to run at `time` on the scheduler's clock, in ms (a validated number;
   * a time already past runs as soon as possible). Returns true iff it was pending.
   */
  resetAt(t: Schedulable, time: number): boolean {
    const pending = this.table.holds(t)
    if (!pending && this.table.add(t)) this.refsCrossedZero()
    const index = t._slotRef >> 1
    this.link.armAt(index, this.table.nextGeneration(index), time)
    return pending
  }

  /** Stops `t`; returns true iff it was pending (so this call prevented the run). */
  stop(t: Schedulable): boolean {
    if (!this.table.holds(t)) return false
    if (this.table.remove(t)) this.refsCrossedZero()
    const index = t._slotRef >> 1
    // Armed on a free slot and stopped with nothing written since: the engine holds no arming of
    // the slot that the ring does not already cancel, so the ARM is taken back. This is a
    // request's deadline cancelled in the turn that made it (per-request contexts).
    if (index === this.freshArmSlot && this.link.takeBack(this.freshArmEnd)) {
      this.freshArmSlot = -1
      return true
    }
    this.link.cancel(index)
    return true
  }

  /** Re-arms `t` to run `delay` ms from now; returns true iff it was pending. */
  reset(t: Schedulable, delay: number): boolean {
    if (this.table.holds(t)) {
      const index = t._slotRef >> 1
      this.link.arm(index, this.table.nextGeneration(index), delay)
      return true
    }
    this.arm(t, delay)
    return false
  }

  /** Makes `t` keep the process alive while it is pending (the default). */
  ref(t: Schedulable): void {
    if (this.table.setRef(t, true)) this.refsCrossedZero()
  }

  /** Lets the process exit while `t` is pending. */
  unref(t: Schedulable): void {
    if (this.table.setRef(t, false)) this.refsCrossedZero()
  }

  /** Publishes the commands written so far, now rather than at the end of the synchronous run. */
  publish(): void {
    this.link.publish()
  }

  /** For the link: pending timers. */
  pendingCount(): number {
    return this.table.pending
  }

  /** For the link: every pending slot with the generation of its arming. */
  pendingArmings(): Map<number, number> {
    const armings = new Map<number, number>()
    this.table.forEachPending((t, generation) => armings.set(t._slotRef >> 1, generation))
    return armings
  }

  /** For the link: stops every pending timer whose arming is not the one `keep` has for its slot. */
  discardExcept(keep: Map<number, number>): number {
    let discarded = 0
    const timers: Schedulable[] = []
    this.table.forEachPending((t, generation) => {
      if (keep.get(t._slotRef >> 1) !== generation) timers.push(t)
    })
    for (const t of timers) if (this.stop(t)) discarded++
    return discarded
  }

  /** For the link: whether `generation` is slot `index`'s current, pending arming. */
  isCurrent(index: number, generation: number): boolean {
    return this.table.at(index) !== undefined && this.table.generation(index) === generation
  }

  /** For the link: starts a new arming of slot `index`. */
  nextGeneration(index: number): number {
    return this.table.nextGeneration(index)
  }

  /** For the link: a batch of expired timers. */
  receive(ids: Uint32Array, nowTick: number, now: () => number): void {
    this.delivery.receive(ids, nowTick, now)
  }

  /** For delivery: see `Claims` (delivery.ts). */
  readAhead(ids: Uint32Array, from: number, to: number): number {
    return this.table.readAhead(ids, from, to)
  }

  /** For delivery: runs slot `index`'s timer if `generation` is its current arming, freeing the slot first. */
  fire(index: number, generation: number): void {
    const t = this.table.at(index)
    if (t === undefined || this.table.generation(index) !== generation) return
    if (this.table.remove(t)) this.refsCrossedZero()
    t._run()
  }

  private refsCrossedZero(): void {
    this.link.setRef(this.table.refs > 0)
  }
}
