// signal.notifyContext: Go's os/signal.NotifyContext, on both engines. What a signal does is
// tested in child processes that receive real signals (process.kill): the first cancels the
// context, the next one ends the process as Node's default does.

import { describe, expect, test } from 'vitest'
import { engines, entry, runtime, type Kind } from './helpers.ts'
import { spawnNode } from './spawn.ts'

/** Runs `script` in a child process with `afterfunc` bound to the built package, on engine `kind`. */
function child(kind: Kind, script: string) {
  const prelude = `const afterfunc = require(${JSON.stringify(entry)});\nconst { signal, context } = afterfunc;\n`
  return spawnNode(['-e', prelude + script], { env: { ...process.env, AFTERFUNC_BACKEND: kind } })
}

/** Prints, when ctx is done, what a test checks about it. */
const report = `
function report(tag, ctx) {
  ctx.done().then(() => {
    const cause = context.cause(ctx)
    console.log(tag + ' ' + JSON.stringify({
      canceled: ctx.err() === context.Canceled,
      isSignalError: cause instanceof signal.SignalError,
      name: cause.name,
      message: cause.message,
      signal: cause.signal,
      listeners: { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM'), SIGUSR2: process.listenerCount('SIGUSR2') },
    }))
  })
}
setInterval(() => {}, 1000) // stays alive until a signal ends it
`

const payload = (line: string): Record<string, unknown> => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>

describe.each(engines)('signal.notifyContext on the %s engine', (kind) => {
  test.each(['SIGTERM', 'SIGINT'] as const)('a real %s cancels the context with a SignalError; the next one ends the process', async (sig) => {
    const c = child(
      kind,
      `${report}
      const [ctx, stop] = signal.notifyContext(context.background())
      report('done', ctx)
      console.log('ready ' + JSON.stringify({ SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }))
      `,
    )
    expect(payload(await c.line(/^ready/))).toEqual({ SIGINT: 1, SIGTERM: 1 })
    c.child.kill(sig)
    const done = payload(await c.line(/^done/))
    expect(done).toEqual({
      canceled: true,
      isSignalError: true,
      name: 'SignalError',
      message: `${sig} signal received`,
      signal: sig,
      listeners: { SIGINT: 0, SIGTERM: 0, SIGUSR2: 0 },
    })
    c.child.kill(sig)
    const exit = await c.exit
    expect(exit.signal).toBe(sig)
    expect(exit.stderr).toBe('')
  })

  test('after stop() the first signal ends the process; the context was cancelled with Canceled', async () => {
    const c = child(
      kind,
      `${report}
      const [ctx, stop] = signal.notifyContext(context.background(), 'SIGTERM')
      report('done', ctx)
      stop()
      stop()
      setImmediate(() => console.log('ready'))
      `,
    )
    const done = payload(await c.line(/^done/))
    expect(done).toMatchObject({ canceled: true, isSignalError: false, message: 'context canceled', listeners: { SIGTERM: 0 } })
    await c.line(/^ready/)
    c.child.kill('SIGTERM')
    expect((await c.exit).signal).toBe('SIGTERM')
  })

  test('only the signals named are caught: SIGUSR2 cancels, SIGTERM keeps its default', async () => {
    const c = child(
      kind,
      `${report}
      const [ctx] = signal.notifyContext(context.background(), 'SIGUSR2', 'SIGUSR2')
      report('done', ctx)
      console.log('ready ' + process.listenerCount('SIGUSR2') + ' ' + process.listenerCount('SIGTERM'))
      `,
    )
    expect(await c.line(/^ready/)).toBe('ready 1 0')
    c.child.kill('SIGUSR2')
    expect(payload(await c.line(/^done/))).toMatchObject({ signal: 'SIGUSR2', message: 'SIGUSR2 signal received', listeners: { SIGUSR2: 0 } })
    c.child.kill('SIGTERM')
    expect((await c.exit).signal).toBe('SIGTERM')
  })

  test('one signal cancels every context listening for it, and their children', async () => {
    const c = child(
      kind,
      `${report}
      const [a] = signal.notifyContext(context.background())
      const [b] = signal.notifyContext(context.withValue(context.background(), 'k', 'v'), 'SIGTERM')
      const [child] = context.withTimeout(b, 60000)
      report('a', a)
      report('b', b)
      report('child', child)
      console.log('ready ' + process.listenerCount('SIGTERM'))
      `,
    )
    expect(await c.line(/^ready/)).toBe('ready 2')
    c.child.kill('SIGTERM')
    for (const tag of ['a', 'b', 'child']) {
      expect(payload(await c.line(new RegExp(`^${tag} `)))).toMatchObject({ signal: 'SIGTERM', listeners: { SIGTERM: 0, SIGINT: 0 } })
    }
    c.child.kill('SIGTERM')
    expect((await c.exit).signal).toBe('SIGTERM')
  })

  test('a parent done first removes the listeners synchronously, inside its cancel', () => {
    const { signal, context } = runtime(kind)
    const before = process.listenerCount('SIGTERM')
    const [parent, cancel] = context.withCancelCause(context.background())
    const [ctx, stop] = signal.notifyContext(parent)
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    cancel('parent gone')
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(process.listenerCount('SIGINT')).toBe(0)
    expect(context.cause(ctx)).toBe('parent gone')
    stop()
    expect(context.cause(ctx)).toBe('parent gone')
  })

  test('stop() removes the listeners and cancels with Canceled', () => {
    const { signal, context } = runtime(kind)
    const before = process.listenerCount('SIGINT')
    const [ctx, stop] = signal.notifyContext(context.background(), 'SIGINT')
    expect(process.listenerCount('SIGINT')).toBe(before + 1)
    stop()
    expect(process.listenerCount('SIGINT')).toBe(before)
    expect(ctx.err()).toBe(context.Canceled)
    expect(context.cause(ctx)).toBe(context.Canceled)
  })

  test('a parent already done: done at birth with its cause, nothing installed', () => {
    const { signal, context } = runtime(kind)
    const [parent, cancel] = context.withTimeoutCause(context.background(), -1, 'too late')
    const before = process.listenerCount('SIGTERM')
    const [ctx, stop] = signal.notifyContext(parent)
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(ctx.err()).toBe(context.DeadlineExceeded)
    expect(context.cause(ctx)).toBe('too late')
    stop()
    cancel()
  })

  test('SignalError: one class for every runtime, named, with the signal', () => {
    const a = runtime(kind)
    const b = runtime(kind)
    expect(a.signal.SignalError).toBe(b.signal.SignalError)
    const err = new a.signal.SignalError('SIGHUP')
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('SignalError')
    expect(err.message).toBe('SIGHUP signal received')
    expect(err.signal).toBe('SIGHUP')
    expect(Object.keys(err)).toEqual(['signal'])
  })

  test('bad input throws a TypeError and installs nothing', () => {
    const { signal, context } = runtime(kind)
    const counts = () => ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s))
    const before = counts()
    const bg = context.background()
    expect(() => signal.notifyContext({} as never)).toThrow('signal.notifyContext: the parent must be a Context, got an object')
    expect(() => signal.notifyContext(bg, 'SIGFOO' as never)).toThrow(TypeError)
    expect(() => signal.notifyContext(bg, 'SIGHUP', 'sigterm' as never)).toThrow(TypeError)
    expect(() => signal.notifyContext(bg, 15 as never)).toThrow(TypeError)
    expect(() => signal.notifyContext(bg, 'SIGKILL')).toThrow('signal.notifyContext: SIGKILL cannot be caught by any process')
    expect(() => signal.notifyContext(bg, 'SIGINT', 'SIGSTOP')).toThrow(TypeError)
    expect(() => signal.notifyContext(bg, 'toString' as never)).toThrow(TypeError)
    expect(counts()).toEqual(before)
  })
})
