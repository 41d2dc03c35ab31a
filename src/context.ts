/**
 * The `context` namespace: Go's `context` package (1.21+) over a {@link Scheduler}. The
 * contract, with every edge case, is documented in `index.d.ts`.
 *
 * HOW
 *
 * ```text
 *  background ── withValue ── withCancel ──┬── withTimeout   (TimerCtx: also a Schedulable)
 *                                 ▲        └── afterFunc registration (Reg: also a Schedulable)
 *                                 │ _parent          ▲
 *                                 │                  │ held in _children
 *   every context points to its parent (_parent, for value lookup) and to its nearest
 *   cancelable context (_cancelable: itself for a CancelCtx, inherited through withValue,
 *   undefined below background/withoutCancel), which answers err, done, signal and cause.
 * ```
 *
 * - A cancelable context registers in the `_children` set of its parent's nearest cancelable
 *   context, and leaves it when it is cancelled by its own cancel function or its timer.
 *   withValue and withoutCancel register nothing. An afterFunc registration is a child too.
 * - Cancelling walks the subtree breadth first, without recursion, in two phases: first every
 *   context in it is marked done (err, cause, done() resolved, timer stopped, child sets
 *   dropped, afterFunc registrations armed on the scheduler with delay 0); no user code runs
 *   in that phase. Then the AbortSignals that were handed out are aborted, parents first:
 *   their 'abort' listeners run synchronously, and by then the whole subtree is done.
 * - A deadline is a timer on the scheduler; the TimerCtx itself is the Schedulable, so it
 *   costs no allocation beyond the context. A Date deadline becomes a delay once, at creation
 *   (`d - wallNow()`); the timer then runs on the monotonic clock.
 *
 * WHY
 *
 * - Contexts of every runtime interoperate (a child of another runtime's context works):
 *   the classes live at module level and are recognized by a private brand, so anything
 *   else, however it looks, is rejected with a TypeError.
 * - done(), signal, the AbortController and the child set are created on first use only:
 *   `withCancel` + `cancel` allocates the context, its cancel function and the result pair.
 * - A registration never outlives its context's need for it: on a context that can never be
 *   done nothing is registered at all; cancelling clears the child sets; a run or stopped
 *   registration drops its callback.
 *
 * COST
 *
 * withCancel/withValue/withoutCancel: O(1), one object (plus a bound cancel function and a pair
 * for the cancelable ones). withTimeout: one monotonic clock read, one scheduler arm;
 * withDeadline: the same with one wall-clock read. Both, and deadline(), walk up through
 * cancelable and value contexts to the nearest one with a deadline (no context stores its
 * ancestors'). cancel: O(subtree), one clock-free pass plus one abort per signal handed out.
 * value(key): O(depth to the nearest context carrying key). Everything else O(1).
 */

import type { contextBrand, context as ContextApi } from '../index'
import { Shared } from './constants'
import { checkFunction, describe, isAbortSignal, toDelay } from './arguments'
import type { Scheduler } from './scheduler'
import type { Schedulable } from './slots'
import { types } from 'node:util'

const isDate = types.isDate
const dateGetTime = Date.prototype.getTime

type Context = ContextApi.Context
type Key<T> = ContextApi.Key<T>
type CancelFunc = ContextApi.CancelFunc
type CancelCauseFunc = ContextApi.CancelCauseFunc

/** The clocks a `context` namespace reads. Both can be replaced by a virtual clock. */
export interface ContextDeps {
  /** The scheduler's monotonic clock, in ms. */
  readonly now: () => number
  /** The wall clock, in epoch ms, that `Date` deadlines are measured against. */
  readonly wallNow: () => number
  /**
   * The wall time at the monotonic clock's zero, in epoch ms: `withTimeout` deadlines are
   * `wallOffset() + now() + ms`, one clock reading.
   */
  readonly wallOffset: () => number
}

type Sentinel = ContextApi.CanceledError | ContextApi.DeadlineExceededError

/** The class of {@link Canceled} (not exported: compare with the sentinel itself). */
class CanceledError extends Error {}
/** The class of {@link DeadlineExceeded}. */
class DeadlineExceededError extends Error {
  readonly timeout = true as const
}

/**
 * Makes `err` a sentinel: its name, message and other own fields can be neither changed nor
 * deleted, and its class's prototype is frozen, so `err.message` and `instanceof` answer the
 * same everywhere. Its stack starts as its header alone (it is not thrown from one place).
 *
 * The sentinel itself is not frozen, and its `stack` stays writable: APIs that take an
 * `AbortSignal` rethrow its reason after `Error.captureStackTrace(reason)` (Node's `fetch`
 * does), which V8 can only do on an extensible object. Identity, what `===` compares, is all
 * such a rewrite could never change.
 */
function sentinel<E extends Error>(err: E): Readonly<E> {
  const name = err.constructor.name
  Object.defineProperty(err, 'name', { value: name, enumerable: false, configurable: false, writable: false })
  for (const key of Object.getOwnPropertyNames(err)) {
    if (key !== 'stack') Object.defineProperty(err, key, { configurable: false, writable: false })
  }
  Object.defineProperty(err, 'stack', { value: `${name}: ${err.message}`, enumerable: false, configurable: true, writable: true })
  Object.freeze(Object.getPrototypeOf(err))
  return err
}

/** Go's `context.Canceled`. One instance for every runtime of this module. */
export const Canceled = sentinel(new CanceledError('context canceled')) as ContextApi.CanceledError
/** Go's `context.DeadlineExceeded`, with Go's `Timeout() == true` as a property. */
export const DeadlineExceeded = sentinel(new DeadlineExceededError('context deadline exceeded')) as ContextApi.DeadlineExceededError

/** The largest time value a Date holds (±8.64e15 ms around the epoch). */
const MAX_TIME_VALUE = 8.64e15
const RESOLVED: Promise<void> = Promise.resolve()

/**
 * The never-settling promise of the contexts that can never be done. It is shared, and held
 * weakly: it is the same promise for as long as anything references it, and once nothing
 * does it is collected with every reaction attached to it (so `Promise.race` against a
 * never-done context in a loop does not pile reactions up forever).
 */
let neverRef: WeakRef<Promise<void>> | undefined
function never(): Promise<void> {
  let p = neverRef?.deref()
  if (p === undefined) {
    p = new Promise<void>(() => {})
    neverRef = new WeakRef(p)
  }
  return p
}

/**
 * Every context: a parent link. What it answers comes from its nearest cancelable context
 * (`_cancelable`) and the nearest context with a deadline up its chain (`_deadlineOwner`).
 */
abstract class Ctx implements Context {
  /** The brand: only objects built by these classes are contexts. */
  readonly #brand = true
  /** The same brand for the type checker (`index.d.ts`); it does not exist at run time. */
  declare readonly [contextBrand]: true
  /** Parent, for value lookup, the deadline, and leaving the parent's child set. */
  readonly _parent: Ctx | undefined

  constructor(p: Ctx | undefined) {
    this._parent = p
  }

  /** The nearest cancelable context (this one if it is cancelable); undefined if never done. */
  get _cancelable(): CancelCtx | undefined {
    return undefined
  }

  /**
   * The context whose deadline this one has: itself, or the nearest up the chain through
   * cancelable and value contexts; undefined if none (withoutCancel and the roots have none).
   * Walked when asked, so that no context carries a field for its ancestors' deadline.
   */
  _deadlineOwner(): TimerCtx | undefined {
    for (let c: Ctx | undefined = this; c !== undefined; c = c._parent) {
      if (c instanceof TimerCtx) return c
      if (!(c instanceof CancelCtx || c instanceof ValueCtx)) return undefined
    }
    return undefined
  }

  static is(v: unknown): v is Ctx {
    return typeof v === 'object' && v !== null && #brand in v
  }

  deadline(): Date | undefined {
    const owner = this._deadlineOwner()
    return owner === undefined ? undefined : new Date(owner._deadline)
  }

  done(): Promise<void> {
    const c = this._cancelable
    return c === undefined ? never() : c._donePromise()
  }

  err(): Sentinel | undefined {
    return this._cancelable?._err
  }

  value<T>(key: Key<T>): T | undefined
  value(key: unknown): unknown
  value(key: unknown): unknown {
    for (let c: Ctx | undefined = this; c !== undefined; c = c._parent) {
      if (c instanceof ValueCtx) {
        const k = c._key
        // SameValueZero, as Map keys: identity, and NaN finds NaN.
        if (k === key || (k !== k && key !== key)) return c._value
      }
    }
    return undefined
  }

  get signal(): AbortSignal {
    const c = this._cancelable
    if (c !== undefined) return c._signal()
    // A context that can never be done: a signal that never aborts, its own (listeners added to
    // it are collected with the context), kept aside so that no context carries a field for it.
    let s = neverSignals.get(this)
    if (s === undefined) {
      s = new AbortController().signal
      neverSignals.set(this, s)
    }
    return s
  }

  /** Go's String(): the chain of constructors, e.g. `context.Background.WithCancel`. */
  toString(): string {
    const parts: string[] = []
    for (let c: Ctx | undefined = this; c !== undefined; c = c._parent) parts.push(c._describe())
    return parts.reverse().join('')
  }

  /** This context's part of toString(). */
  abstract _describe(): string
}

/** The signals of the contexts that can never be done, once read. */
const neverSignals = new WeakMap<Ctx, AbortSignal>()

/** background() and todo(). */
class EmptyCtx extends Ctx {
  readonly #label: string
  constructor(label: string) {
    super(undefined)
    this.#label = label
  }
  _describe(): string {
    return this.#label
  }
}

const BACKGROUND = new EmptyCtx('context.Background')
const TODO = new EmptyCtx('context.TODO')

/** withValue: one key and value over the parent; everything else is the parent's. */
class ValueCtx extends Ctx {
  readonly _key: unknown
  readonly _value: unknown
  /** The parent's nearest cancelable context, kept so that long chains of values are not walked. */
  readonly #cancelable: CancelCtx | undefined
  constructor(parent: Ctx, key: unknown, val: unknown) {
    super(parent)
    this._key = key
    this._value = val
    this.#cancelable = parent._cancelable
  }
  override get _cancelable(): CancelCtx | undefined {
    return this.#cancelable
  }
  _describe(): string {
    return '.WithValue'
  }
}

/** withoutCancel: the parent's values, nothing else. */
class WithoutCancelCtx extends Ctx {
  constructor(parent: Ctx) {
    super(parent)
  }
  _describe(): string {
    return '.WithoutCancel'
  }
}

/** What a cancelable context holds in its child set. */
type Child = CancelCtx | Reg

/** What waits on a cancelable context: `done()`'s promise and the signal handed out. */
class Waiters {
  /** done()'s promise, once asked for. */
  done: Promise<void> | undefined = undefined
  /** Resolves `done`; set while it is pending. */
  resolveDone: (() => void) | undefined = undefined
  /**
   * The signal handed out: undefined until `signal` is read; then its AbortController while
   * the context is pending (cancel aborts it), and the signal alone once done. Which of the
   * two it holds follows from the context's `_err`: cancel sets both in one step.
   */
  abort: AbortController | AbortSignal | undefined = undefined
}

/** withCancel, withCancelCause, fromSignal; the base of TimerCtx. */
class CancelCtx extends Ctx {
  /** Registered cancelable children and afterFunc registrations; dropped when done. */
  _children: Set<Child> | undefined = undefined
  /** Canceled or DeadlineExceeded once done; never changes after. */
  _err: Sentinel | undefined = undefined
  /**
   * Once done, the cause (the err itself when none was given). While pending, a TimerCtx keeps
   * here the cause to record when its deadline passes (undefined for none).
   */
  _cause: unknown = undefined
  /** What waits on the context, made on first use: most contexts are never asked for either. */
  _waiters: Waiters | undefined = undefined

  override get _cancelable(): CancelCtx {
    return this
  }

  _donePromise(): Promise<void> {
    const w = (this._waiters ??= new Waiters())
    let p = w.done
    if (p === undefined) {
      if (this._err !== undefined) p = RESOLVED
      else p = new Promise<void>((resolve) => (w.resolveDone = resolve))
      w.done = p
    }
    return p
  }

  _signal(): AbortSignal {
    const w = (this._waiters ??= new Waiters())
    const ab = w.abort
    if (ab !== undefined) return this._err === undefined ? (ab as AbortController).signal : (ab as AbortSignal)
    if (this._err !== undefined) return (w.abort = AbortSignal.abort(this._cause))
    const ctl = new AbortController()
    w.abort = ctl
    return ctl.signal
  }

  _describe(): string {
    return '.WithCancel'
  }
}

/**
 * withDeadline, withTimeout and their Cause variants: a CancelCtx that is its own timer. Each
 * `context` namespace makes a subclass whose prototype holds `_scheduler`, the scheduler its
 * timers are armed on, so that no context carries a field for it.
 */
abstract class TimerCtx extends CancelCtx implements Schedulable {
  /** Owned by the scheduler (slot and UNREF bit); 0 when fresh: the timer keeps the process alive. */
  _slotRef = 0
  /** The deadline, in epoch ms (fractions kept): as given to withDeadline, or as withTimeout computed it. */
  readonly _deadline: number
  /** The scheduler the timer is armed on (on the prototype of the namespace's subclass). */
  declare readonly _scheduler: Scheduler

  /** `why`: the cause to record when the deadline passes, kept in `_cause` until done. */
  constructor(parent: Ctx, deadline: number, why: unknown) {
    super(parent)
    this._deadline = deadline
    this._cause = why
  }

  /** The timer fired: the deadline has passed. */
  _run(): void {
    cancel(this, DeadlineExceeded, this._cause, true)
  }

  override _describe(): string {
    return `.WithDeadline(${new Date(this._deadline).toISOString()})`
  }
}

/** One afterFunc registration: waits in its context's child set, then runs from the scheduler. */
class Reg implements Schedulable {
  /** Owned by the scheduler; 0 when fresh. */
  _slotRef = 0
  /** The callback until it runs or is stopped. */
  _callback: (() => void) | undefined
  /** The context it waits on, while it waits (then it is armed, or done). */
  _waitingOn: CancelCtx | undefined
  readonly _scheduler: Scheduler

  constructor(fn: () => void, on: CancelCtx, s: Scheduler) {
    this._callback = fn
    this._waitingOn = on
    this._scheduler = s
  }

  /** Called by the scheduler. */
  _run(): void {
    const fn = this._callback
    this._callback = undefined
    if (fn !== undefined) fn()
  }

  /** The context is done: run the callback as soon as possible, asynchronously. */
  _trigger(): void {
    this._waitingOn = undefined
    this._scheduler.arm(this, 0)
  }

  stop(): boolean {
    if (this._callback === undefined) return false
    const on = this._waitingOn
    if (on !== undefined) {
      this._waitingOn = undefined
      on._children?.delete(this)
    } else if (!this._scheduler.stop(this)) {
      return false
    }
    this._callback = undefined
    return true
  }
}

/**
 * Cancels `root` and its subtree with `err` and `cause` (undefined or null: `err`), unless
 * `root` is done already (the first cancel wins). `detach` removes `root` from the child set it
 * registered in (its own cancel function and its timer do; propagation need not).
 */
function cancel(root: CancelCtx, err: Sentinel, cause: unknown, detach: boolean): void {
  if (root._err !== undefined) return
  if (cause === undefined || cause === null) cause = err
  if (detach) root._parent!._cancelable?._children?.delete(root)
  // Phase 1: mark the whole subtree done, breadth first. No user code runs here. The queue is
  // made only for a context with children: most have none.
  let aborts: AbortController[] | undefined
  let queue: CancelCtx[] | undefined
  // (`queue?.[i++]` counts i only once the queue exists.)
  for (let c: CancelCtx | undefined = root, i = 0; c !== undefined; c = queue?.[i++]) {
    c._err = err
    c._cause = cause
    if (c instanceof TimerCtx) c._scheduler.stop(c)
    const w = c._waiters
    if (w !== undefined) {
      const res = w.resolveDone
      if (res !== undefined) {
        w.resolveDone = undefined
        res()
      }
      // Every context queued here was pending, so a handed-out signal still has its controller.
      const ab = w.abort as AbortController | undefined
      if (ab !== undefined) {
        w.abort = ab.signal
        ;(aborts ??= []).push(ab)
      }
    }
    const children = c._children
    if (children !== undefined) {
      c._children = undefined
      for (const child of children) {
        if (child instanceof Reg) child._trigger()
        else (queue ??= []).push(child)
      }
    }
  }
  // Phase 2: abort the signals handed out, parents first. Their 'abort' listeners run now,
  // synchronously, and see the whole subtree done; a listener that throws is reported by
  // Node as an uncaught exception and does not stop the others.
  if (aborts !== undefined) for (const ctl of aborts) ctl.abort(cause)
}

/**
 * The cancel functions handed out: these bound to their context as `this`. A function bound
 * with no arguments is the smallest function object per context there is (a closure needs a
 * scope object beside it, and bound arguments an array).
 */
function cancelCanceled(this: CancelCtx): void {
  cancel(this, Canceled, undefined, true)
}
function cancelWithCause(this: CancelCtx, why?: unknown): void {
  cancel(this, Canceled, why, true)
}

/** Registers `c` with the nearest cancelable context above it, or makes it done at birth if that is done. */
function attach(c: CancelCtx, parent: Ctx): void {
  const p = parent._cancelable
  if (p === undefined) return
  if (p._err !== undefined) cancel(c, p._err, p._cause, false)
  else (p._children ??= new Set()).add(c)
}

/** Returns `v` as a context, or throws a TypeError naming the call. */
function asCtx(v: unknown, where: string, what: string): Ctx {
  if (Ctx.is(v)) return v
  throw new TypeError(`${where}: the ${what} must be a Context, got ${describe(v)}`)
}

/** Checks a deadline (a valid Date or epoch ms) and returns it in epoch ms, fractions kept. */
function toDeadline(d: unknown, where: string): number {
  let ms: number
  if (isDate(d)) {
    // Also a Date of another realm (a vm context), which `instanceof Date` would reject; its
    // own getTime is not trusted (it may be overridden).
    ms = dateGetTime.call(d)
    if (ms !== ms) throw new TypeError(`${where}: the deadline must be a valid Date, got an invalid Date`)
    return ms
  }
  if (typeof d !== 'number') {
    throw new TypeError(`${where}: the deadline must be a Date or a number of epoch milliseconds, got ${describe(d)}`)
  }
  if (!(d >= -MAX_TIME_VALUE && d <= MAX_TIME_VALUE)) {
    throw new TypeError(`${where}: the deadline must be a valid time (epoch ms within ±8.64e15), got ${describe(d)}`)
  }
  return d
}

/** A key made by `context.key`: an object with a name, compared by identity. */
class ContextKey<T> implements Key<T> {
  readonly name: string
  constructor(name: string) {
    this.name = name
    Object.freeze(this)
  }
  toString(): string {
    return `context.Key(${this.name})`
  }
}

/** Whether `v` is a context made by this module (any runtime). */
export function isContext(v: unknown): v is Context {
  return Ctx.is(v)
}

/** Number of registrations (cancelable children and afterFunc callbacks) waiting on `ctx`'s nearest cancelable context; for tests and diagnostics. */
export function childCount(ctx: unknown): number {
  if (!Ctx.is(ctx)) throw new TypeError(`childCount: not a Context: ${describe(ctx)}`)
  return ctx._cancelable?._children?.size ?? 0
}

/** Builds a `context` namespace whose deadlines and afterFunc callbacks run on `scheduler`. */
export function createContext(scheduler: Scheduler, deps: ContextDeps): typeof ContextApi {
  const s = scheduler
  const now = deps.now
  const wallNow = deps.wallNow
  const wallOffset = deps.wallOffset

  /** The deadline contexts of this namespace: their timers are armed on `s`. */
  class DeadlineCtx extends TimerCtx {}
  Object.defineProperty(DeadlineCtx.prototype, '_scheduler', { value: s })

  /** A cancelable child of `p`, with `p`'s deadline, attached to it (done at birth if `p` is). */
  function cancelChild(p: Ctx): CancelCtx {
    const c = new CancelCtx(p)
    attach(c, p)
    return c
  }

  function cancelable(p: Ctx): [Context, CancelFunc] {
    const c = cancelChild(p)
    return [c, cancelCanceled.bind(c)]
  }

  function withCancel(parent: Context): [Context, CancelFunc] {
    return cancelable(asCtx(parent, 'context.withCancel', 'parent'))
  }

  function withCancelCause(parent: Context): [Context, CancelCauseFunc] {
    const c = cancelChild(asCtx(parent, 'context.withCancelCause', 'parent'))
    return [c, cancelWithCause.bind(c)]
  }

  /**
   * The deadline context of `p` at `deadline` (epoch ms), expiring `delay` ms from now (already
   * clamped to MAX_DURATION_MS; ≤ 0: at birth) with cause `why`.
   */
  function timerCtx(p: Ctx, deadline: number, delay: number, why: unknown): [Context, CancelFunc] {
    // Go's cur.Before(d): a parent's earlier deadline is the child's; no timer of its own.
    const owner = p._deadlineOwner()
    if (owner !== undefined && owner._deadline < deadline) return cancelable(p)
    const c = new DeadlineCtx(p, deadline, why)
    if (delay > 0 || p._cancelable?._err !== undefined) {
      // Done at birth with the parent's err if the parent is done; else linked and armed.
      attach(c, p)
      if (c._err === undefined) s.arm(c, delay)
    } else {
      cancel(c, DeadlineExceeded, why, false)
    }
    return [c, cancelCanceled.bind(c)]
  }

  function withDeadlineCause(parent: Context, d: Date | number, why: unknown, where = 'context.withDeadlineCause'): [Context, CancelFunc] {
    const p = asCtx(parent, where, 'parent')
    const dl = toDeadline(d, where)
    const left = dl - wallNow()
    return timerCtx(p, dl, left < Shared.MAX_DURATION_MS ? left : Shared.MAX_DURATION_MS, why)
  }

  function withTimeoutCause(parent: Context, ms: number, why: unknown, where = 'context.withTimeoutCause'): [Context, CancelFunc] {
    const p = asCtx(parent, where, 'parent')
    const delay = toDelay(ms, where)
    // Signed, saturated as Go's Duration: a negative timeout puts the deadline in the past.
    const span = delay > 0 ? delay : ms < -Shared.MAX_DURATION_MS ? -Shared.MAX_DURATION_MS : ms < 0 ? ms : 0
    // One clock reading, as Go's time.Now().Add: the monotonic clock, on the wall clock's scale.
    return timerCtx(p, wallOffset() + now() + span, delay, why)
  }

  function afterFunc(ctx: Context, f: () => void): () => boolean {
    const c = asCtx(ctx, 'context.afterFunc', 'context')
    checkFunction(f, 'context.afterFunc')
    const on = c._cancelable
    if (on === undefined) {
      // Never done: f never runs, nothing is registered or retained.
      let stopped = false
      return () => (stopped ? false : (stopped = true))
    }
    const reg = new Reg(f, on, s)
    if (on._err !== undefined) reg._trigger()
    else (on._children ??= new Set()).add(reg)
    return () => reg.stop()
  }

  const bySignal = signalContexts

  return Object.freeze({
    Canceled,
    DeadlineExceeded,
    background: (): Context => BACKGROUND,
    todo: (): Context => TODO,
    withCancel,
    withCancelCause,
    withDeadline: (parent: Context, d: Date | number): [Context, CancelFunc] =>
      withDeadlineCause(parent, d, undefined, 'context.withDeadline'),
    withDeadlineCause: (parent: Context, d: Date | number, why: unknown): [Context, CancelFunc] =>
      withDeadlineCause(parent, d, why),
    withTimeout: (parent: Context, ms: number): [Context, CancelFunc] =>
      withTimeoutCause(parent, ms, undefined, 'context.withTimeout'),
    withTimeoutCause: (parent: Context, ms: number, why: unknown): [Context, CancelFunc] =>
      withTimeoutCause(parent, ms, why),
    withoutCancel(parent: Context): Context {
      return new WithoutCancelCtx(asCtx(parent, 'context.withoutCancel', 'parent'))
    },
    withValue(parent: Context, key: unknown, value: unknown): Context {
      const p = asCtx(parent, 'context.withValue', 'parent')
      if (key === undefined || key === null) throw new TypeError(`context.withValue: the key must not be ${describe(key)}`)
      return new ValueCtx(p, key, value)
    },
    afterFunc,
    key<T>(name: string): Key<T> {
      if (typeof name !== 'string') throw new TypeError(`context.key: the name must be a string, got ${describe(name)}`)
      return new ContextKey<T>(name)
    },
    cause(ctx: Context): unknown {
      const c = asCtx(ctx, 'context.cause', 'context')._cancelable
      return c === undefined || c._err === undefined ? undefined : c._cause
    },
    fromSignal(signal: AbortSignal): Context {
      if (!isAbortSignal(signal)) {
        throw new TypeError(`context.fromSignal: the signal must be an AbortSignal, got ${describe(signal)}`)
      }
      let c = bySignal.get(signal)
      if (c === undefined) {
        const ctx = new CancelCtx(BACKGROUND)
        if (signal.aborted) {
          cancel(ctx, Canceled, signal.reason, false)
        } else {
          signal.addEventListener('abort', () => cancel(ctx, Canceled, signal.reason, false), { once: true })
        }
        bySignal.set(signal, ctx)
        c = ctx
      }
      return c
    },
  })
}

/**
 * The context of each signal given to fromSignal, shared by every runtime: one context and one
 * 'abort' listener per signal, however many times it is converted. The signal holds the
 * listener, which holds the context, until it aborts; the map holds neither.
 */
const signalContexts = new WeakMap<AbortSignal, CancelCtx>()
