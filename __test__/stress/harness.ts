// Shared by the stress suites (`npm run test:stress`): runs one heavy scenario in a child
// process per engine, so heaps never mix and a crash shows up as a signal or an exit code, and
// records the figures each scenario prints.
//
// A child script (in ./children) loads the built package (dist/index.js), takes its settings
// from environment variables, and prints one JSON line of results as its last line of stdout.

import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export type Mode = 'native' | 'js' | 'node'

/** The built package the children load, as a user's `require('afterfunc')` does. */
export const entry = resolve(__dirname, '..', '..', 'dist', 'index.js')
/** The child scripts. */
export const children = resolve(__dirname, 'children')
/** Where the figures of every scenario go: printed by each suite, gathered in one file. */
export const resultsPath = join(tmpdir(), 'afterfunc-stress-results.json')

/**
 * A scale factor for local experiments (`STRESS_SCALE=0.1 npm run test:stress`); CI runs at 1.
 * Counts are multiplied by it, so the figures are only comparable at 1.
 */
export const scale = Number(process.env['STRESS_SCALE'] ?? '1')
export function scaled(n: number): number {
  return Math.max(1, Math.round(n * scale))
}

export interface ChildRun<T> {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall time from spawn to exit, in ms. */
  ms: number
  /** Epoch ms (performance.timeOrigin + performance.now()) at which the child exited. */
  exitedAt: number
  /** The child's last line of stdout, parsed; undefined if it is not JSON. */
  result: T | undefined
}

/**
 * Runs `children/<script>` with `node --expose-gc` (plus `nodeArgs`), on engine `mode`
 * (`node` runs the script's setTimeout baseline, with AFTERFUNC_BACKEND=js so that loading the
 * package starts nothing native), with `env` added. Kills it after `timeoutMs`.
 */
export function runScenario<T>(
  script: string,
  mode: Mode,
  env: Record<string, string | number> = {},
  timeoutMs = 300_000,
  nodeArgs: string[] = [],
): Promise<ChildRun<T>> {
  const started = performance.now()
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AFTERFUNC_ENTRY: entry, STRESS_MODE: mode }
  childEnv['AFTERFUNC_BACKEND'] = mode === 'node' ? 'js' : mode
  for (const [k, v] of Object.entries(env)) childEnv[k] = String(v)
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, join(children, script)], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('exit', () => {
      // 'exit' is the moment the process ended; 'close' may come later, once the pipes drain.
      exitedAt = performance.timeOrigin + performance.now()
    })
    let exitedAt = 0
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const lines = stdout.trim().split('\n')
      let result: T | undefined
      try {
        result = JSON.parse(lines[lines.length - 1] ?? '') as T
      } catch {
        result = undefined
      }
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started, exitedAt, result })
    })
  })
}

/** Fails with the child's output when it crashed, was killed, or printed no result. */
export function expectClean<T>(run: ChildRun<T>, what: string): T {
  if (run.code !== 0 || run.signal !== null || run.result === undefined) {
    throw new Error(
      `${what}: the child ended with code ${run.code}, signal ${run.signal} after ${Math.round(run.ms)} ms\n` +
        `--- stdout (last 2000 chars)\n${run.stdout.slice(-2000)}\n--- stderr (last 4000 chars)\n${run.stderr.slice(-4000)}`,
    )
  }
  return run.result
}

/**
 * Prints the figures of one scenario (so they appear in the CI log) and merges them into
 * {@link resultsPath} under `name`.
 */
export function record(name: string, figures: unknown): void {
  let all: Record<string, unknown> = {}
  if (existsSync(resultsPath)) {
    try {
      all = JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown>
    } catch {
      all = {}
    }
  }
  all[name] = figures
  all['_meta'] = { node: process.version, platform: `${process.platform}-${process.arch}`, scale, updated: new Date().toISOString() }
  writeFileSync(resultsPath, JSON.stringify(all, null, 2) + '\n')
  console.log(`[stress] ${name} ${JSON.stringify(figures)}\n[stress] figures gathered in ${resultsPath}`)
}

/** Rounds to `digits` decimals, for readable figures. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
