/**
 * The TypeScript engine: the same timing wheel as the Rust engine (`./wheel.ts` mirrors
 * `crates/wheel/src/wheel`), run on the event loop.
 *
 * It consumes the command ring synchronously whenever the scheduler publishes a batch, and
 * keeps exactly one Node timer, armed for the wheel's next expiration (never more than
 * 2^31-1 ms ahead, Node's limit; a longer wait is re-armed in steps). The Node timer may fire
 * up to a millisecond early on the `performance.now()` clock; the wheel is polled with the
 * current tick, so nothing is reported early, and the Node timer is simply armed again.
 *
 * Cost: arm and cancel are the wheel's O(1) plus reading the command; the Node timer is
 * re-armed only when the earliest deadline moves earlier, so a steady stream of timers with
 * later deadlines costs no Node timer operations at all. One poll expires at most POLL_LIMIT
 * timers; when more are due, the rest follow in the next turns of the event loop, in order.
 */

import { K } from '../constants'
import { Ring } from './ring'
import type { Deliver, Engine, EngineFactory, EngineStats } from './types'
import { Wheel } from './wheel'

/** The batch of a poll that expired nothing. */
const EMPTY = new Uint32Array(0)
/**
 * Most timers the TypeScript engine expires in one turn of the event loop: when more are due,
 * the rest are polled in the next turns (`setImmediate`), so a storm of a million timers due
 * at once does not hold the event loop for the whole poll (tens of ms). About 1 ms of polling
 * on this project's machine; delivery itself is sliced by the scheduler (SLICE_MS).
 */
export const POLL_LIMIT = 65_536
/** Longest delay Node's setTimeout honours. */
const MAX_NODE_DELAY = 2 ** 31 - 1

/**
 * The TypeScript wheel behind the engine interface, without any notion of when to poll: the
 * event-loop engine below adds a Node timer, the virtual clock (`virtual.ts`) polls when told.
 */
export class WheelEngine implements Engine {
  readonly i32: Int32Array
  readonly f64: Float64Array
  protected readonly deliver: Deliver
  protected readonly now: () => number
  protected readonly wheel: Wheel
  private base = 0

  constructor(deliver: Deliver, now: () => number) {
    const memory = new ArrayBuffer(K.CTRL_BYTES + K.RING_CAPACITY * K.CMD_BYTES)
    this.i32 = new Int32Array(memory)
    this.f64 = new Float64Array(memory)
    this.deliver = deliver
    this.now = now
    this.wheel = new Wheel(Math.floor(now() * K.TICKS_PER_MS))
  }

  published(_earliest: number, _exact: () => number): void {
    this.consume()
  }

  makeRoom(): void {
    this.consume()
  }

  setRef(_on: boolean): void {}

  stats(): EngineStats {
    return { armed: this.wheel.size(), protocolErrors: 0, rounds: 0 }
  }

  takeAll(): Float64Array {
    this.consume()
    const taken: number[] = []
    this.wheel.takeAll((index, gen, when) => {
      taken.push(index, gen, when)
    })
    return Float64Array.from(taken)
  }

  deadlineOf(index: number): number | undefined {
    return this.wheel.when(index)
  }

  close(): void {}

  /**
   * Polls the wheel at the clock's current tick and delivers what expired, if anything: at
   * most `limit` timers; the rest stay due in the wheel, ahead of anything later, for the next
   * call. `afterPoll` learns whether some were left.
   */
  protected expire(limit = Infinity): void {
    const nowTick = Math.floor(this.now() * K.TICKS_PER_MS)
    // Pairs go straight into a typed array that doubles as needed: for big polls this is 2-4x
    // faster than pushing to a plain array and copying it (measured on a storm of 1M timers).
    let out = EMPTY
    let n = 0
    const more = this.wheel.poll(
      nowTick,
      (index, gen) => {
        if (n === out.length) {
          const bigger = new Uint32Array(Math.max(64, out.length * 2))
          bigger.set(out)
          out = bigger
        }
        out[n] = index
        out[n + 1] = gen
        n += 2
      },
      limit,
    )
    this.afterPoll(more)
    // Every published command was applied when it was published (`consume`).
    if (n > 0) this.deliver(out.subarray(0, n), nowTick, Atomics.load(this.i32, K.CTRL_HEAD) >>> 0)
  }

  /** Runs after each poll, before delivery (which may throw); `more`: due timers were left. */
  protected afterPoll(_more: boolean): void {}

  /** Applies every published command to the wheel. */
  private consume(): void {
    const i32 = this.i32
    const f64 = this.f64
    const wheel = this.wheel
    const tail = Atomics.load(i32, K.CTRL_TAIL)
    let head = Atomics.load(i32, K.CTRL_HEAD)
    while (head !== tail) {
      const slot = head & Ring.MASK
      const w = Ring.I32 + slot * Ring.CMD_I32
      const word0 = i32[w]!
      const index = i32[w + 1]!
      const value = f64[Ring.F64 + slot * Ring.CMD_F64 + 1]!
      switch (word0 & K.CMD_KIND_MASK) {
        case K.CMD_BASE:
          this.base = value
          break
        case K.CMD_ARM_AFTER:
          wheel.arm(
            index,
            (word0 >>> K.CMD_KIND_BITS) & K.GEN_MASK,
            Math.ceil((this.base + value) * K.TICKS_PER_MS),
          )
          break
        case K.CMD_CANCEL:
          wheel.cancel(index)
          break
        default:
          throw new Error(`afterfunc: corrupt command ${word0} in the ring`)
      }
      head = (head + 1) | 0
    }
    Atomics.store(i32, K.CTRL_HEAD, head)
  }
}

/**
 * The TypeScript engine: the wheel, polled by one Node timer armed for its next expiration, and
 * by an immediate (`setImmediate`) while a poll left due timers behind (more than POLL_LIMIT
 * were due at once). The immediate and the Node timer follow the engine's ref state.
 */
class JsEngine extends WheelEngine {
  /** Set while a poll that stopped at POLL_LIMIT waits for its continuation. */
  private immediate: NodeJS.Immediate | undefined
  private timer: NodeJS.Timeout | undefined
  /** JavaScript time (ms) the Node timer is armed for; Infinity when none is. */
  private timerAt = Infinity
  private refd = false
  private closed = false

  override published(earliest: number, exact: () => number): void {
    super.published(earliest, exact)
    this.schedule()
  }

  override setRef(on: boolean): void {
    this.refd = on
    if (on) {
      this.timer?.ref()
      this.immediate?.ref()
    } else {
      this.timer?.unref()
      this.immediate?.unref()
    }
  }

  override close(): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    this.timerAt = Infinity
  }

  /**
   * Makes sure the Node timer fires no later than the wheel's next expiration. Nothing to do
   * while a continuation is pending: it polls at the next check phase (setImmediate's) and
   * schedules again.
   */
  private schedule(): void {
    if (this.closed || this.immediate !== undefined) return
    const next = this.wheel.nextExpiration()
    if (next === undefined) return
    const at = next / K.TICKS_PER_MS
    if (at >= this.timerAt) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    const wait = Math.min(Math.max(0, Math.ceil(at - this.now())), MAX_NODE_DELAY)
    this.timer = setTimeout(this.onTimer, wait)
    if (!this.refd) this.timer.unref()
    this.timerAt = wait === MAX_NODE_DELAY ? this.now() + wait : at
  }

  protected override afterPoll(more: boolean): void {
    if (more && !this.closed) {
      this.immediate = setImmediate(this.onImmediate)
      if (!this.refd) this.immediate.unref()
    } else {
      this.schedule()
    }
  }

  private readonly onTimer = (): void => {
    this.timer = undefined
    this.timerAt = Infinity
    if (this.immediate === undefined) this.expire(POLL_LIMIT)
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined
    this.expire(POLL_LIMIT)
  }
}

/** Creates the TypeScript engine. */
export const createJsEngine: EngineFactory = (deliver, now) => new JsEngine(deliver, now)
