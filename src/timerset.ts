/**
 * `time.newTimerSet(f)`: one timer per integer key, with one callback for the whole set. The
 * contract is in `index.d.ts`.
 *
 * HOW
 *
 * A set is a table of keys on an engine of its own (its own wheel thread, natively), so its keys
 * are the engine's indices and nothing is allocated per timer:
 *
 * ```text
 *  reset(key, d) / stop(key)         key's generation (Uint16Array), pending bit (a bitset),
 *        |                           one command in the set's ring
 *        v
 *  the set's engine  ->  expired (key, generation) pairs  ->  f(key) if the generation is current
 * ```
 *
 * WHY
 *
 * - Memory per key: the engine's 16-byte entry, two bytes of generation and a bit, for every key
 *   up to the largest used, since keys index arrays directly. That is the point of the set: a
 *   server numbers its connections or cache slots densely anyway.
 * - As with a `Timer`, every arming gets a new generation, and delivery runs a key only if its
 *   pending arming is the one that expired: `stop(key)` returning true means `f(key)` does not
 *   run for that arming.
 * - Lifetime: while it has pending timers, a set is held (by its engine's delivery) and fires
 *   even if nothing else refers to it, as a pending `Timer` does. Once it has none, only the
 *   caller holds it; when the caller lets it go, its engine (and native thread) is closed.
 */

import type { time as TimeApi } from '../index'
import { checkFunction, describe, toDelay } from './arguments'
import { Shared } from './constants'
import { type Claims, Delivery } from './delivery'
import type { EngineLink, EngineSource, TimerTable } from './engine/link'

/** Keys of the first tables; they double until the largest key fits. */
const SET_GENERATION_MASK = 0xffff
const INITIAL_KEYS = 1024

/** Checks a key: a TypeError for anything but a number, a RangeError for a number that is not one. */
function toKey(key: unknown, where: string): number {
  if (typeof key !== 'number') throw new TypeError(`${where}: the key must be an integer, got ${describe(key)}`)
  if (!(Number.isInteger(key) && key >= 0 && key <= Shared.MAX_INDEX)) {
    throw new RangeError(`${where}: the key must be an integer in 0..${Shared.MAX_INDEX}, got ${key}`)
  }
  return key
}

/** The keys of one set and their timers: the set's table for its engine link. */
class KeyTable implements TimerTable, Claims {
  readonly link: EngineLink
  private readonly delivery = new Delivery(this)
  private readonly callback: (key: number) => void
  /**
   * Per key, the generation of its current (or last) arming, in 16 bits (within the engines'
   * GEN_BITS): two bytes per key, wrapping after 65,536 armings of one key.
   */
  private generations = new Uint16Array(INITIAL_KEYS)
  /** Per key, one bit: whether its timer is pending. */
  private pendingBits = new Int32Array(INITIAL_KEYS / 32)
  /** Pending timers. */
  size = 0
  /** Whether pending timers keep the process alive. */
  refd = true
  /** The public set, and (never read: a strong reference) the same while it has pending timers. */
  private readonly owner: WeakRef<object>
  heldOwner: object | undefined = undefined

  constructor(source: EngineSource, callback: (key: number) => void, owner: object) {
    this.callback = callback
    this.owner = new WeakRef(owner)
    this.link = source.link(this)
  }

  has(key: number): boolean {
    return key < this.generations.length && (this.pendingBits[key >>> 5]! & (1 << (key & 31))) !== 0
  }

  reset(key: number, delay: number): boolean {
    if (key >= this.generations.length) this.grow(key)
    const pending = this.has(key)
    if (!pending) this.markPending(key)
    const generation = (this.generations[key]! + 1) & SET_GENERATION_MASK
    this.generations[key] = generation
    this.link.arm(key, generation, delay)
    return pending
  }

  stop(key: number): boolean {
    if (!this.has(key)) return false
    this.clearPending(key)
    this.link.cancel(key)
    return true
  }

  /** Stops every pending timer: the engine is closed with them, and a later reset starts a new one. */
  stopAll(): void {
    this.link.close()
    this.pendingBits.fill(0)
    if (this.size > 0) {
      this.size = 0
      this.sizeCrossedZero()
    }
  }

  setRef(on: boolean): void {
    this.refd = on
    this.link.setRef(on && this.size > 0)
  }

  /** For the link: whether `generation` is `key`'s current, pending arming. */
  isCurrent(key: number, generation: number): boolean {
    return this.has(key) && this.generations[key] === generation
  }

  /** For the link: starts a new arming of `key`. */
  nextGeneration(key: number): number {
    const generation = (this.generations[key]! + 1) & SET_GENERATION_MASK
    this.generations[key] = generation
    return generation
  }

  /** For the link: a batch of expired timers. */
  receive(ids: Uint32Array, nowTick: number, now: () => number): void {
    this.delivery.receive(ids, nowTick, now)
  }

  /** For delivery: runs `f(key)` if `generation` is key's current, pending arming. */
  fire(key: number, generation: number): void {
    if (!this.isCurrent(key, generation)) return
    this.clearPending(key)
    this.callback(key)
  }

  /** For delivery: the keys' generations are what firing reads first. */
  readAhead(ids: Uint32Array, from: number, to: number): number {
    let sum = 0
    for (let k = from; k < to; k += 2) sum ^= this.generations[ids[k]!]!
    return sum
  }

  /** For the link: pending timers. */
  pendingCount(): number {
    return this.size
  }

  /** For the link: stops every pending key whose arming is not the one `keep` has for it. */
  discardExcept(keep: Map<number, number>): number {
    let discarded = 0
    for (const [key, generation] of this.pendingArmings()) {
      if (keep.get(key) !== generation && this.stop(key)) discarded++
    }
    return discarded
  }

  /** For the link: every pending key with the generation of its arming. */
  pendingArmings(): Map<number, number> {
    const armings = new Map<number, number>()
    const bits = this.pendingBits
    for (let word = 0; word < bits.length; word++) {
      for (let w = bits[word]!; w !== 0; w &= w - 1) {
        const key = word * 32 + (31 - Math.clz32(w & -w))
        armings.set(key, this.generations[key]!)
      }
    }
    return armings
  }

  private markPending(key: number): void {
    this.pendingBits[key >>> 5]! |= 1 << (key & 31)
    if (this.size++ === 0) this.sizeCrossedZero()
  }

  private clearPending(key: number): void {
    this.pendingBits[key >>> 5]! &= ~(1 << (key & 31))
    if (--this.size === 0) this.sizeCrossedZero()
  }

  /** The set went from no pending timer to some, or back: hold or release it, and its ref. */
  private sizeCrossedZero(): void {
    this.heldOwner = this.size > 0 ? this.owner.deref() : undefined
    this.link.setRef(this.refd && this.size > 0)
  }

  private grow(key: number): void {
    let capacity = this.generations.length
    while (capacity <= key) capacity *= 2
    const generations = new Uint16Array(capacity)
    generations.set(this.generations)
    this.generations = generations
    const bits = new Int32Array(capacity / 32)
    bits.set(this.pendingBits)
    this.pendingBits = bits
  }
}

/** Closes the engine of a set the caller let go of (it had no pending timer, or it would be held). */
const collected = new FinalizationRegistry<KeyTable>((table) => table.link.close())

/** Builds `time.newTimerSet` for the runtime whose engines come from `source`. */
export function createTimerSets(source: EngineSource): typeof TimeApi.newTimerSet {
  /** A set of this runtime: methods over its key table. */
  class TimerSet implements TimeApi.TimerSet {
    readonly #table: KeyTable

    constructor(f: (key: number) => void) {
      this.#table = new KeyTable(source, f, this)
      collected.register(this, this.#table)
    }

    /**
     * The key table of `self`, or a TypeError naming `method` when `self` is not a set of this
     * runtime: left unchecked, a foreign receiver would fail later or arm someone else's keys.
     */
    static #tableOf(self: unknown, method: string): KeyTable {
      if (typeof self === 'object' && self !== null && #table in self) return (self as TimerSet).#table
      throw new TypeError(`TimerSet.${method}: called on ${describe(self)}, which is not a TimerSet made by this afterfunc`)
    }

    get size(): number {
      return TimerSet.#tableOf(this, 'size').size
    }

    reset(key: number, d: number): boolean {
      const table = TimerSet.#tableOf(this, 'reset')
      const k = toKey(key, 'TimerSet.reset')
      return table.reset(k, toDelay(d, 'TimerSet.reset'))
    }

    stop(key: number): boolean {
      return TimerSet.#tableOf(this, 'stop').stop(toKey(key, 'TimerSet.stop'))
    }

    has(key: number): boolean {
      return TimerSet.#tableOf(this, 'has').has(toKey(key, 'TimerSet.has'))
    }

    ref(): this {
      TimerSet.#tableOf(this, 'ref').setRef(true)
      return this
    }

    unref(): this {
      TimerSet.#tableOf(this, 'unref').setRef(false)
      return this
    }

    hasRef(): boolean {
      return TimerSet.#tableOf(this, 'hasRef').refd
    }

    [Symbol.dispose](): void {
      TimerSet.#tableOf(this, '[Symbol.dispose]').stopAll()
    }
  }

  return function newTimerSet(f: (key: number) => void): TimeApi.TimerSet {
    checkFunction(f, 'time.newTimerSet')
    return new TimerSet(f)
  }
}
