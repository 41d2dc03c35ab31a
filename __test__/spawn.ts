// A child process the test talks to while it runs: read its output line by line, send it real
// signals, await its end. (runChild in helpers.ts runs a script to completion instead.)

import { type ChildProcess, spawn } from 'node:child_process'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface Running {
  readonly child: ChildProcess
  /** Resolves with the first line of stdout (past or future) that `match` matches; rejects after `timeoutMs` or at exit. */
  line(match: RegExp, timeoutMs?: number): Promise<string>
  /** Resolves when the process has exited. */
  readonly exit: Promise<Exit>
}

/** Starts `node <args>`, collecting its output; it is killed if it outlives `timeoutMs`. */
export function spawnNode(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Running {
  const child = spawn(process.execPath, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let exited = false
  const watchers = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const w of watchers) w()
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      exited = true
      for (const w of watchers) w()
      resolve({ code, signal, stdout, stderr })
    })
  })
  function line(match: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = stdout.split('\n').find((l) => match.test(l))
        if (found !== undefined) finish(() => resolve(found))
        else if (exited) finish(() => reject(new Error(`exited without printing ${match}\nstdout: ${stdout}\nstderr: ${stderr}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`no line ${match} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))), timeoutMs)
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        watchers.delete(check)
        settle()
      }
      watchers.add(check)
      check()
    })
  }
  return { child, line, exit }
}
