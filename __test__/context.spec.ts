// The behaviour of the `context` namespace (Go's context package), run against both engines.

import { execFile } from 'node:child_process'
import { getEventListeners, once, EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import type { context as ContextApi } from '../index'
import { Shared } from '../src/constants.ts'
import { childCount } from '../src/context.ts'
import { engines, entry, gc, runChild, runtime, sleep, spin, until } from './helpers.ts'

type Context = ContextApi.Context
type Ns = typeof ContextApi

/** Whether `p` has settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>, ms = 5): Promise<boolean> {
  let done = false
  void p.then(
    () => (done = true),
    () => (done = true),
  )
  await sleep(ms)
  return done
}

/** A pause between groups of timeouts, so they start at different points of the engine's tick. */
function rep0(ms: number): number {
  return ms < 2 ? 0 : 1
}

/** Number of Node timers (setTimeout/setInterval) alive in this process. */
function nodeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe.each(engines)('context on the %s engine', (kind) => {
  describe('cancellation reaches every descendant synchronously, never a parent', () => {
    test('cancel makes the context and all its descendants done before it returns; the parent stays', async () => {
      const { context } = runtime(kind)
      const [parent, cancelParent] = context.withCancel(context.background())
      const [ctx, cancel] = context.withCancel(parent)
      const value = context.withValue(ctx, 'k', 1)
      const [child] = context.withCancel(value)
      const [timed] = context.withTimeout(child, 60_000)
      const [caused] = context.withCancelCause(timed)
      const all = [ctx, value, child, timed, caused]
      for (const c of all) expect(c.err()).toBeUndefined()
      cancel()
      for (const c of all) {
        expect(c.err()).toBe(context.Canceled)
        expect(context.cause(c)).toBe(context.Canceled)
      }
      expect(parent.err()).toBeUndefined()
      expect(await settled(parent.done())).toBe(false)
      for (const c of all) expect(await settled(c.done())).toBe(true)
      cancelParent()
    })

    test('a tree of 1000 descendants (10 branches of 10 subtrees of 10) is cancelled synchronously', () => {
      const { context } = runtime(kind)
      const [root, cancel] = context.withCancel(context.background())
      const all: Context[] = []
      const makers: ((p: Context) => Context)[] = [
        (p) => context.withCancel(p)[0],
        (p) => context.withValue(p, 'depth', all.length),
        (p) => context.withTimeout(p, 60_000)[0],
        (p) => context.withCancelCause(p)[0],
        (p) => context.withDeadline(p, Date.now() + 60_000)[0],
      ]
      for (let i = 0; i < 10; i++) {
        const branch = makers[i % makers.length]!(root)
        all.push(branch)
        for (let j = 0; j < 9; j++) {
          let c = makers[(i + j) % makers.length]!(branch)
          all.push(c)
          for (let k = 0; k < 10; k++) {
            c = makers[(i + j + k) % makers.length]!(c)
            all.push(c)
          }
        }
      }
      expect(all.length).toBe(1000)
      expect(all.every((c) => c.err() === undefined)).toBe(true)
      cancel()
      expect(all.filter((c) => c.err() !== context.Canceled)).toEqual([])
      expect(childCount(root)).toBe(0)
    })

    test('a chain 100,000 deep is cancelled (and read) without recursion', async () => {
      const { context } = runtime(kind)
      const [root, cancel] = context.withCancel(context.background())
      let c: Context = context.withValue(root, 'top', 'found')
      for (let i = 0; i < 100_000; i++) c = i % 2 === 0 ? context.withCancel(c)[0] : context.withValue(c, i, i)
      expect(c.value('top')).toBe('found')
      expect(String(c).startsWith('context.Background.WithCancel.WithValue.WithCancel')).toBe(true)
      cancel()
      expect(c.err()).toBe(context.Canceled)
      await c.done()
    })

    test('done() is the same promise on every call and resolves with undefined, never rejects', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      const p = ctx.done()
      expect(ctx.done()).toBe(p)
      expect(await settled(p)).toBe(false)
      cancel()
      expect(ctx.done()).toBe(p)
      await expect(p).resolves.toBeUndefined()
      const [late, cancelLate] = context.withCancel(context.background())
      cancelLate()
      expect(late.done()).toBe(late.done())
      await expect(late.done()).resolves.toBeUndefined()
    })

    test('the first cancel wins: err and cause never change, later cancels do nothing', () => {
      const { context } = runtime(kind)
      const [parent, cancelParent] = context.withCancelCause(context.background())
      const [ctx, cancel] = context.withCancelCause(parent)
      const first = new Error('first')
      cancel(first)
      cancel(new Error('second'))
      cancel()
      cancelParent(new Error('parent'))
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe(first)
      expect(context.cause(parent)).toEqual(new Error('parent'))
    })

    test('a child cancelled before its parent keeps its own cause; the parent\'s is its own', () => {
      const { context } = runtime(kind)
      const [parent, cancelParent] = context.withCancelCause(context.background())
      const [child, cancelChild] = context.withCancelCause(parent)
      cancelChild('child-cause')
      expect(parent.err()).toBeUndefined()
      cancelParent('parent-cause')
      expect(context.cause(child)).toBe('child-cause')
      expect(context.cause(parent)).toBe('parent-cause')
    })

    test('first cancel wins over an overdue deadline that is not delivered yet', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx, cancel] = context.withTimeoutCause(context.background(), 1, 'expired')
      await Promise.resolve() // the batch reaches the engine (a microtask), nothing is delivered yet
      spin(20) // the engine expires the timer; delivery waits for this thread
      cancel()
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe(context.Canceled)
      expect(rt.scheduler.active).toBe(0)
      await sleep(30)
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe(context.Canceled)
    })

    test('first cancel wins: a deadline that passed first stays, a later cancel changes nothing', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withTimeoutCause(context.background(), 2, 'expired')
      await ctx.done()
      cancel()
      expect(ctx.err()).toBe(context.DeadlineExceeded)
      expect(context.cause(ctx)).toBe('expired')
    })

    test('a parent cancelled while the child\'s deadline is overdue gives the child Canceled', async () => {
      const { context } = runtime(kind)
      const [parent, cancelParent] = context.withCancelCause(context.background())
      const [child] = context.withTimeout(parent, 1)
      await Promise.resolve() // the batch reaches the engine (a microtask), nothing is delivered yet
      spin(20)
      cancelParent('shutdown')
      expect(child.err()).toBe(context.Canceled)
      expect(context.cause(child)).toBe('shutdown')
      await sleep(30)
      expect(child.err()).toBe(context.Canceled)
    })
  })

  describe('a child of a parent that is already done is done at birth', () => {
    const parents: [string, (c: Ns) => Context][] = [
      ['cancelled with a cause', (c) => {
        const [p, cancel] = c.withCancelCause(c.background())
        cancel('boom')
        return p
      }],
      ['cancelled', (c) => {
        const [p, cancel] = c.withCancel(c.background())
        cancel()
        return p
      }],
      ['past its deadline', (c) => c.withTimeout(c.background(), 0)[0]],
      ['past its deadline, with a cause', (c) => c.withTimeoutCause(c.background(), -1, 'late')[0]],
      ['done through its signal', (c) => c.fromSignal(AbortSignal.abort('aborted'))],
    ]
    const children: [string, (c: Ns, p: Context) => Context][] = [
      ['withCancel', (c, p) => c.withCancel(p)[0]],
      ['withCancelCause', (c, p) => c.withCancelCause(p)[0]],
      ['withTimeout', (c, p) => c.withTimeout(p, 60_000)[0]],
      ['withTimeoutCause', (c, p) => c.withTimeoutCause(p, 60_000, 'mine')[0]],
      ['withDeadline', (c, p) => c.withDeadline(p, Date.now() + 60_000)[0]],
      ['withDeadline in the past', (c, p) => c.withDeadlineCause(p, 0, 'mine')[0]],
      ['withValue', (c, p) => c.withValue(p, 'k', 'v')],
    ]
    for (const [pname, makeParent] of parents) {
      test.each(children)(`%s of a parent ${pname}: the parent's err and cause, synchronously, no timer, no registration`, async (_name, make) => {
        const rt = runtime(kind)
        const { context } = rt
        const parent = makeParent(context)
        const child = make(context, parent)
        expect(child.err()).toBe(parent.err())
        expect(context.cause(child)).toBe(context.cause(parent))
        expect(rt.scheduler.active).toBe(0)
        expect(childCount(parent)).toBe(0)
        expect(child.signal.aborted).toBe(true)
        expect(child.signal.reason).toBe(context.cause(parent))
        await child.done()
      })
    }

    test('withoutCancel of a done parent is not done', async () => {
      const { context } = runtime(kind)
      const [p, cancel] = context.withCancel(context.background())
      cancel()
      const c = context.withoutCancel(p)
      expect(c.err()).toBeUndefined()
      expect(context.cause(c)).toBeUndefined()
      expect(await settled(c.done())).toBe(false)
    })
  })

  describe('deadlines', () => {
    test('withTimeout is done with DeadlineExceeded, never early (performance.now before + ms ≤ at expiry)', async () => {
      const { context } = runtime(kind)
      const durations = [0.001, 0.5, 1, 1.5, 2, 3.7, 5, 10, 16.5, 25]
      const early: string[] = []
      let done = 0
      for (const ms of durations) {
        for (let rep = 0; rep < 30; rep++) {
          const before = performance.now()
          const [ctx] = context.withTimeout(context.background(), ms)
          ctx.signal.addEventListener('abort', () => {
            const at = performance.now()
            if (before + ms > at) early.push(`ms=${ms}: done at +${at - before}`)
            if (ctx.err() !== context.DeadlineExceeded) early.push(`ms=${ms}: err ${String(ctx.err())}`)
            done++
          })
          if (rep % 4 === 0) spin(0.3)
        }
        await sleep(rep0(ms))
      }
      await until(() => done === durations.length * 30, 10_000)
      expect(early).toEqual([])
    })

    test('withDeadline with a Date or epoch ms is done no earlier than the deadline', async () => {
      const { context } = runtime(kind)
      const early: string[] = []
      let done = 0
      for (let i = 0; i < 20; i++) {
        const d = Date.now() + 3 + (i % 7) * 4
        const [ctx] = context.withDeadline(context.background(), i % 2 === 0 ? new Date(d) : d)
        expect(ctx.deadline()!.getTime()).toBe(d)
        ctx.signal.addEventListener('abort', () => {
          const at = Date.now()
          if (at < d) early.push(`deadline ${d}, done at ${at}`)
          done++
        })
      }
      await until(() => done === 20)
      expect(early).toEqual([])
    })

    test('the engine holds each deadline at no earlier than performance.now() before the call + ms', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const made: { ctx: Context; min: number; max: number }[] = []
      for (let i = 0; i < 40; i++) {
        const ms = 60_000 + i * 0.37
        const before = performance.now()
        const [ctx] = context.withTimeout(context.background(), ms)
        made.push({ ctx, min: before + ms, max: 0 })
        if (i % 5 === 0) spin(0.3)
      }
      const after = performance.now()
      await sleep(20)
      for (const m of made) {
        const tick = rt.scheduler.deadlineOf((m.ctx as unknown as { _slotRef: number })._slotRef >> 1)!
        expect(tick).toBeGreaterThanOrEqual(m.min)
        expect(tick).toBeLessThanOrEqual(after + 20 + 60_000 + 40 * 0.37 + 1)
      }
    })

    test('deadline timers are engine timers, never Node timers', () => {
      const rt = runtime(kind)
      const before = nodeTimers()
      const cancels = Array.from({ length: 50 }, (_, i) => rt.context.withTimeout(rt.context.background(), 60_000 + i)[1])
      expect(rt.scheduler.active).toBe(50)
      expect(nodeTimers()).toBe(before)
      for (const c of cancels) c()
      expect(rt.scheduler.active).toBe(0)
    })

    test('cancelling before the deadline gives Canceled and stops the engine timer at once', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx, cancel] = context.withTimeout(context.background(), 15)
      expect(rt.scheduler.active).toBe(1)
      expect(rt.scheduler.refs).toBe(1)
      cancel()
      expect(rt.scheduler.active).toBe(0)
      expect(rt.scheduler.refs).toBe(0)
      expect(ctx.err()).toBe(context.Canceled)
      await sleep(40)
      expect(ctx.err()).toBe(context.Canceled)
    })

    test('a parent\'s cancel stops the timers of its descendants', () => {
      const rt = runtime(kind)
      const { context } = rt
      const [root, cancel] = context.withCancel(context.background())
      for (let i = 0; i < 20; i++) context.withTimeout(context.withValue(root, i, i), 60_000 - i)
      expect(rt.scheduler.active).toBe(20)
      cancel()
      expect(rt.scheduler.active).toBe(0)
    })

    test('a deadline later than the parent\'s keeps the parent\'s (withCancel(parent)): no timer of its own', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent] = context.withTimeoutCause(context.background(), 30, 'parent-expired')
      const parentDeadline = parent.deadline()!.getTime()
      const [byTimeout] = context.withTimeout(parent, 60_000)
      const [byDate] = context.withDeadline(parent, new Date(parentDeadline + 1))
      const [byCause] = context.withDeadlineCause(parent, parentDeadline + 60_000, 'ignored')
      const [viaValue] = context.withTimeout(context.withValue(parent, 'k', 1), 1000)
      for (const c of [byTimeout, byDate, byCause, viaValue]) expect(c.deadline()!.getTime()).toBe(parentDeadline)
      expect(rt.scheduler.active).toBe(1)
      expect(childCount(parent)).toBe(4)
      await parent.done()
      for (const c of [byTimeout, byDate, byCause, viaValue]) {
        expect(c.err()).toBe(context.DeadlineExceeded)
        expect(context.cause(c)).toBe('parent-expired')
      }
    })

    test('an earlier deadline than the parent\'s gets its own timer and deadline', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent, cancelParent] = context.withTimeout(context.background(), 60_000)
      const [child] = context.withTimeout(parent, 5)
      const [sameAsParent] = context.withDeadline(parent, parent.deadline()!)
      expect(child.deadline()!.getTime()).toBeLessThan(parent.deadline()!.getTime())
      expect(sameAsParent.deadline()!.getTime()).toBe(parent.deadline()!.getTime())
      expect(rt.scheduler.active).toBe(3)
      await child.done()
      expect(child.err()).toBe(context.DeadlineExceeded)
      expect(parent.err()).toBeUndefined()
      expect(childCount(parent)).toBe(1) // the expired child left; sameAsParent stays
      cancelParent()
      expect(rt.scheduler.active).toBe(0)
    })

    test.each([0, -0, -1, -1000, -1e12, -Infinity])('withTimeout(%d) is done at birth with DeadlineExceeded, synchronously', async (ms) => {
      const rt = runtime(kind)
      const { context } = rt
      const wallBefore = Date.now()
      const [ctx, cancel] = context.withTimeout(context.background(), ms)
      expect(ctx.err()).toBe(context.DeadlineExceeded)
      expect(context.cause(ctx)).toBe(context.DeadlineExceeded)
      expect(ctx.signal.aborted).toBe(true)
      expect(rt.scheduler.active).toBe(0)
      const dl = ctx.deadline()!.getTime()
      expect(dl).toBeLessThanOrEqual(Date.now())
      if (Number.isFinite(ms)) expect(dl).toBeGreaterThanOrEqual(Math.floor(wallBefore + ms) - 1)
      cancel()
      expect(ctx.err()).toBe(context.DeadlineExceeded)
      await ctx.done()
    })

    test.each([
      ['a past Date', () => new Date(Date.now() - 1000)],
      ['now', () => Date.now()],
      ['the epoch', () => 0],
      ['the earliest Date', () => -8.64e15],
    ])('withDeadline at %s is done at birth with DeadlineExceeded', (_name, d) => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx] = context.withDeadlineCause(context.background(), d(), 'past')
      expect(ctx.err()).toBe(context.DeadlineExceeded)
      expect(context.cause(ctx)).toBe('past')
      expect(rt.scheduler.active).toBe(0)
    })

    test.each([2 ** 31, 1e12, Shared.MAX_DURATION_MS, 1e300, Infinity])('withTimeout(%d) saturates and does not fire', async (ms) => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx, cancel] = context.withTimeout(context.background(), ms)
      const dl = ctx.deadline()!
      expect(Number.isNaN(dl.getTime())).toBe(false)
      expect(dl.getTime()).toBeLessThanOrEqual(Date.now() + Shared.MAX_DURATION_MS + 1)
      await sleep(40)
      expect(ctx.err()).toBeUndefined()
      expect(rt.scheduler.active).toBe(1)
      cancel()
      expect(ctx.err()).toBe(context.Canceled)
    })

    test('deadline() returns a new Date each call, for the same instant; children inherit it', () => {
      const { context } = runtime(kind)
      const d = Date.now() + 60_000
      const [ctx, cancel] = context.withDeadline(context.background(), d)
      const a = ctx.deadline()!
      const b = ctx.deadline()!
      expect(a).not.toBe(b)
      expect(a.getTime()).toBe(d)
      a.setTime(0)
      expect(ctx.deadline()!.getTime()).toBe(d)
      expect(context.withCancel(ctx)[0].deadline()!.getTime()).toBe(d)
      expect(context.withValue(ctx, 'k', 1).deadline()!.getTime()).toBe(d)
      expect(context.withoutCancel(ctx).deadline()).toBeUndefined()
      expect(context.background().deadline()).toBeUndefined()
      cancel()
      expect(ctx.deadline()!.getTime()).toBe(d)
    })

    test('withTimeout\'s deadline() is Date.now() + ms at the call', () => {
      const { context } = runtime(kind)
      const before = Date.now()
      const [ctx, cancel] = context.withTimeout(context.background(), 5000)
      const after = Date.now()
      const dl = ctx.deadline()!.getTime()
      expect(dl).toBeGreaterThanOrEqual(before + 5000)
      expect(dl).toBeLessThanOrEqual(after + 5000)
      cancel()
    })

    test('a deadline timer keeps the process alive, so await ctx.done() completes in a script', async () => {
      const r = await runChild(
        kind,
        `const { context } = afterfunc
         const start = performance.now()
         const [ctx] = context.withTimeout(context.background(), 150)
         ctx.done().then(() => console.log(ctx.err().message, performance.now() - start >= 150))`,
      )
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('context deadline exceeded true')
    })

    test('cancel releases the timer: the process exits promptly', async () => {
      const r = await runChild(
        kind,
        `const { context } = afterfunc
         const [ctx, cancel] = context.withTimeout(context.background(), 60_000)
         context.afterFunc(ctx, () => console.log('cancelled'))
         cancel()`,
      )
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('cancelled')
      expect(r.ms).toBeLessThan(10_000)
    })
  })

  describe('cause', () => {
    test('withCancelCause: cause(ctx) is the given cause, err() is Canceled', () => {
      const { context } = runtime(kind)
      for (const why of [new Error('why'), 'a string', 42, { reason: 1 }, Symbol('s'), false, 0]) {
        const [ctx, cancel] = context.withCancelCause(context.background())
        expect(context.cause(ctx)).toBeUndefined()
        cancel(why)
        expect(ctx.err()).toBe(context.Canceled)
        expect(context.cause(ctx)).toBe(why)
      }
    })

    test.each([[undefined], [null]])('cancel(%s) and cancel() give the cause Canceled', (why) => {
      const { context } = runtime(kind)
      const [a, cancelA] = context.withCancelCause(context.background())
      cancelA(why)
      expect(context.cause(a)).toBe(context.Canceled)
      const [b, cancelB] = context.withCancelCause(context.background())
      cancelB()
      expect(context.cause(b)).toBe(context.Canceled)
    })

    test('descendants report the parent\'s cause, through values and deadlines', () => {
      const { context } = runtime(kind)
      const [parent, cancel] = context.withCancelCause(context.background())
      const [child] = context.withCancel(context.withValue(parent, 'k', 1))
      const [timed] = context.withTimeoutCause(child, 60_000, 'not this')
      const value = context.withValue(timed, 'j', 2)
      const why = new Error('shutdown')
      cancel(why)
      for (const c of [parent, child, timed, value]) {
        expect(c.err()).toBe(context.Canceled)
        expect(context.cause(c)).toBe(why)
      }
    })

    test('withTimeoutCause: the cause when the deadline passes, Canceled when cancelled', async () => {
      const { context } = runtime(kind)
      const why = new Error('too slow')
      const [expired] = context.withTimeoutCause(context.background(), 3, why)
      const [child] = context.withCancel(expired)
      const [cancelled, cancel] = context.withTimeoutCause(context.background(), 3, why)
      cancel()
      await expired.done()
      expect(expired.err()).toBe(context.DeadlineExceeded)
      expect(context.cause(expired)).toBe(why)
      expect(context.cause(child)).toBe(why)
      expect(cancelled.err()).toBe(context.Canceled)
      expect(context.cause(cancelled)).toBe(context.Canceled)
    })

    test('withDeadlineCause: the cause when the deadline passes, Canceled when cancelled; no cause gives DeadlineExceeded', async () => {
      const { context } = runtime(kind)
      const [expired] = context.withDeadlineCause(context.background(), new Date(Date.now() + 3), 'deadline-cause')
      const [plain] = context.withDeadlineCause(context.background(), Date.now() + 3, undefined)
      const [cancelled, cancel] = context.withDeadlineCause(context.background(), Date.now() + 3, 'deadline-cause')
      cancel()
      await Promise.all([expired.done(), plain.done()])
      expect(context.cause(expired)).toBe('deadline-cause')
      expect(context.cause(plain)).toBe(context.DeadlineExceeded)
      expect(context.cause(cancelled)).toBe(context.Canceled)
    })

    test('cause() of a context that is not done is undefined; of never-done contexts always undefined', () => {
      const { context } = runtime(kind)
      const [p, cancel] = context.withCancelCause(context.background())
      const [t, cancelT] = context.withTimeoutCause(p, 60_000, 'x')
      const w = context.withoutCancel(p)
      for (const c of [p, t, context.withValue(p, 1, 1), w, context.background(), context.todo()]) {
        expect(context.cause(c)).toBeUndefined()
      }
      cancel('done')
      expect(context.cause(w)).toBeUndefined()
      cancelT()
      expect(context.cause(t)).toBe('done')
    })
  })

  describe('withoutCancel and withValue', () => {
    test('withoutCancel: never done, no deadline, values pass through, registers nothing', async () => {
      const { context } = runtime(kind)
      const [parent, cancel] = context.withTimeout(context.withValue(context.background(), 'user', 'ann'), 5)
      const w = context.withoutCancel(parent)
      const [child, cancelChild] = context.withCancel(w)
      expect(childCount(parent)).toBe(0)
      expect(w.deadline()).toBeUndefined()
      expect(w.value('user')).toBe('ann')
      expect(child.value('user')).toBe('ann')
      await parent.done()
      cancel()
      expect(w.err()).toBeUndefined()
      expect(child.err()).toBeUndefined()
      expect(w.signal.aborted).toBe(false)
      expect(await settled(w.done(), 20)).toBe(false)
      expect(w.done()).toBe(w.done())
      expect(w.signal).toBe(w.signal)
      cancelChild()
      expect(child.err()).toBe(context.Canceled)
      expect(w.err()).toBeUndefined()
    })

    test('withValue: string, symbol and object keys by identity; the nearest wins; missing is undefined', () => {
      const { context } = runtime(kind)
      const sym = Symbol('key')
      const obj = { name: 'key' }
      const lookalike = { name: 'key' }
      let c = context.withValue(context.background(), 'k', 'outer')
      c = context.withValue(c, sym, 'symbol')
      c = context.withValue(c, obj, 'object')
      c = context.withCancel(c)[0]
      c = context.withValue(c, 'k', 'inner')
      c = context.withTimeout(c, 60_000)[0]
      c = context.withoutCancel(c)
      expect(c.value('k')).toBe('inner')
      expect(c.value(sym)).toBe('symbol')
      expect(c.value(Symbol('key'))).toBeUndefined()
      expect(c.value(obj)).toBe('object')
      expect(c.value(lookalike)).toBeUndefined()
      expect(c.value('missing')).toBeUndefined()
      expect(context.background().value('k')).toBeUndefined()
      const n = context.withValue(context.withValue(context.background(), NaN, 'nan'), 0, 'zero')
      expect(n.value(NaN)).toBe('nan')
      expect(n.value(-0)).toBe('zero')
      expect(n.value('0')).toBeUndefined()
    })

    test('key(name) makes a distinct, frozen key each call; the key, not its name, finds the value', () => {
      const { context } = runtime(kind)
      const user = context.key<{ name: string }>('user')
      const alsoUser = context.key<{ name: string }>('user')
      expect(user).not.toBe(alsoUser)
      expect(user.name).toBe('user')
      expect(String(user)).toBe('context.Key(user)')
      expect(Object.isFrozen(user)).toBe(true)
      const ann = { name: 'ann' }
      const c = context.withValue(context.background(), user, ann)
      expect(c.value(user)).toBe(ann)
      expect(c.value(alsoUser)).toBeUndefined()
      expect(c.value('user')).toBeUndefined()
      expect(context.withValue(c, alsoUser, { name: 'bob' }).value(user)).toBe(ann)
      for (const bad of [undefined, null, 1, Symbol('k'), {}]) {
        expect(() => context.key(bad as never)).toThrow(TypeError)
      }
    })

    test('withValue shares its parent\'s done(), err(), signal and deadline, and registers nothing', () => {
      const { context } = runtime(kind)
      const [parent, cancel] = context.withTimeout(context.background(), 60_000)
      const v = context.withValue(parent, 'k', 1)
      expect(childCount(parent)).toBe(0)
      expect(v.done()).toBe(parent.done())
      expect(v.signal).toBe(parent.signal)
      expect(v.deadline()!.getTime()).toBe(parent.deadline()!.getTime())
      cancel()
      expect(v.err()).toBe(context.Canceled)
    })

    test('background() and todo() are distinct singletons that are never done, shared by every runtime', async () => {
      const a = runtime(kind).context
      const b = runtime(kind).context
      expect(a.background()).toBe(a.background())
      expect(a.background()).toBe(b.background())
      expect(a.todo()).toBe(b.todo())
      expect(a.todo()).not.toBe(a.background())
      for (const c of [a.background(), a.todo()]) {
        expect(c.err()).toBeUndefined()
        expect(c.deadline()).toBeUndefined()
        expect(c.signal.aborted).toBe(false)
        expect(c.signal).toBe(c.signal)
        expect(c.done()).toBe(c.done())
      }
      expect(String(a.background())).toBe('context.Background')
      expect(String(a.todo())).toBe('context.TODO')
      expect(await settled(a.background().done(), 20)).toBe(false)
    })

    test('Canceled and DeadlineExceeded are stable sentinels with Go\'s messages that cannot be changed', () => {
      const a = runtime(kind).context
      const b = runtime(kind).context
      expect(a.Canceled).toBe(b.Canceled)
      expect(a.DeadlineExceeded).toBe(b.DeadlineExceeded)
      expect(a.Canceled).toBeInstanceOf(Error)
      expect(a.DeadlineExceeded).toBeInstanceOf(Error)
      expect(a.Canceled.message).toBe('context canceled')
      expect(a.DeadlineExceeded.message).toBe('context deadline exceeded')
      expect(a.Canceled.name).toBe('CanceledError')
      expect(a.DeadlineExceeded.name).toBe('DeadlineExceededError')
      expect(a.DeadlineExceeded.timeout).toBe(true)
      for (const [err, keys] of [
        [a.Canceled, ['name', 'message']],
        [a.DeadlineExceeded, ['name', 'message', 'timeout']],
      ] as const) {
        for (const key of keys) {
          expect(Object.getOwnPropertyDescriptor(err, key)).toMatchObject({ writable: false, configurable: false })
          expect(() => {
            ;(err as unknown as Record<string, unknown>)[key] = 'changed'
          }).toThrow(TypeError)
          expect(() => delete (err as unknown as Record<string, unknown>)[key]).toThrow(TypeError)
        }
        expect(Object.isFrozen(Object.getPrototypeOf(err))).toBe(true)
      }
      expect(a.Canceled.message).toBe('context canceled')
      expect(Object.isFrozen(a)).toBe(true)
    })

    test('the sentinels survive Error.captureStackTrace, as Node\'s fetch applies it to an abort reason', () => {
      const { context } = runtime(kind)
      for (const err of [context.Canceled, context.DeadlineExceeded]) {
        const message = err.message
        Error.captureStackTrace(err)
        expect(err.stack).toContain(message)
        expect(err.message).toBe(message)
      }
      const [ctx, cancel] = context.withCancel(context.background())
      cancel()
      expect(ctx.err()).toBe(context.Canceled)
    })

    test('contexts of different runtimes mix: a child of another runtime\'s context follows it', async () => {
      const a = runtime(kind).context
      const other = runtime(kind === 'js' ? 'native' : 'js')
      const [parent, cancel] = a.withCancelCause(a.background())
      const [child] = other.context.withTimeout(parent, 60_000)
      let ran = false
      other.context.afterFunc(child, () => (ran = true))
      cancel('across')
      expect(child.err()).toBe(a.Canceled)
      expect(other.context.cause(child)).toBe('across')
      expect(other.scheduler.active).toBeLessThanOrEqual(1) // the afterFunc call, not the timer
      await until(() => ran)
    })
  })

  describe('afterFunc', () => {
    test('f runs once, asynchronously (not inside cancel), after the context is done', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      let runs = 0
      let errInside: Error | undefined
      context.afterFunc(ctx, () => {
        runs++
        errInside = ctx.err()
      })
      await sleep(10)
      expect(runs).toBe(0)
      cancel()
      expect(runs).toBe(0)
      cancel()
      await until(() => runs === 1)
      expect(errInside).toBe(context.Canceled)
      await sleep(20)
      expect(runs).toBe(1)
    })

    test('on a context that is already done, f runs soon, still asynchronously', async () => {
      const { context } = runtime(kind)
      const [ctx] = context.withTimeout(context.background(), 0)
      let runs = 0
      const stop = context.afterFunc(ctx, () => runs++)
      expect(runs).toBe(0)
      await until(() => runs === 1, 1000)
      expect(stop()).toBe(false)
    })

    test('a deadline runs the callbacks of the context and its descendants', async () => {
      const { context } = runtime(kind)
      const [ctx] = context.withTimeout(context.background(), 5)
      const [child] = context.withCancel(ctx)
      const seen: unknown[] = []
      context.afterFunc(child, () => seen.push(child.err()))
      context.afterFunc(ctx, () => seen.push(ctx.err()))
      await until(() => seen.length === 2)
      expect(seen).toEqual([context.DeadlineExceeded, context.DeadlineExceeded])
    })

    test('stop() before the context is done: true, f never runs; again: false', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      let runs = 0
      const stop = context.afterFunc(ctx, () => runs++)
      expect(childCount(ctx)).toBe(1)
      expect(stop()).toBe(true)
      expect(childCount(ctx)).toBe(0)
      expect(stop()).toBe(false)
      cancel()
      await sleep(30)
      expect(runs).toBe(0)
      expect(stop()).toBe(false)
    })

    test('stop() after the context is done but before f ran: true, f never runs', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx, cancel] = context.withCancel(context.background())
      let runs = 0
      const stop = context.afterFunc(ctx, () => runs++)
      cancel()
      expect(rt.scheduler.active).toBe(1)
      expect(stop()).toBe(true)
      expect(rt.scheduler.active).toBe(0)
      expect(stop()).toBe(false)
      // also when the engine already expired it but delivery has not happened
      const [ctx2, cancel2] = context.withCancel(context.background())
      const stop2 = context.afterFunc(ctx2, () => runs++)
      cancel2()
      await Promise.resolve() // the batch reaches the engine (a microtask), nothing is delivered yet
      spin(20)
      expect(stop2()).toBe(true)
      await sleep(30)
      expect(runs).toBe(0)
    })

    test('stop() after f ran, or from inside f: false', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      let inside: boolean | undefined
      const stop: () => boolean = context.afterFunc(ctx, () => (inside = stop()))
      cancel()
      await until(() => inside !== undefined)
      expect(inside).toBe(false)
      expect(stop()).toBe(false)
    })

    test('registrations are independent: stopping one leaves the others; the same f twice runs twice', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      const ran: string[] = []
      const f = () => ran.push('f')
      context.afterFunc(ctx, () => ran.push('a'))
      const stopB = context.afterFunc(ctx, () => ran.push('b'))
      context.afterFunc(ctx, f)
      context.afterFunc(ctx, f)
      expect(stopB()).toBe(true)
      cancel()
      await until(() => ran.length === 3)
      await sleep(20)
      expect(ran).toEqual(['a', 'f', 'f'])
    })

    test('callbacks run in registration order, an ancestor\'s before its descendants\'', async () => {
      const { context } = runtime(kind)
      const [root, cancel] = context.withCancel(context.background())
      const ran: string[] = []
      context.afterFunc(root, () => ran.push('root-1'))
      const [child] = context.withCancel(root)
      context.afterFunc(child, () => ran.push('child-1'))
      context.afterFunc(context.withValue(root, 'k', 1), () => ran.push('root-2'))
      const [grandchild] = context.withTimeout(child, 60_000)
      context.afterFunc(grandchild, () => ran.push('grandchild'))
      context.afterFunc(child, () => ran.push('child-2'))
      context.afterFunc(root, () => ran.push('root-3'))
      for (let i = 0; i < 20; i++) context.afterFunc(root, () => ran.push(`root-${4 + i}`))
      cancel()
      await until(() => ran.length === 26)
      expect(ran).toEqual([
        'root-1', 'root-2', 'root-3',
        ...Array.from({ length: 20 }, (_, i) => `root-${4 + i}`),
        'child-1', 'child-2', 'grandchild',
      ])
    })

    test.each(['background', 'todo', 'withoutCancel', 'withValue over background'])(
      'on %s, f never runs, stop() is true then false, and nothing is retained',
      async (which) => {
        const rt = runtime(kind)
        const { context } = rt
        const [p, cancel] = context.withCancel(context.background())
        const ctx =
          which === 'background' ? context.background()
          : which === 'todo' ? context.todo()
          : which === 'withoutCancel' ? context.withoutCancel(p)
          : context.withValue(context.background(), 'k', 1)
        let ran = false
        let ref: WeakRef<object> | undefined
        const stops = (() => {
          const big = { payload: new Array(1000).fill(1) }
          ref = new WeakRef(big)
          return [context.afterFunc(ctx, () => (ran = big.payload.length > 0))]
        })()
        expect(rt.scheduler.active).toBe(0)
        expect(childCount(p)).toBe(0)
        cancel()
        await sleep(20)
        gc()
        expect(ref!.deref()).toBeUndefined()
        expect(ran).toBe(false)
        expect(stops[0]!()).toBe(true)
        expect(stops[0]!()).toBe(false)
      },
    )

    test('a registration on a never-done context does not keep the process alive', async () => {
      const r = await runChild(
        kind,
        `const { context } = afterfunc
         context.afterFunc(context.background(), () => console.log('ran'))
         const [ctx] = context.withCancel(context.background())
         context.afterFunc(ctx, () => console.log('ran'))
         console.log('ok')`,
      )
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe('ok')
      expect(r.ms).toBeLessThan(10_000)
    })

    test('a throwing f is an uncaughtException; the other callbacks still run', async () => {
      const r = await runChild(
        kind,
        `const { context } = afterfunc
         const seen = []
         const ran = []
         process.on('uncaughtException', (err, origin) => seen.push(origin + ':' + err.message))
         const [ctx, cancel] = context.withCancel(context.background())
         for (let i = 0; i < 10; i++) {
           context.afterFunc(ctx, () => {
             ran.push(i)
             if (i === 2 || i === 7) throw new Error('boom' + i)
           })
         }
         cancel()
         process.on('exit', () => console.log(JSON.stringify({ seen, ran })))`,
      )
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout.trim())).toEqual({
        seen: ['uncaughtException:boom2', 'uncaughtException:boom7'],
        ran: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      })
    })

    test('without a handler, a throwing f ends the process like a throwing setTimeout callback', async () => {
      const r = await runChild(
        kind,
        `const { context } = afterfunc
         const [ctx, cancel] = context.withCancel(context.background())
         context.afterFunc(ctx, () => { throw new Error('boom-from-afterFunc') })
         cancel()`,
      )
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('Error: boom-from-afterFunc')
    })

    test('a storm of 20,000 callbacks all run, in time slices that let the event loop turn', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      const n = 20_000
      let ran = 0
      let ranAtImmediate = -1
      for (let i = 0; i < n; i++) {
        context.afterFunc(ctx, () => {
          ran++
          spin(0.005)
        })
      }
      cancel()
      // Give the engine time to deliver, then check that a setImmediate got a turn mid-storm.
      await until(() => ran > 0)
      setImmediate(() => (ranAtImmediate = ran))
      await until(() => ran === n, 20_000)
      expect(ranAtImmediate).toBeGreaterThan(0)
      expect(ranAtImmediate).toBeLessThan(n)
    })
  })

  describe('AbortSignal interop', () => {
    test('signal is created on first read, then the same object', () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      expect((ctx as unknown as { _ab: unknown })._ab).toBeUndefined()
      const s = ctx.signal
      expect(s).toBeInstanceOf(AbortSignal)
      expect(ctx.signal).toBe(s)
      expect(s.aborted).toBe(false)
      cancel()
      expect(ctx.signal).toBe(s)
      expect(s.aborted).toBe(true)
    })

    test('first read after the context is done gives an aborted signal with reason cause(ctx)', () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withCancelCause(context.background())
      const why = new Error('why')
      cancel(why)
      expect(ctx.signal.aborted).toBe(true)
      expect(ctx.signal.reason).toBe(why)
      const [late] = context.withTimeout(context.background(), -1)
      expect(late.signal.reason).toBe(context.DeadlineExceeded)
    })

    test('the signal aborts with reason === cause(ctx): Canceled, a cause, DeadlineExceeded, a deadline cause', async () => {
      const { context } = runtime(kind)
      const [a, cancelA] = context.withCancel(context.background())
      const [b, cancelB] = context.withCancelCause(context.background())
      const [c] = context.withTimeout(context.background(), 2)
      const [d] = context.withTimeoutCause(context.background(), 2, 'slow')
      const signals = [a.signal, b.signal, c.signal, d.signal]
      cancelA()
      cancelB({ code: 42 })
      await Promise.all([c.done(), d.done()])
      for (const [i, ctx] of [a, b, c, d].entries()) {
        expect(signals[i]!.aborted).toBe(true)
        expect(signals[i]!.reason).toBe(context.cause(ctx))
      }
      expect(signals.map((s) => s.reason)).toEqual([context.Canceled, { code: 42 }, context.DeadlineExceeded, 'slow'])
    })

    test('abort listeners run synchronously inside cancel, after the whole subtree is done, parents first', () => {
      const { context } = runtime(kind)
      const [root, cancel] = context.withCancel(context.background())
      const [child] = context.withCancel(root)
      const [sibling] = context.withCancel(root)
      const [grandchild] = context.withCancel(child)
      const log: string[] = []
      for (const [name, ctx] of [['grandchild', grandchild], ['child', child], ['root', root], ['sibling', sibling]] as const) {
        ctx.signal.addEventListener('abort', () => {
          const undone = [root, child, sibling, grandchild].filter((c) => c.err() === undefined).length
          log.push(`${name}:${undone}`)
        })
      }
      cancel()
      expect(log).toEqual(['root:0', 'child:0', 'sibling:0', 'grandchild:0'])
    })

    test('a throwing abort listener does not stop the cancellation or the other listeners', async () => {
      const { context } = runtime(kind)
      const [root, cancel] = context.withCancel(context.background())
      const [child] = context.withCancel(root)
      const errors: unknown[] = []
      const handler = (err: unknown) => errors.push(err)
      process.prependListener('uncaughtException', handler)
      try {
        root.signal.addEventListener('abort', () => {
          throw new Error('listener boom')
        })
        let childAborted = false
        child.signal.addEventListener('abort', () => (childAborted = true))
        cancel()
        expect(childAborted).toBe(true)
        expect(child.err()).toBe(context.Canceled)
        await until(() => errors.length === 1)
        expect((errors[0] as Error).message).toBe('listener boom')
      } finally {
        process.removeListener('uncaughtException', handler)
      }
    })

    test('Node APIs accept it: timers/promises, events.once and fetch reject with the cause', async () => {
      const { context } = runtime(kind)
      const [ctx, cancel] = context.withTimeoutCause(context.background(), 10, 'too slow')
      const started = performance.now()
      const err = await delay(5000, undefined, { signal: ctx.signal }).catch((e: unknown) => e)
      expect(performance.now() - started).toBeLessThan(4000)
      expect((err as Error).name).toBe('AbortError')
      expect((err as Error).cause).toBe('too slow')

      const [ctx2, cancel2] = context.withCancelCause(context.background())
      const pending = once(new EventEmitter(), 'never', { signal: ctx2.signal }).catch((e: unknown) => e)
      const why = new Error('stop waiting')
      cancel2(why)
      const err2 = await pending
      expect((err2 as Error).name).toBe('AbortError')
      expect((err2 as Error).cause).toBe(why)

      const err3 = await fetch('http://127.0.0.1:9/', { signal: ctx2.signal }).catch((e: unknown) => e)
      expect(err3).toBe(why)
      cancel()
    })

    test('a never-done context\'s signal never aborts', async () => {
      const { context } = runtime(kind)
      const [p, cancel] = context.withCancel(context.background())
      const w = context.withoutCancel(p)
      const s = w.signal
      cancel()
      await sleep(10)
      expect(s.aborted).toBe(false)
      expect(context.withValue(context.background(), 1, 1).signal.aborted).toBe(false)
    })
  })

  describe('fromSignal', () => {
    test('a context cancelled with cause signal.reason when the signal aborts, synchronously', async () => {
      const { context } = runtime(kind)
      const ac = new AbortController()
      const ctx = context.fromSignal(ac.signal)
      const [child] = context.withTimeout(ctx, 60_000)
      expect(ctx.err()).toBeUndefined()
      expect(ctx.deadline()).toBeUndefined()
      const why = new Error('aborted by caller')
      ac.abort(why)
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe(why)
      expect(child.err()).toBe(context.Canceled)
      expect(context.cause(child)).toBe(why)
      expect(ctx.signal.reason).toBe(why)
      await ctx.done()
    })

    test('an already aborted signal gives a context done at birth', () => {
      const { context } = runtime(kind)
      const ctx = context.fromSignal(AbortSignal.abort('early'))
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe('early')
      expect(context.withCancel(ctx)[0].err()).toBe(context.Canceled)
    })

    test('abort() without a reason: the cause is the signal\'s AbortError; a null reason gives Canceled', () => {
      const { context } = runtime(kind)
      const ac = new AbortController()
      const ctx = context.fromSignal(ac.signal)
      ac.abort()
      expect(context.cause(ctx)).toBe(ac.signal.reason)
      expect((context.cause(ctx) as Error).name).toBe('AbortError')
      const ac2 = new AbortController()
      const ctx2 = context.fromSignal(ac2.signal)
      ac2.abort(null)
      expect(context.cause(ctx2)).toBe(context.Canceled)
    })

    test('AbortSignal.timeout works: cause is its TimeoutError', async () => {
      const { context } = runtime(kind)
      const ctx = context.fromSignal(AbortSignal.timeout(5))
      await ctx.done()
      expect(ctx.err()).toBe(context.Canceled)
      expect((context.cause(ctx) as Error).name).toBe('TimeoutError')
    })

    test('one context and one listener per signal, however many calls; nothing retained per call', () => {
      const { context } = runtime(kind)
      const ac = new AbortController()
      const first = context.fromSignal(ac.signal)
      for (let i = 0; i < 10_000; i++) expect(context.fromSignal(ac.signal)).toBe(first)
      expect(getEventListeners(ac.signal, 'abort').length).toBe(1)
      expect(runtime(kind).context.fromSignal(ac.signal)).toBe(first)
      ac.abort()
      expect(getEventListeners(ac.signal, 'abort').length).toBe(0)
    })

    test('children cancelled on their own leave it', () => {
      const { context } = runtime(kind)
      const ctx = context.fromSignal(new AbortController().signal)
      for (let i = 0; i < 1000; i++) context.withTimeout(ctx, 60_000)[1]()
      expect(childCount(ctx)).toBe(0)
    })
  })

  describe('bad input is a TypeError at the call and changes nothing', () => {
    const notContexts: [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 1],
      ['a string', 'ctx'],
      ['a symbol', Symbol('ctx')],
      ['a function', () => {}],
      ['an empty object', {}],
      ['a look-alike', {
        deadline: () => undefined,
        done: () => new Promise(() => {}),
        err: () => undefined,
        value: () => undefined,
        signal: new AbortController().signal,
      }],
      ['an AbortSignal', new AbortController().signal],
    ]
    const calls: [string, (c: Ns, p: Context) => unknown][] = [
      ['withCancel', (c, p) => c.withCancel(p)],
      ['withCancelCause', (c, p) => c.withCancelCause(p)],
      ['withDeadline', (c, p) => c.withDeadline(p, Date.now() + 1000)],
      ['withDeadlineCause', (c, p) => c.withDeadlineCause(p, Date.now() + 1000, 'x')],
      ['withTimeout', (c, p) => c.withTimeout(p, 1000)],
      ['withTimeoutCause', (c, p) => c.withTimeoutCause(p, 1000, 'x')],
      ['withoutCancel', (c, p) => c.withoutCancel(p)],
      ['withValue', (c, p) => c.withValue(p, 'k', 'v')],
      ['afterFunc', (c, p) => c.afterFunc(p, () => {})],
      ['cause', (c, p) => c.cause(p)],
    ]
    for (const [call, fn] of calls) {
      test.each(notContexts)(`${call}(%s) throws a TypeError naming the call`, (_name, bad) => {
        const rt = runtime(kind)
        expect(() => fn(rt.context, bad as Context)).toThrow(TypeError)
        expect(() => fn(rt.context, bad as Context)).toThrow(new RegExp(`^context\\.${call}: the (parent|context) must be a Context, got `))
        expect(rt.scheduler.active).toBe(0)
      })
    }

    test('a forged context (an object with a context prototype) is rejected', () => {
      const { context } = runtime(kind)
      const [real, cancel] = context.withCancel(context.background())
      const forged = Object.create(Object.getPrototypeOf(real)) as Context
      expect(() => context.withCancel(forged)).toThrow(TypeError)
      expect(() => context.cause(forged)).toThrow(TypeError)
      expect(childCount(real)).toBe(0)
      cancel()
    })

    test.each([['5'], [undefined], [null], [5n], [{}], [true], [NaN]])('withTimeout(parent, %s) throws and registers nothing', (ms) => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent, cancel] = context.withCancel(context.background())
      expect(() => context.withTimeout(parent, ms as never)).toThrow(TypeError)
      expect(() => context.withTimeoutCause(parent, ms as never, 'x')).toThrow(/duration must be a number/)
      expect(rt.scheduler.active).toBe(0)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test.each([
      ['a string', '2030-01-01'],
      ['undefined', undefined],
      ['null', null],
      ['an object', { getTime: (): number => 0 }],
      ['a bigint', 10n],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['beyond the Date range', 8.64e15 + 1],
      ['an invalid Date', new Date(NaN)],
    ])('withDeadline(parent, %s) throws and registers nothing', (_name, d) => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent, cancel] = context.withCancel(context.background())
      expect(() => context.withDeadline(parent, d as never)).toThrow(TypeError)
      expect(() => context.withDeadlineCause(parent, d as never, 'x')).toThrow(/^context\.withDeadlineCause: the deadline must be/)
      expect(rt.scheduler.active).toBe(0)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test.each([[undefined], [null], [1], ['f'], [{}], [Symbol('f')]])('afterFunc(ctx, %s) throws and registers nothing', async (f) => {
      const rt = runtime(kind)
      const { context } = rt
      const [ctx, cancel] = context.withCancel(context.background())
      expect(() => context.afterFunc(ctx, f as never)).toThrow(TypeError)
      expect(() => context.afterFunc(ctx, f as never)).toThrow(/^context\.afterFunc: the callback must be a function/)
      expect(childCount(ctx)).toBe(0)
      cancel()
      await sleep(10)
      expect(rt.scheduler.active).toBe(0)
    })

    test.each([[undefined], [null], [{}], [{ aborted: true, reason: 'x' }], [new AbortController()]])('fromSignal(%s) throws', (s) => {
      const { context } = runtime(kind)
      expect(() => context.fromSignal(s as never)).toThrow(TypeError)
      expect(() => context.fromSignal(s as never)).toThrow(/^context\.fromSignal: the signal must be an AbortSignal/)
    })

    test.each([[undefined], [null]])('withValue(parent, %s, v) throws (Go: nil key)', (key) => {
      const { context } = runtime(kind)
      expect(() => context.withValue(context.background(), key, 1)).toThrow(TypeError)
    })

    test('messages name the call and the value', () => {
      const { context } = runtime(kind)
      expect(() => context.withCancel(null as never)).toThrow('context.withCancel: the parent must be a Context, got null')
      expect(() => context.afterFunc({} as never, () => {})).toThrow('context.afterFunc: the context must be a Context, got an object')
      expect(() => context.withTimeout(context.background(), NaN)).toThrow('context.withTimeout: the duration must be a number of milliseconds, got NaN')
      expect(() => context.withDeadline(context.background(), '1' as never)).toThrow(
        'context.withDeadline: the deadline must be a Date or a number of epoch milliseconds, got a string ("1")',
      )
      expect(() => context.withDeadline(context.background(), new Date('nope'))).toThrow(
        'context.withDeadline: the deadline must be a valid Date, got an invalid Date',
      )
    })
  })

  describe('no leaks', () => {
    test('100k withCancel + cancel on one parent leaves its child set empty', () => {
      const { context } = runtime(kind)
      const [parent, cancel] = context.withCancel(context.background())
      for (let i = 0; i < 100_000; i++) context.withCancel(parent)[1]()
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test('100k withTimeout + cancel: no engine timer left and the parent\'s child set empty', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent, cancel] = context.withCancel(context.background())
      for (let i = 0; i < 100_000; i++) context.withTimeout(parent, 60_000 + (i % 1000))[1]()
      expect(rt.scheduler.active).toBe(0)
      expect(rt.scheduler.refs).toBe(0)
      expect(childCount(parent)).toBe(0)
      // the engine applies the cancellations when it next wakes; it holds nothing afterwards
      let fired = false
      rt.time.afterFunc(1, () => (fired = true))
      await until(() => fired && rt.scheduler.engineStats().armed === 0)
      expect(rt.scheduler.slots).toBeLessThan(8)
      cancel()
    })

    test('100k expired withTimeout children leave their parent', async () => {
      const rt = runtime(kind)
      const { context } = rt
      const [parent, cancel] = context.withCancel(context.background())
      for (let i = 0; i < 100_000; i++) context.withTimeout(parent, 1)
      await until(() => rt.scheduler.active === 0, 20_000)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test('a cancelled child is not retained by its long-lived parent', async () => {
      const { context } = runtime(kind)
      const [parent, cancel] = context.withCancel(context.background())
      let ref: WeakRef<object> | undefined
      ;(() => {
        const [child, cancelChild] = context.withTimeout(context.withValue(parent, 'big', new Array(1000).fill(1)), 60_000)
        ref = new WeakRef(child)
        context.afterFunc(child, () => {})
        cancelChild()
      })()
      await sleep(10)
      gc()
      expect(ref!.deref()).toBeUndefined()
      expect(parent.err()).toBeUndefined()
      cancel()
    })

    test('a done context releases its callbacks, resolvers and controllers; it keeps only what it reports', async () => {
      const { context } = runtime(kind)
      const refs: WeakRef<object>[] = []
      const [ctx, cancel] = (() => {
        // The deadline's cause, not reported (the context ends by cancel): released too.
        const why = { cause: new Array(1000).fill(3) }
        refs.push(new WeakRef(why))
        return context.withTimeoutCause(context.background(), 60_000, why)
      })()
      let ran = false
      // The stop functions are kept, as code that stores them for later does.
      const stops = (() => {
        const ran1 = { payload: new Array(1000).fill(1) }
        const stopped = { payload: new Array(1000).fill(2) }
        refs.push(new WeakRef(ran1), new WeakRef(stopped))
        const stopRan = context.afterFunc(ctx, () => (ran = ran1.payload.length > 0))
        const stopStopped = context.afterFunc(ctx, () => void stopped.payload)
        stopStopped()
        void ctx.done()
        void ctx.signal
        return [stopRan, stopStopped]
      })()
      cancel()
      await until(() => ran)
      await sleep(10)
      gc()
      expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined])
      expect(stops.map((stop) => stop())).toEqual([false, false])
      const internals = ctx as unknown as { _children: unknown; _waiters: { resolveDone: unknown; abort: unknown } }
      expect([internals._children, internals._waiters.resolveDone]).toEqual([undefined, undefined])
      // The signal handed out is kept (it is what `signal` returns), its controller is not.
      expect(internals._waiters.abort).toBe(ctx.signal)
      expect(context.cause(ctx)).toBe(context.Canceled)
    })

    test('a never-done context\'s done() promise is held only while referenced (Promise.race leaves nothing)', async () => {
      const { context } = runtime(kind)
      const bg = context.background()
      let ref: WeakRef<Promise<void>> | undefined
      await (async () => {
        const p = bg.done()
        ref = new WeakRef(p)
        expect(bg.done()).toBe(p)
        await Promise.race([p, sleep(1)])
      })()
      await sleep(0)
      gc()
      await sleep(0)
      gc()
      expect(ref!.deref()).toBeUndefined()
    })
  })
})

describe('the package exports context (CommonJS and ESM, one runtime)', () => {
  test('require and import give the same namespace', async () => {
    const esm = resolveEsm()
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { context } from ${JSON.stringify(esm)}
           import { createRequire } from 'node:module'
           const cjs = createRequire(import.meta.url)(${JSON.stringify(entry)})
           const [ctx, cancel] = context.withTimeout(context.background(), 10)
           await ctx.done()
           console.log(cjs.context === context, ctx.err() === cjs.context.DeadlineExceeded)`,
        ],
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      )
    })
    expect(out.trim()).toBe('true true')
  })
})

function resolveEsm(): string {
  return entry.replace(/dist[\\/]index\.js$/, 'index.mjs')
}
