/**
 * The `time` namespace: Go's `time.AfterFunc`, `Timer.Stop`, `Timer.Reset`, `Sleep`, `After`
 * and `NewTicker`, over a {@link Scheduler}. The contract, with every edge case, is
 * documented in `index.d.ts`.
 *
 * Every object here is a `Schedulable` of the scheduler (`_k` slot and UNREF bit, `_f` what
 * to run), so a timer, a ticker or a sleep is one object and one slot, and the scheduler
 * answers stop/reset/ref/unref for all of them the same way.
 */

import type { time as TimeApi } from '../index'
import { isContext } from './context'
import { parseDuration } from './duration'
import { checkFunction, describe, toDelay, toPeriod } from './errors'
import { S, type Schedulable, type Scheduler } from './scheduler'
import { createTick } from './tick'

/**
 * The error for a method called on an object that is not one of its class in this runtime
 * (`Object.getPrototypeOf(t).reset.call(other, 5)`, or a timer of another copy of afterfunc):
 * left unchecked, reset would arm the foreign object and the scheduler would later call its `_f`.
 */
function incompatible(cls: 'Timer' | 'Ticker', method: string, self: unknown): TypeError {
  const where = method === 'dispose' ? `${cls}[Symbol.dispose]` : `${cls}.${method}`
  return new TypeError(`${where}: called on ${describe(self)}, which is not a ${cls} made by this afterfunc`)
}

/** Builds a `time` namespace whose timers live in `scheduler`. */
export function createTime(scheduler: Scheduler): typeof TimeApi {
  const s = scheduler

  /** The `Timer` of this runtime: two fields, the methods on the prototype. */
  class Timer implements TimeApi.Timer {
    // Both fields are set in the constructor, not as class fields, which would compile to a
    // separate initializer that V8 inlines into every caller's loop: bytes counted against
    // its inlining budget (see `constants.ts`).
    /** Slot index and UNREF bit, owned by the scheduler. */
    declare _k: number
    /** The callback. */
    declare _f: () => void

    constructor(f: () => void) {
      this._k = 0
      this._f = f
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
      return (this._k & S.UNREF) === 0
    }

    [Symbol.dispose](): void {
      if (!(this instanceof Timer)) throw incompatible('Timer', 'dispose', this)
      s.stop(this)
    }
  }

  class Ticker implements TimeApi.Ticker {
    _k = 0
    /** What the scheduler runs at each tick: re-arm for the next grid point, then call the user. */
    readonly _f = (): void => {
      const now = s.clock()
      const period = this._period
      // The next grid point after now, so missed ticks are dropped, never queued. It is at most
      // one period away; when floating point says otherwise (a period so small that the tick
      // count overflows to Infinity, or rounding at the grid point), the next tick is simply
      // one period from now, which for a period under the engine's tick is the next tick.
      const delay = this._start + (Math.floor((now - this._start) / period) + 1) * period - now
      s.arm(this, delay > 0 && delay <= period ? delay : period)
      this._user()
    }
    private readonly _user: () => void
    private _period: number
    /** The clock time the grid counts from: tick k is due at `_start + k * _period`. */
    private _start: number

    constructor(period: number, f: () => void) {
      this._user = f
      this._period = period
      this._start = s.clock()
    }

    stop(): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'stop', this)
      s.stop(this)
    }

    reset(d: number): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'reset', this)
      const period = toPeriod(d, 'Ticker.reset')
      this._period = period
      this._start = s.clock()
      s.reset(this, period)
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
      return (this._k & S.UNREF) === 0
    }

    [Symbol.dispose](): void {
      if (!(this instanceof Ticker)) throw incompatible('Ticker', 'dispose', this)
      s.stop(this)
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
    s.arm(t, period)
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
        _k: 0,
        _f: () => {
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
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
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
  } as const)
}
