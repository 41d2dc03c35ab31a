// time.sleep, time.after, time.newTicker and disposable timers, on both engines, in real time.
// (The same behaviours under the virtual clock are in virtual-clock.spec.ts.)

import { getEventListeners } from 'node:events'
import { describe, expect, test } from 'vitest'
import { engines, runChild, runtime, sleep as realSleep, spin, until, ceilTick } from './helpers.ts'

describe.each(engines)('time toolbox on the %s engine', (kind) => {
  describe('sleep and after', () => {
    test('sleep resolves with undefined no earlier than d', async () => {
      const { time } = runtime(kind)
      for (const d of [0, 1, 2.5, 10]) {
        const before = performance.now()
        await expect(time.sleep(d)).resolves.toBeUndefined()
        expect(performance.now()).toBeGreaterThanOrEqual(before + d)
      }
    })

    test('after resolves after d and releases its timer', async () => {
      const rt = runtime(kind)
      const before = performance.now()
      const p = rt.time.after(5)
      expect(rt.scheduler.active).toBe(1)
      await p
      expect(performance.now()).toBeGreaterThanOrEqual(before + 5)
      expect(rt.scheduler.active).toBe(0)
    })

    test('a context done first rejects with its cause and stops the timer at once', async () => {
      const rt = runtime(kind)
      const { time, context } = rt
      const [ctx, cancel] = context.withCancelCause(context.background())
      const why = new Error('shutting down')
      const p = time.sleep(60_000, { ctx })
      expect(rt.scheduler.active).toBe(1)
      cancel(why)
      expect(rt.scheduler.active).toBe(0)
      await expect(p).rejects.toBe(why)
      expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
    })

    test('a context deadline rejects with DeadlineExceeded', async () => {
      const { time, context } = runtime(kind)
      const [ctx, cancel] = context.withTimeout(context.background(), 5)
      await expect(time.sleep(60_000, { ctx })).rejects.toBe(context.DeadlineExceeded)
      cancel()
    })

    test('a signal aborting first rejects with its reason and stops the timer', async () => {
      const rt = runtime(kind)
      const ac = new AbortController()
      const p = rt.time.sleep(60_000, { signal: ac.signal })
      ac.abort('stop now')
      expect(rt.scheduler.active).toBe(0)
      await expect(p).rejects.toBe('stop now')
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
    })

    test('already done or aborted: rejects without arming anything', async () => {
      const rt = runtime(kind)
      const { time, context } = rt
      const [ctx, cancel] = context.withCancel(context.background())
      cancel()
      const p1 = time.sleep(1000, { ctx })
      const p2 = time.sleep(1000, { signal: AbortSignal.abort('gone') })
      expect(rt.scheduler.active).toBe(0)
      await expect(p1).rejects.toBe(context.Canceled)
      await expect(p2).rejects.toBe('gone')
    })

    test('settling by time leaves nothing registered on the context or the signal', async () => {
      const { time, context } = runtime(kind)
      const [ctx, cancel] = context.withCancel(context.background())
      const ac = new AbortController()
      await time.sleep(1, { ctx, signal: ac.signal })
      expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
      cancel()
    })

    test('bad input is a TypeError at the call and arms nothing', () => {
      const rt = runtime(kind)
      const { time } = rt
      expect(() => time.sleep('1' as never)).toThrow(new TypeError('time.sleep: the duration must be a number of milliseconds, got a string ("1")'))
      expect(() => time.sleep(NaN)).toThrow(TypeError)
      expect(() => time.after(NaN)).toThrow('time.after: the duration must be a number of milliseconds, got NaN')
      expect(() => time.sleep(1, 5 as never)).toThrow('time.sleep: opts must be an object or undefined, got number 5')
      expect(() => time.sleep(1, { ctx: {} as never })).toThrow("time.sleep: opts.ctx must be a context made by afterfunc's context namespace, got an object")
      expect(() => time.sleep(1, { signal: {} as never })).toThrow('time.sleep: opts.signal must be an AbortSignal, got an object')
      expect(rt.scheduler.active).toBe(0)
    })
  })

  describe('newTicker', () => {
    test('ticks on a grid: tick k no earlier than k·d after the call, and no drift', async () => {
      const { time } = runtime(kind)
      const d = 10
      const start = performance.now()
      const at: number[] = []
      const t = time.newTicker(d, () => at.push(performance.now() - start))
      await until(() => at.length >= 12, 5000)
      t.stop()
      // Never early, and each tick within a bounded lateness of its own grid point: lateness
      // does not accumulate (a drifting ticker's k-th tick would be k·lateness late).
      const late = at.map((ms, i) => ms - (i + 1) * d)
      for (const l of late) expect(l).toBeGreaterThanOrEqual(0)
      expect(Math.max(...late.slice(6)) - Math.min(...late.slice(0, 6))).toBeLessThan(d * 3)
    })

    test('a callback that takes half the period does not push the grid: the next tick is armed at its grid point', async () => {
      const rt = runtime(kind)
      const ticks: number[] = []
      const before = performance.now()
      const t = rt.time.newTicker(30, () => {
        ticks.push(performance.now())
        spin(15)
      })
      const after = performance.now()
      try {
        const slot = (t as unknown as { _slotRef: number })._slotRef >> 1
        await until(() => ticks.length === 1, 5000)
        // Tick 1 ran and took 15 ms; tick 2 is armed at start + 60, not 15 ms later.
        await until(() => ticks.length > 1 || rt.scheduler.deadlineOf(slot) !== undefined, 5000)
        expect(ticks).toHaveLength(1)
        const deadline = rt.scheduler.deadlineOf(slot)!
        expect(deadline).toBeGreaterThanOrEqual(ceilTick(before + 60))
        expect(deadline).toBeLessThanOrEqual(ceilTick(after + 60))
        expect(ticks[0]!).toBeGreaterThanOrEqual(before + 30)
      } finally {
        t.stop()
      }
    })

    test('a callback slower than d drops the missed ticks instead of queueing them', async () => {
      const { time } = runtime(kind)
      const d = 10
      const start = performance.now()
      const at: number[] = []
      const t = time.newTicker(d, () => {
        at.push(performance.now() - start)
        if (at.length === 1) spin(35) // miss three grid points
      })
      await until(() => at.length >= 3, 5000)
      t.stop()
      // After the slow tick (ending past 10 + 35 = 45 ms), the next ticks are the grid points
      // still ahead (50 ms, then 60 ms), not a burst of the three missed ones.
      expect(at[1]!).toBeGreaterThanOrEqual(50)
      expect(at[2]!).toBeGreaterThanOrEqual(60)
    })

    test('stop() ends it, even for a tick already due; reset() restarts it with a new period (as in Go)', async () => {
      const { time } = runtime(kind)
      let ticks = 0
      const t = time.newTicker(2, () => ticks++)
      await until(() => ticks >= 2)
      const seen = ticks
      spin(10) // a tick is due now, not delivered
      t.stop()
      t.stop()
      await realSleep(30)
      expect(ticks).toBe(seen)
      const before = performance.now()
      let first = 0
      t.reset(15)
      await until(() => ticks > seen)
      first = performance.now()
      t.stop()
      expect(first - before).toBeGreaterThanOrEqual(15)
    })

    test('stop from inside the callback', async () => {
      const { time } = runtime(kind)
      let ticks = 0
      const t = time.newTicker(1, () => {
        ticks++
        t.stop()
      })
      await until(() => ticks === 1)
      await realSleep(20)
      expect(ticks).toBe(1)
    })

    test('a throwing callback does not end the ticker', async () => {
      const r = await runChild(
        kind,
        `let n = 0
         process.on('uncaughtException', () => {})
         const t = afterfunc.time.newTicker(2, () => { n++; if (n === 5) { t.stop(); console.log('ticks', n) }; throw new Error('tick') })`,
      )
      expect(r.stdout.trim()).toBe('ticks 5')
    })

    test('bad input: TypeError or RangeError at the call, nothing created', () => {
      const rt = runtime(kind)
      const { time } = rt
      expect(() => time.newTicker(0, () => {})).toThrow(new RangeError('time.newTicker: the period must be greater than zero, got 0'))
      expect(() => time.newTicker(-5, () => {})).toThrow(RangeError)
      expect(() => time.newTicker(NaN, () => {})).toThrow(TypeError)
      expect(() => time.newTicker('5' as never, () => {})).toThrow(TypeError)
      expect(() => time.newTicker(5, null as never)).toThrow('time.newTicker: the callback must be a function, got null')
      expect(rt.scheduler.active).toBe(0)
      const t = time.newTicker(1000, () => {})
      expect(() => t.reset(0)).toThrow(new RangeError('Ticker.reset: the period must be greater than zero, got 0'))
      expect(() => t.reset(NaN)).toThrow(TypeError)
      expect(rt.scheduler.active).toBe(1)
      t.stop()
    })

    test('ref, unref, hasRef', () => {
      const rt = runtime(kind)
      const t = rt.time.newTicker(1000, () => {})
      expect(t.hasRef()).toBe(true)
      expect(rt.scheduler.refs).toBe(1)
      expect(t.unref()).toBe(t)
      expect(t.hasRef()).toBe(false)
      expect(rt.scheduler.refs).toBe(0)
      expect(t.ref().hasRef()).toBe(true)
      t.stop()
      expect(rt.scheduler.refs).toBe(0)
    })
  })

  describe('Symbol.dispose', () => {
    test('disposing a Timer or a Ticker stops it', async () => {
      const rt = runtime(kind)
      let runs = 0
      {
        using timer = rt.time.afterFunc(1, () => runs++)
        using ticker = rt.time.newTicker(1, () => runs++)
        void timer
        void ticker
        expect(rt.scheduler.active).toBe(2)
      }
      expect(rt.scheduler.active).toBe(0)
      await realSleep(20)
      expect(runs).toBe(0)
    })
  })
})
