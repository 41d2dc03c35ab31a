// errgroup: golang.org/x/sync/errgroup over a runtime's context, on both engines.

import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { errgroup as ErrgroupApi } from '../index'
import { engines, runtime, sleep } from './helpers.ts'

/** A promise and the functions that settle it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Whether `p` has settled after a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  await sleep(5)
  return done
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe.each(engines)('errgroup on the %s engine', (kind) => {
  describe('withContext', () => {
    test('wait resolves with undefined once every function settled, then cancels the context with Canceled', async () => {
      const { errgroup, context, time } = runtime(kind)
      const [g, ctx] = errgroup.withContext(context.background())
      const done: number[] = []
      for (const ms of [5, 1, 3]) g.go(() => time.sleep(ms).then(() => done.push(ms)))
      g.go(() => 'sync value')
      await expect(g.wait()).resolves.toBeUndefined()
      expect(done.sort()).toEqual([1, 3, 5])
      expect(ctx.err()).toBe(context.Canceled)
      expect(context.cause(ctx)).toBe(context.Canceled)
    })

    test('the first failure cancels the context with it as the cause; wait still waits for every function', async () => {
      const { errgroup, context, time } = runtime(kind)
      const [g, ctx] = errgroup.withContext(context.background())
      const first = new Error('first')
      const slow = deferred()
      let slowDone = false
      g.go(async () => {
        await slow.promise
        slowDone = true
      })
      g.go(async () => {
        await time.sleep(1)
        throw first
      })
      g.go(() => time.sleep(60_000, { ctx })) // rejects with the cause once ctx is cancelled: dropped
      g.go(async () => {
        await ctx.done()
        throw new Error('second')
      })
      const waited = g.wait()
      await ctx.done()
      expect(context.cause(ctx)).toBe(first)
      expect(ctx.err()).toBe(context.Canceled)
      expect(await settled(waited)).toBe(false) // the slow function is still running
      slow.resolve()
      await expect(waited).rejects.toBe(first)
      expect(slowDone).toBe(true)
      await sleep(5)
      expect(unhandled).toEqual([])
    })

    test('functions start in a microtask, in go() order, never inside go()', async () => {
      const { errgroup, context } = runtime(kind)
      const [g] = errgroup.withContext(context.background())
      const order: string[] = []
      g.go(() => order.push('a'))
      g.go(() => order.push('b'))
      order.push('after go')
      await g.wait()
      expect(order).toEqual(['after go', 'a', 'b'])
    })

    test('a returned Error is a value, not a failure; a throw of undefined is a failure with cause Canceled', async () => {
      const { errgroup, context } = runtime(kind)
      const [g, ctx] = errgroup.withContext(context.background())
      g.go(() => new Error('returned, not thrown'))
      await expect(g.wait()).resolves.toBeUndefined()
      const [h, hctx] = errgroup.withContext(context.background())
      h.go(() => Promise.reject(undefined))
      await expect(h.wait()).rejects.toBeUndefined()
      expect(hctx.err()).toBe(context.Canceled)
      expect(context.cause(hctx)).toBe(context.Canceled)
      expect(ctx.err()).toBe(context.Canceled)
    })

    test('wait with nothing active cancels the context synchronously; calls while waiting share one promise', async () => {
      const { errgroup, context } = runtime(kind)
      const [g, ctx] = errgroup.withContext(context.background())
      const p = g.wait()
      expect(ctx.err()).toBe(context.Canceled)
      await expect(p).resolves.toBeUndefined()

      const [h] = errgroup.withContext(context.background())
      const gate = deferred()
      h.go(() => gate.promise)
      const w1 = h.wait()
      expect(h.wait()).toBe(w1)
      gate.resolve()
      await w1
      expect(h.wait()).not.toBe(w1)
    })

    test('go after wait settled is allowed: the group keeps its first error and its cancelled context', async () => {
      const { errgroup, context } = runtime(kind)
      const [g, ctx] = errgroup.withContext(context.background())
      const first = new Error('first')
      g.go(() => {
        throw first
      })
      await expect(g.wait()).rejects.toBe(first)
      let ran = false
      g.go(() => {
        ran = true
      })
      await expect(g.wait()).rejects.toBe(first)
      expect(ran).toBe(true)
      expect(context.cause(ctx)).toBe(first)
    })

    test('functions added while wait is pending are waited for too', async () => {
      const { errgroup, context } = runtime(kind)
      const [g] = errgroup.withContext(context.background())
      const gate = deferred()
      let late = false
      g.go(async () => {
        await gate.promise
        g.go(async () => {
          await sleep(5)
          late = true
        })
      })
      const waited = g.wait()
      gate.resolve()
      await waited
      expect(late).toBe(true)
    })

    test('the context is also done when the parent is, and the group still waits', async () => {
      const { errgroup, context } = runtime(kind)
      const [parent, cancel] = context.withCancelCause(context.background())
      const [g, ctx] = errgroup.withContext(parent)
      g.go(() => ctx.done())
      cancel('parent gone')
      await expect(g.wait()).resolves.toBeUndefined()
      expect(context.cause(ctx)).toBe('parent gone')
    })

    test('many failures: one error, none unhandled', async () => {
      const { errgroup, context } = runtime(kind)
      const [g] = errgroup.withContext(context.background())
      for (let i = 0; i < 100; i++) {
        g.go(async () => {
          await sleep(i % 3)
          throw new Error(`e${i}`)
        })
      }
      await expect(g.wait()).rejects.toThrow(/^e\d+$/)
      await sleep(10)
      expect(unhandled).toEqual([])
    })
  })

  describe('limits', () => {
    test('at most n run at once; the rest start first-in first-out as slots free up', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      g.setLimit(2)
      let running = 0
      let peak = 0
      const started: number[] = []
      for (let i = 0; i < 8; i++) {
        g.go(async () => {
          started.push(i)
          peak = Math.max(peak, ++running)
          await sleep(1 + (i % 3))
          running--
        })
      }
      await g.wait()
      expect(peak).toBe(2)
      expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    })

    test('10,000 functions through a limit of 3', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      g.setLimit(3)
      let running = 0
      let peak = 0
      let done = 0
      for (let i = 0; i < 10_000; i++) {
        g.go(async () => {
          peak = Math.max(peak, ++running)
          await null
          running--
          done++
        })
      }
      await g.wait()
      expect(done).toBe(10_000)
      expect(peak).toBe(3)
    })

    test('tryGo starts f below the limit and otherwise returns false without queueing it', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      g.setLimit(1)
      const gate = deferred()
      let second = false
      expect(g.tryGo(() => gate.promise)).toBe(true)
      expect(g.tryGo(() => (second = true))).toBe(false)
      gate.resolve()
      await g.wait()
      expect(second).toBe(false)
      expect(g.tryGo(() => (second = true))).toBe(true)
      await g.wait()
      expect(second).toBe(true)
      const free = errgroup.group()
      for (let i = 0; i < 100; i++) expect(free.tryGo(() => sleep(1))).toBe(true)
      await free.wait()
    })

    test('a negative limit, or Infinity, means no limit', async () => {
      const { errgroup } = runtime(kind)
      for (const n of [-1, -Infinity, Infinity]) {
        const g = errgroup.group()
        g.setLimit(1)
        g.setLimit(n)
        let running = 0
        let peak = 0
        for (let i = 0; i < 10; i++) {
          g.go(async () => {
            peak = Math.max(peak, ++running)
            await sleep(1)
            running--
          })
        }
        await g.wait()
        expect(peak).toBe(10)
      }
    })

    test('setLimit while a function is running or queued throws an Error and changes nothing', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      g.setLimit(1)
      const gate = deferred()
      g.go(() => gate.promise)
      g.go(() => undefined)
      expect(() => g.setLimit(5)).toThrow('Group.setLimit: cannot change the limit while 2 functions are active in the group')
      expect(g.tryGo(() => undefined)).toBe(false) // still 1
      gate.resolve()
      await g.wait()
      g.setLimit(5)
    })
  })

  describe('group(): the zero Group', () => {
    test('no context: a failure cancels nothing, wait rejects with the first error', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      let otherFinished = false
      g.go(async () => {
        await sleep(5)
        otherFinished = true
      })
      g.go(() => Promise.reject(new Error('boom')))
      await expect(g.wait()).rejects.toThrow('boom')
      expect(otherFinished).toBe(true)
    })
  })

  describe('bad input throws at the call and changes nothing', () => {
    test('withContext needs a context; go and tryGo need a function', () => {
      const { errgroup } = runtime(kind)
      expect(() => errgroup.withContext({} as never)).toThrow(TypeError)
      expect(() => errgroup.withContext(undefined as never)).toThrow('errgroup.withContext: the parent must be a Context, got undefined')
      const g = errgroup.group()
      expect(() => g.go('f' as never)).toThrow(TypeError)
      expect(() => g.tryGo(undefined as never)).toThrow('Group.tryGo: f must be a function, got undefined')
      g.setLimit(1)
      expect(g.tryGo(() => undefined)).toBe(true) // the bad calls took no slot
    })

    test('setLimit: NaN and non-numbers are TypeErrors; fractions and 0 are RangeErrors', async () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      g.setLimit(1)
      for (const n of [Number.NaN, '2', undefined, null, 2n]) expect(() => g.setLimit(n as number)).toThrow(TypeError)
      for (const n of [1.5, -0.5, 0]) expect(() => g.setLimit(n)).toThrow(RangeError)
      expect(() => g.setLimit(0)).toThrow('Group.setLimit: a limit of 0 would never let a function run; use a negative limit for no limit')
      // Still a limit of 1.
      const gate = deferred()
      expect(g.tryGo(() => gate.promise)).toBe(true)
      expect(g.tryGo(() => undefined)).toBe(false)
      gate.resolve()
      await g.wait()
    })

    test('methods called on anything but a Group throw a TypeError', () => {
      const { errgroup } = runtime(kind)
      const g = errgroup.group()
      const proto = Object.getPrototypeOf(g) as ErrgroupApi.Group
      expect(() => proto.go.call({}, () => undefined)).toThrow('Group.go: called on an object, which is not a Group made by afterfunc\'s errgroup')
      expect(() => proto.wait.call(undefined)).toThrow(TypeError)
      expect(() => proto.setLimit.call(Object.create(proto), 1)).toThrow(TypeError)
    })

    test('groups of one runtime work with contexts and groups of another', async () => {
      const a = runtime(kind)
      const b = runtime(kind)
      const [parent, cancel] = a.context.withCancel(a.context.background())
      const [g, ctx] = b.errgroup.withContext(parent)
      const proto = Object.getPrototypeOf(a.errgroup.group()) as ErrgroupApi.Group
      proto.go.call(g, () => ctx.done())
      cancel()
      await g.wait()
      expect(ctx.err()).toBe(a.context.Canceled)
    })
  })
})
