/**
 * The table of pending timers: which timer holds each slot, the generation of each slot's
 * current arming, and how many pending timers keep the process alive.
 *
 * A slot index is the timer's name in the command ring and in the engine. A pending timer
 * holds its slot from the arm until it is stopped or delivered; then the slot is free and may
 * go to another timer. Free slots hold the index of the next free slot (an intrusive free
 * list), so the table is also the allocator, and the last slot freed is the first reused.
 *
 * Every arming of a slot gets a new generation (GEN_BITS bits, wrapping). The engine reports
 * an expiry as (slot, generation); an expiry whose generation is not the slot's current one
 * belongs to an arming that was stopped or replaced while the expiry was on its way, and is
 * dropped.
 */

import { Shared } from './constants'

/** What the scheduler keeps for each timer: the object itself carries its slot and ref flag. */
export interface Schedulable {
  /**
   * Owned by the scheduler: the index of the slot the timer was last armed in, shifted left
   * by one, with {@link UNREF} in the low bit. 0 for a timer never armed.
   */
  _slotRef: number
  /** What the scheduler calls when the timer fires. */
  _run(): void
}

/** The bit of {@link Schedulable._slotRef} that is set when the timer does not keep the process alive. */
export const UNREF = 1

/**
 * The largest slot: `_slotRef` holds the slot shifted left by one beside a flag, which must
 * stay a small integer (31 bits), so slots are below 2^30 (the engines take larger indices).
 */
const MAX_SLOT = 2 ** 30 - 1
/** Slots of the first generation table; it doubles when full. */
const INITIAL_SLOTS = 1024
/** The free list's end. */
const NO_SLOT = -1

export class SlotTable {
  /** Per slot, its pending timer, or (a number) the next free slot. */
  private readonly timers: (Schedulable | number)[] = []
  /** Per slot, the generation of its current (or last) arming. */
  private generations = new Int32Array(INITIAL_SLOTS)
  private freeHead = NO_SLOT
  /** Pending timers that keep the process alive. */
  private refCount = 0

  /** Pending timers that keep the process alive. */
  get refs(): number {
    return this.refCount
  }

  /** Slots in the table: the most timers that were pending at once. */
  get size(): number {
    return this.timers.length
  }

  /** Pending timers. O(size): for tests and the virtual clock. */
  get pending(): number {
    let n = 0
    for (const t of this.timers) if (typeof t !== 'number') n++
    return n
  }

  /** Calls `f` with each pending timer and the generation of its arming, in slot order. */
  forEachPending(f: (t: Schedulable, generation: number) => void): void {
    for (let index = 0; index < this.timers.length; index++) {
      const t = this.timers[index]!
      if (typeof t === 'object') f(t, this.generations[index]!)
    }
  }

  /**
   * Reads, for the (slot, generation) pairs `ids[from..to]`, what claiming and running them
   * will read: each slot's generation and timer, the timer's fields and its callback's header.
   * The timers of a batch, and their callbacks, lie scattered in memory; reading them in a
   * tight loop lets the CPU fetch many at once, where delivery, which calls a callback between
   * two of them, would wait for each in turn. Returns a value derived from the reads (so they
   * are not optimized away), meaning nothing.
   */
  readAhead(ids: Uint32Array, from: number, to: number): number {
    let sum = 0
    for (let k = from; k < to; k += 2) {
      const index = ids[k]!
      sum ^= this.generations[index]!
      const t = this.timers[index]
      if (typeof t === 'object') {
        sum ^= t._slotRef
        // The callback's own header: a timer's closure lies elsewhere again.
        if (typeof t._run === 'function') sum++
      }
    }
    return sum
  }

  /** Whether `t` holds its slot, i.e. is pending. */
  holds(t: Schedulable): boolean {
    return this.timers[t._slotRef >> 1] === t
  }

  /** The pending timer in slot `index`, if any. */
  at(index: number): Schedulable | undefined {
    const t = this.timers[index]
    return typeof t === 'object' ? t : undefined
  }

  /** The generation of slot `index`'s current arming. */
  generation(index: number): number {
    return this.generations[index]!
  }

  /** Starts a new arming of slot `index`; returns its generation. */
  nextGeneration(index: number): number {
    const generation = (this.generations[index]! + 1) & Shared.GEN_MASK
    this.generations[index] = generation
    return generation
  }

  /**
   * Gives `t`, which holds no slot, a free slot and records it in `t._slotRef`. Returns
   * whether the count of timers that keep the process alive went from 0 to 1. Throws a
   * RangeError when MAX_SLOT + 1 timers are already pending.
   */
  add(t: Schedulable): boolean {
    let index = this.freeHead
    if (index === NO_SLOT) {
      index = this.timers.length
      if (index > MAX_SLOT) throw new RangeError(`afterfunc: more than ${MAX_SLOT + 1} pending timers`)
      if (index === this.generations.length) this.growGenerations()
      this.timers.push(t)
    } else {
      this.freeHead = this.timers[index] as number
      this.timers[index] = t
    }
    t._slotRef = (index << 1) | (t._slotRef & UNREF)
    return (t._slotRef & UNREF) === 0 && this.refCount++ === 0
  }

  /**
   * Frees the slot of `t`, which holds it. Returns whether the count of timers that keep the
   * process alive went from 1 to 0.
   */
  remove(t: Schedulable): boolean {
    const index = t._slotRef >> 1
    this.timers[index] = this.freeHead
    this.freeHead = index
    return (t._slotRef & UNREF) === 0 && --this.refCount === 0
  }

  /**
   * Sets whether `t` keeps the process alive. Returns whether that changed the count of
   * pending timers that do between 0 and something else.
   */
  setRef(t: Schedulable, ref: boolean): boolean {
    const unref = (t._slotRef & UNREF) !== 0
    if (unref !== ref) return false
    t._slotRef ^= UNREF
    if (!this.holds(t)) return false
    return ref ? this.refCount++ === 0 : --this.refCount === 0
  }

  private growGenerations(): void {
    const generations = new Int32Array(this.generations.length * 2)
    generations.set(this.generations)
    this.generations = generations
  }
}
