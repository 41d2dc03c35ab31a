/**
 * The TypeScript hierarchical timing wheel: the engine of the fallback and of the virtual
 * clock, and the reference the Rust wheel (`crates/wheel/src/wheel`) is tested against. Both
 * expire the same timers in the same order: a change of the rules here is a change there.
 *
 * HOW
 *
 * A hierarchical timing wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels",
 * 1987), laid out like tokio's `runtime/time/wheel`. Time is an integer tick count (below
 * 2^47, exact in a double). `elapsed` is the tick up to which the wheel has been processed.
 * There are LEVELS levels of SLOTS slots; a slot of level L is SLOTS^L ticks wide, so level L
 * spans SLOTS^(L+1) ticks and the whole wheel 64^8 = 2^48 > MAX_TICK ticks.
 *
 * ```text
 *   level 7  [ 0 | 1 | 2 | 3 | ... ]        each slot 64^7 ticks
 *     ...
 *   level 1  [ 0 | 1 | ... | 63 ]           each slot 64 ticks
 *   level 0  [ 0 | 1 | ... | 63 ]           each slot 1 tick
 *                  |
 *                  v  head                            tail
 *                 [ i=7 ] <-> [ i=3 ] <-> [ i=42 ] -> NIL     a doubly linked FIFO list
 *   due list  [ i=5 ] <-> [ i=9 ] -> NIL                     due, not yet polled
 *
 *   occupied: per level, a 64-bit bitmap (two 32-bit words) of its non-empty slots
 * ```
 *
 * A timer is named by a small *index* (0..=MAX_INDEX) chosen by the caller. Each index has one
 * entry of four int32 words in `entries`: the low and high words of its deadline (the high
 * word shares an int32 with the GEN_BITS-bit generation) and its list links. `prev` is
 * UNLINKED when the index is not armed. The lists are threaded through the entries, so arming
 * allocates nothing but, rarely, a bigger `entries`.
 *
 * WHY level and slot need not be stored
 *
 * - An armed timer with `when <= elapsed` is in the due list. One with `when > elapsed` is at
 *   level L, the highest base-64 digit in which `when` differs from `elapsed`, in slot `when`'s
 *   digit L. Since the digits above L agree and `when > elapsed`, that slot starts after
 *   `elapsed`.
 * - `elapsed` only advances in `poll`, and only up to the start of the earliest occupied slot
 *   before that slot is *cascaded*: emptied and its entries placed again by the rule, which
 *   puts them at a lower level or in the due list. So a timer's place is a function of
 *   (`elapsed`, `when`), recomputed to unlink it.
 *
 * FIFO among equal deadlines
 *
 * Timers with the same `when` are always in the same list, which arming appends to and
 * cascading takes whole and re-places in order. A poll emits the due list, then takes the
 * slots that start by `now` in order of their start: a level-0 slot joins the due list; a
 * higher one is cascaded. So timers come out in order of `when`, and among equal `when` in the
 * order they were last armed or moved. A timer armed late (`when <= elapsed`) goes to the due
 * list; if it lands behind a later deadline the due list is marked unsorted and the next poll
 * sorts it, stably.
 *
 * COST
 *
 * - arm, cancel, isArmed, when, size, elapsed: O(1) (arm amortized over growing `entries`).
 * - nextExpiration: O(LEVELS).
 * - poll: O(timers expired + timers cascaded + slots cascaded); a timer is cascaded at most
 *   once per level it descends through.
 *
 * JavaScript's bitwise operators are 32-bit, so 44-bit ticks are handled as a high and a low
 * 32-bit half where bits are needed (the level of a deadline), and slot numbers are taken by
 * multiplying by an exact power-of-two reciprocal.
 */

import { Shared } from '../constants'

/**
 * The wheel's shape: LEVELS levels of SLOTS slots. Each engine chooses its own (the Rust wheel
 * has 256 slots a level, to spare a million timers one cascade each); the order in which
 * timers expire does not depend on it. 64 slots keep a level's bitmap in two int32 words.
 */
export const SLOT_BITS = 6
/** Slots per level. */
export const SLOTS = 1 << SLOT_BITS
/** Levels: SLOTS^LEVELS = 2^48 ticks, more than MAX_TICK. */
export const LEVELS = 8

/** Ends a list: `next` of a tail, `prev` of a head, the head or tail of an empty list. */
const NIL = -1
/** In an entry's `prev`: the index is in no list, i.e. not armed. */
const UNLINKED = -2
/** Entries allocated by a new wheel; it doubles when a larger index comes. */
const INITIAL_CAPACITY = 64
/** The id of the due list; slot lists are `level * SLOTS + slot`, below it. */
const DUE = LEVELS * SLOTS
/** Int32 words per entry, and the offset of each word in an entry. */
const ENTRY_WORDS = 4
const WHEN_LOW = 0
/** The deadline's bits above the low 32, above the generation's GEN_BITS. */
const WHEN_HIGH_AND_GENERATION = 1
const NEXT = 2
const PREV = 3
const TWO_POW_32 = 2 ** 32

/** Ticks per slot at level L: SLOTS^L (L = 0..=LEVELS). */
const SLOT_WIDTH = Array.from({ length: LEVELS + 1 }, (_, level) => 2 ** (level * SLOT_BITS))

/** The high 32 bits of a tick below 2^53. */
function high(tick: number): number {
  return Math.floor(tick / TWO_POW_32) | 0
}

/** The index (0..31) of the lowest set bit of a non-zero 32-bit word. */
function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word)
}

export class Wheel {
  /** Processed up to this tick; never decreases. */
  private now = 0
  /** Armed timers. */
  private count = 0
  /** Per index, its entry at `index * ENTRY_WORDS` (see the module doc). */
  private entries = newEntries(INITIAL_CAPACITY)
  /** Head and tail of each list: LEVELS * SLOTS slot lists, then the due list. */
  private readonly heads = new Int32Array(DUE + 1).fill(NIL)
  private readonly tails = new Int32Array(DUE + 1).fill(NIL)
  /** Per level, two words: bit s of word `2 * level + (s >> 5)` is set iff slot s is non-empty. */
  private readonly occupied = new Int32Array(2 * LEVELS)
  /**
   * While `poll` drains the due list: the last entry this drain emits, NIL otherwise. Entries
   * that `emit` callbacks append come after it and wait for the next poll.
   */
  private drainLast = NIL
  /** A late arm put a timer behind a due one with a later `when`: the next poll sorts the due list. */
  private dueUnsorted = false

  /**
   * A wheel with no timers, processed up to tick `start`, a non-negative safe integer (else a
   * RangeError is thrown).
   */
  constructor(start: number) {
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`Wheel start must be a non-negative safe integer tick, got ${start}`)
    }
    this.now = start
  }

  /** The tick up to which the wheel has been processed: `start`, then the largest `now` polled. */
  elapsed(): number {
    return this.now
  }

  /** The number of armed timers: armed and not yet cancelled nor emitted by `poll`. */
  size(): number {
    return this.count
  }

  /** Whether `index` is armed (false for anything that is not an index ever armed). */
  isArmed(index: number): boolean {
    const e = index * ENTRY_WORDS
    return e < this.entries.length && index >>> 0 === index && this.entries[e + PREV] !== UNLINKED
  }

  /** The deadline tick `index` is armed at (after `arm`'s clamping), or undefined when it is not armed. */
  when(index: number): number | undefined {
    return this.isArmed(index) ? this.whenOf(index) : undefined
  }

  /**
   * Arms timer `index` with generation `generation` to expire at tick `when`; if `index` is
   * already armed, it is moved (whatever its generation). O(1).
   *
   * - `index`: an integer in 0..=MAX_INDEX, else a RangeError is thrown and nothing changes.
   * - `generation`: kept modulo 2^GEN_BITS.
   * - `when`: rounded up to an integer tick and clamped to 0..=MAX_TICK (NaN and +Infinity
   *   become MAX_TICK). If it is `<= elapsed()` the timer is due and the next `poll` emits it,
   *   in order of `when` among the due timers. Among equal `when`, the one armed or moved
   *   last is emitted last.
   */
  arm(index: number, generation: number, when: number): void {
    if (index >>> 0 !== index || index > Shared.MAX_INDEX) {
      throw new RangeError(`timer index must be an integer in 0..=${Shared.MAX_INDEX}, got ${index}`)
    }
    const e = index * ENTRY_WORDS
    if (e >= this.entries.length) this.grow(index)
    when = when <= Shared.MAX_TICK ? (when > 0 ? Math.ceil(when) : 0) : Shared.MAX_TICK
    if (this.entries[e + PREV] !== UNLINKED) this.unlink(index)
    else this.count++
    this.entries[e + WHEN_LOW] = when | 0
    this.entries[e + WHEN_HIGH_AND_GENERATION] = (high(when) << Shared.GEN_BITS) | (generation & Shared.GEN_MASK)
    const list = this.listOf(when)
    if (list === DUE) {
      const tail = this.tails[DUE]!
      if (tail !== NIL && this.whenOf(tail) > when) this.dueUnsorted = true
    }
    this.append(list, index)
  }

  /**
   * Disarms timer `index`, whatever generation it is armed with, and returns true; returns
   * false, changing nothing, if it is not armed. O(1).
   */
  cancel(index: number): boolean {
    if (!this.isArmed(index)) return false
    this.unlink(index)
    this.count--
    return true
  }

  /**
   * The tick at which `poll` next has work, or undefined when nothing is armed: `elapsed()`
   * when a timer is due; else the start of the earliest occupied slot, a lower bound of the
   * earliest deadline, exact when that slot is at level 0 (polling at it may only cascade;
   * the caller then asks again). O(LEVELS); changes nothing.
   */
  nextExpiration(): number | undefined {
    if (this.heads[DUE] !== NIL) return this.now
    const next = this.nextSlot()
    return next === undefined ? undefined : next.start
  }

  /**
   * Expires every armed timer with `when <= now`, calling `emit(index, generation)` for each in
   * order of `when`, first-armed first among equal `when`. Each timer is disarmed just before
   * its `emit`, which may call any method of the wheel: timers it arms with `when <= elapsed()`
   * are emitted by the next poll, not this one, so a callback that re-arms itself cannot loop.
   * Afterwards `elapsed()` is `max(elapsed(), floor(now))`. If `emit` throws, the timers not yet
   * emitted stay due for the next poll.
   *
   * At most `limit` timers are emitted (the cascades up to `now` are done in full): when timers
   * are left due, `poll` returns true and the next poll emits them first. Returns false when it
   * emitted every timer it had to. (The Rust wheel has no limit: it runs on its own thread,
   * while the TypeScript engine must give the event loop back.)
   */
  poll(now: number, emit: (index: number, generation: number) => void, limit = Infinity): boolean {
    now = Math.floor(now)
    if (now > this.now) {
      for (let next = this.nextSlot(); next !== undefined && next.start <= now; next = this.nextSlot()) {
        // Each slot found starts after the last: anything else is a bug that would loop forever.
        if (next.start <= this.now) throw new Error(`timing wheel invariant violated: slot at ${next.start} <= ${this.now}`)
        this.cascade(next.list, next.start)
      }
      this.now = now
    }
    if (this.dueUnsorted) this.sortDue()
    this.drainLast = this.tails[DUE]!
    for (let left = limit; this.drainLast !== NIL; left--) {
      if (left <= 0) {
        this.drainLast = NIL
        return true
      }
      const index = this.heads[DUE]!
      if (index === this.drainLast) this.drainLast = NIL
      this.unlink(index)
      this.count--
      emit(index, this.generationOf(index))
    }
    return false
  }

  /**
   * Disarms every timer and calls `emit(index, generation, when)` for each, in the order `poll`
   * would expire them. `elapsed()` does not change. For moving every timer to another wheel (a
   * virtual clock); O(n log n).
   */
  takeAll(emit: (index: number, generation: number, when: number) => void): void {
    // Every list, then one stable sort by deadline: equal deadlines share one list, so list
    // order keeps FIFO among them.
    const order: number[] = []
    for (let list = 0; list <= DUE; list++) {
      for (let index = this.heads[list]!; index !== NIL; index = this.entries[index * ENTRY_WORDS + NEXT]!) order.push(index)
    }
    order.sort((a, b) => this.whenOf(a) - this.whenOf(b))
    for (const index of order) this.entries[index * ENTRY_WORDS + PREV] = UNLINKED
    this.heads.fill(NIL)
    this.tails.fill(NIL)
    this.occupied.fill(0)
    this.count = 0
    this.dueUnsorted = false
    for (const index of order) emit(index, this.generationOf(index), this.whenOf(index))
  }

  private whenOf(index: number): number {
    const e = index * ENTRY_WORDS
    return (this.entries[e + WHEN_HIGH_AND_GENERATION]! >>> Shared.GEN_BITS) * TWO_POW_32 + (this.entries[e + WHEN_LOW]! >>> 0)
  }

  private generationOf(index: number): number {
    return this.entries[index * ENTRY_WORDS + WHEN_HIGH_AND_GENERATION]! & Shared.GEN_MASK
  }

  /** The list an armed entry with deadline `when` belongs in, given `elapsed`: DUE or `level * SLOTS + slot`. */
  private listOf(when: number): number {
    if (when <= this.now) return DUE
    const differingHigh = high(when) ^ high(this.now)
    const msb =
      differingHigh !== 0
        ? 63 - Math.clz32(differingHigh)
        : 31 - Math.clz32(((when | 0) ^ (this.now | 0)) | (SLOTS - 1))
    const level = Math.floor(msb / SLOT_BITS)
    return level * SLOTS + (Math.floor(when / SLOT_WIDTH[level]!) % SLOTS)
  }

  /** Appends `index`, which is in no list, at the tail of `list`. */
  private append(list: number, index: number): void {
    const tail = this.tails[list]!
    this.entries[index * ENTRY_WORDS + NEXT] = NIL
    this.entries[index * ENTRY_WORDS + PREV] = tail
    if (tail === NIL) {
      this.heads[list] = index
      this.setOccupied(list, true)
    } else {
      this.entries[tail * ENTRY_WORDS + NEXT] = index
    }
    this.tails[list] = index
  }

  /** Removes armed `index` from the list its (elapsed, when) places it in; leaves `count` alone. */
  private unlink(index: number): void {
    const list = this.listOf(this.whenOf(index))
    const e = index * ENTRY_WORDS
    const prev = this.entries[e + PREV]!
    const next = this.entries[e + NEXT]!
    if (prev === NIL) this.heads[list] = next
    else this.entries[prev * ENTRY_WORDS + NEXT] = next
    if (next === NIL) this.tails[list] = prev
    else this.entries[next * ENTRY_WORDS + PREV] = prev
    if (prev === NIL && next === NIL) this.setOccupied(list, false)
    this.entries[e + PREV] = UNLINKED
    // Only an entry of the due list can be `drainLast`: the drain then stops at its predecessor.
    if (index === this.drainLast) this.drainLast = prev
  }

  /** Marks slot list `list` occupied or not; the due list has no bit. */
  private setOccupied(list: number, occupied: boolean): void {
    if (list === DUE) return
    const word = list >> 5
    const bit = 1 << (list & 31)
    if (occupied) this.occupied[word]! |= bit
    else this.occupied[word]! &= ~bit
  }

  /**
   * The earliest occupied slot (ignoring the due list): its list and start tick; undefined if
   * every slot is empty. The lowest occupied level holds the earliest slot: level L's timers
   * lie beyond the current level-L span, within the current level-(L+1) span.
   */
  private nextSlot(): { list: number; start: number } | undefined {
    for (let level = 0; level < LEVELS; level++) {
      const low = this.occupied[2 * level]!
      const highWord = this.occupied[2 * level + 1]!
      if ((low | highWord) === 0) continue
      // The first occupied slot at or after the one `elapsed` is in (by the rule, after it).
      const current = Math.floor(this.now / SLOT_WIDTH[level]!) % SLOTS
      let slot: number
      const lowFrom = current < 32 ? low & (-1 << current) : 0
      if (lowFrom !== 0) slot = lowestBit(lowFrom)
      else {
        const highFrom = current < 32 ? highWord : highWord & (-1 << (current - 32))
        if (highFrom === 0) continue // unreachable while the rule holds
        slot = 32 + lowestBit(highFrom)
      }
      const levelStart = this.now - (this.now % SLOT_WIDTH[level + 1]!)
      return { list: level * SLOTS + slot, start: levelStart + slot * SLOT_WIDTH[level]! }
    }
    return undefined
  }

  /** Empties slot list `list`, sets `elapsed` to `start` (the slot's start) and places its entries again. */
  private cascade(list: number, start: number): void {
    let index = this.heads[list]!
    this.heads[list] = NIL
    this.tails[list] = NIL
    this.setOccupied(list, false)
    this.now = start
    while (index !== NIL) {
      const next = this.entries[index * ENTRY_WORDS + NEXT]!
      this.append(this.listOf(this.whenOf(index)), index)
      index = next
    }
  }

  /** Puts the due list in order of `when`, FIFO among equal `when` (the sort is stable). */
  private sortDue(): void {
    this.dueUnsorted = false
    const order: number[] = []
    for (let index = this.heads[DUE]!; index !== NIL; index = this.entries[index * ENTRY_WORDS + NEXT]!) order.push(index)
    order.sort((a, b) => this.whenOf(a) - this.whenOf(b))
    this.heads[DUE] = NIL
    this.tails[DUE] = NIL
    for (const index of order) this.append(DUE, index)
  }

  /** Grows `entries` by doubling until `index` fits. */
  private grow(index: number): void {
    let capacity = this.entries.length / ENTRY_WORDS
    while (capacity <= index) capacity *= 2
    const entries = newEntries(capacity)
    entries.set(this.entries)
    this.entries = entries
  }
}

/** Entries for `capacity` indices, none armed. */
function newEntries(capacity: number): Int32Array {
  const entries = new Int32Array(capacity * ENTRY_WORDS)
  for (let e = PREV; e < entries.length; e += ENTRY_WORDS) entries[e] = UNLINKED
  return entries
}
