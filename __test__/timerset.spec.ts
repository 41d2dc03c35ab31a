// time.newTimerSet on both engines: one timer per key with Go's AfterFunc semantics per key,
// one callback for the set, under real time and the virtual clock.

import { describe, expect, test } from 'vitest'
import { engines, runChild, runtime, sleep, spin, TICK_MS, until } from './helpers.ts'

describe.each(engines)('timer sets on the %s engine', (kind) => {
  test('reset arms a key and says whether it was pending; stop says whether it prevented the run; has and size follow', async () => {
    const { time } = runtime(kind)
    const fired: number[] = []
    const set = time.newTimerSet((key) => fired.push(key))
    expect(set.size).toBe(0)
    expect(set.reset(7, 20)).toBe(false)
    expect(set.reset(7, 20)).toBe(true)
    expect(set.reset(3, 10)).toBe(false)
    expect([set.has(7), set.has(3), set.has(4), set.size]).toEqual([true, true, false, 2])
    expect(set.stop(3)).toBe(true)
    expect(set.stop(3)).toBe(false)
    expect(set.stop(4)).toBe(false)
    expect([set.has(3), set.size]).toEqual([false, 1])
    await until(() => fired.length === 1)
    expect(fired).toEqual([7])
    expect([set.has(7), set.size]).toEqual([false, 0])
    expect(set.stop(7)).toBe(false)
    expect(set.reset(7, 1)).toBe(false)
    await until(() => fired.length === 2)
    await sleep(20)
    expect(fired).toEqual([7, 7])
  })

  test('keys fire never early, in deadline order, FIFO among equal deadlines, each once, never inside reset', async () => {
    const { time } = runtime(kind)
    const fired: { key: number; at: number }[] = []
    const set = time.newTimerSet((key) => fired.push({ key, at: performance.now() }))
    const armedAt = new Map<number, number>()
    const delays = [30, 10, 20, 10, 0, 10.5, 20]
    delays.forEach((d, key) => {
      armedAt.set(key, performance.now())
      set.reset(key, d)
    })
    expect(fired).toEqual([])
    await until(() => fired.length === delays.length)
    await sleep(20)
    expect(fired.map((f) => f.key)).toEqual([4, 1, 3, 5, 2, 6, 0])
    for (const { key, at } of fired) expect(at).toBeGreaterThanOrEqual(armedAt.get(key)! + delays[key]!)
  })

  test('an expiry already due but not yet run is prevented by stop, and by reset, which arms it again', async () => {
    const { time } = runtime(kind)
    const fired: number[] = []
    const set = time.newTimerSet((key) => fired.push(key))
    set.reset(1, 1)
    set.reset(2, 1)
    await Promise.resolve()
    spin(10) // both are due and, natively, on their way to JavaScript
    expect(set.stop(1)).toBe(true)
    expect(set.reset(2, 30)).toBe(true)
    await sleep(10)
    expect(fired).toEqual([])
    await until(() => fired.length === 1)
    expect(fired).toEqual([2])
  })

  test('the callback may reset its own key (a ticker) and stop others due with it', async () => {
    const { time } = runtime(kind)
    const fired: number[] = []
    let ticks = 0
    const set = time.newTimerSet((key) => {
      fired.push(key)
      if (key === 0 && ++ticks < 3) set.reset(0, 2)
      if (key === 1) expect(set.stop(2)).toBe(true)
    })
    set.reset(0, 2)
    set.reset(1, 5)
    set.reset(2, 5)
    await until(() => ticks === 3)
    await sleep(20)
    expect(fired.filter((k) => k === 0)).toHaveLength(3)
    expect(fired).toContain(1)
    expect(fired).not.toContain(2)
    expect(set.size).toBe(0)
  })

  test('bad keys, durations, callbacks and receivers are errors at the call that change nothing', async () => {
    const rt = runtime(kind)
    const { time } = rt
    const fired: number[] = []
    const set = time.newTimerSet((key) => fired.push(key))
    set.reset(1, 60_000)
    for (const key of ['1', null, undefined, {}, 1n, Symbol('k')]) {
      for (const call of [() => set.reset(key as never, 1), () => set.stop(key as never), () => set.has(key as never)]) {
        expect(call).toThrow(TypeError)
      }
    }
    for (const key of [-1, 1.5, NaN, Infinity, 2 ** 31, -0.5]) {
      expect(() => set.reset(key, 1)).toThrow(RangeError)
      expect(() => set.stop(key)).toThrow(RangeError)
      expect(() => set.has(key)).toThrow(RangeError)
    }
    expect(() => set.reset(1, NaN)).toThrow(TypeError)
    expect(() => set.reset(2, '5' as never)).toThrow(TypeError)
    expect(() => time.newTimerSet(undefined as never)).toThrow(TypeError)
    expect(() => time.newTimerSet('f' as never)).toThrow(TypeError)
    const other = runtime(kind).time.newTimerSet(() => {})
    const reset = Object.getPrototypeOf(set).reset as (this: unknown, key: number, d: number) => boolean
    expect(() => reset.call({}, 1, 1)).toThrow(/^TimerSet\.reset: called on an object, which is not a TimerSet made by this afterfunc/)
    expect(() => reset.call(other, 1, 1)).toThrow(TypeError)
    expect([set.size, set.has(1), set.has(2), other.size]).toEqual([1, true, false, 0])
    expect(set.stop(1)).toBe(true)
    await sleep(10)
    expect(fired).toEqual([])
  })

  test('a key of 2^31 - 1 is accepted; memory grows with the largest key used, so it is only checked, not armed', () => {
    const { time } = runtime(kind)
    const set = time.newTimerSet(() => {})
    expect(set.has(2 ** 31 - 1)).toBe(false)
    expect(set.stop(2 ** 31 - 1)).toBe(false)
  })

  test('dispose stops every pending key; the set stays usable', async () => {
    const { time } = runtime(kind)
    const fired: number[] = []
    const set = time.newTimerSet((key) => fired.push(key))
    for (let key = 0; key < 1000; key++) set.reset(key, 5)
    set[Symbol.dispose]()
    expect(set.size).toBe(0)
    expect(set.has(3)).toBe(false)
    set[Symbol.dispose]()
    await sleep(20)
    expect(fired).toEqual([])
    expect(set.reset(3, 1)).toBe(false)
    await until(() => fired.length === 1)
    expect(fired).toEqual([3])
  })

  test('ref and unref: an unref\'d set lets the process exit; a ref\'d one keeps it until its keys fire', async () => {
    const kept = await runChild(
      kind,
      `const set = afterfunc.time.newTimerSet((key) => console.log('fired', key))
      console.log(set.hasRef())
      set.reset(4, 100)`,
    )
    expect(kept.stdout.trim().split('\n')).toEqual(['true', 'fired 4'])
    expect(kept.ms).toBeGreaterThanOrEqual(100)
    const unrefd = await runChild(
      kind,
      `const set = afterfunc.time.newTimerSet((key) => console.log('fired', key)).unref()
      console.log(set.hasRef(), set.unref() === set)
      set.reset(4, 60_000)
      set.ref().unref()`,
    )
    expect(unrefd.code).toBe(0)
    expect(unrefd.stdout.trim()).toBe('false true')
    expect(unrefd.ms).toBeLessThan(10_000)
  })

  test('a set with pending keys fires even when nothing refers to it; one with none is released', async () => {
    const r = await runChild(
      kind,
      `const { time } = afterfunc
      const fs = require('node:fs')
      // The native engine's threads (none for the TypeScript engine).
      const wheels = () => fs.readdirSync('/proc/self/task').filter((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'afterfunc-wheel').length
      const fired = []
      let weak
      ;(() => {
        const set = time.newTimerSet((key) => fired.push(key))
        set.reset(1, 50)
        weak = new WeakRef(set)
      })()
      setTimeout(() => {
        gc()
        console.log(JSON.stringify({ fired, alive: weak.deref() !== undefined, wheels: wheels() }))
        setTimeout(() => {
          gc()
          setTimeout(() => {
            gc()
            setTimeout(() => console.log(JSON.stringify({ fired, alive: weak.deref() !== undefined, wheels: wheels() })), 20)
          }, 20)
        }, 100)
      }, 20)`,
    )
    expect(r.stderr).toBe('')
    const [before, after] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(before).toEqual({ fired: [], alive: true, wheels: kind === 'native' ? 1 : 0 })
    expect(after).toEqual({ fired: [1], alive: false, wheels: 0 })
  })

  test('a callback that throws is an uncaughtException; the other keys due with it still run', async () => {
    const r = await runChild(
      kind,
      `const fired = []
      process.on('uncaughtException', (err) => fired.push(err.message))
      const set = afterfunc.time.newTimerSet((key) => {
        fired.push(key)
        if (key === 2) throw new Error('boom')
      })
      for (let key = 0; key < 5; key++) set.reset(key, 5)
      process.on('exit', () => console.log(JSON.stringify(fired)))`,
    )
    expect(JSON.parse(r.stdout.trim())).toEqual([0, 1, 2, 'boom', 3, 4])
  })

  describe('under the virtual clock', () => {
    test('keys follow the clock, those pending before it included, in deadline order', async () => {
      const { time, testing } = runtime(kind)
      const fired: string[] = []
      const set = time.newTimerSet((key) => fired.push(`${key}@${clock.now() - start}`))
      set.reset(1, 1000)
      using clock = testing.virtualClock()
      const start = clock.now()
      set.reset(2, 500)
      set.reset(3, 500)
      expect(clock.pending()).toBe(3)
      await clock.advance(499)
      expect(fired).toEqual([])
      await clock.advance(1)
      expect(fired).toEqual(['2@500', '3@500'])
      await clock.advance(500)
      expect(fired).toHaveLength(3)
      expect(fired[2]!.startsWith('1@')).toBe(true)
      expect(clock.pending()).toBe(0)
    })

    test('a set made under the clock runs on it, and goes back to real time at dispose with the time it had left', async () => {
      const { time, testing } = runtime(kind)
      const fired: number[] = []
      const clock = testing.virtualClock()
      const set = time.newTimerSet((key) => fired.push(key))
      set.reset(9, 60)
      await clock.advance(40)
      expect(fired).toEqual([])
      clock[Symbol.dispose]()
      const disposedAt = performance.now()
      await until(() => fired.length === 1)
      expect(performance.now() - disposedAt).toBeGreaterThanOrEqual(20 - TICK_MS)
      expect(fired).toEqual([9])
    })

    test('clear() discards the keys armed under the clock and keeps those pending before it', async () => {
      const { time, testing } = runtime(kind)
      const fired: number[] = []
      const set = time.newTimerSet((key) => fired.push(key))
      set.reset(1, 100)
      set.reset(2, 100)
      using clock = testing.virtualClock()
      set.reset(2, 50) // re-armed under the clock: discarded
      set.reset(3, 50)
      expect(clock.clear()).toBe(2)
      expect([set.has(1), set.has(2), set.has(3), clock.pending()]).toEqual([true, false, false, 1])
      await clock.advance(200)
      expect(fired).toEqual([1])
    })
  })
})
