/**
 * The TypeScript engine: the timing wheel of `./wheel.ts` (the same rules as the Rust wheel in
 * `crates/wheel/src/wheel`), run on the event loop.
 *
 * It applies the command ring synchronously whenever a batch is published, and keeps exactly
 * one Node timer, armed for the wheel's next expiration (never more than 2^31-1 ms ahead,
 * Node's limit; a longer wait is re-armed in steps). Node's timers count whole milliseconds
 * from the loop's cached time, so the last millisecond before a deadline is closed with turns
 * of the loop instead (`schedule`). The wheel is polled with the current tick, so nothing is
 * reported early.
 *
 * Cost: arm and cancel are the wheel's O(1) plus reading the command; the Node timer is
 * re-armed only when the earliest deadline moves earlier, so a steady stream of timers with
 * later deadlines costs no Node timer operations at all. One poll expires at most POLL_LIMIT
 * timers; when more are due, the rest follow in the next turns of the event loop, in order.
 */

import { Shared } from '../constants'
import { type CommandVisitor, Ring, RingReader } from './ring'
import type { Deliver, Engine, EngineFactory, EngineStats } from './types'
import { Wheel } from './wheel'

/**
 * Most timers the TypeScript engine expires in one turn of the event loop: when more are due,
 * the rest are polled in the next turns (`setImmediate`), so that a storm of a million timers
 * due at once does not hold the event loop for the whole poll. Delivery itself is sliced by
 * the scheduler.
 */
export const POLL_LIMIT = 65_536
/** Longest delay Node's setTimeout honours. */
const MAX_NODE_DELAY = 2 ** 31 - 1
/**
 * Time left before a deadline under which the engine polls at each turn of the loop rather
 * than wait for a Node timer, in ms. Each such turn costs CPU while nothing else is to be done,
 * so it is a small part of Node's millisecond: a timer due sooner than that is at most that
 * late, one due later waits for a Node timer of a millisecond.
 */
const POLL_TURNS_MS = 0.25

/** Applies commands to a wheel. */
class WheelCommands implements CommandVisitor {
  private readonly wheel: Wheel
  /** The time the ARMs that follow count their delays from. */
  private baseTime = 0

  constructor(wheel: Wheel) {
    this.wheel = wheel
  }

  base(time: number): void {
    this.baseTime = time
  }

  arm(index: number, generation: number, delay: number): void {
    this.wheel.arm(index, generation, Math.ceil((this.baseTime + delay) * Shared.TICKS_PER_MS))
  }

  armAt(index: number, generation: number, time: number): void {
    this.wheel.arm(index, generation, Math.ceil(time * Shared.TICKS_PER_MS))
  }

  cancel(index: number): void {
    this.wheel.cancel(index)
  }
}

/**
 * The TypeScript wheel behind the engine interface, without any notion of when to poll: the
 * event-loop engine below adds a Node timer, the virtual clock (`virtual.ts`) polls when told.
 * Every published command is applied at once, on the JavaScript thread.
 */
export class WheelEngine implements Engine {
  readonly ring = Ring.allocate()
  protected readonly deliver: Deliver
  protected readonly now: () => number
  protected readonly wheel: Wheel
  private readonly reader = new RingReader(this.ring)
  private readonly commands: WheelCommands

  constructor(deliver: Deliver, now: () => number) {
    this.deliver = deliver
    this.now = now
    this.wheel = new Wheel(Math.floor(now() * Shared.TICKS_PER_MS))
    this.commands = new WheelCommands(this.wheel)
  }

  published(_earliest: number): void {
    this.reader.drain(this.commands)
  }

  makeRoom(): void {
    this.reader.drain(this.commands)
  }

  setRef(_on: boolean): void {}

  stats(): EngineStats {
    return { armed: this.wheel.size(), protocolErrors: 0, rounds: 0 }
  }

  takeAll(): Float64Array {
    this.reader.drain(this.commands)
    const taken: number[] = []
    this.wheel.takeAll((index, generation, when) => {
      taken.push(index, generation, when)
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
    const nowTick = Math.floor(this.now() * Shared.TICKS_PER_MS)
    const expired: number[] = []
    const more = this.wheel.poll(nowTick, (index, generation) => expired.push(index, generation), limit)
    this.afterPoll(more)
    if (expired.length > 0) this.deliver(Uint32Array.from(expired), nowTick)
  }

  /** Runs after each poll, before delivery (which may throw); `more`: due timers were left. */
  protected afterPoll(_more: boolean): void {}
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

  override published(earliest: number): void {
    super.published(earliest)
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
   * Makes sure the wheel is polled no later than its next expiration: by the Node timer, or,
   * when less than POLL_TURNS_MS is left (or a poll left timers due), at the next turn of the
   * loop (setImmediate). Node's timers count whole milliseconds from the loop's cached time, so
   * one fires up to a millisecond early or late; the last stretch is closed by turns of the
   * loop, or by a Node timer of one millisecond when more than POLL_TURNS_MS is left. Nothing
   * to do while a turn is already pending: it polls and schedules again.
   */
  private schedule(): void {
    if (this.closed || this.immediate !== undefined) return
    const next = this.wheel.nextExpiration()
    if (next === undefined) return
    const at = next / Shared.TICKS_PER_MS
    const left = at - this.now()
    if (left < POLL_TURNS_MS) {
      this.pollNextTurn()
      return
    }
    if (at >= this.timerAt) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    const wait = Math.min(Math.max(1, Math.floor(left)), MAX_NODE_DELAY)
    this.timer = setTimeout(this.onTimer, wait)
    if (!this.refd) this.timer.unref()
    this.timerAt = wait === MAX_NODE_DELAY ? this.now() + wait : at
  }

  private pollNextTurn(): void {
    this.immediate = setImmediate(this.onImmediate)
    if (!this.refd) this.immediate.unref()
  }

  protected override afterPoll(more: boolean): void {
    if (more && !this.closed) this.pollNextTurn()
    else this.schedule()
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
