/// <reference lib="esnext.disposable" />
/**
 * afterfunc: Go's `time.AfterFunc`, `Timer.Stop` and `Timer.Reset` for Node.js, on a
 * hierarchical timing wheel that runs on its own thread (or, where the native binary cannot
 * load, on the event loop in TypeScript), and Go's `context` package on the same timers
 * ({@link context}).
 *
 * Durations are numbers of milliseconds (fractions allowed), as with `setTimeout`; the
 * constants in {@link time} convert from Go's units. All timing is on the monotonic clock
 * (`performance.now()`): changes of the wall clock do not move any timer.
 *
 * @packageDocumentation
 */

/**
 * The environment's `AbortSignal`: Node's (`@types/node`) or the DOM's when either is loaded;
 * otherwise the part of it afterfunc reads, so these types check in a project that has neither.
 */
type AbortSignalType = typeof globalThis extends { AbortSignal: { prototype: infer Signal } }
  ? Signal
  : {
      readonly aborted: boolean
      readonly reason: any
      addEventListener(type: 'abort', listener: (this: any, event: any) => any, options?: { once?: boolean }): void
      removeEventListener(type: 'abort', listener: (this: any, event: any) => any): void
    }

/** A signal's name, as Node's `process.on` and `process.kill` take it (`NodeJS.Signals`). */
type SignalName =
  | 'SIGABRT' | 'SIGALRM' | 'SIGBUS' | 'SIGCHLD' | 'SIGCONT' | 'SIGFPE' | 'SIGHUP' | 'SIGILL' | 'SIGINT'
  | 'SIGIO' | 'SIGIOT' | 'SIGKILL' | 'SIGPIPE' | 'SIGPOLL' | 'SIGPROF' | 'SIGPWR' | 'SIGQUIT' | 'SIGSEGV'
  | 'SIGSTKFLT' | 'SIGSTOP' | 'SIGSYS' | 'SIGTERM' | 'SIGTRAP' | 'SIGTSTP' | 'SIGTTIN' | 'SIGTTOU'
  | 'SIGUNUSED' | 'SIGURG' | 'SIGUSR1' | 'SIGUSR2' | 'SIGVTALRM' | 'SIGWINCH' | 'SIGXCPU' | 'SIGXFSZ'
  | 'SIGBREAK' | 'SIGLOST' | 'SIGINFO'

/**
 * The part of a request to a `node:http`, `node:https` or `node:http2` server
 * (`IncomingMessage`, `Http2ServerRequest`) that {@link http.requestContext} reads, so that
 * these types check without `@types/node`; Node's own types satisfy it.
 */
interface HttpServerRequest {
  readonly complete: boolean
  readonly destroyed: boolean
  on(event: 'close', listener: () => void): unknown
  removeListener(event: 'close', listener: () => void): unknown
}

/** The part of a server's response (`ServerResponse`, `Http2ServerResponse`) that {@link http.requestContext} reads. */
interface HttpServerResponse {
  readonly writableFinished: boolean
  on(event: 'finish' | 'close', listener: () => void): unknown
  removeListener(event: 'finish' | 'close', listener: () => void): unknown
}

/** The part of a `net.Server` (and so of `http.Server`, `https.Server`, `http2` servers) that {@link http.shutdown} reads. */
interface NetServer {
  readonly listening: boolean
  close(callback?: (err?: Error) => void): unknown
  getConnections(callback: (err: Error | null, count: number) => void): unknown
  on(event: 'close', listener: () => void): unknown
  removeListener(event: 'close', listener: () => void): unknown
}

/** Brands a {@link context.Context}: only contexts made by the `context` namespace have it. */
declare const contextBrand: unique symbol

/** Carries the value type of a {@link context.Key}; it exists only in the types. */
declare const keyValueType: unique symbol

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
   *
   * Its methods check their receiver: called on anything but a `Timer` of this copy of
   * afterfunc (`Timer.prototype.reset.call(other, 5)`), they throw a `TypeError` and change
   * nothing.
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

    /** Calls {@link stop} (ignoring its result), so `using t = time.afterFunc(...)` stops the timer at the end of the scope. */
    [Symbol.dispose](): void
  }

  /**
   * Waits for the duration `d` to elapse and then calls `f` on the event loop. Returns a
   * {@link Timer} that can cancel the call with `stop` or reschedule it with `reset`.
   *
   * `f` is called once, never from inside `afterFunc` or any other call of this library
   * (except a virtual clock's `advance` and `runAll`, whose job is to run due callbacks), and
   * never early: no earlier than `d` milliseconds after `afterFunc` was called, measured on
   * the monotonic clock (a `performance.now()` taken before the call, plus `d`, is at most
   * `performance.now()` inside `f`).
   *
   * Precisely, the deadline is `d` after the end of the synchronous run of JavaScript that
   * called `afterFunc`: the timer changes a run makes reach the engine together, in a
   * microtask, with one clock reading taken then. So a timer is late by at most the rest of
   * that run (Node's `setTimeout` instead measures from the start of the turn, and so fires
   * early). Deadlines are then rounded up to the engine's tick of 1/8 ms. While timers keep
   * expiring, the native engine's thread wakes at most once per millisecond, so a timer due
   * less than 1 ms after the last expired timers were handed to JavaScript may run up to that
   * millisecond after its tick (never before it). Timers run in deadline
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
   * the event loop. What `f` returns is ignored: a promise it returns (an `async` function's)
   * is not awaited, so its rejection surfaces as an `unhandledRejection`, not an
   * `uncaughtException` (Node's default for either ends the process); catch inside `f`. The
   * same holds for every callback this library calls.
   *
   * Throws a `TypeError`, creating nothing, if `d` is not a number or is NaN, or if `f` is
   * not a function.
   */
  function afterFunc(d: number, f: () => void): Timer

  /**
   * Options of {@link sleep}: what can end the sleep early.
   */
  interface SleepOptions {
    /** Rejects the sleep with `context.cause(ctx)` as soon as `ctx` is done. */
    ctx?: context.Context
    /** Rejects the sleep with `signal.reason` as soon as `signal` aborts. */
    signal?: AbortSignalType
  }

  /**
   * Returns a promise that resolves, with `undefined`, `d` milliseconds from now, never
   * earlier (the rules of {@link afterFunc}: `d ≤ 0` resolves as soon as possible, long
   * durations are not clamped). Like Go's `time.Sleep`, but it blocks nothing.
   *
   * If `opts.ctx` is done or `opts.signal` aborts first, the promise rejects with
   * `context.cause(ctx)` or `signal.reason`, and the timer is stopped at once; if either is
   * already the case at the call, the promise rejects (asynchronously, as promises do) and no
   * timer is armed. Whatever settles it, nothing is left registered on the context or the
   * signal. The pending sleep keeps the process alive.
   *
   * Throws a `TypeError`, creating nothing, if `d` is not a number or is NaN, if `opts` is
   * neither `undefined` nor an object, if `opts.ctx` is not a context of this library or
   * `opts.signal` not an `AbortSignal` (one the runtime made: an object that merely inherits
   * from `AbortSignal.prototype` is not).
   */
  function sleep(d: number, opts?: SleepOptions): Promise<void>

  /**
   * Returns a promise that resolves, with `undefined`, `d` milliseconds from now: Go's
   * `<-time.After(d)` as a promise. The timer is released when the promise settles, so unlike
   * Go's `time.After` in a loop nothing accumulates. Equivalent to `sleep(d)`; throws a
   * `TypeError` if `d` is not a number or is NaN.
   */
  function after(d: number): Promise<void>

  /**
   * Calls a function every period, created by {@link newTicker}. Like Go's `*time.Ticker`
   * (there is no channel: the callback is the tick).
   *
   * Ticks fall on a grid, start + k·period, and never drift. A period shorter than the
   * engine's tick (1/8 ms) gives one tick per engine tick (under a virtual clock, exactly; in
   * real time, as often as the engine wakes: about once per millisecond on the native engine,
   * which wakes at most that often while timers keep expiring). Missed ticks are dropped, as
   * in Go. As with {@link Timer}, the methods
   * throw a `TypeError` on a receiver that is not a `Ticker` of this copy of afterfunc.
   */
  interface Ticker {
    /**
     * Turns the ticker off: after `stop()` returns, the callback is not called again, not even
     * for a tick that was already due, until {@link reset} turns it on again (as in Go).
     * Repeated calls do nothing more. Does not wait for a callback that is running.
     */
    stop(): void

    /**
     * Stops the ticker and restarts it with period `d`: the next tick comes `d` from now, then
     * every `d` after that. Also restarts a stopped ticker (as Go's `Ticker.Reset` does).
     * Throws, changing nothing, a `TypeError` if `d` is not a number or is NaN and a
     * `RangeError` if `d ≤ 0` (Go panics).
     */
    reset(d: number): void

    /** Makes the ticker keep the process alive (the default). Returns the ticker. */
    ref(): Ticker

    /** Lets the process exit while the ticker runs. Returns the ticker. The setting survives `stop` and `reset`. */
    unref(): Ticker

    /** Whether the ticker keeps the process alive: `true` unless `unref` was called last. */
    hasRef(): boolean

    /** Calls {@link stop}, so `using t = time.newTicker(...)` stops the ticker at the end of the scope. */
    [Symbol.dispose](): void
  }

  /**
   * Calls `f` every `d` milliseconds, on a fixed grid: the k-th tick is due `k·d` after this
   * call (never earlier), so ticks do not drift however late each one runs. If `f` is slower
   * than `d`, or the event loop is busy, the ticks missed meanwhile are dropped, as Go's
   * Ticker drops ticks its reader did not take: the next tick is the next grid point still
   * ahead. `f` runs like an {@link afterFunc} callback (asynchronously; a throw is an
   * `uncaughtException`, and the ticker goes on).
   *
   * Throws, creating nothing, a `TypeError` if `d` is not a number or is NaN or `f` is not a
   * function, and a `RangeError` if `d ≤ 0` (Go panics).
   */
  function newTicker(d: number, f: () => void): Ticker

  /**
   * Parses a duration string and returns it in milliseconds: Go's `time.ParseDuration`. A
   * duration string is a possibly signed sequence of decimal numbers, each with an optional
   * fraction and a unit suffix, such as `'300ms'`, `'-1.5h'` or `'1h15m30.5s'`; the units are
   * `'ns'`, `'us'` (or `'µs'`, `'μs'`), `'ms'`, `'s'`, `'m'` and `'h'`. `'0'` (also `'+0'`,
   * `'-0'`) is the one number without a unit. The grammar is Go's exactly:
   * `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, with a digit before or after each point (`'1.s'` and
   * `'.5s'` are valid, `'.s'` is not) and no exponents (`'1e3s'` is the unit `'e'`).
   *
   * The value is Go's: whole nanoseconds computed as Go computes them (a fraction truncated to
   * the nanosecond), then the double nearest to that many nanoseconds in milliseconds, so
   * `parseDuration('2us')` is `0.002` and `parseDuration('1h')` is `time.Hour`. Never `-0`.
   *
   * Throws a `TypeError` if `s` is not a string, and, where Go returns an error, a `RangeError`
   * with Go's message, `time:` replaced by the name of this function:
   * `time.parseDuration: invalid duration "1.2.3"` for a string outside the grammar or a
   * duration beyond Go's range (±2^63 ns, about 292 years: `'9223372036854775807ns'` is the
   * largest, `'-9223372036854775808ns'` the smallest), `missing unit in duration "3"`, and
   * `unknown unit "e" in duration "1e3s"` (units are case-sensitive).
   */
  function parseDuration(s: string): number

  /** Options of {@link tick}: what ends the iteration. */
  interface TickOptions {
    /** Ends the iteration as soon as `ctx` is done. */
    ctx?: context.Context
    /** Ends the iteration as soon as `signal` aborts. */
    signal?: AbortSignalType
  }

  /**
   * Returns an async iterator over the ticks of a ticker with period `d`: Go's `time.Tick`, for
   * `for await` loops. It is its own async iterable, like a generator: iterate it once.
   *
   * ```js
   * for await (const now of time.tick(time.Second, { ctx })) {
   *   report(now) // every second, until ctx is done; then the loop just ends
   * }
   * ```
   *
   * The ticker is a {@link newTicker} ticker, started by the first `next()` (a `for await`
   * loop makes that call at once): the k-th tick is due `k·d` after it, never earlier, on a
   * grid that does not drift. Each tick yields the time it fired, on the scheduler's monotonic
   * clock in milliseconds: `performance.now()`'s scale, or {@link testing.VirtualClock.now}
   * under a virtual clock (Go sends `time.Now()`).
   *
   * If the loop body takes longer than `d`, the ticks missed meanwhile are dropped as Go's
   * Ticker drops them: one tick that fired while the body ran is kept (Go's channel holds one)
   * and is yielded as soon as the loop asks, with the time it fired; the ticks after it are
   * dropped, and the loop continues on the grid.
   *
   * The iteration ends when `opts.ctx` is done or `opts.signal` aborts (synchronously, inside
   * the cancellation: no tick is yielded after it, and a kept tick is dropped), or when
   * `return()` is called, which a `break`, a `return` or a throw out of the loop does. Ending
   * is not an error: `next()` returns `{ done: true, value: undefined }`, a pending `next()`
   * resolves so, and the loop exits normally; read `ctx.err()` after it to know why. Once it
   * has ended the ticker is stopped and the listeners on the context and the signal are
   * removed: nothing of it stays registered. `return()` returns `{ done: true, value:
   * undefined }`; calls after the end do nothing more. Until the first `next()` nothing is
   * armed or registered; if `ctx` or `signal` is already done then, the iteration ends at once
   * and arms nothing.
   *
   * Without `ctx` or `signal` the loop never ends (nor does Go's `for range time.Tick(d)`)
   * and its ticker keeps the process alive. Several `next()` calls in flight are each resolved
   * by one tick, in order.
   *
   * Throws, creating nothing, a `TypeError` if `d` is not a number or is NaN, if `opts` is
   * neither `undefined` nor an object, if `opts.ctx` is not a context of this library or
   * `opts.signal` not an `AbortSignal`; and a `RangeError` if `d ≤ 0` (Go's `Tick` returns a
   * nil channel, which never delivers; `NewTicker` panics).
   */
  function tick(d: number, opts?: TickOptions): TickIterator

  /** What {@link tick} returns: an async iterator that is its own async iterable. */
  interface TickIterator extends AsyncIterableIterator<number, undefined> {
    /**
     * Resolves with the next tick, `{ value: time, done: false }`, or with `{ value: undefined,
     * done: true }` once the iteration has ended. The first call starts the ticker.
     */
    next(): Promise<IteratorResult<number, undefined>>
    /**
     * Ends the iteration, as a `break` out of a `for await` loop does: stops the ticker and
     * removes the listeners. Resolves with `{ value: undefined, done: true }`.
     */
    return(): Promise<IteratorReturnResult<undefined>>
    [Symbol.asyncIterator](): TickIterator
  }

  /**
   * A set of timers named by integer keys, with one callback for the whole set, made by
   * {@link newTimerSet}: a timer per connection, per cache entry or per session, where the
   * caller already numbers them, with no object and no closure per timer. Each key has at most
   * one pending timer; every method acts on that timer with the semantics of a {@link Timer}.
   *
   * Keys are integers `0 <= key < 2^31`. Memory grows with the largest key used (about 20
   * bytes per key up to it, natively, whether pending or not), so use dense keys: indices the
   * caller reuses, not ids that grow forever.
   *
   * The methods check their receiver: called on anything but a set of this copy of afterfunc,
   * they throw a `TypeError` and change nothing.
   */
  interface TimerSet {
    /**
     * Arms `key`'s timer to fire `d` milliseconds from now, or moves it there if it is pending.
     * Returns `true` if it was pending, `false` if not (never armed, fired, or stopped); either
     * way it is armed again and `f(key)` runs once more, no earlier than `d` from this call. `d`
     * follows the rules of {@link afterFunc}. Throws, changing nothing, a `TypeError` if `key`
     * is not a number or `d` is not a number or is NaN, and a `RangeError` if `key` is not an
     * integer in `0..2^31-1`.
     */
    reset(key: number, d: number): boolean

    /**
     * Prevents `key`'s pending timer from firing. Returns `true` if this call stopped it, `false`
     * if it was not pending (it fired, was stopped, or was never armed). After `true`, `f(key)`
     * does not run for that arming, even if it was due. Does not wait for a callback that is
     * already running. Throws as {@link reset} does for a bad key.
     */
    stop(key: number): boolean

    /** Whether `key`'s timer is pending. Throws as {@link reset} does for a bad key. */
    has(key: number): boolean

    /** The number of pending timers. */
    readonly size: number

    /**
     * Makes the set's pending timers keep the process alive (the default). Returns the set.
     * Repeated calls do nothing more.
     */
    ref(): TimerSet

    /** Lets the process exit while the set has pending timers. Returns the set. The setting stays until {@link ref}. */
    unref(): TimerSet

    /** Whether the set's pending timers keep the process alive: `true` unless {@link unref} was called last. */
    hasRef(): boolean

    /**
     * Stops every pending timer of the set (none of their callbacks runs), and releases the
     * set's engine (its thread, natively) until the next {@link reset}. The set stays usable.
     * Repeated calls do nothing more.
     */
    [Symbol.dispose](): void
  }

  /**
   * Returns a new, empty {@link TimerSet} whose expired timers call `f(key)`: once per expiry,
   * asynchronously, never early, in deadline order and FIFO among equal deadlines (across the
   * set's keys), like {@link afterFunc} callbacks. `f` may call any method of the set,
   * `reset(key, …)` included, which arms the key again. A throw from `f` is an
   * `uncaughtException` and the other expired keys still run.
   *
   * Each set has an engine of its own (with the native engine, a thread of its own), created
   * at its first `reset`, so make one set per purpose (one per server, say), not one per
   * timer. A set with pending timers fires even if nothing else refers to it; once it has
   * none and the caller lets it go, its engine is released. Throws a `TypeError` if `f` is not
   * a function.
   */
  function newTimerSet(f: (key: number) => void): TimerSet
}

/**
 * Cancellation, deadlines and request-scoped values, after Go's `context` package (Go 1.21+).
 *
 * Contexts form a tree: each context made by a `with…` function is a child of its parent.
 * When a context is done, every context derived from it is done too, synchronously, inside
 * the call that made it done; a context never makes its parent done. Deadlines are timers of
 * this library's engine (never Node timers), so they are never early and not clamped.
 *
 * ```js
 * const [ctx, cancel] = context.withTimeout(context.background(), 5 * time.Second)
 * try {
 *   const res = await fetch(url, { signal: ctx.signal }) // aborts with reason context.cause(ctx)
 * } finally {
 *   cancel() // always: it stops the timer and releases the context
 * }
 * ```
 *
 * As in Go, call the cancel function a `with…` function returns as soon as the work the
 * context governs is finished: until it is called, the context stays registered with its
 * nearest cancelable ancestor (and so stays in memory as long as that ancestor does), and a
 * deadline's timer stays pending and keeps the process alive.
 *
 * Contexts made by different runtimes (the package, each worker, each test runtime) mix
 * freely: a context is recognized by an internal brand, and objects that merely look like a
 * context are rejected. Where this differs from Go on purpose:
 *
 * - `done()` is a promise, not a channel; for a context that can never be done it is a
 *   promise that never settles (Go returns a nil channel).
 * - {@link context.Context.signal} and {@link context.fromSignal} connect contexts with
 *   `AbortSignal`, so a context can be handed to `fetch` and every Node API that takes a
 *   signal.
 * - A cause is any value, not only an error; `undefined` and `null` stand for Go's nil.
 * - {@link context.afterFunc} callbacks run on the event loop, one at a time, in order; `stop()`
 *   still prevents a callback whose context is done but which has not started yet.
 * - Bad input is a `TypeError` at the call (Go panics, or, for a nil parent, crashes later).
 *   A zero or negative timeout is not an error: the context is done at birth.
 * - Custom implementations of the `Context` interface are not accepted as parents.
 */
export declare namespace context {
  /**
   * Carries a deadline, a cancellation signal and request-scoped values. Like Go's
   * `context.Context`. Contexts are made only by this namespace; each method answers for the
   * whole chain of parents.
   */
  interface Context {
    /** Marks contexts made by this namespace; an object literal with the same methods is not a `Context`. */
    readonly [contextBrand]: true

    /**
     * Returns the time at which this context will be done with {@link DeadlineExceeded}
     * (unless it is done sooner), or `undefined` if it has no deadline. Each call returns a
     * new `Date` (Dates are mutable) for the same instant, before and after the context is
     * done.
     *
     * A context made by `withCancel`, `withCancelCause` or `withValue` has its parent's
     * deadline; `background()`, `todo()`, `withoutCancel` and `fromSignal` contexts have none.
     */
    deadline(): Date | undefined

    /**
     * Returns a promise that resolves, with `undefined`, once the context is done. It never
     * rejects. Every call returns the same promise; it is created by the first call (already
     * resolved if the context is done by then).
     *
     * The context is done (and {@link err} is set) synchronously inside the call that made it
     * done; as with any promise, code awaiting `done()` resumes later, in a microtask.
     *
     * For a context that can never be done (`background()`, `todo()`, `withoutCancel`, and
     * `withValue` over those) it is a promise that never settles (Go returns a nil channel);
     * it is shared, and held only while something references it, so a `Promise.race`
     * against it leaves nothing behind once the race is dropped.
     *
     * Each `Promise.race([ctx.done(), work])` leaves a reaction on `ctx.done()` until the
     * context is done. For a long-lived context raced many times, prefer {@link signal} or
     * {@link afterFunc} with `stop()`, which can be undone.
     */
    done(): Promise<void>

    /**
     * Returns `undefined` while the context is not done; once it is, {@link Canceled} if it
     * was cancelled (by a cancel function, by an ancestor, or by the signal of
     * {@link fromSignal}) or {@link DeadlineExceeded} if its deadline (or an ancestor's)
     * passed, and then always the same value: the first cancellation wins.
     *
     * A context derived from a done context reports the same error as that context, from the
     * moment it is made.
     */
    err(): CanceledError | DeadlineExceededError | undefined

    /**
     * Returns the value that the nearest `withValue` on the chain from this context up to
     * its root associated with `key`, or `undefined` if there is none. Keys compare as `Map`
     * keys do (`SameValueZero`): strings and numbers by value, symbols and objects by
     * identity. Use a private symbol or object as the key to avoid collisions. Values pass
     * through every kind of context, `withoutCancel` included.
     */
    value<T>(key: Key<T>): T | undefined
    value(key: unknown): unknown

    /**
     * An `AbortSignal` that aborts when the context is done, with `reason` equal to
     * `cause(ctx)`: hand it to `fetch`, `events.once`, `timers/promises`, streams or any API
     * that takes a signal. Created on first read; every read returns the same signal. If the
     * context is already done at the first read, the signal is already aborted.
     *
     * What such an API rejects with is its own choice: `fetch` rejects with the reason itself
     * (`err === context.cause(ctx)`, so `err === context.DeadlineExceeded` at a deadline);
     * Node's own APIs (`events.once`, `timers/promises`, `stream.pipeline`, `fs.promises`,
     * `child_process`, `readline`) reject with an `AbortError` (`code: 'ABORT_ERR'`) whose
     * `cause` is the reason. `AbortSignal.any([ctx.signal, …])` aborts with the reason.
     *
     * Its `'abort'` listeners run synchronously inside the call that made the context done,
     * after the whole subtree is done (so every descendant's `err()` is set), ancestors'
     * signals first. A listener that throws is reported as an uncaught exception by Node and
     * does not stop the other listeners or the cancellation.
     *
     * For a context that can never be done: a signal that never aborts. A `withValue` context
     * returns the signal of the cancelable context it derives from. It is an ordinary
     * `AbortSignal`: Node warns (`MaxListenersExceededWarning`) when more listeners than
     * `events.defaultMaxListeners` are attached at once; raise the limit with
     * `events.setMaxListeners(n, ctx.signal)` for a context shared that widely.
     *
     * Cost: on Node 20 creating an `AbortSignal` takes about 3 µs and aborting it about 2 µs
     * (Node's, measured on the benchmark machine), more than the rest of a `withTimeout` +
     * `cancel` (about 0.2 µs). Read `signal` where an API needs one (`fetch`, streams); to
     * react to the end of a context in your own code, `done()` and `context.afterFunc` are
     * cheaper.
     */
    readonly signal: AbortSignalType
  }

  /**
   * Cancels its context with {@link Canceled}: the context and every context derived from it
   * are done when it returns; the deadline's timer, if any, is stopped; the context leaves its
   * parent's registrations. It does not wait for the work to stop. Calls after the first,
   * and calls after the context was done by other means, do nothing. Arguments are ignored
   * (so it can be passed as an event listener).
   */
  type CancelFunc = () => void

  /**
   * Like {@link CancelFunc}, and records `cause`, which {@link cause} then returns for the
   * context and its descendants. Without a cause (`undefined` or `null`, Go's nil) the
   * cause is {@link Canceled}. If the context is already done, nothing changes: the cause of
   * the first cancellation stays.
   */
  type CancelCauseFunc = (cause?: unknown) => void

  /**
   * What {@link Context.err} returns for a cancelled context: an `Error` with message
   * `'context canceled'` (Go's) and name `'CanceledError'`. The same object for every
   * context and every runtime; compare with `===`. Its name and message can be neither
   * changed nor deleted, and its class's prototype is frozen. It is not frozen itself, and its
   * `stack` stays writable: it starts as its first line (it is not thrown from any one place),
   * and APIs that rethrow an abort reason may rewrite it (Node's `fetch` applies
   * `Error.captureStackTrace` to it, which a frozen object would turn into a `TypeError`).
   */
  const Canceled: CanceledError

  /**
   * What {@link Context.err} returns once a context's deadline passed: an `Error` with
   * message `'context deadline exceeded'` (Go's), name `'DeadlineExceededError'` and
   * `timeout: true` (Go's `Timeout()` method). The same object for every context and every
   * runtime; compare with `===`. Like {@link Canceled}, its fields cannot be changed, and its
   * `stack` may be.
   */
  const DeadlineExceeded: DeadlineExceededError

  /** The type of {@link Canceled}, the only value of it. */
  interface CanceledError extends Error {
    readonly name: 'CanceledError'
    readonly message: 'context canceled'
  }

  /** The type of {@link DeadlineExceeded}, the only value of it. */
  interface DeadlineExceededError extends Error {
    readonly name: 'DeadlineExceededError'
    readonly message: 'context deadline exceeded'
    /** Go's `Timeout()`: always `true`. */
    readonly timeout: true
  }

  /**
   * A key for {@link withValue} whose values have type `T`, made by {@link key}:
   * `ctx.value(k)` is then typed `T | undefined`. Each key is a distinct object, compared by
   * identity, so two packages cannot collide by picking the same name.
   */
  interface Key<T> {
    /** The name given to {@link key}, for debugging; it plays no part in lookups. */
    readonly name: string
    /** `context.Key(name)`. */
    toString(): string
    /** Only in the types: carries `T`. */
    readonly [keyValueType]?: (value: T) => T
  }

  /**
   * Returns a new key for {@link withValue}, distinct from every other (two calls with the
   * same `name` give two keys). Go's idiom of an unexported key type, in a form TypeScript can
   * check: `const userKey = context.key<User>('user')`, then
   * `context.withValue(ctx, userKey, user)` and `ctx.value(userKey)` (a `User | undefined`).
   * The key is frozen. Throws a `TypeError` if `name` is not a string.
   */
  function key<T>(name: string): Key<T>

  /**
   * Returns the empty root context: never done, no deadline, no values, `cause` undefined.
   * The same object on every call, in every runtime of the process. Use it in `main`,
   * initialization and tests, and as the root of incoming requests.
   */
  function background(): Context

  /**
   * Like {@link background} (a distinct object, the same on every call): for code that does
   * not yet know which context to use.
   */
  function todo(): Context

  /**
   * Returns a child of `parent` and a function that cancels it. The child is done when
   * `cancel` is called or when `parent` is done, whichever happens first, with that
   * cancellation's error and cause. If `parent` is already done, the child is done at birth,
   * synchronously, with the parent's `err()` and cause.
   *
   * Until it is done the child is registered with its nearest cancelable ancestor; `cancel`
   * removes it (call it when the work is finished). Throws a `TypeError`, creating nothing,
   * if `parent` is not a context of this library.
   */
  function withCancel(parent: Context): [Context, CancelFunc]

  /**
   * Like {@link withCancel}, but `cancel(cause)` records `cause` (see
   * {@link CancelCauseFunc}): `err()` is {@link Canceled} and `cause(ctx)` is `cause`;
   * `cancel()` without a cause makes the cause {@link Canceled}. When the context is done
   * through its parent, its cause is the parent's.
   */
  function withCancelCause(parent: Context): [Context, CancelCauseFunc]

  /**
   * Returns a child of `parent` that is done with {@link DeadlineExceeded} when the deadline
   * `d` passes (a `Date` or a number of epoch milliseconds), and a function that cancels it
   * sooner with {@link Canceled}. It is also done when `parent` is, whichever comes first.
   *
   * `d` is turned into a delay once, now, as `d - Date.now()`; the timer then runs on the
   * monotonic clock, so later changes of the wall clock do not move it (Go's `time.Until`).
   * It is never early: it is done no earlier than that delay after the call, and late as a
   * {@link time.afterFunc} timer can be. Delays beyond Go's largest duration (2^63-1 ns)
   * saturate.
   *
   * - If `parent`'s deadline is earlier than `d`, this is `withCancel(parent)`: the child
   *   keeps the parent's deadline (`deadline()` is the parent's) and arms no timer.
   * - If `parent` is already done, the child is done at birth with the parent's error and
   *   cause.
   * - Otherwise, if `d` is not after now, the child is done at birth, synchronously, with
   *   {@link DeadlineExceeded}.
   *
   * The timer keeps the process alive until it fires or `cancel` is called (so
   * `await ctx.done()` completes in a script, as `<-ctx.Done()` does in Go); `cancel` stops
   * it at once. Throws a `TypeError`, creating nothing, if `parent` is not a context of this
   * library, or if `d` is neither a `Date` nor a number, or is NaN, an invalid `Date`, or a
   * number outside the range of `Date` (±8.64e15, `±Infinity` included).
   */
  function withDeadline(parent: Context, d: Date | number): [Context, CancelFunc]

  /**
   * Like {@link withDeadline}, and when the deadline passes, `cause(ctx)` is `cause`
   * (`undefined` or `null`: {@link DeadlineExceeded}). `err()` is still
   * {@link DeadlineExceeded}. The returned `cancel` does not set a cause: it gives
   * {@link Canceled}. If `parent`'s deadline is earlier, `cause` is not used (this is
   * `withCancel(parent)`, and the parent's deadline gives the parent's cause).
   */
  function withDeadlineCause(parent: Context, d: Date | number, cause: unknown): [Context, CancelFunc]

  /**
   * `withDeadline(parent, now + ms)`, with the delay measured on the monotonic clock from
   * this call: the child is done with {@link DeadlineExceeded} no earlier than `ms`
   * milliseconds later (a `performance.now()` taken before the call, plus `ms`, is at most
   * `performance.now()` when it becomes done), unless it is cancelled or its parent is done
   * first. `deadline()` is the call's time plus `ms`, read once from the monotonic clock and
   * put on the wall clock's scale (`performance.timeOrigin + performance.now() + ms`): that is
   * `Date.now() + ms` unless the system clock was set since the process started.
   *
   * A zero or negative `ms` (and `-0`, `-Infinity`) gives a context that is done at birth,
   * synchronously, with {@link DeadlineExceeded} (Go does not panic either). Fractions of a
   * millisecond count; durations beyond 2^63-1 ns, `Infinity` included, saturate. Deadlines
   * made by `withTimeout` compare on the monotonic clock, as in Go. Throws a `TypeError`,
   * creating nothing, if `parent` is not a context of this library or `ms` is not a number
   * or is NaN.
   */
  function withTimeout(parent: Context, ms: number): [Context, CancelFunc]

  /** `withDeadlineCause(parent, now + ms, cause)`, with the rules of {@link withTimeout}. */
  function withTimeoutCause(parent: Context, ms: number, cause: unknown): [Context, CancelFunc]

  /**
   * Returns a child of `parent` that is never done, whatever happens to `parent`: no
   * deadline, `err()` and `cause` undefined, a `done()` that never settles. Values of
   * `parent` pass through. It registers nothing with `parent`. Throws a `TypeError` if
   * `parent` is not a context of this library.
   */
  function withoutCancel(parent: Context): Context

  /**
   * Returns a child of `parent` whose `value(key)` is `value`; every other question is
   * answered by `parent` (the child shares its `done()`, `err()`, `signal`, deadline and
   * cause). It registers nothing. The nearest `withValue` for a key wins. Throws a
   * `TypeError` if `parent` is not a context of this library, or if `key` is `undefined` or
   * `null` (Go panics on a nil key). With a {@link Key}, `value` must have the key's type.
   */
  function withValue<T>(parent: Context, key: Key<T>, value: T): Context
  function withValue<K>(parent: Context, key: K & ([K] extends [Key<any>] ? never : unknown), value: unknown): Context

  /**
   * Arranges for `f` to be called once, asynchronously, after `ctx` is done; if `ctx` is
   * already done, as soon as possible, still asynchronously (never inside `afterFunc`, never
   * inside the call that cancelled the context). Returns `stop`.
   *
   * Callbacks run on the event loop like {@link time.afterFunc} callbacks: the callbacks a
   * cancellation makes due run in order (those of one context in registration order, an
   * ancestor's before its descendants'); a callback that throws surfaces as an
   * `uncaughtException` and the others still run; a storm of them is delivered in time
   * slices, so it does not starve I/O. Between the context being done and `f` starting, the
   * pending call keeps the process alive.
   *
   * `stop()` returns `true` iff this call prevented `f` from running: before `ctx` is done,
   * and also after it is done but before `f` started (Go's `stop` returns false once the
   * context is done). It returns `false` if `f` has started (even from inside `f`) or stop
   * was called before. It does not wait for `f`. Registrations are independent: stopping one
   * does not affect another, and several can be made on one context.
   *
   * On a context that can never be done (`background()`, `todo()`, `withoutCancel` and
   * `withValue` over those), `f` never runs, nothing is registered or retained, and the
   * first `stop()` returns `true`. Otherwise the registration (and so `f`) is held by the
   * nearest cancelable context until `f` runs or `stop` is called. Throws a `TypeError`,
   * registering nothing, if `ctx` is not a context of this library or `f` is not a function.
   */
  function afterFunc(ctx: Context, f: () => void): () => boolean

  /**
   * Returns why `ctx` is done: `undefined` while it is not done (and always for a context
   * that can never be done). Once it is done, the cause of the first cancellation that
   * reached it: the argument of a {@link CancelCauseFunc}, the cause of
   * {@link withDeadlineCause} / {@link withTimeoutCause} when the deadline passed, the
   * signal's `reason` for {@link fromSignal}, each inherited by the descendants it reached;
   * otherwise (no cause given) the same value as `ctx.err()`. Throws a `TypeError` if `ctx`
   * is not a context of this library.
   */
  function cause(ctx: Context): unknown

  /**
   * Returns a context that is done with {@link Canceled}, and cause `signal.reason`, when
   * `signal` aborts: synchronously, inside the signal's `'abort'` dispatch. If `signal` is
   * already aborted, the context is done at birth. A `reason` of `undefined` or `null` gives
   * the cause {@link Canceled}.
   *
   * It has no cancel function, no deadline and no values; derive from it with
   * {@link withCancel} or {@link withTimeout} to end it sooner. The same signal always gives
   * the same context, with one `'abort'` listener on the signal however many times it is
   * converted; the signal holds that listener, and so the context, until it aborts, and
   * nothing else is retained per call. Throws a `TypeError` if `signal` is not an
   * `AbortSignal` the runtime made (as {@link time.sleep} checks it).
   */
  function fromSignal(signal: AbortSignalType): Context
}

/** Tools for testing code that uses {@link time} and {@link context}. */
export declare namespace testing {
  /**
   * A clock that moves only when told, for tests: from {@link virtualClock} until
   * `[Symbol.dispose]()`, every timer, ticker, sleep and context deadline of this thread
   * (this JavaScript environment) runs on it, whichever engine the process uses, including
   * those already pending when it was created (each keeps its deadline exactly). Callbacks
   * run only inside {@link advance} and {@link runAll}, in deadline order, FIFO for equal
   * deadlines, so a test gets the same order every time and an hour passes in milliseconds.
   *
   * `Date` deadlines (`context.withDeadline`) are mapped onto it: the virtual wall clock is
   * `Date.now()` at creation plus the virtual time elapsed since. Globals are not touched:
   * `performance.now()`, `Date.now()`, `setTimeout` and `AbortSignal.timeout` keep real time.
   */
  interface VirtualClock {
    /**
     * The virtual monotonic time in milliseconds. It starts at `performance.now()` at the
     * creation, rounded up to a whole millisecond (the engine's tick), so whole-millisecond
     * delays end exactly on whole milliseconds and `sleep(1000)` five times fits in
     * `advance(5000)`. A timer pending at the creation keeps its deadline on the same clock,
     * so `time.afterFunc(time.Hour, f)` made just before `virtualClock()` runs within
     * `advance(time.Hour)`, never earlier than an hour after it was made.
     */
    now(): number

    /**
     * Moves the clock forward by `ms`, running every callback that falls due on the way, in
     * deadline order (FIFO for equal deadlines), with the clock set to each one's deadline
     * tick while it runs. Before the first step and after each one it lets the event loop
     * turn until a turn passes in which no timer was armed or stopped (at most 1,000 turns):
     * promise reactions, microtasks and `setImmediate` callbacks settle, so code that awaits a
     * sleep, or yields with `setImmediate`, and then arms its next timer is followed. I/O is
     * not waited for: code that waits on a socket or a file between two timers needs the test
     * to wait for that itself. Resolves when the clock stands at `now() + ms` and nothing is
     * due. A callback that throws makes it reject with that error (the others due at the same
     * time still run, on the next turn).
     *
     * Rejects (the clock unmoved) with a `TypeError` if `ms` is not a number or is NaN, a
     * `RangeError` if it is negative or infinite or would take the clock to the end of the
     * engines' range (2^47-1 ticks of 1/8 ms of `performance.now()`, about 557 years: deadlines are held
     * there at most, so past it a new timer could not wait its whole delay); and with an
     * `Error` if the clock was disposed or a timer re-arms itself without delay more than
     * 100,000 times at one instant.
     */
    advance(ms: number): Promise<void>

    /**
     * Advances to the last pending deadline, running everything, until nothing is pending
     * (except timers held at the end of the engines' range, which never fire: armed when less
     * than their delay was left before it; see {@link advance}).
     * Rejects with an `Error` (leaving the clock where it got to) if timers are still being
     * armed after 100,000 rounds, as a ticker or a self-re-arming timer does.
     */
    runAll(): Promise<void>

    /** The number of timers pending (timers, tickers, sleeps, context deadlines and afterFunc calls waiting to run). */
    pending(): number

    /**
     * Discards every timer, ticker, sleep, context deadline and `context.afterFunc` call armed
     * (or re-armed) since the clock started, as sinon's `clock.reset()` and vitest's
     * `vi.clearAllTimers()` do: each is stopped and never runs; a sleep never settles; a
     * context whose deadline is discarded is not cancelled (it is never done by its deadline).
     * Timers that were pending when the clock started and have not been re-armed since are
     * kept. Returns how many were discarded. Throws an `Error` if the clock was disposed.
     */
    clear(): number

    /**
     * Returns this thread to the real clock. With `atDispose: 'restore'` (the default), timers
     * still pending move back to the engine with the time they had left on the virtual clock;
     * with `atDispose: 'discard'`, those armed since the clock started are first discarded as
     * by {@link clear}, so they cannot run in real time after the test. Repeated calls do
     * nothing more.
     */
    [Symbol.dispose](): void
  }

  /** Options of {@link virtualClock}. */
  interface VirtualClockOptions {
    /**
     * What disposing the clock does with the timers armed since it started that are still
     * pending: `'restore'` (the default) moves them to real time with the time they had left;
     * `'discard'` stops them (see {@link VirtualClock.clear}).
     */
    atDispose?: 'restore' | 'discard'
  }

  /**
   * Starts a virtual clock for this thread (see {@link VirtualClock}). Only one can be active
   * at a time: throws an `Error` if another is, until it is disposed. Throws a `TypeError` if
   * `options` is not an object or `options.atDispose` is neither `'restore'` nor `'discard'`.
   */
  function virtualClock(options?: VirtualClockOptions): VirtualClock
}

/**
 * Cancellation on operating-system signals, after Go's `os/signal` package.
 *
 * ```js
 * const [ctx, stop] = signal.notifyContext(context.background()) // SIGINT, SIGTERM
 * await ctx.done() // the first signal: shut down; a second one ends the process
 * console.log(context.cause(ctx).message) // 'SIGTERM signal received'
 * stop()
 * ```
 */
export declare namespace signal {
  /**
   * The cause of a context that a signal cancelled (see {@link notifyContext}): an `Error`
   * named `'SignalError'` whose message is `'<signal> signal received'` (Go's
   * `"terminated signal received"`, with Node's name for the signal: `'SIGTERM signal
   * received'`) and whose `signal` is the signal's name. One class for every runtime of the
   * process, so `context.cause(ctx) instanceof signal.SignalError` holds for any of them.
   */
  class SignalError extends Error {
    constructor(signal: SignalName)
    /** The signal that was received, e.g. `'SIGTERM'`. */
    readonly signal: SignalName
  }

  /**
   * Returns a copy of `parent` that is done when the process receives one of `signals`
   * (`'SIGINT'` and `'SIGTERM'` if none is given), when `stop` is called, or when `parent` is
   * done, whichever happens first: Go's `signal.NotifyContext`. A signal cancels it with
   * {@link context.Canceled} and a {@link SignalError} naming that signal as its cause (as
   * recent Go does); `stop` cancels it with `Canceled` as the cause; through `parent` it gets
   * the parent's error and cause.
   *
   * While the context is pending, a listener for each signal is installed on `process`, which
   * turns off Node's default action for that signal (ending the process). The listeners are
   * removed synchronously when the context becomes done, however that happens, so after the
   * first signal (or `stop`) the next one ends the process as Node's default does, and a
   * shutdown that hangs can still be interrupted. Go keeps catching the signals until `stop`
   * is called, and its documentation asks to call `stop` as soon as the context is done so
   * that a second Ctrl-C ends the program: here that happens by itself.
   *
   * `stop` returns nothing and does not wait for anything; calls after the first, and calls
   * after the context is done, do nothing more. Call it when the work the context governs is
   * finished, to release the listeners and the context as a cancel function does. Other
   * listeners for the same signals are not touched: they still run, and while any is
   * installed Node's default action stays off. Several contexts may listen for the same
   * signal; one signal cancels all of them.
   *
   * Node's signal listeners do not keep the process alive: awaiting `ctx.done()` keeps a
   * script waiting only while something else (a server, a timer) keeps it alive. Signals are
   * delivered to the main thread: in a worker thread the context is done only by `stop` or by
   * `parent`. Where Go differs: with no signals given, Go relays every signal. If `parent` is
   * already done, the context is done at birth with its error and cause, and nothing is
   * installed.
   *
   * Throws a `TypeError`, installing nothing, if `parent` is not a context of this library, if
   * a signal is not a name this platform knows (`os.constants.signals`), or for `'SIGKILL'`
   * and `'SIGSTOP'`, which no process can catch (Go ignores them).
   */
  function notifyContext(parent: context.Context, ...signals: SignalName[]): [context.Context, () => void]
}

/**
 * Groups of functions working on subtasks of a common task, after golang.org/x/sync/errgroup:
 * wait for all of them, get the first error, and cancel the context of the others when one
 * fails.
 *
 * ```js
 * const [g, ctx] = errgroup.withContext(parent)
 * g.setLimit(4)
 * for (const url of urls) g.go(() => fetch(url, { signal: ctx.signal }))
 * await g.wait() // after every function settled; rejects with the first error
 * ```
 */
export declare namespace errgroup {
  /**
   * A collection of functions working on subtasks of the same task: Go's `*errgroup.Group`.
   * A function is active from `go` (or a successful `tryGo`) until the promise it returned
   * settles, including while it waits in the queue behind the limit. Groups are made by
   * {@link withContext} and {@link group}; their methods throw a `TypeError` when called on
   * anything else.
   */
  interface Group {
    /**
     * Calls `f` in a microtask, never inside `go` (Go runs it in a new goroutine). `f` fails if
     * it throws or returns a promise that rejects; what it returns or resolves with is ignored,
     * even an `Error`. The first failure is the group's error: {@link wait} rejects with it,
     * and it cancels the context of a group made by {@link withContext}, with the error as the
     * cause. Later failures are dropped, as in Go; they are handled, so none surfaces as an
     * `unhandledRejection`.
     *
     * At the limit (see {@link setLimit}), `go` returns at once and `f` waits in a
     * first-in-first-out queue until a running function settles (Go's `Go` blocks its caller
     * instead). `go` may be called after `wait` settled, as in Go: the group keeps its first
     * error and its cancelled context. Throws a `TypeError` if `f` is not a function.
     */
    go(f: () => unknown): void

    /**
     * Calls `f` as {@link go} does and returns `true` if fewer functions than the limit are
     * running; otherwise returns `false` and neither calls nor queues `f`. Without a limit it
     * always returns `true`. Throws a `TypeError` if `f` is not a function.
     */
    tryGo(f: () => unknown): boolean

    /**
     * Limits the number of functions running at once to `n`; a negative `n` (`-Infinity`
     * included), or `Infinity`, removes the limit. Functions passed to {@link go} beyond the
     * limit wait in a queue.
     *
     * Throws, changing nothing, a `TypeError` if `n` is not a number or is NaN; a `RangeError`
     * if `n` has a fraction, or is 0 (Go accepts 0, after which its `Go` blocks forever: here a
     * limit that can never let anything run is taken for a bug); and an `Error` if any function
     * is active, running or queued (Go panics: the limit must not be modified while any
     * goroutine in the group is active).
     */
    setLimit(n: number): void

    /**
     * Returns a promise that settles once no function is active: it resolves with `undefined`
     * if none failed and rejects with the first error otherwise (even one from before an
     * earlier `wait`). It waits for every function, also after one failed, and for those that
     * `go` adds while it waits. Calls while it waits return the same promise. With nothing
     * active it settles at once (asynchronously, as promises do).
     *
     * When it settles, the context of a group made by {@link withContext} is cancelled, with
     * the first error as the cause ({@link context.Canceled} if none failed), as Go's `Wait`
     * does; with nothing active that happens synchronously inside `wait`. It waits only for the
     * promises the functions returned, not for work they started and did not await.
     */
    wait(): Promise<void>
  }

  /**
   * Returns a new group and a child of `parent` that is cancelled the first time a function of
   * the group fails, with the error as its cause, or when {@link Group.wait} settles,
   * whichever comes first (Go's `WithContext`, which uses `WithCancelCause`). It is also done
   * when `parent` is. Until then it stays registered with `parent`, as any child context does
   * until it is cancelled: call `wait`. Throws a `TypeError` if `parent` is not a context of
   * this library.
   */
  function withContext(parent: context.Context): [Group, context.Context]

  /**
   * Returns a new group without a context: Go's zero `errgroup.Group`, which has no limit and
   * cancels nothing when a function fails.
   */
  function group(): Group
}

/**
 * Request contexts and graceful shutdown for the servers of `node:http`, `node:https` and
 * `node:http2`, after Go's `net/http`: `Request.Context()` and `Server.Shutdown`.
 *
 * ```js
 * const server = createServer(async (req, res) => {
 *   const [reqCtx, release] = http.requestContext(context.background(), req, res)
 *   const [ctx, cancel] = context.withTimeout(reqCtx, 2 * time.Second)
 *   try {
 *     res.end(await (await fetch(upstream, { signal: ctx.signal })).text())
 *   } finally {
 *     cancel()
 *     release()
 *   }
 * })
 * ```
 */
export declare namespace http {
  /**
   * Returns a child of `parent` for one request, and a function that cancels it: Go's
   * `r.Context()`. `req` and `res` are the arguments of a `'request'` listener of a
   * `node:http`, `node:https` or `node:http2` server (HTTP/2 through its compatibility API).
   * The context is done with {@link context.Canceled} (also as its cause, as in Go):
   *
   * - when the client goes away before the response has ended: its connection (HTTP/1) or its
   *   stream (HTTP/2) closed, or a pipelined request of it was aborted;
   * - when the response has ended, its last byte handed to the operating system (`'finish'`),
   *   as Go cancels `r.Context()` when `ServeHTTP` returns;
   * - when the returned function is called;
   *
   * and with the parent's error and cause when `parent` is done. So work tied to it stops, and
   * the timers of contexts derived from it (`context.withTimeout(ctx, …)`) are released when
   * the request is over. `res.writableEnded` tells the first two cases apart.
   *
   * It listens for `'finish'` and `'close'` on `res` and for `'close'` on `req`. They are
   * removed when the response or the client ends the context, and by the returned function:
   * after either, nothing of this call stays on `req` or `res`. When `parent` ends it first,
   * they stay until the response ends, unless the returned function is called. The returned
   * function does not end the response; calls after the first do nothing; arguments are
   * ignored. If the response has already ended or its client is gone at the call, or `parent`
   * is done, the context is done at birth and nothing is registered.
   *
   * Throws a `TypeError`, registering nothing, if `parent` is not a context of this library, if
   * `req` is not a request of a `node:http`, `node:https` or `node:http2` server
   * (`IncomingMessage`, `Http2ServerRequest`) or `res` not a response of one
   * (`ServerResponse`, `Http2ServerResponse`), or if `res` is not the response to `req`.
   */
  function requestContext(
    parent: context.Context,
    req: HttpServerRequest,
    res: HttpServerResponse,
  ): [context.Context, context.CancelFunc]

  /**
   * Shuts `server` down without interrupting any request in flight while `ctx` is not done:
   * Go's `Server.Shutdown(ctx)`. It stops accepting connections, closes the idle ones, and
   * waits for the others, closing each one as soon as the response on it has finished. The
   * promise resolves, with `undefined`, when every connection has closed (the server's
   * `'close'` event). If `ctx` is done first, the connections that remain are destroyed (the
   * responses on them are cut) and the promise rejects with `context.cause(ctx)`; Go returns
   * `ctx.Err()` and leaves the connections to `Close`.
   *
   * For `node:http` and `node:https` servers (whose connections Node tracks):
   *
   * - An idle keep-alive connection is closed at once and never waited for. A connection with
   *   a request in flight is closed as soon as its response has finished, unless the client
   *   has sent another request on it, which is then served first.
   * - Requests that arrive during the shutdown on connections already open are served with
   *   `Connection: close`, as Go turns keep-alives off, so clients do not reuse them.
   * - A connection that has not sent a request yet (a client's preconnect) is idle to Node 26,
   *   but not to earlier versions, which time silent clients from the connection's start (and
   *   not to any version before it is known to the HTTP server, a TLS connection finishing its
   *   handshake): such a connection is waited for until it sends a request (served as above,
   *   then closed), its client closes it, or `ctx` is done. Go waits 5 seconds for it, then
   *   treats it as idle.
   * - Connections Node's HTTP server no longer or not yet tracks are neither closed when idle
   *   nor destroyed when `ctx` is done: upgraded ones (WebSocket; Node's server counts them
   *   open, so the promise waits for them, where Go neither closes nor waits for hijacked
   *   connections: close them yourself), and TLS connections still in their handshake when
   *   `ctx` is done (Node drops them at the server's `handshakeTimeout`).
   *
   * For any other `net.Server` (`node:net`, `node:http2`) this stops accepting and waits for
   * the connections to end, and when `ctx` is done it rejects without destroying anything: it
   * cannot see the connections (close HTTP/2 sessions with `session.close()`).
   *
   * The first call closes the server. A later call, or a call on a server already closed with
   * `close()`, waits for the same connections with its own `ctx`; on a server with no
   * connection left (one that never listened, too) it resolves. If `ctx` is already done at the
   * call, the connections are destroyed at once and the promise rejects, even if none had a
   * request in flight (Go returns `nil` when all were idle). It does not wait for request
   * handlers still running after their connection closed, nor stop a server that is still
   * starting to listen. Once it settles, nothing of it stays registered on the server, the
   * context or Node's diagnostics channels.
   *
   * Throws a `TypeError`, changing nothing, if `server` is not a `net.Server` or `ctx` is not
   * a context of this library.
   */
  function shutdown(server: NetServer, ctx: context.Context): Promise<void>
}
