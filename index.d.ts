/**
 * afterfunc: Go's `time.AfterFunc`, `Timer.Stop` and `Timer.Reset` for Node.js, on a
 * hierarchical timing wheel that runs on its own thread (or, where the native binary cannot
 * load, on the event loop in TypeScript).
 *
 * Durations are numbers of milliseconds (fractions allowed), as with `setTimeout`; the
 * constants in {@link time} convert from Go's units. All timing is on the monotonic clock
 * (`performance.now()`): changes of the wall clock do not move any timer.
 *
 * @packageDocumentation
 */

/**
 * Which engine this process runs: `'native'`, the Rust timing wheel on its own thread, or
 * `'js'`, the TypeScript timing wheel on the event loop. Both give the same results. The
 * native engine is used when its binary loads; set `AFTERFUNC_BACKEND=js` to force the
 * TypeScript engine, or `AFTERFUNC_BACKEND=native` to fail at import when the binary cannot
 * load.
 */
export declare const backend: 'native' | 'js'

/** Timers, after Go's `time` package. */
export declare namespace time {
  /** One nanosecond, in milliseconds. */
  const Nanosecond: 1e-6
  /** One microsecond, in milliseconds. */
  const Microsecond: 1e-3
  /** One millisecond. */
  const Millisecond: 1
  /** One second, in milliseconds. */
  const Second: 1000
  /** One minute, in milliseconds. */
  const Minute: 60000
  /** One hour, in milliseconds. */
  const Hour: 3600000

  /**
   * A pending call of a function, created by {@link afterFunc}. Like Go's `*time.Timer`
   * for `AfterFunc` (there is no channel).
   *
   * The engine holds a pending timer: it fires even if nothing else references the `Timer`.
   * Once it has fired or was stopped, the engine drops it (and so its callback), unless
   * `reset` arms it again.
   */
  interface Timer {
    /**
     * Prevents the timer from firing. Returns `true` if this call stopped the timer, `false`
     * if it had already fired (its callback ran or is running) or had been stopped.
     *
     * After `stop()` returned `true` the callback does not run for this arming, even if the
     * deadline had already passed and the callback was about to be called. Calling `stop()`
     * again returns `false`. Stop does not wait for a callback that is already running.
     */
    stop(): boolean

    /**
     * Changes the timer to fire `d` milliseconds from now. Returns `true` if the timer had
     * been active, `false` if it had fired or been stopped; either way it is armed again and
     * its callback runs once more, no earlier than `d` from this call. The last `reset`
     * wins. Calling `reset` from inside the callback arms the next run.
     *
     * `d` follows the rules of {@link afterFunc}. Throws a `TypeError`, changing nothing, if
     * `d` is not a number or is NaN.
     */
    reset(d: number): boolean

    /**
     * Makes the timer keep the process alive while it is pending (the default). Returns the
     * timer. Repeated calls do nothing more.
     */
    ref(): Timer

    /**
     * Lets the process exit while the timer is pending, as `setTimeout(...).unref()` does; if
     * the process is still running at the deadline the timer fires as usual. Returns the
     * timer. The setting survives `stop` and `reset`.
     */
    unref(): Timer

    /** Whether the timer keeps the process alive while pending: `true` unless `unref` was called last. */
    hasRef(): boolean
  }

  /**
   * Waits for the duration `d` to elapse and then calls `f` on the event loop. Returns a
   * {@link Timer} that can cancel the call with `stop` or reschedule it with `reset`.
   *
   * `f` is called once, never from inside `afterFunc` or any other call of this library, and
   * never early: no earlier than `d` milliseconds after `afterFunc` was called, measured on
   * the monotonic clock (a `performance.now()` taken before the call, plus `d`, is at most
   * `performance.now()` inside `f`).
   *
   * Precisely, the deadline is `d` after the end of the synchronous run of JavaScript that
   * called `afterFunc`: the timer changes a run makes reach the engine together, in a
   * microtask, with one clock reading taken then. So a timer is late by at most the rest of
   * that run (Node's `setTimeout` instead measures from the start of the turn, and so fires
   * early). Deadlines are then rounded up to the engine's 1 ms tick. Timers run in deadline
   * order; timers whose deadlines fall in the same tick run in the order they were armed or
   * last reset. Go leaves that order unspecified; afterfunc guarantees it.
   *
   * A zero or negative `d` (and `-0`) fires as soon as possible, still asynchronously.
   * Fractions of a millisecond count. Durations longer than 2^31-1 ms are not clamped to 1 ms
   * as `setTimeout` does: up to Go's largest duration (2^63-1 ns, about 292 years) the timer
   * waits that long, and longer durations, `Infinity` included, wait that maximum.
   *
   * If `f` throws, the error surfaces as an `uncaughtException`, as from a `setTimeout`
   * callback; other timers due at the same time still run, at the latest on the next turn of
   * the event loop.
   *
   * Throws a `TypeError`, creating nothing, if `d` is not a number or is NaN, or if `f` is
   * not a function.
   */
  function afterFunc(d: number, f: () => void): Timer
}
