/**
 * The `time` namespace: Go's `time.AfterFunc`, `Timer.Stop`, `Timer.Reset`, over a
 * {@link Scheduler}. The contract, with every edge case, is documented in `index.d.ts`.
 */

import type { time as TimeApi } from '../index'
import { checkFunction, toDelay } from './errors'
import { UNREF, type Scheduler } from './scheduler'

/** Builds a `time` namespace whose timers live in `scheduler`. */
export function createTime(scheduler: Scheduler): typeof TimeApi {
  const s = scheduler

  /** The `Timer` of this runtime: two fields, the methods on the prototype. */
  class Timer implements TimeApi.Timer {
    /** Slot index and UNREF bit, owned by the scheduler. */
    _k = 0
    /** The callback. */
    _f: () => void

    constructor(f: () => void) {
      this._f = f
    }

    stop(): boolean {
      return s.stop(this)
    }

    reset(d: number): boolean {
      return s.reset(this, toDelay(d, 'Timer.reset'))
    }

    ref(): this {
      s.ref(this)
      return this
    }

    unref(): this {
      s.unref(this)
      return this
    }

    hasRef(): boolean {
      return (this._k & UNREF) === 0
    }
  }

  function afterFunc(d: number, f: () => void): TimeApi.Timer {
    const delay = toDelay(d, 'time.afterFunc')
    checkFunction(f, 'time.afterFunc')
    const t = new Timer(f)
    s.arm(t, delay)
    return t
  }

  return Object.freeze({
    Nanosecond: 1e-6,
    Microsecond: 1e-3,
    Millisecond: 1,
    Second: 1000,
    Minute: 60000,
    Hour: 3600000,
    afterFunc,
  } as const)
}
