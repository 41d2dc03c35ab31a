/**
 * A runtime: the engines of one kind (the scheduler's, and one per timer set), and the public
 * namespaces built on them. The package exports one runtime (chosen by {@link selectEngine});
 * tests create one per engine, so a single test suite runs against both.
 */

import { performance } from 'node:perf_hooks'
import type { context as ContextApi, errgroup as ErrgroupApi, http as HttpApi, signal as SignalApi, testing as TestingApi, time as TimeApi } from '../index'
import { Shared } from './constants'
import { createContext } from './context'
import { denoPermissions, loadBinding, nativeEngineFactory } from './engine/native'
import { createJsEngine } from './engine/js'
import { createErrgroup } from './errgroup'
import { createHttp } from './http'
import { EngineSource } from './engine/link'
import type { EngineFactory, EngineKind } from './engine/types'
import { Scheduler } from './scheduler'
import { createSignal } from './signal'
import { createTesting } from './testing'
import { createTime } from './time'
import { createTimerSets } from './timerset'

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
  /** Where the runtime's engines come from (the scheduler's and the timer sets'). */
  readonly engines: EngineSource
  /** Stops every engine (and, for the native one, its thread); pending timers never run. */
  close(): void
}

/** One engine tick, in ms: deadlines are rounded up to it (for tests and the stress suites). */
export const TICK_MS = 1 / Shared.TICKS_PER_MS

/**
 * The clock every deadline is measured on: `performance.now()`, reached through `node:perf_hooks`
 * because Node's global `performance` is a getter, which every read would go through.
 */
export const monotonicNow = (): number => performance.now()

/** Returns the factory for `kind`, or throws, saying why and what to do, if the native binary cannot load. */
export function engineFactory(kind: EngineKind): EngineFactory {
  if (kind === 'js') return createJsEngine
  const loaded = loadBinding()
  if (!('binding' in loaded)) {
    throw new Error(`afterfunc: the native engine cannot load: ${loaded.message}`, { cause: loaded.error })
  }
  return nativeEngineFactory(loaded.binding)
}

/** Creates an independent runtime on the engine `kind`. */
export function createRuntime(kind: EngineKind, now: () => number = monotonicNow): Runtime {
  const engines = new EngineSource(engineFactory(kind), now)
  const scheduler = new Scheduler(engines)
  // The wall clock `Date` deadlines are measured against, and the wall time at the monotonic
  // clock's zero (`withTimeout` deadlines are that plus a monotonic reading); a virtual clock
  // replaces both.
  let wallNow: () => number = Date.now
  const realOffset = now === monotonicNow ? performance.timeOrigin : Date.now() - now()
  let wallOffset: () => number = () => realOffset
  const context = createContext(scheduler, { now: () => scheduler.clock(), wallNow: () => wallNow(), wallOffset: () => wallOffset() })
  return {
    backend: kind,
    time: createTime(scheduler, createTimerSets(engines)),
    context,
    testing: createTesting({
      scheduler,
      engines,
      setWallClock(nextNow, nextOffset) {
        const previousNow = wallNow
        const previousOffset = wallOffset
        wallNow = nextNow
        wallOffset = nextOffset
        return () => {
          wallNow = previousNow
          wallOffset = previousOffset
        }
      },
    }),
    signal: createSignal(context),
    errgroup: createErrgroup(context),
    http: createHttp(context),
    scheduler,
    engines,
    close: () => {
      for (const link of engines.live()) link.close()
    },
  }
}

let warned = false

/**
 * Chooses the engine of the package's runtime from `AFTERFUNC_BACKEND` ({@link backendSetting}):
 * `js` forces the TypeScript engine; `native` requires the native one (throws if it cannot
 * load); unset or empty uses the native engine when its binary loads and the TypeScript
 * engine otherwise, warning once (`AFTERFUNC_NATIVE_UNAVAILABLE`) unless the reason is that no
 * binary for this platform is installed, which is how a platform without one is meant to run.
 * Any other value throws.
 */
export function selectEngine(setting: string | undefined = backendSetting()): EngineKind {
  if (setting === 'js') return 'js'
  if (setting === 'native') {
    const loaded = loadBinding()
    if ('binding' in loaded) return 'native'
    throw new Error(
      `afterfunc: the native engine cannot load: ${loaded.message} AFTERFUNC_BACKEND=native requires it; unset AFTERFUNC_BACKEND to run on the TypeScript engine instead.`,
      { cause: loaded.error },
    )
  }
  if (setting !== undefined && setting !== '') {
    throw new Error(`afterfunc: AFTERFUNC_BACKEND must be 'native', 'js' or unset, got ${JSON.stringify(setting)}`)
  }
  const loaded = loadBinding()
  if ('binding' in loaded) return 'native'
  if (!warned && loaded.reason !== 'missing') {
    warned = true
    const quiet = denoPermissions() === undefined ? 'AFTERFUNC_BACKEND=js' : 'AFTERFUNC_BACKEND=js with --allow-env=AFTERFUNC_BACKEND'
    process.emitWarning(
      `afterfunc: the native engine cannot load, so the TypeScript engine runs: ${loaded.message} Set ${quiet} to choose the TypeScript engine without this warning.`,
      { code: 'AFTERFUNC_NATIVE_UNAVAILABLE' },
    )
  }
  return 'js'
}

/**
 * `AFTERFUNC_BACKEND`, or undefined where the runtime does not let us read it: Deno without
 * `--allow-env` counts as unset, so importing the package needs no permission. Deno is asked
 * first rather than read and caught, because at a terminal the read would prompt the user.
 */
export function backendSetting(): string | undefined {
  const permissions = denoPermissions()
  if (permissions !== undefined && permissions.querySync({ name: 'env', variable: 'AFTERFUNC_BACKEND' }).state !== 'granted') {
    return undefined
  }
  return process.env['AFTERFUNC_BACKEND']
}
