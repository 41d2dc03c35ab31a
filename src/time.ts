/**
 * The `time` namespace: Go's `time.AfterFunc`, `Timer.Stop`, `Timer.Reset`, `Sleep`, `After`
 * and `NewTicker`, over a {@link Scheduler}. The contract, with every edge case, is
 * documented in `index.d.ts`.
 *
 * Every object here is a `Schedulable` of the scheduler (`_slotRef`, its slot and ref flag;
 * `_run`, what to run), so a timer, a ticker or a sleep is one object and one slot, and the
 * scheduler answers stop/reset/ref/unref for all of them the same way.
 */

import type { time as TimeApi } from '../index'
import { isContext } from './context'
import { checkFunction, describe, isAbortSignal, toDelay, toPeriod } from './arguments'
import { Shared } from './constants'
import { parseDuration } from './duration'
import type { Scheduler } from './scheduler'
import { type Schedulable, UNREF } from './slots'
import { createTick } from './tick'

/**
 * The error for a method called on an object that is not one of its class in this runtime
 * (`Object.getPrototypeOf(t).reset.call(other, 5)`, or a timer of another copy of afterfunc):
 * left unchecked, reset would arm the foreign object and the scheduler would later call its `_run`.
 */
function incompatible(cls: 'Timer' | 'Ticker', method: string, self: unknown): TypeError {
  const where = method === 'dispose' ? `${cls}[Symbol.dispose]` : `${cls}.${method}`
  return new TypeError(`${where}: called on ${describe(self)}, which is not a ${cls} made by this afterfunc`)
}

/** Builds a `time` namespace whose timers live in `scheduler`. */
export function createTime(scheduler: Scheduler, newTimerSet: typeof TimeApi.newTimerSet): typeof TimeApi {
  const s = scheduler

  /** The `Timer` of this runtime: two fields, the methods on the prototype. */
  class Timer implements TimeApi.Timer {
    /** Slot index and UNREF bit, owned by the scheduler. */
    _slotRef = 0
    /** The callback. */
    _run: () => void

    constructor(f: () => void) {
      this._run = f
    }

    stop(): boolean {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'stop', this)
      return s.stop(this)
    }

    reset(d: number): boolean {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'reset', this)
      return s.reset(this, toDelay(d, 'Timer.reset'))
    }

    ref(): this {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'ref', this)
      s.ref(this)
      return this
    }

    unref(): this {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'unref', this)
      s.unref(this)
      return this
    }

    hasRef(): boolean {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'hasRef', this)
      return (this._slotRef & UNREF) === 0
    }

    [Symbol.dispose](): void {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'dispose', this)
      s.stop(this)
    }
  }

  /** A ticker's callback is not running. */
  const IDLE = 0
  /** It is running. */
  const RUNNING = 1
  /** It is running, and `stop` was called since it started. */
  const STOPPED_WHILE_RUNNING = 2

  class Ticker implements TimeApi.Ticker {
    _slotRef = 0
    /**
     * What the scheduler runs at each tick: call the user, then arm the first point of the
     * grid still ahead, as a time rather than a delay, so the ticks stay on the grid however
     * long the callback took (Go re-arms from the grid too). Not if the callback stopped the
     * ticker or reset it (which armed it already), and also if the callback threw.
     */
    readonly _run = (): void => {
      this._running = RUNNING
      try {
        this._user()
      } finally {
        const stopped = this._running === STOPPED_WHILE_RUNNING
        this._running = IDLE
        if (!stopped && !s.isPending(this)) s.resetAt(this, this._nextTick())
      }
    }
    /** Whether the callback runs, and whether `stop` was called meanwhile. */
    private _running = IDLE
    private readonly _user: () => void
    private _period: number
    /** The clock time the grid counts from: tick k is due at `_start + k * _period`. */
    private _start: number

    constructor(period: number, f: () => void) {
      this._user = f
      this._period = period
      this._start = s.clock()
    }

    /**
     * The first point of the grid after now, so ticks missed by a late callback are dropped,
     * never queued; and at least the next engine tick, so a period shorter than a tick ticks
     * once per tick. When floating point gives no grid point within one period from now (a
     * period so small that the count of ticks overflows) or the clock changed under the grid (a
     * virtual clock came or went), the grid starts again from now.
     */
    _nextTick(): number {
      const now = s.clock()
      const period = this._period
      let next = this._start + (Math.floor((now - this._start) / period) + 1) * period
      if (!(next > now && next <= now + period)) {
        this._start = now
        next = now + period
      }
      const firstLaterTick = Math.floor(now * Shared.TICKS_PER_MS) + 1
      if (Math.ceil(next * Shared.TICKS_PER_MS) < firstLaterTick) next = firstLaterTick / Shared.TICKS_PER_MS
      return next
    }

    stop(): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'stop', this)
      if (this._running === RUNNING) this._running = STOPPED_WHILE_RUNNING
      s.stop(this)
    }

    reset(d: number): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'reset', this)
      this._period = toPeriod(d, 'Ticker.reset')
      this._start = s.clock()
      s.resetAt(this, this._nextTick())
    }

    ref(): this {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'ref', this)
      s.ref(this)
      return this
    }

    unref(): this {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'unref', this)
      s.unref(this)
      return this
    }

    hasRef(): boolean {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'hasRef', this)
      return (this._slotRef & UNREF) === 0
    }

    [Symbol.dispose](): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'dispose', this)
      this.stop()
    }
  }

  function afterFunc(d: number, f: () => void): TimeApi.Timer {
    const delay = toDelay(d, 'time.afterFunc')
    checkFunction(f, 'time.afterFunc')
    const t = new Timer(f)
    s.arm(t, delay)
    return t
  }

  function newTicker(d: number, f: () => void): TimeApi.Ticker {
    const period = toPeriod(d, 'time.newTicker')
    checkFunction(f, 'time.newTicker')
    const t = new Ticker(period, f)
    s.resetAt(t, t._nextTick())
    return t
  }

  /** The shared body of sleep and after: arguments already checked. */
  function wait(delay: number, ctx: TimeApi.SleepOptions['ctx'], signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A done context's signal is already aborted, with reason cause(ctx).
      const ctxSignal = ctx?.signal
      if (signal?.aborted) return reject(signal.reason)
      if (ctxSignal?.aborted) return reject(ctxSignal.reason)
      const onAbort = function (this: AbortSignal): void {
        if (!s.stop(timer)) return
        cleanup()
        reject(this.reason)
      }
      const cleanup = (): void => {
        signal?.removeEventListener('abort', onAbort)
        ctxSignal?.removeEventListener('abort', onAbort)
      }
      const timer: Schedulable = {
        _slotRef: 0,
        _run: () => {
          cleanup()
          resolve()
        },
      }
      s.arm(timer, delay)
      signal?.addEventListener('abort', onAbort, { once: true })
      ctxSignal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  function sleep(d: number, opts?: TimeApi.SleepOptions): Promise<void> {
    const delay = toDelay(d, 'time.sleep')
    if (opts === undefined) return wait(delay, undefined, undefined)
    if (typeof opts !== 'object' || opts === null) {
      throw new TypeError(`time.sleep: opts must be an object or undefined, got ${describe(opts)}`)
    }
    const { ctx, signal } = opts
    if (ctx !== undefined && !isContext(ctx)) {
      throw new TypeError(`time.sleep: opts.ctx must be a context made by afterfunc's context namespace, got ${describe(ctx)}`)
    }
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw new TypeError(`time.sleep: opts.signal must be an AbortSignal, got ${describe(signal)}`)
    }
    return wait(delay, ctx, signal)
  }

  function after(d: number): Promise<void> {
    return wait(toDelay(d, 'time.after'), undefined, undefined)
  }

  return Object.freeze({
    Nanosecond: 1e-6,
    Microsecond: 1e-3,
    Millisecond: 1,
    Second: 1000,
    Minute: 60000,
    Hour: 3600000,
    afterFunc,
    sleep,
    after,
    newTicker,
    parseDuration,
    tick: createTick({ newTicker, now: () => s.clock() }),
    newTimerSet,
  } as const)
}
