/**
 * The command ring: the memory the scheduler shares with its engine, and the only code that
 * knows its layout (`crates/wheel/src/shared.rs` is the Rust side of the same layout).
 *
 * ```text
 * byte 0           CTRL_BYTES                          CTRL_BYTES + CMD_BYTES * RING_CAPACITY
 * | control block | command 0 | command 1 | ... | command RING_CAPACITY - 1 |
 *
 * control block: published count (tail), consumed count (head), the wheel thread's state and
 *                the time it wakes at by itself, each on a cache line of its own
 * command:       int32 kind | generation << CMD_KIND_BITS, int32 index, float64 value
 * ```
 *
 * Commands are numbered by a wrapping 32-bit sequence number; command `seq` lives in ring slot
 * `seq mod RING_CAPACITY`. There is one producer, the scheduler ({@link RingWriter}), and one
 * consumer at a time ({@link RingReader} for the TypeScript engine, the wheel thread or a
 * synchronous drain for the native one). The producer writes commands beyond the published
 * tail with plain stores and publishes them with one `Atomics.store` of the tail; it never
 * writes more than RING_CAPACITY commands ahead of the consumed head. A consumer reads only
 * below the tail it loaded and then stores the head, which frees the slots.
 *
 * The commands (their meaning is the engines'):
 * - BASE(time): the time, in JavaScript ms, that the delays of the ARMs after it count from.
 *   Every batch starts with one, whose time is filled in when the batch is published.
 * - ARM(index, generation, delay): arm or move timer `index` to fire `delay` ms after BASE.
 * - ARM_AT(index, generation, time): the same at an absolute time, in ms (a ticker's grid).
 * - CANCEL(index): disarm timer `index`, whatever arming it holds.
 */

import { Shared } from '../constants'

/** The layout, derived from the shared constants. */
const enum Layout {
  /** Ring slot of command `seq`: `seq & MASK`. */
  MASK = Shared.RING_CAPACITY - 1,
  /** Index of command 0's first word in the Int32Array view. */
  FIRST_I32 = Shared.CTRL_BYTES / 4,
  /** Index of command 0's first word in the Float64Array view. */
  FIRST_F64 = Shared.CTRL_BYTES / 8,
  /** Int32 words per command. */
  CMD_I32 = Shared.CMD_BYTES / 4,
  /** Float64 words per command. */
  CMD_F64 = Shared.CMD_BYTES / 8,
}

/** What a consumer does with each command it reads. */
export interface CommandVisitor {
  base(time: number): void
  arm(index: number, generation: number, delay: number): void
  armAt(index: number, generation: number, time: number): void
  cancel(index: number): void
}

/** The shared memory, seen as the control block's words and the commands. */
export class Ring {
  /** Bytes of a ring: the control block and RING_CAPACITY commands. */
  static readonly BYTES = Shared.CTRL_BYTES + Shared.RING_CAPACITY * Shared.CMD_BYTES

  readonly i32: Int32Array
  readonly f64: Float64Array

  /** Views over `memory`, which holds {@link Ring.BYTES} bytes (a new ring's are zero). */
  constructor(memory: ArrayBuffer) {
    this.i32 = new Int32Array(memory)
    this.f64 = new Float64Array(memory)
  }

  /** A ring in new memory of its own, for the engines that run on the JavaScript thread. */
  static allocate(): Ring {
    return new Ring(new ArrayBuffer(Ring.BYTES))
  }

  /** Sequence number one past the last published command. */
  tail(): number {
    return Atomics.load(this.i32, Shared.CTRL_TAIL)
  }

  /** Sequence number of the first command not yet consumed. */
  head(): number {
    return Atomics.load(this.i32, Shared.CTRL_HEAD)
  }

  /** Published commands not yet consumed. */
  unconsumed(): number {
    return (this.tail() - this.head()) | 0
  }

  /** The native wheel thread's state: one of `Shared.STATE_*`. */
  consumerState(): number {
    return Atomics.load(this.i32, Shared.CTRL_STATE)
  }

  /** While the native wheel thread is parked: the JavaScript time (ms) it wakes at by itself. */
  parkedUntil(): number {
    return this.f64[Shared.CTRL_PARKED_UNTIL_F64]!
  }

  /** Calls `visitor` for each command from `from` up to (not including) `to`, in order. */
  visit(from: number, to: number, visitor: CommandVisitor): void {
    const i32 = this.i32
    const f64 = this.f64
    for (let seq = from; seq !== to; seq = (seq + 1) | 0) {
      const slot = seq & Layout.MASK
      const word0 = i32[Layout.FIRST_I32 + slot * Layout.CMD_I32]!
      const index = i32[Layout.FIRST_I32 + slot * Layout.CMD_I32 + 1]!
      const value = f64[Layout.FIRST_F64 + slot * Layout.CMD_F64 + 1]!
      switch (word0 & Shared.CMD_KIND_MASK) {
        case Shared.CMD_BASE:
          visitor.base(value)
          break
        case Shared.CMD_ARM_AFTER:
          visitor.arm(index, (word0 >>> Shared.CMD_KIND_BITS) & Shared.GEN_MASK, value)
          break
        case Shared.CMD_ARM_AT:
          visitor.armAt(index, (word0 >>> Shared.CMD_KIND_BITS) & Shared.GEN_MASK, value)
          break
        case Shared.CMD_CANCEL:
          visitor.cancel(index)
          break
        default:
          throw new Error(`afterfunc: corrupt command ${word0} at ${seq} in the ring`)
      }
    }
  }
}

/** The consumer side, for engines that apply the commands on the JavaScript thread. */
export class RingReader {
  readonly ring: Ring

  constructor(ring: Ring) {
    this.ring = ring
  }

  /** Applies every published command to `visitor`, in order, then marks them consumed. */
  drain(visitor: CommandVisitor): void {
    const tail = this.ring.tail()
    this.ring.visit(this.ring.head(), tail, visitor)
    Atomics.store(this.ring.i32, Shared.CTRL_HEAD, tail)
  }
}

/**
 * The producer side, owned by the scheduler: it writes commands after the published tail and
 * publishes them. Writing never checks for room: the caller asks {@link RingWriter.room} first.
 */
export class RingWriter {
  readonly ring: Ring
  /** The ring's views, held here too: every command written goes through them. */
  private readonly i32: Int32Array
  private readonly f64: Float64Array
  /** Sequence number the next command gets. */
  private next: number
  /** The head last read: commands before it are consumed. */
  private consumed: number
  /** The smallest delay, and the earliest time, of the ARMs written since the last publish. */
  private minDelay = Infinity
  private minTime = Infinity

  constructor(ring: Ring) {
    this.ring = ring
    this.i32 = ring.i32
    this.f64 = ring.f64
    this.next = ring.tail()
    this.consumed = ring.head()
  }

  /** Sequence number the next command gets. */
  position(): number {
    return this.next
  }

  /** Commands written and not yet published. */
  unpublished(): number {
    return (this.next - this.ring.tail()) | 0
  }

  /** Commands that can still be written before the ring is full (reads the head again). */
  room(): number {
    this.consumed = this.ring.head()
    return Shared.RING_CAPACITY - ((this.next - this.consumed) | 0)
  }

  /** Writes a BASE command; its time is set later with {@link RingWriter.setBase}. Returns its sequence number. */
  writeBase(): number {
    const seq = this.next
    this.write(Shared.CMD_BASE, 0, 0)
    return seq
  }

  writeArm(index: number, generation: number, delay: number): void {
    if (delay < this.minDelay) this.minDelay = delay
    this.write(Shared.CMD_ARM_AFTER | (generation << Shared.CMD_KIND_BITS), index, delay)
  }

  writeArmAt(index: number, generation: number, time: number): void {
    if (time < this.minTime) this.minTime = time
    this.write(Shared.CMD_ARM_AT | (generation << Shared.CMD_KIND_BITS), index, time)
  }

  /** Removes the last command written, which is not published. */
  takeBack(): void {
    this.next = (this.next - 1) | 0
  }

  writeCancel(index: number): void {
    this.write(Shared.CMD_CANCEL, index, 0)
  }

  /**
   * Sets the time of the BASE command `baseSeq`, which opens the commands written since the
   * last publish, and publishes them. Returns a lower bound of the deadlines they arm, in ms
   * (Infinity if they arm none): ARMs that later commands stopped or moved count too.
   */
  publish(baseSeq: number, baseTime: number): number {
    this.f64[Layout.FIRST_F64 + (baseSeq & Layout.MASK) * Layout.CMD_F64 + 1] = baseTime
    Atomics.store(this.i32, Shared.CTRL_TAIL, this.next)
    const earliest = Math.min(baseTime + this.minDelay, this.minTime)
    this.minDelay = Infinity
    this.minTime = Infinity
    return earliest
  }

  private write(word0: number, index: number, value: number): void {
    const slot = this.next & Layout.MASK
    this.i32[Layout.FIRST_I32 + slot * Layout.CMD_I32] = word0
    this.i32[Layout.FIRST_I32 + slot * Layout.CMD_I32 + 1] = index
    this.f64[Layout.FIRST_F64 + slot * Layout.CMD_F64 + 1] = value
    this.next = (this.next + 1) | 0
  }
}
