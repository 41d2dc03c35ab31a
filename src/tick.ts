/**
 * `time.tick`: Go's `time.Tick` as an async iterator over a runtime's ticker. The contract is
 * in `index.d.ts`.
 *
 * The iterator is a ticker and a mailbox of one tick, as Go's ticker is a ticker and a channel
 * with room for one value:
 *
 * - A tick with a `next()` waiting resolves it. A tick with none waiting is kept if the mailbox
 *   is empty and dropped if not, so a slow loop body gets one late tick at once and then the
 *   next grid point, never a burst of the ticks it missed.
 * - Nothing is armed or registered until the first `next()` (a `for await` loop calls it at
 *   once), so an iterator that is never iterated holds nothing. From then on the ticker and the
 *   'abort' listeners on the context's and the caller's signals are held until the iterator
 *   ends, and all of them are released when it does.
 * - It ends, once, on whichever comes first: `return()` (a `break` out of the loop), the
 *   context being done, the signal aborting. The listeners are on `AbortSignal`s, so the end
 *   happens synchronously inside the cancellation: no tick is delivered after it.
 */

import type { context as ContextApi, time as TimeApi } from '../index'
import { isContext } from './context'
import { describe, toPeriod } from './arguments'

type Context = ContextApi.Context
type Done = IteratorReturnResult<undefined>

const DONE: Done = Object.freeze({ value: undefined, done: true as const })

/** What a tick iterator needs from its runtime. */
export interface TickDeps {
  /** The runtime's `time.newTicker`: the grid, and the dropping of missed ticks. */
  readonly newTicker: typeof TimeApi.newTicker
  /** The runtime's scheduler clock, read when a tick fires: the value the tick yields. */
  readonly now: () => number
}

class TickIterator implements TimeApi.TickIterator {
  readonly #deps: TickDeps
  readonly #period: number
  /** The signals that end the iteration: the context's and the caller's (either may be absent). */
  readonly #ctx: Context | undefined
  readonly #signal: AbortSignal | undefined
  #started = false
  #ended = false
  #ticker: TimeApi.Ticker | undefined
  /** The signals the end listener was added to, to take it off again. */
  #watched: AbortSignal[] = []
  /** The `next()` calls waiting for a tick, oldest first. */
  #waiting: ((result: IteratorResult<number, undefined>) => void)[] = []
  /** A tick that fired while no `next()` waited (the mailbox of one). */
  #kept: number | undefined

  constructor(deps: TickDeps, period: number, ctx: Context | undefined, signal: AbortSignal | undefined) {
    this.#deps = deps
    this.#period = period
    this.#ctx = ctx
    this.#signal = signal
  }

  next(): Promise<IteratorResult<number, undefined>> {
    if (!this.#started) this.#start()
    if (this.#ended) return Promise.resolve(DONE)
    const kept = this.#kept
    if (kept !== undefined) {
      this.#kept = undefined
      return Promise.resolve({ value: kept, done: false })
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  return(): Promise<Done> {
    this.#started = true
    this.#end()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #start(): void {
    this.#started = true
    const signals: AbortSignal[] = []
    if (this.#signal !== undefined) signals.push(this.#signal)
    if (this.#ctx !== undefined) signals.push(this.#ctx.signal)
    if (signals.some((s) => s.aborted)) {
      this.#ended = true
      return
    }
    for (const s of signals) s.addEventListener('abort', this.#end, { once: true })
    this.#watched = signals
    this.#ticker = this.#deps.newTicker(this.#period, this.#onTick)
  }

  readonly #onTick = (): void => {
    const now = this.#deps.now()
    const waiter = this.#waiting.shift()
    if (waiter !== undefined) waiter({ value: now, done: false })
    else if (this.#kept === undefined) this.#kept = now
  }

  readonly #end = (): void => {
    if (this.#ended) return
    this.#ended = true
    this.#ticker?.stop()
    this.#ticker = undefined
    for (const s of this.#watched) s.removeEventListener('abort', this.#end)
    this.#watched = []
    this.#kept = undefined
    for (const waiter of this.#waiting.splice(0)) waiter(DONE)
  }
}

/** Builds `time.tick` over a runtime's ticker and clock. */
export function createTick(deps: TickDeps): typeof TimeApi.tick {
  return function tick(d: number, opts?: TimeApi.TickOptions): TimeApi.TickIterator {
    const period = toPeriod(d, 'time.tick')
    if (opts === undefined) return new TickIterator(deps, period, undefined, undefined)
    if (typeof opts !== 'object' || opts === null) {
      throw new TypeError(`time.tick: opts must be an object or undefined, got ${describe(opts)}`)
    }
    const { ctx, signal } = opts
    if (ctx !== undefined && !isContext(ctx)) {
      throw new TypeError(`time.tick: opts.ctx must be a context made by afterfunc's context namespace, got ${describe(ctx)}`)
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`time.tick: opts.signal must be an AbortSignal, got ${describe(signal)}`)
    }
    return new TickIterator(deps, period, ctx, signal)
  }
}
