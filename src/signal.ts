/**
 * The `signal` namespace: Go's `os/signal.NotifyContext` over a runtime's `context`. The
 * contract is in `index.d.ts`.
 *
 * Node ends a process on SIGINT or SIGTERM only while no listener for that signal is installed
 * on `process`; a listener replaces the default. So the listeners are the registration: they
 * are installed while the context is pending, and taken off synchronously when it becomes done,
 * whatever made it done (a signal, `stop`, the parent), through an 'abort' listener on the
 * context's signal. From then on the next signal has Node's default effect again.
 */

import { constants } from 'node:os'
import type { context as ContextApi, signal as SignalApi } from '../index'
import { isContext } from './context'
import { describe } from './arguments'

type Context = ContextApi.Context

/** What `notifyContext` listens for when given no signal names. */
const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** Signals no process can catch: listening for them fails in libuv (EINVAL). */
const UNCATCHABLE: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP'])

/**
 * The cause of a context that a signal cancelled: Go's `"<signal> signal received"` error, with
 * the signal's name in `signal`. One class for every runtime, so `instanceof` works across them.
 */
export class SignalError extends Error {
  readonly signal: NodeJS.Signals

  constructor(signal: NodeJS.Signals) {
    super(`${signal} signal received`)
    this.signal = signal
  }
}
Object.defineProperty(SignalError.prototype, 'name', { value: 'SignalError', writable: true, configurable: true })

/** Checks the signal names given to notifyContext; returns them without duplicates. */
function checkSignals(signals: readonly unknown[]): NodeJS.Signals[] {
  if (signals.length === 0) return [...DEFAULT_SIGNALS]
  const names = new Set<NodeJS.Signals>()
  for (const s of signals) {
    if (typeof s !== 'string' || !Object.hasOwn(constants.signals, s)) {
      throw new TypeError(`signal.notifyContext: unknown signal ${describe(s)}; expected a name such as 'SIGINT' or 'SIGTERM'`)
    }
    if (UNCATCHABLE.has(s)) throw new TypeError(`signal.notifyContext: ${s} cannot be caught by any process`)
    names.add(s as NodeJS.Signals)
  }
  return [...names]
}

/** Builds the `signal` namespace over a runtime's `context`. */
export function createSignal(context: typeof ContextApi): typeof SignalApi {
  function notifyContext(parent: Context, ...signals: NodeJS.Signals[]): [Context, () => void] {
    if (!isContext(parent)) {
      throw new TypeError(`signal.notifyContext: the parent must be a Context, got ${describe(parent)}`)
    }
    const names = checkSignals(signals)
    const [ctx, cancel] = context.withCancelCause(parent)
    const stop = (): void => cancel()
    if (ctx.err() !== undefined) return [ctx, stop] // the parent is done: nothing to listen for

    const onSignal = (name: NodeJS.Signals): void => cancel(new SignalError(name))
    const unregister = (): void => {
      for (const name of names) process.removeListener(name, onSignal)
    }
    try {
      for (const name of names) process.on(name, onSignal)
    } catch (err) {
      // A signal this platform cannot listen for (libuv refuses it): undo, changing nothing.
      unregister()
      cancel()
      throw new TypeError(`signal.notifyContext: cannot listen for ${names.join(', ')}: ${String(err)}`, { cause: err })
    }
    ctx.signal.addEventListener('abort', unregister, { once: true })
    return [ctx, stop]
  }

  return Object.freeze({ SignalError, notifyContext })
}
