// testing.virtualClock() on both engines: timers, tickers, sleeps and context deadlines
// follow it, in deadline order, deterministically, and an hour passes in milliseconds.

import { describe, expect, test } from 'vitest'
import { engines, runtime, sleep as realSleep, TICK_MS, until } from './helpers.ts'

describe.each(engines)('virtual clock on the %s engine', (kind) => {
  test('an hour of withTimeout contexts, tickers and sleeps in well under 100 ms of real time', async () => {
    const rt = runtime(kind)
    const { time, context, testing } = rt
    using clock = testing.virtualClock()
    const start = clock.now()
    const log: string[] = []
    // A ticker every minute, a worker loop sleeping 90 s between jobs, and a request every
    // 5 minutes with a 2-minute deadline.
    const ticker = time.newTicker(time.Minute, () => log.push(`tick ${(clock.now() - start) / time.Minute}`))
    let jobs = 0
    const worker = (async () => {
      while (clock.now() - start < time.Hour - 90 * time.Second) {
        await time.sleep(90 * time.Second)
        jobs++
      }
    })()
    const expired: number[] = []
    for (let i = 0; i < 12; i++) {
      time.afterFunc(i * 5 * time.Minute, () => {
        const [ctx] = context.withTimeout(context.background(), 2 * time.Minute)
        ctx.signal.addEventListener('abort', () => expired.push((clock.now() - start) / time.Minute))
      })
    }
    const real = performance.now()
    await clock.advance(time.Hour)
    const elapsed = performance.now() - real
    ticker.stop()
    await worker
    expect(log).toHaveLength(60)
    expect(log[0]).toBe('tick 1')
    expect(log[59]).toBe('tick 60')
    expect(jobs).toBe(39)
    expect(expired).toEqual([2, 7, 12, 17, 22, 27, 32, 37, 42, 47, 52, 57])
    expect(clock.now() - start).toBe(time.Hour)
    console.log(`[${kind}] an hour of virtual time took ${elapsed.toFixed(1)} ms of real time`)
    expect(elapsed).toBeLessThan(100)
  })

  test('callbacks run in deadline order, FIFO for equal deadlines, with now() at their deadline', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const start = clock.now()
    const ran: string[] = []
    const at = (name: string) => () => ran.push(`${name}@${Math.round(clock.now() - start)}`)
    time.afterFunc(300, at('c'))
    time.afterFunc(100, at('a'))
    time.afterFunc(100, at('b'))
    time.afterFunc(0, at('zero'))
    const moved = time.afterFunc(50, at('moved'))
    moved.reset(100)
    await clock.advance(99)
    expect(ran).toEqual(['zero@0'])
    await clock.advance(1)
    expect(ran).toEqual(['zero@0', 'a@100', 'b@100', 'moved@100'])
    await clock.advance(1000)
    expect(ran).toEqual(['zero@0', 'a@100', 'b@100', 'moved@100', 'c@300'])
    expect(clock.now() - start).toBe(1100)
  })

  test('the same scenario gives the same order every time', async () => {
    async function scenario(): Promise<string[]> {
      const { time, context, testing } = runtime(kind)
      using clock = testing.virtualClock()
      const ran: string[] = []
      let seed = 7
      for (let i = 0; i < 200; i++) {
        seed = (seed * 48271) % 2147483647
        const d = seed % 1000
        if (i % 3 === 0) {
          const [ctx, cancel] = context.withTimeout(context.background(), d)
          context.afterFunc(ctx, () => ran.push(`ctx${i}`))
          if (i % 9 === 0) cancel()
        } else {
          time.afterFunc(d, () => ran.push(`t${i}`))
        }
      }
      await clock.runAll()
      return ran
    }
    const first = await scenario()
    expect(first.length).toBeGreaterThan(150)
    expect(await scenario()).toEqual(first)
  })

  test('code that awaits a sleep and then arms the next timer is followed within one advance', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const start = clock.now()
    const steps: number[] = []
    const done = (async () => {
      for (let i = 0; i < 5; i++) {
        await time.sleep(1000)
        steps.push(clock.now() - start)
      }
    })()
    await clock.advance(5000)
    await done
    expect(steps).toEqual([1000, 2000, 3000, 4000, 5000])
  })

  test('context deadlines, Date deadlines and signals follow the virtual clock', async () => {
    const { context, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const [byTimeout] = context.withTimeout(context.background(), 1000)
    const [byDate] = context.withDeadline(context.background(), new Date(Date.now() + 5000))
    const aborted: string[] = []
    byTimeout.signal.addEventListener('abort', () => aborted.push('timeout'))
    await clock.advance(999)
    expect(byTimeout.err()).toBeUndefined()
    await clock.advance(1)
    expect(byTimeout.err()).toBe(context.DeadlineExceeded)
    expect(aborted).toEqual(['timeout'])
    expect(byDate.err()).toBeUndefined()
    await clock.advance(4000 + 50) // the test's own Date.now() moved on a little in real time
    expect(byDate.err()).toBe(context.DeadlineExceeded)
    expect(byTimeout.signal.reason).toBe(context.DeadlineExceeded)
  })

  test('timers pending before the clock move onto it; on dispose the rest move back with the time they had left', async () => {
    const rt = runtime(kind)
    const { time, testing } = rt
    let early = false
    time.afterFunc(time.Hour, () => (early = true))
    const clock = testing.virtualClock()
    // Its time left was measured when the clock took over; it may end up to a tick later.
    await clock.advance(time.Hour + 1)
    expect(early).toBe(true)
    let late = 0
    time.afterFunc(50, () => (late = performance.now()))
    await clock.advance(20)
    const lateAt = performance.now()
    expect(late).toBe(0)
    expect(clock.pending()).toBe(1)
    clock[Symbol.dispose]()
    clock[Symbol.dispose]()
    await until(() => late > 0, 5000)
    // 30 ms were left on the virtual clock when it was disposed.
    expect(late - lateAt).toBeGreaterThanOrEqual(30)
    expect(rt.scheduler.active).toBe(0)
  })

  test('runAll runs everything, and rejects for timers that re-arm forever', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    let runs = 0
    time.afterFunc(5 * time.Hour, () => runs++)
    time.afterFunc(10, () => time.afterFunc(10_000, () => runs++))
    await clock.runAll()
    expect(runs).toBe(2)
    expect(clock.pending()).toBe(0)
    const ticker = time.newTicker(1, () => {})
    await expect(clock.runAll()).rejects.toThrow('VirtualClock.runAll: timers were still being armed after 100000 rounds')
    ticker.stop()
  }, 60_000)

  test('a callback that throws makes advance reject with its error', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const boom = new Error('boom')
    time.afterFunc(10, () => {
      throw boom
    })
    await expect(clock.advance(20)).rejects.toBe(boom)
  })

  test('pending counts timers, tickers, sleeps and deadlines', async () => {
    const { time, context, testing } = runtime(kind)
    using clock = testing.virtualClock()
    expect(clock.pending()).toBe(0)
    const t = time.afterFunc(10, () => {})
    const k = time.newTicker(10, () => {})
    void time.sleep(10)
    const [, cancel] = context.withTimeout(context.background(), 10)
    expect(clock.pending()).toBe(4)
    t.stop()
    k.stop()
    cancel()
    expect(clock.pending()).toBe(1)
    await clock.advance(10)
    expect(clock.pending()).toBe(0)
  })

  test('one clock at a time; bad input; a disposed clock refuses to move', async () => {
    const { testing } = runtime(kind)
    const clock = testing.virtualClock()
    expect(() => testing.virtualClock()).toThrow('testing.virtualClock: a virtual clock is already active in this thread; dispose it first')
    await expect(clock.advance(-1)).rejects.toThrow(RangeError)
    await expect(clock.advance(Infinity)).rejects.toThrow(RangeError)
    await expect(clock.advance(NaN)).rejects.toThrow(TypeError)
    await expect(clock.advance('1' as never)).rejects.toThrow(TypeError)
    clock[Symbol.dispose]()
    await expect(clock.advance(1)).rejects.toThrow('VirtualClock.advance: the clock was disposed')
    const again = testing.virtualClock()
    again[Symbol.dispose]()
  })

  test('a timer pending before the clock keeps its deadline exactly: an hour runs within advance(Hour), never earlier', async () => {
    const { time, testing } = runtime(kind)
    for (let i = 0; i < 20; i++) {
      const armedAt = performance.now()
      let firedAt = -1
      time.afterFunc(time.Hour, () => (firedAt = clock.now()))
      using clock = testing.virtualClock()
      await clock.advance(time.Hour)
      expect(firedAt).toBeGreaterThanOrEqual(armedAt + time.Hour)
    }
  })

  test('a ticker made just before the clock ticks once per period, on its grid', async () => {
    const { time, testing } = runtime(kind)
    for (let i = 0; i < 20; i++) {
      const madeAt = performance.now()
      const ticks: number[] = []
      using ticker = time.newTicker(4000, () => ticks.push(clock.now()))
      using clock = testing.virtualClock()
      await clock.advance(8000)
      expect(ticks).toHaveLength(2)
      expect(ticks[0]).toBeGreaterThanOrEqual(madeAt + 4000)
      expect(ticks[1]! - ticks[0]!).toBe(4000)
      void ticker
    }
  })

  test('a ticker whose period is below the engine tick ticks once per tick', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const ticks: number[] = []
    using ticker = time.newTicker(Number.MIN_VALUE, () => ticks.push(clock.now()))
    await clock.advance(5)
    const start = ticks[0]!
    expect(ticks.map((t) => (t - start) / TICK_MS)).toEqual(Array.from({ length: 5 / TICK_MS }, (_, i) => i))
    expect(start).toBe(clock.now() - 5 + TICK_MS)
    void ticker
  })

  test('clear() discards what was armed under the clock; what was pending before stays', async () => {
    const rt = runtime(kind)
    const { time, context, testing } = rt
    let before = false
    time.afterFunc(50, () => (before = true))
    using clock = testing.virtualClock()
    const ran: string[] = []
    time.afterFunc(10, () => ran.push('timer'))
    time.newTicker(10, () => ran.push('tick'))
    let slept: string = 'pending'
    time.sleep(10).then(() => (slept = 'resolved'))
    const [ctx, cancel] = context.withTimeout(context.background(), 10)
    const [done, cancelDone] = context.withCancel(context.background())
    context.afterFunc(done, () => ran.push('context.afterFunc'))
    cancelDone()
    expect(clock.pending()).toBe(6)
    expect(clock.clear()).toBe(5)
    expect(clock.pending()).toBe(1)
    await clock.advance(100)
    expect(ran).toEqual([])
    expect(slept).toBe('pending')
    expect(ctx.err()).toBeUndefined()
    expect(before).toBe(true)
    expect(clock.clear()).toBe(0)
    cancel()
  })

  test("atDispose: 'discard' leaves nothing armed under the clock for the next test; 'restore' is the default", async () => {
    const rt = runtime(kind)
    const { time, testing } = rt
    let ran = false
    {
      using clock = testing.virtualClock({ atDispose: 'discard' })
      time.afterFunc(5, () => (ran = true))
      time.newTicker(5, () => (ran = true))
      expect(clock.pending()).toBe(2)
    }
    expect(rt.scheduler.active).toBe(0)
    {
      using next = testing.virtualClock()
      expect(next.pending()).toBe(0)
      time.afterFunc(5, () => (ran = true))
    }
    expect(rt.scheduler.active).toBe(1)
    await until(() => ran)
    for (const bad of [null, 1, 'discard']) expect(() => testing.virtualClock(bad as never)).toThrow(TypeError)
    expect(() => testing.virtualClock({ atDispose: 'drop' as never })).toThrow(TypeError)
    using clock = testing.virtualClock()
    clock[Symbol.dispose]()
    expect(() => clock.clear()).toThrow('VirtualClock.clear: the clock was disposed')
  })

  test('advance lets setImmediate callbacks settle between steps, so code that yields with them is followed', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const start = clock.now()
    const attempts: number[] = []
    const yieldTurn = () => new Promise((resolve) => setImmediate(resolve))
    const retry = (async () => {
      for (let attempt = 0; attempt < 4; attempt++) {
        attempts.push(clock.now() - start)
        await yieldTurn()
        await yieldTurn()
        await yieldTurn()
        await time.sleep(100 * 2 ** attempt)
      }
    })()
    await clock.advance(100 + 200 + 400)
    expect(attempts).toEqual([0, 100, 300, 700])
    await clock.advance(800)
    await retry
  })

  test('after dispose, real time is back', async () => {
    const { time, testing } = runtime(kind)
    testing.virtualClock()[Symbol.dispose]()
    let ran = false
    time.afterFunc(5, () => (ran = true))
    await realSleep(50)
    expect(ran).toBe(true)
  })
})
