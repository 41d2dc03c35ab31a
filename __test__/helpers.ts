// Shared by every suite: the engines to run against, runtimes that are closed after each test,
// and child processes for what only a whole process can show (exit, uncaught exceptions).

import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach } from 'vitest'
import { Shared } from '../src/constants.ts'
import { createRuntime, type Runtime } from '../src/runtime.ts'

/** One engine tick, in ms. */
export const TICK_MS = 1 / Shared.TICKS_PER_MS
/** `ms` rounded up to a whole engine tick, as a deadline is. */
export const ceilTick = (ms: number): number => Math.ceil(ms * Shared.TICKS_PER_MS) / Shared.TICKS_PER_MS

/** Both engines; every behavioural suite runs once per engine. */
export const engines = ['native', 'js'] as const
export type Kind = (typeof engines)[number]

/** The built CommonJS entry point, as a user's `require('afterfunc')` loads it. */
export const entry = resolve(__dirname, '..', 'dist', 'index.js')

const open: Runtime[] = []
afterEach(() => {
  for (const rt of open.splice(0)) rt.close()
})

/** A fresh runtime on `kind`, closed after the current test. */
export function runtime(kind: Kind): Runtime {
  const rt = createRuntime(kind)
  open.push(rt)
  return rt
}

/** Blocks the JavaScript thread for `ms` (so the engine expires timers that cannot be delivered yet). */
export function spin(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // busy
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Resolves when `cond()` holds, polling every few ms; rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached in time')
    await sleep(2)
  }
}

let gcFn: (() => void) | undefined
/** A full garbage collection (vitest runs without --expose-gc). */
export function gc(): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc')
    gcFn = runInNewContext('gc') as () => void
  }
  gcFn()
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs `script` (CommonJS, with `afterfunc` bound to the built package, `gc` exposed) in a new process. */
export function runChild(kind: Kind, script: string, timeoutMs = 20_000): Promise<ChildResult> {
  const prelude = `const afterfunc = require(${JSON.stringify(entry)});\n`
  const started = performance.now()
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      ['--expose-gc', '-e', prelude + script],
      { env: { ...process.env, AFTERFUNC_BACKEND: kind }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolvePromise({ code, signal: error?.signal ?? null, stdout, stderr, ms: performance.now() - started })
      },
    )
  })
}
