/**
 * A runtime: one scheduler on one engine, and the public namespaces built on it. The package
 * exports one runtime (chosen by {@link selectEngine}); tests create one per engine, so a
 * single test suite runs against both.
 */

import { performance } from 'node:perf_hooks'
import type { context as ContextApi, errgroup as ErrgroupApi, http as HttpApi, signal as SignalApi, testing as TestingApi, time as TimeApi } from '../index'
import { createContext } from './context'
import { loadBinding, nativeEngineFactory } from './engine/native'
import { createJsEngine } from './engine/js'
import { createErrgroup } from './errgroup'
import { createHttp } from './http'
import type { EngineFactory, EngineKind } from './engine/types'
import { Scheduler } from './scheduler'
import { createSignal } from './signal'
import { createTesting } from './testing'
import { createTime } from './time'

/** Everything built on one engine. */
export interface Runtime {
  /** Which engine runs. */
  readonly backend: EngineKind
  /** The `time` namespace. */
  readonly time: typeof TimeApi
  /** The `context` namespace: its deadlines and afterFunc callbacks run on this runtime's scheduler. */
  readonly context: typeof ContextApi
  /** The `testing` namespace: a virtual clock for this runtime. */
  readonly testing: typeof TestingApi
  /** The `signal` namespace, over this runtime's `context`. */
  readonly signal: typeof SignalApi
  /** The `errgroup` namespace, over this runtime's `context`. */
  readonly errgroup: typeof ErrgroupApi
  /** The `http` namespace, over this runtime's `context`. */
  readonly http: typeof HttpApi
  /** The scheduler, for tests and diagnostics. */
  readonly scheduler: Scheduler
  /** Stops the engine (and, for the native one, its thread); pending timers never run. */
  close(): void
}

/**
 * The clock every deadline is measured on: `performance.now()`, reached through `node:perf_hooks`
 * because Node's global `performance` is a getter, which costs every read 10-20 ns more.
 */
export const monotonicNow = (): number => performance.now()

/** Returns the factory for `kind`, or throws if the native binary cannot load. */
export function engineFactory(kind: EngineKind): EngineFactory {
  if (kind === 'js') return createJsEngine
  const loaded = loadBinding()
  if ('error' in loaded) {
    throw new Error(`afterfunc: the native engine cannot load: ${String(loaded.error)}`, { cause: loaded.error })
  }
  return nativeEngineFactory(loaded.binding)
}

/** Creates an independent runtime on the engine `kind`. */
export function createRuntime(kind: EngineKind, now: () => number = monotonicNow): Runtime {
  const scheduler = new Scheduler(engineFactory(kind), now)
  // The wall clock `Date` deadlines are measured against; a virtual clock replaces it.
  let wallNow: () => number = Date.now
  const context = createContext(scheduler, { now: () => scheduler.clock(), wallNow: () => wallNow() })
  return {
    backend: kind,
    time: createTime(scheduler),
    context,
    testing: createTesting({
      scheduler,
      setWallClock(next) {
        const previous = wallNow
        wallNow = next
        return () => {
          wallNow = previous
        }
      },
    }),
    signal: createSignal(context),
    errgroup: createErrgroup(context),
    http: createHttp(context),
    scheduler,
    close: () => scheduler.close(),
  }
}

let warned = false

/**
 * Chooses the engine of the package's runtime from `AFTERFUNC_BACKEND`:
 * `js` forces the TypeScript engine; `native` requires the native one (throws if it cannot
 * load); unset or empty uses the native engine when its binary loads and the TypeScript
 * engine otherwise, warning once if a binary was found but failed to load. Any other value
 * throws.
 */
export function selectEngine(setting: string | undefined = process.env['AFTERFUNC_BACKEND']): EngineKind {
  if (setting === 'js') return 'js'
  if (setting === 'native') {
    engineFactory('native')
    return 'native'
  }
  if (setting !== undefined && setting !== '') {
    throw new Error(`afterfunc: AFTERFUNC_BACKEND must be 'native', 'js' or unset, got ${JSON.stringify(setting)}`)
  }
  const loaded = loadBinding()
  if ('binding' in loaded) return 'native'
  if (!warned && !isNotFound(loaded.error)) {
    warned = true
    process.emitWarning(`afterfunc: the native engine failed to load, using the TypeScript engine: ${String(loaded.error)}`, {
      code: 'AFTERFUNC_NATIVE_UNAVAILABLE',
    })
  }
  return 'js'
}

/** Whether a load error means "no binary for this platform" (expected) rather than a broken one. */
function isNotFound(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return /Cannot find (native binding|module)/.test(message)
}
