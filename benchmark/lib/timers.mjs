// The timer operations of every engine that S1–S4 (and S5's shared callback) measure, behind one
// shape, so that a suite's loop is the same code whichever engine it drives:
//
//   arm(key, d)       a new timer of d ms; returns its handle
//   reset(handle, d)  re-arm a pending timer to d ms from now
//   stop(handle)      stop a pending timer
//   settle(spare)     resolves once the engine has applied every operation made so far
//
// | engine               | arm(key, d)                 | reset(h, d)        | stop(h)           |
// |----------------------|-----------------------------|--------------------|-------------------|
// | node                 | setTimeout(f, d)            | h.refresh()        | clearTimeout(h)   |
// | retimer              | retimer(f, d)               | h.reschedule(d)    | h.clear()         |
// | native, js           | time.afterFunc(d, f)        | h.reset(d)         | h.stop()          |
// | set-native, set-js   | set.reset(key, d); key      | set.reset(h, d)    | set.stop(h)       |
//
// The set engines are one `time.newTimerSet(f)` for the whole process: a timer's handle is its
// key, so `arm` needs a key that is not pending (suites use 0..N-1 for their N timers and N and
// up for fresh ones); the other engines ignore the key. Node's `refresh()` re-arms for the
// duration the Timeout was made with, which is what every suite asks of a reset (a timer is
// reset to its own duration).
//
// Each child process drives one engine, so every call site below sees one function: V8
// inlines it, and a loop through these calls runs as fast as the same loop written out per
// engine (checked when this module replaced the per-engine loops; the figures go in the notes).

import { settle as settleLib, immediate } from './common.mjs'

/** The engines these operations exist for. */
export const TIMER_ENGINES = ['native', 'js', 'node', 'retimer', 'set-native', 'set-js']

/** Whether `engine` is one TimerSet (`time.newTimerSet`) rather than one object per timer. */
export const isSet = (engine) => engine === 'set-native' || engine === 'set-js'

/**
 * The operations of `engine` on timers whose callback is `f` (for the set engines, the set's
 * callback: it gets the key). `lib` is what `loadEngine(engine)` returned.
 */
export function timerOps(engine, lib, f) {
  if (engine === 'node') {
    return {
      arm: (key, d) => setTimeout(f, d),
      reset: (t, d) => t.refresh(),
      stop: (t) => clearTimeout(t),
      settle: () => immediate(),
    }
  }
  if (engine === 'retimer') {
    const retimer = lib
    return {
      arm: (key, d) => retimer(f, d),
      reset: (t, d) => t.reschedule(d),
      stop: (t) => t.clear(),
      settle: () => immediate(),
    }
  }
  if (engine === 'native' || engine === 'js') {
    const afterFunc = lib.time.afterFunc
    return {
      arm: (key, d) => afterFunc(d, f),
      reset: (t, d) => t.reset(d),
      stop: (t) => t.stop(),
      settle: () => settleLib(lib),
    }
  }
  if (isSet(engine)) {
    const set = lib.time.newTimerSet(f)
    return {
      set,
      arm: (key, d) => {
        set.reset(key, d)
        return key
      },
      reset: (key, d) => set.reset(key, d),
      stop: (key) => set.stop(key),
      /**
       * A set has an engine of its own, which applies the set's commands in order: `spare`, a
       * key no timer of the suite uses, armed at 0 ms, fires (and stops being pending) only
       * after every earlier command was applied. Polled with `has`, so the set's callback stays
       * the suite's own.
       */
      settle: async (spare) => {
        set.reset(spare, 0)
        while (set.has(spare)) await immediate()
        await immediate()
      },
    }
  }
  throw new Error(`no timer operations for engine ${engine}`)
}
