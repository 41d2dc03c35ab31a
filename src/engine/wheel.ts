/**
 * The pure-TypeScript hierarchical timing wheel: the fallback engine of afterfunc.
 *
 * This file mirrors `crates/wheel/src/wheel/mod.rs` (the Rust wheel that runs on its own thread)
 * operation for operation: same placement rule, same cascade loop, same FIFO order, so both
 * engines expire the same timers in the same order. A change to one must be made to the other.
 * One addition here: `poll`'s `limit`, for the engine that runs on the event loop.
 *
 * HOW and WHY the wheel works the way it does.
 *
 * A hierarchical timing wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", 1987;
 * the layout follows tokio's `runtime/time/wheel` and Linux's `kernel/time/timer.c`). Time is an
 * integer tick count (< 2^44, exact in a double). `elapsed` is the tick up to which the wheel has
 * been processed. There are LEVELS levels of SLOTS slots; a slot of level L is SLOTS^L ticks wide,
 * so level L spans SLOTS^(L+1) ticks and the whole wheel 64^8 = 2^48 > MAX_TICK ticks.
 *
 *   level 7  [ 0 | 1 | 2 | 3 |  ...unused...  ]      each slot 64^7 = 2^42 ticks
 *     ...
 *   level 1  [ 0 | 1 | ... | 63 ]                    each slot 64 ticks
 *                  |
 *                  v  head                               tail
 *                 [ i=7 ] <-> [ i=3 ] <-> [ i=42 ] -> NIL      a doubly linked FIFO list,
 *                                                              threaded through the entries
 *   level 0  [ 0 | 1 | ... | 63 ]                    each slot 1 tick
 *                  |
 *                  v
 *                 [ 8, 2, NIL, 11 ] + a list                  an array of the indices the
 *                                                              last cascade placed, in FIFO
 *                                                              order (NIL: removed since),
 *                                                              then a list like the others
 *   due list      [ i=5 ] <-> [ i=9 ] -> NIL                  timers already due, not yet polled
 *
 *   occupancy: per level one 64-bit bitmap (two 32-bit words here), bit s set iff slot s is
 *   non-empty, so the next occupied slot is found with a mask and a count-trailing-zeros.
 *
 * Entries are intrusive: the caller names each timer by a dense small *index* (0..=MAX_INDEX) and
 * the wheel keeps, per index, one 16-byte entry of four int32 words in one Int32Array (`entries`,
 * grown by doubling to the largest index seen), as the Rust wheel's `Entry` is 16 bytes:
 *
 *   E_LO       the low 32 bits of `when`
 *   E_HI_GEN   the high TICK_BITS - 32 bits of `when` above the GEN_BITS-bit generation
 *              (TICK_BITS + GEN_BITS = 64, so the two words hold them exactly)
 *   E_NEXT     the next entry of the entry's list
 *   E_PREV     the previous one
 *
 * so an entry is one cache line at most, not four arrays' worth. Arming allocates nothing
 * (but to grow the storage). NIL ends a list; UNLINKED in `prev` marks an index that is not
 * armed (in no list); the other words of an unarmed entry are stale.
 *
 * Level 0's slots also have an array of indices each (`slots0`), for the timers a cascade
 * moves into level 0. A cascade into level 0 happens only at the start of a 64-tick block,
 * before any timer is armed into that block, so a slot's array holds timers placed before any
 * in its list: expiring the slot takes the array, then the list. IN_ARRAY in `prev` marks an
 * entry held in an array, and `next` is then its position there; removing it (cancel, move)
 * writes NIL at that position, a tombstone skipped at expiry (all go at once when the slot's
 * last live array entry is removed). Timers armed or moved into level 0 go to the lists. Why
 * arrays: expiring a slot reads the array's entries in order, reads independent of each other
 * that the CPU overlaps, where walking a list waits for each link in turn; at a million timers
 * due in 100 ms, cascaded in at a block's start, most of those reads miss the cache. Cascading
 * a level-0 slot appends its array's live entries, then its list, to the due list (the entries
 * just read, so the drain that follows finds them in cache); the Rust wheel emits them
 * straight from the array instead, in the same order, as it has no `limit`.
 *
 * Invariants:
 * - An armed timer with `when <= elapsed` is in the due list. One with `when > elapsed` is at
 *   level L = floor(msb((elapsed XOR when) | (SLOTS-1)) / SLOT_BITS), slot
 *   (when >> (L*SLOT_BITS)) & (SLOTS-1): the highest SLOT_BITS-digit in which `when` differs from
 *   `elapsed` picks the level, and `when`'s digit there picks the slot. Since the digits above
 *   are equal and `when > elapsed`, that slot lies strictly after the slot `elapsed` is in.
 * - That placement stays right while `elapsed` advances, until `elapsed` reaches the start of the
 *   slot; `poll` cascades a slot exactly then (re-inserts its entries, which land at lower levels
 *   or in the due list). So level and slot need not be stored: `cancel` recomputes them from
 *   (elapsed, when) to find the list (or level-0 array) to unlink from.
 * - Entries are appended at a list's tail, lists are cascaded in order, and a level-0 slot's
 *   array (filled by the cascade at its block's start) is taken before its list, so among
 *   timers with the same `when`, the one armed (or moved) last expires last (FIFO), whichever
 *   levels they passed through. A timer armed with `when <= elapsed` (late) is appended to
 *   the due list and expires at the next poll, in order of `when` among the due timers: a late
 *   arm that lands behind a later deadline marks the due list unsorted, and the poll sorts it
 *   (stably) first.
 * - The lowest level with an occupied slot holds the earliest slot: level L's timers lie within
 *   the current level-(L+1) span but outside the current level-L span, and every higher level's
 *   timers lie beyond the current level-(L+1) span.
 *
 * Costs:
 * - arm, cancel, isArmed, when, size, elapsed: O(1) (arm: O(1) amortized over storage growth).
 * - nextExpiration: O(LEVELS), a few word operations per level.
 * - poll: O(expired + cascaded entries + slots cascaded + level-0 tombstones dropped);
 *   each timer is cascaded at most once per level it descends through, so at most LEVELS times
 *   over its lifetime. A cascade into a list relinks only the ends of each run of consecutive
 *   entries with the same `when` (it still reads every entry's `when` and `next`), so timers
 *   armed for one deadline move as a block; into a level-0 array it writes each entry's position.
 *
 * JS bitwise operators are 32-bit, so 44-bit ticks are split into a high and a low 32-bit half
 * for the XOR and the highest-set-bit; slot numbers are extracted by multiplying by an exact
 * power-of-two reciprocal and truncating.
 */

import { K } from '../constants'

/** The wheel's constants: a `const enum`, so each use compiles to its value (`../constants`). */
const enum W {
  /** Ends a list: `next` of a tail, `prev` of a head, the head/tail of an empty list. */
  NIL = -1,
  /** In `prev`: the index is in no list, i.e. not armed. Distinct from NIL. */
  UNLINKED = -2,
  /**
   * In `prev`: the index is held in a level-0 slot's array (`slots0`), at the position in
   * `next`. Distinct from NIL and UNLINKED.
   */
  IN_ARRAY = -3,
  /** Storage slots allocated by a new wheel (grows by doubling). */
  INITIAL_CAPACITY = 64,
  /** The id of the due list; slot lists are `level * SLOTS + slot`, below it. */
  DUE = K.LEVELS * K.SLOTS,
  /** Occupancy words are 32-bit: `list >>> WORD_SHIFT` is a list's word, `list & WORD_MASK` its bit. */
  WORD_SHIFT = 5,
  WORD_BITS = 1 << WORD_SHIFT,
  WORD_MASK = WORD_BITS - 1,
  /** 2^-32: `(tick * TWO_POW_NEG_32) | 0` is the high 32-bit half of a tick, `tick | 0` the low half. */
  TWO_POW_NEG_32 = 2 ** -32,
  TWO_POW_32 = 2 ** 32,
  /** Int32 words per entry, and each word's offset in an entry (see the module doc). */
  E_WORDS = 4,
  E_LO = 0,
  E_HI_GEN = 1,
  E_NEXT = 2,
  E_PREV = 3,
}

/** WIDTH[L] = SLOTS^L, the ticks of one slot at level L (L = 0..=LEVELS; WIDTH[LEVELS] spans the wheel). */
const WIDTH = new Float64Array(K.LEVELS + 1)
/** INV_WIDTH[L] = SLOTS^-L: exact, so `(tick * INV_WIDTH[L]) & (SLOTS - 1)` is the slot at level L. */
const INV_WIDTH = new Float64Array(K.LEVELS + 1)
for (let level = 0; level <= K.LEVELS; level++) {
  WIDTH[level] = 2 ** (level * K.SLOT_BITS)
  INV_WIDTH[level] = 2 ** (-level * K.SLOT_BITS)
}
/** LEVEL_OF_MSB[b] = floor(b / SLOT_BITS): the level of a timer whose highest differing bit is b. */
const LEVEL_OF_MSB = new Uint8Array(2 * W.WORD_BITS)
for (let bit = 0; bit < LEVEL_OF_MSB.length; bit++) LEVEL_OF_MSB[bit] = Math.floor(bit / K.SLOT_BITS)

/** Count trailing zeros of a non-zero 32-bit word. */
function ctz32(x: number): number {
  return W.WORD_MASK - Math.clz32(x & -x)
}

export class Wheel {
  /** Processed up to this tick; never decreases. */
  private now = 0
  /** High and low 32-bit halves of `now` (meaningful while `now` < 2^53). */
  private nowHi = 0
  private nowLo = 0
  /** Armed timers. */
  private count = 0
  /** Per index, its entry at `index * E_WORDS`: deadline tick, generation, list links. */
  private entries = newEntries(W.INITIAL_CAPACITY)
  /**
   * Head and tail of each list: LEVELS * SLOTS slot lists, then the due list (DUE).
   */
  private heads = new Int32Array(W.DUE + 1).fill(W.NIL)
  private tails = new Int32Array(W.DUE + 1).fill(W.NIL)
  /**
   * Level 0's arrays: per slot, the indices a cascade placed there, in order, NIL where one was
   * removed since (see the module doc); `live0[slot]` counts the others.
   */
  private readonly slots0: number[][] = Array.from({ length: K.SLOTS }, () => [])
  private readonly live0 = new Int32Array(K.SLOTS)
  /**
   * Occupancy: word `list >>> WORD_SHIFT` bit `list & WORD_MASK` is set iff that list is
   * non-empty; level L's 64-bit bitmap is words 2L (slots 0..31) and 2L+1 (slots 32..63). The
   * last word carries the due list's bit, maintained like the others but never read.
   */
  private occupied = new Int32Array((W.DUE >>> W.WORD_SHIFT) + 1)
  /** Set by `nextSlotTick`: the list (level * SLOTS + slot) of the slot it found. */
  private foundList = W.NIL
  /**
   * While `poll` drains the due list: the last entry that this drain emits (NIL otherwise).
   * Entries appended to the due list by `emit` callbacks come after it and wait for the next poll.
   */
  private drainLast = W.NIL
  /**
   * Set when a late arm (`when <= elapsed()`) put a timer behind a due one with a later `when`;
   * the next `poll` (or `takeAll`) then sorts the due list. Cascades append in `when` order.
   */
  private dueUnsorted = false

  /**
   * A wheel with no timers, processed up to tick `start`.
   * @param start the initial `elapsed()`: a non-negative safe integer, else a RangeError is thrown.
   */
  constructor(start: number) {
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`Wheel start must be a non-negative safe integer tick, got ${start}`)
    }
    this.setNow(start)
  }

  /**
   * The tick up to which the wheel has been processed: the `start` given to the constructor,
   * raised by each `poll(now)` to `now` when `now` is larger. Never decreases.
   */
  elapsed(): number {
    return this.now
  }

  /** The number of armed timers: armed and not yet cancelled nor emitted by `poll`. */
  size(): number {
    return this.count
  }

  /**
   * Whether `index` is armed: true from `arm(index, ...)` until it is cancelled or emitted by
   * `poll`. False for an index never armed, including one beyond the storage or not an index.
   */
  isArmed(index: number): boolean {
    const e = index * W.E_WORDS
    return e < this.entries.length && (index >>> 0) === index && this.entries[e + W.E_PREV] !== W.UNLINKED
  }

  /**
   * The deadline tick `index` is armed at (after the clamping described in `arm`), or undefined
   * when it is not armed. Stays unchanged while armed, even once past due.
   */
  when(index: number): number | undefined {
    return this.isArmed(index) ? this.whenOf(index) : undefined
  }

  /**
   * Arms timer `index` with generation `gen` to expire at tick `when`; if `index` is already
   * armed, it is moved (as if cancelled first, whatever its generation). O(1), allocation-free
   * except when storage grows (doubling) to hold a larger index than seen before.
   *
   * - `index`: an integer in 0..=MAX_INDEX, else a RangeError is thrown and nothing changes.
   * - `gen`: kept modulo 2^GEN_BITS (`gen & GEN_MASK`); `cancel` and `poll` use that value.
   * - `when`: rounded up to an integer tick and clamped to 0..=MAX_TICK (a negative `when`
   *   becomes 0, as ticks are unsigned in Rust; NaN and +Infinity become MAX_TICK). If it is
   *   `<= elapsed()` the timer is due at once and the next `poll` emits it, in order of `when`
   *   among the due timers. Among timers with equal `when`, the one armed or moved last is
   *   emitted last.
   */
  arm(index: number, gen: number, when: number): void {
    if ((index >>> 0) !== index || index > K.MAX_INDEX) {
      throw new RangeError(`timer index must be an integer in 0..=${K.MAX_INDEX}, got ${index}`)
    }
    const e = index * W.E_WORDS
    if (e >= this.entries.length) this.grow(index)
    when = when <= K.MAX_TICK ? (when > 0 ? Math.ceil(when) : 0) : K.MAX_TICK
    const entries = this.entries
    if (entries[e + W.E_PREV] !== W.UNLINKED) this.unlink(index)
    else this.count++
    entries[e + W.E_LO] = when | 0
    entries[e + W.E_HI_GEN] = (((when * W.TWO_POW_NEG_32) | 0) << K.GEN_BITS) | (gen & K.GEN_MASK)
    const list = this.listOf(when)
    if (list === W.DUE) {
      const tail = this.tails[W.DUE]!
      if (tail !== W.NIL && this.whenOf(tail) > when) this.dueUnsorted = true
    }
    this.append(list, index)
  }

  /**
   * Disarms timer `index`, whatever generation it is armed with (in a slot or already due but
   * not yet emitted), and returns true. Otherwise changes nothing and returns false: not armed
   * (never, or already cancelled, or already emitted), or not a valid index. A repeated call
   * returns false. O(1). Like `arm`, it acts on the index: the command ring's CANCEL needs no
   * generation, since at its place in the ring the slot holds the arming being stopped or none.
   */
  cancel(index: number): boolean {
    if (!this.isArmed(index)) return false
    this.unlink(index)
    this.count--
    return true
  }

  /**
   * The tick at which `poll` next has work, or undefined when nothing is armed:
   * - `elapsed()` when some timer is already due (the next `poll`, whatever its `now`, emits it);
   * - else the start tick of the earliest occupied slot, always `> elapsed()`. That is a lower
   *   bound of the earliest deadline, exact when that timer sits at level 0 (its deadline differs
   *   from `elapsed()` only in the low SLOT_BITS bits). Polling at it may only cascade; the caller
   *   then asks again (a far timer costs at most one wake-up per level it descends through).
   * O(LEVELS). Changes nothing, so repeated calls return the same value until the wheel changes.
   */
  nextExpiration(): number | undefined {
    if (this.heads[W.DUE] !== W.NIL) return this.now
    const tick = this.nextSlotTick()
    return tick < 0 ? undefined : tick
  }

  /**
   * Expires every armed timer with `when <= now`, calling `emit(index, gen)` for each in order
   * of `when` (also among timers armed late, with a `when` already `<= elapsed()`: they come
   * out sorted with the rest), first-armed first among equal deadlines. Each timer is disarmed
   * just before its `emit`, so `isArmed(index)` is false inside `emit` and `emit` may re-arm it.
   *
   * Afterwards `elapsed()` is `max(elapsed(), floor(now))`. A `now` below `elapsed()` (or NaN)
   * advances nothing and emits only the timers already due. Repeated calls with the same `now`
   * emit nothing new, except timers armed since with `when <= elapsed()`.
   *
   * `emit` may call any method of the wheel: timers it arms or moves with `when <= elapsed()` are
   * emitted by the next poll, not this one (so a callback that re-arms itself cannot loop), and
   * a not-yet-emitted timer it cancels is not emitted. If `emit` throws, the exception propagates
   * and the timers not yet emitted stay due for the next poll. `poll` always terminates: it
   * throws an Error instead of looping should the wheel's invariant ever be broken (a bug).
   *
   * `limit` caps the timers emitted by this call (the cascades up to `now` are done in full):
   * when it is reached with timers still due, `poll` stops and returns true, and those timers
   * stay due, in order, ahead of anything expiring later: the next poll emits them first.
   * Returns false when it emitted every timer it had to. (The Rust wheel has no limit: it runs
   * on its own thread, while the TypeScript engine must give the event loop back.)
   */
  poll(now: number, emit: (index: number, gen: number) => void, limit = Infinity): boolean {
    now = Math.floor(now)
    if (now > this.now) {
      // Cascade every slot that starts at or before `now`, in tick order. Entries whose `when`
      // equals the slot start go to the due list, behind the timers already due. The loop looks
      // at the slots only: a non-empty due list must not stop it, or slots up to `now` would be
      // skipped when `elapsed` jumps to `now` below.
      let last = this.now
      for (let tick = this.nextSlotTick(); tick >= 0 && tick <= now; tick = this.nextSlotTick()) {
        // Each slot found lies strictly after the last: anything else is a bug that would loop
        // forever here, so fail loudly instead.
        if (tick <= last) throw new Error(`timing wheel invariant violated: slot at ${tick} <= ${last}`)
        this.cascade(this.foundList, tick)
        last = tick
      }
      this.setNow(now)
    }
    if (this.dueUnsorted) this.sortDue()
    // Drain the due list up to its current tail (see `drainLast`). The arrays are re-read each
    // time round because `emit` may arm a new index and grow them.
    this.drainLast = this.tails[W.DUE]
    for (let left = limit; this.drainLast !== W.NIL; left--) {
      if (left <= 0) {
        this.drainLast = W.NIL
        return true
      }
      const index = this.heads[W.DUE]
      if (index === this.drainLast) this.drainLast = W.NIL
      const entries = this.entries
      const e = index * W.E_WORDS
      const next = entries[e + W.E_NEXT]
      this.heads[W.DUE] = next
      if (next === W.NIL) {
        this.tails[W.DUE] = W.NIL
        this.occupied[W.DUE >>> W.WORD_SHIFT] &= ~(1 << (W.DUE & W.WORD_MASK))
      } else {
        entries[next * W.E_WORDS + W.E_PREV] = W.NIL
      }
      entries[e + W.E_PREV] = W.UNLINKED
      this.count--
      emit(index, this.genOf(index))
    }
    return false
  }

  /**
   * Disarms every timer and calls `emit(index, gen, when)` for each, in the order `poll` would
   * expire them: by deadline, FIFO among equal deadlines (timers already due first, as their
   * deadlines are the earliest). `elapsed()` does not change, so the wheel stays usable. For
   * moving every timer to another wheel (a virtual clock); O(n log n). Mirrors
   * `Wheel::take_all` in Rust.
   */
  takeAll(emit: (index: number, gen: number, when: number) => void): void {
    // Every list's entries, then one stable sort by deadline: equal deadlines share one list,
    // so list order keeps FIFO among them.
    const order: number[] = []
    const entries = this.entries
    for (let list = 0; list <= W.DUE; list++) {
      if (list < K.SLOTS) this.drain0(list, order) // a level-0 slot's array comes before its list
      for (let index = this.heads[list]!; index !== W.NIL; index = entries[index * W.E_WORDS + W.E_NEXT]!) order.push(index)
    }
    order.sort((x, y) => this.whenOf(x) - this.whenOf(y))
    for (const index of order) entries[index * W.E_WORDS + W.E_PREV] = W.UNLINKED
    this.heads.fill(W.NIL)
    this.tails.fill(W.NIL)
    this.occupied.fill(0)
    this.count = 0
    this.dueUnsorted = false
    for (const index of order) emit(index, this.genOf(index), this.whenOf(index))
  }

  // ---------------------------------------------------------------------------------------------
  // Internals.

  /** The deadline tick in `index`'s entry (meaningful while it is armed). */
  private whenOf(index: number): number {
    const e = index * W.E_WORDS
    return (this.entries[e + W.E_HI_GEN]! >>> K.GEN_BITS) * W.TWO_POW_32 + (this.entries[e + W.E_LO]! >>> 0)
  }

  /** The generation in `index`'s entry (meaningful while it is armed). */
  private genOf(index: number): number {
    return this.entries[index * W.E_WORDS + W.E_HI_GEN]! & K.GEN_MASK
  }

  /** Sets `elapsed` and its cached halves. */
  private setNow(now: number): void {
    this.now = now
    this.nowHi = (now * W.TWO_POW_NEG_32) | 0
    this.nowLo = now | 0
  }

  /**
   * The list an armed entry with deadline `when` belongs in, given the current `elapsed`:
   * DUE when `when <= elapsed`, else `level * SLOTS + slot` per the placement rule.
   */
  private listOf(when: number): number {
    if (when <= this.now) return W.DUE
    // when < 2^44 here, so the truncations below are exact floors.
    const hi = ((when * W.TWO_POW_NEG_32) | 0) ^ this.nowHi
    const msb =
      hi !== 0
        ? W.WORD_BITS + W.WORD_MASK - Math.clz32(hi)
        : W.WORD_MASK - Math.clz32(((when | 0) ^ this.nowLo) | (K.SLOTS - 1))
    const level = LEVEL_OF_MSB[msb]
    return level * K.SLOTS + ((when * INV_WIDTH[level]) & (K.SLOTS - 1))
  }

  /** Appends `index` (not in any list) at the tail of `list` and marks the list occupied. */
  private append(list: number, index: number): void {
    this.appendRun(list, index, index)
  }

  /**
   * Appends the run `first`..`last` at the tail of `list` and marks the list occupied. The run
   * is in no list, and its entries are already linked to each other from `first` to `last`
   * (one entry: `first === last`); only its two ends are relinked.
   */
  private appendRun(list: number, first: number, last: number): void {
    const entries = this.entries
    const tail = this.tails[list]
    entries[last * W.E_WORDS + W.E_NEXT] = W.NIL
    entries[first * W.E_WORDS + W.E_PREV] = tail
    if (tail === W.NIL) {
      this.heads[list] = first
      this.occupied[list >>> W.WORD_SHIFT] |= 1 << (list & W.WORD_MASK)
    } else {
      entries[tail * W.E_WORDS + W.E_NEXT] = first
    }
    this.tails[list] = last
  }

  /**
   * Puts the due list back in order of `when`, FIFO among equal `when` (the sort is stable), after
   * late arms came out of order. Relinks in place: nothing is armed or disarmed.
   */
  private sortDue(): void {
    this.dueUnsorted = false
    const order: number[] = []
    const entries = this.entries
    for (let index = this.heads[W.DUE]!; index !== W.NIL; index = entries[index * W.E_WORDS + W.E_NEXT]!) order.push(index)
    order.sort((x, y) => this.whenOf(x) - this.whenOf(y))
    this.heads[W.DUE] = W.NIL
    this.tails[W.DUE] = W.NIL
    for (const index of order) this.append(W.DUE, index)
  }

  /**
   * Removes armed `index` from the list (or level-0 array) its (elapsed, when) places it in.
   * Leaves `count` alone.
   */
  private unlink(index: number): void {
    const list = this.listOf(this.whenOf(index))
    const entries = this.entries
    const e = index * W.E_WORDS
    if (entries[e + W.E_PREV] === W.IN_ARRAY) {
      // In a level-0 array: a tombstone at its position; the last live entry takes them all.
      this.slots0[list]![entries[e + W.E_NEXT]!] = W.NIL
      entries[e + W.E_PREV] = W.UNLINKED
      if (--this.live0[list]! === 0) {
        this.slots0[list]!.length = 0
        if (this.heads[list] === W.NIL) this.occupied[list >>> W.WORD_SHIFT] &= ~(1 << (list & W.WORD_MASK))
      }
      return
    }
    const prev = entries[e + W.E_PREV]
    const next = entries[e + W.E_NEXT]
    if (prev === W.NIL) this.heads[list] = next
    else entries[prev * W.E_WORDS + W.E_NEXT] = next
    if (next === W.NIL) this.tails[list] = prev
    else entries[next * W.E_WORDS + W.E_PREV] = prev
    if (prev === W.NIL && next === W.NIL && (list >= K.SLOTS || this.live0[list] === 0)) {
      this.occupied[list >>> W.WORD_SHIFT] &= ~(1 << (list & W.WORD_MASK))
    }
    entries[e + W.E_PREV] = W.UNLINKED
    // Only an entry of the due list can be `drainLast`: the drain then stops at its predecessor.
    if (index === this.drainLast) this.drainLast = prev
  }

  /**
   * The start tick of the earliest occupied slot (ignoring the due list), or -1 if every slot is
   * empty; sets `foundList` to that slot's list. Scans from level 0: the lowest occupied level
   * holds the earliest slot.
   */
  private nextSlotTick(): number {
    const occupied = this.occupied
    const now = this.now
    for (let level = 0; level < K.LEVELS; level++) {
      const lo = occupied[2 * level]
      const hi = occupied[2 * level + 1]
      if ((lo | hi) === 0) continue
      // First occupied slot at or after the slot `now` is in (by the invariant, strictly after).
      const current = (now * INV_WIDTH[level]) & (K.SLOTS - 1)
      let slot: number
      if (current < W.WORD_BITS) {
        const masked = lo & (-1 << current)
        if (masked !== 0) slot = ctz32(masked)
        else if (hi !== 0) slot = W.WORD_BITS + ctz32(hi)
        else continue // unreachable while the invariant holds
      } else {
        const masked = hi & (-1 << (current - W.WORD_BITS))
        if (masked !== 0) slot = W.WORD_BITS + ctz32(masked)
        else continue // unreachable while the invariant holds
      }
      this.foundList = level * K.SLOTS + slot
      return now - (now % WIDTH[level + 1]) + slot * WIDTH[level]
    }
    return -1
  }

  /**
   * `appendRun` for a run taken from a slot being cascaded: into a level-0 slot, each entry of
   * the run goes to the end of the slot's array instead, in order (a cascade into level 0
   * happens only at the start of a 64-tick block, before any timer is armed into that block's
   * slots, so the array's timers come before the slot list's).
   */
  private cascadeRun(list: number, first: number, last: number): void {
    if (list >= K.SLOTS) {
      this.appendRun(list, first, last)
      return
    }
    const entries = this.entries
    const array = this.slots0[list]!
    let placed = 0
    for (let index = first; ; ) {
      const e = index * W.E_WORDS
      const next = entries[e + W.E_NEXT]!
      entries[e + W.E_PREV] = W.IN_ARRAY
      entries[e + W.E_NEXT] = array.length
      array.push(index)
      placed++
      if (index === last) break
      index = next
    }
    this.live0[list] += placed
    this.occupied[list >>> W.WORD_SHIFT] |= 1 << (list & W.WORD_MASK)
  }

  /** Empties slot list `list`, sets elapsed to `tick` (its start) and re-inserts its entries. */
  private cascade(list: number, tick: number): void {
    if (list < K.SLOTS) {
      // Level 0: the slot's array, then its list, join the due list.
      this.setNow(tick)
      this.drain0(list, undefined)
      const first = this.heads[list]!
      if (first !== W.NIL) {
        const last = this.tails[list]!
        this.heads[list] = W.NIL
        this.tails[list] = W.NIL
        this.appendRun(W.DUE, first, last)
      }
      this.occupied[list >>> W.WORD_SHIFT] &= ~(1 << (list & W.WORD_MASK))
      return
    }
    let first = this.heads[list]
    this.heads[list] = W.NIL
    this.tails[list] = W.NIL
    this.occupied[list >>> W.WORD_SHIFT] &= ~(1 << (list & W.WORD_MASK))
    this.setNow(tick)
    const entries = this.entries
    // Entries with equal `when` go to the same list, so each run of consecutive equal deadlines
    // moves as one piece, in order (timers armed for one deadline in one go are one run). Equal
    // deadlines: equal low words and equal high bits above the generations.
    while (first !== W.NIL) {
      const lo = entries[first * W.E_WORDS + W.E_LO]
      const hi = entries[first * W.E_WORDS + W.E_HI_GEN]! >>> K.GEN_BITS // `when` above the generation
      let last = first
      let next = entries[first * W.E_WORDS + W.E_NEXT]!
      while (
        next !== W.NIL &&
        entries[next * W.E_WORDS + W.E_LO] === lo &&
        entries[next * W.E_WORDS + W.E_HI_GEN]! >>> K.GEN_BITS === hi
      ) {
        last = next
        next = entries[next * W.E_WORDS + W.E_NEXT]!
      }
      this.cascadeRun(this.listOf(this.whenOf(first)), first, last)
      first = next
    }
  }

  /**
   * Empties level-0 slot `slot`'s array (not its list, nor its occupancy bit): takes every live
   * entry in array order, skipping tombstones, and appends it to `out` if given, else (marked
   * unlinked first) to the due list.
   */
  private drain0(slot: number, out: number[] | undefined): void {
    const array = this.slots0[slot]!
    const entries = this.entries
    for (let pos = 0; pos < array.length; pos++) {
      const index = array[pos]!
      if (index === W.NIL) continue
      entries[index * W.E_WORDS + W.E_PREV] = W.UNLINKED
      if (out === undefined) this.append(W.DUE, index)
      else out.push(index)
    }
    array.length = 0
    this.live0[slot] = 0
  }

  /** Grows the entries by doubling until `index` fits (index <= MAX_INDEX). */
  private grow(index: number): void {
    let capacity = this.entries.length / W.E_WORDS
    while (capacity <= index) capacity *= 2
    const entries = newEntries(capacity)
    entries.set(this.entries)
    this.entries = entries
  }
}

/** Entries for `capacity` indices, none armed. */
function newEntries(capacity: number): Int32Array {
  const entries = new Int32Array(capacity * W.E_WORDS)
  for (let e = W.E_PREV; e < entries.length; e += W.E_WORDS) entries[e] = W.UNLINKED
  return entries
}
