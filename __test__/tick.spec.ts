// time.tick: Go's time.Tick as an async iterator, on both engines, under the virtual clock
// (exact instants) and in real time (never early).

import { getEventListeners } from 'node:events'
import { describe, expect, test } from 'vitest'
import { engines, runtime } from './helpers.ts'

describe.each(engines)('time.tick on the %s engine', (kind) => {
  test('yields on the grid, the clock reading of each tick, from the first next()', async () => {
    const rt = runtime(kind)
    const { time, testing } = rt
    using clock = testing.virtualClock()
    const ticks = time.tick(100)
    await clock.advance(1000) // nothing runs before the first next()
    expect(rt.scheduler.active).toBe(0)
    const start = clock.now()
    const seen: number[] = []
    const loop = (async () => {
      for await (const now of ticks) {
        expect(now).toBe(clock.now())
        seen.push(now - start)
        if (seen.length === 5) break
      }
    })()
    await clock.advance(1000)
    await loop
    expect(seen).toEqual([100, 200, 300, 400, 500])
    expect(rt.scheduler.active).toBe(0) // break stopped the ticker
  })

  test('a slow body gets the one tick kept while it ran, then the grid: missed ticks are dropped', async () => {
    const rt = runtime(kind)
    const { time, testing } = rt
    using clock = testing.virtualClock()
    const start = clock.now()
    const seen: [value: number, at: number][] = []
    const loop = (async () => {
      for await (const now of time.tick(100)) {
        seen.push([now - start, clock.now() - start])
        if (seen.length === 4) break
        await time.sleep(230)
      }
    })()
    await clock.advance(2000)
    await loop
    // 100: yield; body to 330 (200 kept, 300 dropped); 200 at once; body to 560 (400 kept,
    // 500 dropped); 400 at once; body to 790; 600 at once.
    expect(seen).toEqual([
      [100, 100],
      [200, 330],
      [400, 560],
      [600, 790],
    ])
    expect(rt.scheduler.active).toBe(0)
  })

  test('ends, without throwing, when ctx is done; nothing stays registered', async () => {
    const rt = runtime(kind)
    const { time, context, testing } = rt
    using clock = testing.virtualClock()
    const start = clock.now()
    const [ctx, cancel] = context.withTimeout(context.background(), 350)
    const seen: number[] = []
    const loop = (async () => {
      for await (const now of time.tick(100, { ctx })) seen.push(now - start)
      return 'ended'
    })()
    await clock.advance(1000)
    await expect(loop).resolves.toBe('ended')
    expect(seen).toEqual([100, 200, 300])
    expect(ctx.err()).toBe(context.DeadlineExceeded)
    expect(rt.scheduler.active).toBe(0)
    expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
    cancel()
  })

  test('ends when the signal aborts: a pending next() resolves done, a kept tick is dropped', async () => {
    const rt = runtime(kind)
    const { time, testing } = rt
    using clock = testing.virtualClock()
    const ac = new AbortController()
    const ticks = time.tick(100, { signal: ac.signal })
    const first = ticks.next()
    await clock.advance(100)
    expect((await first).done).toBe(false)
    await clock.advance(100) // a tick fires with nobody waiting: kept
    ac.abort(new Error('stop'))
    expect(await ticks.next()).toEqual({ value: undefined, done: true })
    const pending = time.tick(100, { signal: new AbortController().signal })
    const waiting = pending.next()
    await pending.return()
    expect(await waiting).toEqual({ value: undefined, done: true })
    expect(rt.scheduler.active).toBe(0)
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
  })

  test('with both ctx and signal, whichever is done first ends it and both listeners go', async () => {
    const rt = runtime(kind)
    const { time, context, testing } = rt
    using clock = testing.virtualClock()
    const [ctx, cancel] = context.withCancel(context.background())
    const ac = new AbortController()
    let n = 0
    const loop = (async () => {
      for await (const _ of time.tick(10, { ctx, signal: ac.signal })) if (++n === 3) cancel()
    })()
    await clock.advance(100)
    await loop
    expect(n).toBe(3)
    expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0)
    expect(rt.scheduler.active).toBe(0)
  })

  test('already done: the loop runs zero times and nothing is armed', async () => {
    const rt = runtime(kind)
    const { time, context } = rt
    const [ctx, cancel] = context.withCancel(context.background())
    cancel()
    let n = 0
    for await (const _ of time.tick(1, { ctx })) n++
    for await (const _ of time.tick(1, { signal: AbortSignal.abort() })) n++
    expect(n).toBe(0)
    expect(rt.scheduler.active).toBe(0)
  })

  test('an iterator never iterated, or returned before its first next(), holds nothing', async () => {
    const rt = runtime(kind)
    const { time, context } = rt
    const [ctx, cancel] = context.withCancel(context.background())
    const unused = time.tick(5, { ctx })
    expect(rt.scheduler.active).toBe(0)
    expect(getEventListeners(ctx.signal, 'abort')).toHaveLength(0)
    expect(await unused.return()).toEqual({ value: undefined, done: true })
    expect(await unused.next()).toEqual({ value: undefined, done: true })
    expect(await unused.return()).toEqual({ value: undefined, done: true })
    expect(rt.scheduler.active).toBe(0)
    cancel()
  })

  test('several next() calls in flight are resolved by successive ticks, in order', async () => {
    const { time, testing } = runtime(kind)
    using clock = testing.virtualClock()
    const start = clock.now()
    const ticks = time.tick(50)
    const results = [ticks.next(), ticks.next(), ticks.next()]
    await clock.advance(150)
    expect((await Promise.all(results)).map((r) => (r.done ? 'done' : r.value - start))).toEqual([50, 100, 150])
    await ticks.return()
  })

  test('in real time: never early, on a grid that does not drift, and the ticker is released', async () => {
    const rt = runtime(kind)
    const { time } = rt
    const before = performance.now()
    const values: number[] = []
    for await (const now of time.tick(10)) {
      values.push(now)
      if (values.length === 5) break
    }
    values.forEach((v, k) => expect(v).toBeGreaterThanOrEqual(before + (k + 1) * 10))
    for (let k = 1; k < values.length; k++) expect(values[k]!).toBeGreaterThan(values[k - 1]!)
    expect(rt.scheduler.active).toBe(0)
  })

  test('bad input throws at the call and arms nothing', () => {
    const rt = runtime(kind)
    const { time, context } = rt
    const bad: [() => unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor][] = [
      [() => time.tick(Number.NaN), TypeError],
      [() => time.tick('10' as unknown as number), TypeError],
      [() => time.tick(0), RangeError],
      [() => time.tick(-5), RangeError],
      [() => time.tick(10, null as unknown as undefined), TypeError],
      [() => time.tick(10, 5 as unknown as undefined), TypeError],
      [() => time.tick(10, { ctx: {} as unknown as ReturnType<typeof context.background> }), TypeError],
      [() => time.tick(10, { signal: {} as AbortSignal }), TypeError],
    ]
    for (const [call, type] of bad) expect(call).toThrow(type)
    expect(() => time.tick(0)).toThrow('time.tick: the period must be greater than zero, got 0')
    expect(rt.scheduler.active).toBe(0)
  })
})
