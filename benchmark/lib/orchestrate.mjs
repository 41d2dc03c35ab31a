// Helpers shared by the orchestrators (run.mjs, ab.mjs): running a child that reports one
// `@@RESULT {json}` line, running one S8 server under load, and measuring either on a quiet
// machine with a record of the foreign load while it ran.

import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineJiffies, sleep } from './common.mjs'

const benchDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

const USER_HZ = 100 // /proc/stat counts in 1/100 s on Linux
const QUIET = 0.15 // the machine counts as quiet below 15% busy (of all cores)
/** A case measured while other processes used at least this % of the machine is flagged (†). */
export const NOISY_PCT = 10

/** For the progress log: a note of the foreign load a measured case ran beside, if it is flagged; else ''. */
export function foreignNote(record) {
  return record.foreign_cpu_pct >= NOISY_PCT ? ` (other processes used ${record.foreign_cpu_pct}% of the machine meanwhile)` : ''
}

/**
 * Runs a command whose stdout ends with `@@RESULT {json}` (in `cwd`); resolves with that object,
 * or `{ error }` when it exits without one or is killed after `timeoutMs`.
 */
export function runResult(cmd, args, env, cwd, timeoutMs = 240_000) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const m = /^@@RESULT (.*)$/m.exec(out)
      if (m) resolve(JSON.parse(m[1]))
      else resolve({ error: `exit ${code ?? signal}: ${out.slice(-500)}` })
    })
  })
}

/** Fraction of the machine (all cores) busy over `ms`. */
async function busyOver(ms) {
  const a = machineJiffies()
  await sleep(ms)
  const b = machineJiffies()
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0
}

/** Waits (at most `tries` readings of 250 ms) until other processes leave the machine quiet; returns the last reading. */
async function waitQuiet(tries) {
  let busy = 0
  for (let i = 0; i < tries; i++) {
    busy = await busyOver(250)
    if (busy < QUIET) break
  }
  return busy
}

/**
 * Runs `body` (which returns a record with `self_cpu_ms`, the CPU of our own processes in it)
 * after waiting (at most `quietTries` × 250 ms) for a quiet machine, and adds to the record how
 * busy the machine was before (`machine_busy_before_pct`), and what share of the cores other
 * processes used while it ran (`foreign_cpu_pct`; only for bodies of a second or more).
 */
export async function measured(body, quietTries = 12) {
  const busyBefore = await waitQuiet(quietTries)
  const j0 = machineJiffies()
  const started = Date.now()
  const record = await body()
  const wall = (Date.now() - started) / 1000
  const j1 = machineJiffies()
  record.elapsed_ms = Date.now() - started
  record.machine_busy_before_pct = +(100 * busyBefore).toFixed(1)
  // /proc/stat counts in 10 ms steps: too coarse to judge a case shorter than a second.
  if (j0 && j1 && record.self_cpu_ms !== undefined && wall >= 1) {
    const foreign = (j1.busy - j0.busy) / USER_HZ - record.self_cpu_ms / 1000
    record.foreign_cpu_pct = +Math.max(0, (100 * foreign) / (wall * os.cpus().length)).toFixed(1)
  }
  return record
}

/**
 * S8, one round: starts `server.mjs <variant>` (with `env`, in `cwd`), drives it with
 * `load.mjs` (autocannon: `connections`, a `warmup`-second run, then a `seconds`-second one),
 * asks the server for its request count and CPU time, and waits for it to exit. Resolves with
 * the load generator's record plus `server_requests`, `server_cpu_ms`,
 * `server_cpu_us_per_request` and `self_cpu_ms` (both processes); rejects if the server exits
 * before it listens.
 */
export async function serveAndLoad({ variant, env, cwd, connections, seconds, warmup }) {
  const server = spawn(process.execPath, [path.join(benchDir, 'server.mjs'), variant], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  const port = await new Promise((resolve, reject) => {
    let buf = ''
    server.stdout.on('data', (d) => {
      buf += d
      const m = /listening (\d+)/.exec(buf)
      if (m) resolve(Number(m[1]))
    })
    server.on('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)))
  })
  const load = await runResult(
    process.execPath,
    [path.join(benchDir, 'load.mjs'), String(port), String(connections), String(seconds), String(warmup)],
    process.env,
    cwd,
  )
  server.send('stats')
  const stats = await Promise.race([
    new Promise((resolve) => server.once('message', resolve)),
    new Promise((resolve) => setTimeout(() => resolve({}), 5000)),
  ])
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve))
    setTimeout(() => server.kill('SIGKILL'), 3000).unref()
    await exited
  }
  return {
    ...load,
    server_requests: stats.requests,
    server_cpu_ms: stats.cpu_ms,
    server_cpu_us_per_request: stats.requests ? (stats.cpu_ms * 1000) / stats.requests : undefined,
    self_cpu_ms: (load.self_cpu_ms ?? 0) + (stats.cpu_ms ?? 0),
  }
}
