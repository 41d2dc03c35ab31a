// The behaviour of time.afterFunc / Timer.stop / Timer.reset, run against both engines.

import { describe, expect, test } from 'vitest'
import { Shared } from '../src/constants.ts'
import { POLL_LIMIT } from '../src/engine/js.ts'
import { toDelay } from '../src/arguments.ts'
import { engines, gc, runtime, sleep, spin, until, ceilTick, TICK_MS } from './helpers.ts'

describe.each(engines)('time on the %s engine', (kind) => {
  describe('f runs once per arming, asynchronously', () => {
    test('never inside afterFunc, and exactly once', async () => {
      const { time } = runtime(kind)
      let runs = 0
      time.afterFunc(0, () => runs++)
      expect(runs).toBe(0)
      await until(() => runs === 1)
      await sleep(30)
      expect(runs).toBe(1)
    })

    test('never inside stop, reset, afterFunc, ref or unref, even when overdue', async () => {
      const { time } = runtime(kind)
      let inside = false
      let ranInside = 0
      let runs = 0
      const f = () => {
        runs++
        if (inside) ranInside++
      }
      const timers = Array.from({ length: 50 }, () => time.afterFunc(0, f))
      // Let the engine expire them while this thread is busy; delivery must wait.
      spin(20)
      inside = true
      for (let i = 0; i < 50; i += 5) {
        timers[i]!.stop()
        timers[i + 1]!.reset(0)
        timers[i + 2]!.unref()
        timers[i + 3]!.ref()
        time.afterFunc(0, f)
      }
      inside = false
      expect(runs).toBe(0)
      await until(() => runs === 50)
      expect(ranInside).toBe(0)
    })

    test('a reset after the run arms exactly one more run', async () => {
      const { time } = runtime(kind)
      let runs = 0
      const t = time.afterFunc(1, () => runs++)
      await until(() => runs === 1)
      expect(t.reset(1)).toBe(false)
      await until(() => runs === 2)
      await sleep(20)
      expect(runs).toBe(2)
    })
  })

  describe('never early', () => {
    test('performance.now() before the call plus d is at most performance.now() inside f', async () => {
      const { time } = runtime(kind)
      const durations = [0, 0.001, 0.3, 0.999, 1, 1.0001, 1.5, 2, 3.7, 5, 9.99, 10, 16.5, 25]
      const late: string[] = []
      let done = 0
      for (const d of durations) {
        for (let rep = 0; rep < 20; rep++) {
          const before = performance.now()
          time.afterFunc(d, () => {
            const now = performance.now()
            if (before + d > now) late.push(`d=${d}: ran at +${now - before}`)
            done++
          })
          if (rep % 7 === 0) spin(0.3)
        }
      }
      await until(() => done === durations.length * 20, 10_000)
      expect(late).toEqual([])
    })

    test('also after reset, measured from the reset', async () => {
      const { time } = runtime(kind)
      const early: number[] = []
      let done = 0
      const t = time.afterFunc(1000, () => {})
      for (let i = 0; i < 40; i++) {
        const d = (i % 8) * 1.25
        const before = performance.now()
        const timer = time.afterFunc(500, () => {
          if (before + d > performance.now()) early.push(d)
          done++
        })
        timer.reset(d)
      }
      t.stop()
      await until(() => done === 40)
      expect(early).toEqual([])
    })
  })

  describe('zero, negative, fractional and huge durations', () => {
    test.each([0, -0, -1, -1e9, -Infinity])('d = %d fires as soon as possible, asynchronously', async (d) => {
      const { time } = runtime(kind)
      let ran = false
      const start = performance.now()
      time.afterFunc(d, () => (ran = true))
      expect(ran).toBe(false)
      await until(() => ran, 1000)
      expect(performance.now() - start).toBeLessThan(1000)
    })

    test('fractions of a millisecond count', async () => {
      const { time } = runtime(kind)
      const start = performance.now()
      let at = 0
      time.afterFunc(2.5, () => (at = performance.now()))
      await until(() => at > 0)
      expect(at - start).toBeGreaterThanOrEqual(2.5)
    })

    test.each([2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 1e12, Shared.MAX_DURATION_MS, 1e300, Infinity, Number.MAX_VALUE])(
      'd = %d is not clamped to 1 ms: it does not fire',
      async (d) => {
        const { time } = runtime(kind)
        let ran = false
        const t = time.afterFunc(d, () => (ran = true))
        await sleep(40)
        expect(ran).toBe(false)
        expect(t.stop()).toBe(true)
      },
    )

    test('durations saturate at Go\'s maximum, 2^63-1 ns', () => {
      expect(Shared.MAX_DURATION_MS).toBe((2 ** 63 - 1) / 1e6)
      expect(toDelay(Infinity, 'x')).toBe(Shared.MAX_DURATION_MS)
      expect(toDelay(1e300, 'x')).toBe(Shared.MAX_DURATION_MS)
      expect(toDelay(Shared.MAX_DURATION_MS, 'x')).toBe(Shared.MAX_DURATION_MS)
      expect(toDelay(2 ** 31, 'x')).toBe(2 ** 31)
      expect(toDelay(-5, 'x')).toBe(0)
      expect(Object.is(toDelay(-0, 'x'), 0)).toBe(true)
    })

    test('a saturated timer sits at now + 2^63-1 ns in the wheel', async () => {
      const rt = runtime(kind)
      const before = performance.now()
      rt.time.afterFunc(Infinity, () => {})
      const after = performance.now()
      await sleep(20)
      const deadline = rt.scheduler.deadlineOf(0)
      expect(deadline).toBeGreaterThanOrEqual(ceilTick(before + Shared.MAX_DURATION_MS) - TICK_MS)
      expect(deadline).toBeLessThanOrEqual(ceilTick(after + 20 + Shared.MAX_DURATION_MS) + TICK_MS)
    })
  })

  describe('bad input is a TypeError at the call and changes nothing', () => {
    const notFunctions = [undefined, null, 1, 'f', {}, [], Symbol('f'), 1n]
    const notDurations = ['5', undefined, null, 5n, {}, [], true, Symbol('d'), () => 1, NaN]

    test.each(notFunctions.map((f) => [f]))('afterFunc(1, %s) throws TypeError', (f) => {
      const rt = runtime(kind)
      expect(() => rt.time.afterFunc(1, f as never)).toThrow(TypeError)
      expect(() => rt.time.afterFunc(1, f as never)).toThrow(/callback must be a function/)
      expect(rt.scheduler.active).toBe(0)
    })

    test.each(notDurations.map((d) => [d]))('afterFunc(%s, f) throws TypeError', (d) => {
      const rt = runtime(kind)
      expect(() => rt.time.afterFunc(d as never, () => {})).toThrow(TypeError)
      expect(() => rt.time.afterFunc(d as never, () => {})).toThrow(/duration must be a number/)
      expect(rt.scheduler.active).toBe(0)
    })

    test.each(notDurations.map((d) => [d]))('reset(%s) throws TypeError and leaves the timer as it was', async (d) => {
      const rt = runtime(kind)
      let at = 0
      const start = performance.now()
      const t = rt.time.afterFunc(15, () => (at = performance.now()))
      expect(() => t.reset(d as never)).toThrow(TypeError)
      expect(rt.scheduler.active).toBe(1)
      await until(() => at > 0)
      expect(at - start).toBeGreaterThanOrEqual(15)
      expect(t.stop()).toBe(false)
    })

    test('messages name the call and the value', () => {
      const { time } = runtime(kind)
      expect(() => time.afterFunc('5' as never, () => {})).toThrow('time.afterFunc: the duration must be a number of milliseconds, got a string ("5")')
      expect(() => time.afterFunc(NaN, () => {})).toThrow('time.afterFunc: the duration must be a number of milliseconds, got NaN')
      expect(() => time.afterFunc(1, null as never)).toThrow('time.afterFunc: the callback must be a function, got null')
      const t = time.afterFunc(1, () => {})
      expect(() => t.reset(undefined as never)).toThrow('Timer.reset: the duration must be a number of milliseconds, got undefined')
    })
  })

  describe('stop', () => {
    test('true iff this call prevented the run', async () => {
      const { time } = runtime(kind)
      let runs = 0
      const t = time.afterFunc(5, () => runs++)
      expect(t.stop()).toBe(true)
      expect(t.stop()).toBe(false)
      await sleep(30)
      expect(runs).toBe(0)
    })

    test('false once the timer has run', async () => {
      const { time } = runtime(kind)
      let runs = 0
      const t = time.afterFunc(1, () => runs++)
      await until(() => runs === 1)
      expect(t.stop()).toBe(false)
    })

    test('stopping an overdue, not yet delivered timer still prevents the run', async () => {
      const { time } = runtime(kind)
      let runs = 0
      let witnessRan = false
      const witness = time.afterFunc(1, () => (witnessRan = true))
      const timers = Array.from({ length: 100 }, () => time.afterFunc(1, () => runs++))
      // Published (a microtask), but no turn of the event loop, so nothing can be delivered
      // before the stops below, however loaded the machine.
      await Promise.resolve()
      spin(25) // the engine expires them now; delivery waits for this thread
      for (const t of timers) expect(t.stop()).toBe(true)
      // The batch they were due in has been delivered (however long a loaded machine takes).
      await until(() => witnessRan)
      await sleep(5)
      expect(runs).toBe(0)
      expect(witness.stop()).toBe(false)
    })

    test('inside its own callback stop returns false', async () => {
      const { time } = runtime(kind)
      let result: boolean | undefined
      const t = time.afterFunc(1, () => (result = t.stop()))
      await until(() => result !== undefined)
      expect(result).toBe(false)
    })

    test('a callback stopping a timer due in the same batch prevents it', async () => {
      const { time } = runtime(kind)
      const ran: string[] = []
      let b: ReturnType<typeof time.afterFunc> | undefined
      time.afterFunc(2, () => {
        ran.push('a')
        ran.push(`stop=${b!.stop()}`)
      })
      b = time.afterFunc(2, () => ran.push('b'))
      await sleep(0)
      spin(10)
      await until(() => ran.length >= 2)
      await sleep(20)
      expect(ran).toEqual(['a', 'stop=true'])
    })

    test('a callback stopping a timer due in the same batch and arming one in its slot: neither runs from it', async () => {
      // The new timer takes the stopped one's slot (the free list is last in, first out), so
      // only the generation tells the stopped timer's expiry, still in the batch, from it.
      const { time } = runtime(kind)
      const ran: string[] = []
      let b: ReturnType<typeof time.afterFunc> | undefined
      let c: ReturnType<typeof time.afterFunc> | undefined
      time.afterFunc(2, () => {
        ran.push('a')
        ran.push(`stop=${b!.stop()}`)
        c = time.afterFunc(60_000, () => ran.push('c'))
      })
      b = time.afterFunc(2, () => ran.push('b'))
      await sleep(0)
      spin(10)
      await until(() => ran.length >= 2)
      await sleep(20)
      expect(ran).toEqual(['a', 'stop=true'])
      expect(c!.stop()).toBe(true)
    })
  })

  describe('reset', () => {
    test('returns whether the timer was active and always re-arms', async () => {
      const { time } = runtime(kind)
      let runs = 0
      const t = time.afterFunc(1000, () => runs++)
      expect(t.reset(1)).toBe(true)
      await until(() => runs === 1)
      expect(t.reset(1)).toBe(false) // fired
      await until(() => runs === 2)
      t.reset(1000)
      expect(t.stop()).toBe(true)
      expect(t.reset(1)).toBe(false) // stopped
      await until(() => runs === 3)
    })

    test('the last reset wins', async () => {
      const { time } = runtime(kind)
      const at: number[] = []
      const start = performance.now()
      const t = time.afterFunc(5, () => at.push(performance.now() - start))
      t.reset(60)
      t.reset(3)
      t.reset(25)
      await until(() => at.length === 1)
      await sleep(70)
      expect(at.length).toBe(1)
      expect(at[0]).toBeGreaterThanOrEqual(25)
    })

    test('a callback resetting a timer due in the same batch moves it: one run, at the new deadline', async () => {
      const { time } = runtime(kind)
      const ran: string[] = []
      let b: ReturnType<typeof time.afterFunc> | undefined
      let resetAt = 0
      let bAt = 0
      time.afterFunc(2, () => {
        ran.push('a')
        resetAt = performance.now()
        ran.push(`reset=${b!.reset(30)}`)
      })
      b = time.afterFunc(2, () => {
        bAt = performance.now()
        ran.push('b')
      })
      await sleep(0)
      spin(10)
      await until(() => ran.length >= 2)
      await sleep(5)
      expect(ran).toEqual(['a', 'reset=true'])
      await until(() => ran.length === 3)
      await sleep(40)
      expect(ran).toEqual(['a', 'reset=true', 'b'])
      expect(bAt - resetAt).toBeGreaterThanOrEqual(30)
    })

    test('reset from inside f arms the next run', async () => {
      const { time } = runtime(kind)
      let runs = 0
      const t = time.afterFunc(1, () => {
        runs++
        if (runs < 3) expect(t.reset(1)).toBe(false)
      })
      await until(() => runs === 3)
      await sleep(20)
      expect(runs).toBe(3)
    })

    test('resetting an overdue, not yet delivered timer moves it: one run, at the new deadline', async () => {
      const { time } = runtime(kind)
      const at: number[] = []
      const t = time.afterFunc(1, () => at.push(performance.now()))
      await Promise.resolve() // published, and no turn of the event loop: not delivered yet
      spin(10)
      const resetAt = performance.now()
      expect(t.reset(20)).toBe(true)
      await until(() => at.length === 1)
      await sleep(30)
      expect(at.length).toBe(1)
      expect(at[0]! - resetAt).toBeGreaterThanOrEqual(20)
    })
  })

  describe('order', () => {
    test('earlier deadlines first, arming order for the same deadline', async () => {
      const { time } = runtime(kind)
      const ran: string[] = []
      time.afterFunc(20, () => ran.push('a20'))
      time.afterFunc(10, () => ran.push('b10'))
      time.afterFunc(10, () => ran.push('c10'))
      time.afterFunc(0, () => ran.push('d0'))
      time.afterFunc(30, () => ran.push('e30'))
      time.afterFunc(10, () => ran.push('f10'))
      time.afterFunc(-5, () => ran.push('g0'))
      await until(() => ran.length === 7)
      expect(ran).toEqual(['d0', 'g0', 'b10', 'c10', 'f10', 'a20', 'e30'])
    })

    test('a reset timer goes behind those already armed for its new deadline', async () => {
      const { time } = runtime(kind)
      const ran: string[] = []
      const a = time.afterFunc(10, () => ran.push('a'))
      time.afterFunc(10, () => ran.push('b'))
      a.reset(10)
      time.afterFunc(10, () => ran.push('c'))
      await until(() => ran.length === 3)
      expect(ran).toEqual(['b', 'a', 'c'])
    })

    test('1000 timers over 40 deadlines run sorted by deadline, then arming order', async () => {
      const { time } = runtime(kind)
      const ran: number[] = []
      const expected: { d: number; i: number }[] = []
      let seed = 12345
      for (let i = 0; i < 1000; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        const d = seed % 40
        expected.push({ d, i })
        time.afterFunc(d, () => ran.push(i))
      }
      expected.sort((x, y) => x.d - y.d || x.i - y.i)
      await until(() => ran.length === 1000)
      expect(ran).toEqual(expected.map((e) => e.i))
    })

    test(`more timers due at once than one poll expires (${(3 * POLL_LIMIT + 5).toLocaleString('en')}): each runs once, in order, over several turns`, async () => {
      const { time } = runtime(kind)
      const n = 3 * POLL_LIMIT + 5
      const ran = new Int32Array(n).fill(-1)
      let count = 0
      let countAtFirstImmediate = -1
      // Delays 1, 2 and 3 ms by thirds of the arming order, so deadlines never decrease with
      // the arming order (arming takes a while) and the order to expect is the arming order.
      // All are past due when the engine first looks.
      for (let i = 0; i < n; i++) {
        time.afterFunc(1 + Math.floor((3 * i) / n), () => {
          if (count === 0) setImmediate(() => (countAtFirstImmediate = count))
          if (count < n) ran[count] = i
          count++
        })
      }
      spin(10)
      await until(() => count >= n, 20_000)
      await sleep(5)
      expect(count).toBe(n) // none twice
      const firstOutOfOrder = ran.findIndex((i, k) => i !== k)
      expect(firstOutOfOrder, `run #${firstOutOfOrder} was timer ${ran[firstOutOfOrder]}`).toBe(-1)
      // The TypeScript engine polls at most POLL_LIMIT timers per turn, so other callbacks run
      // before the storm is over. (The native engine polls on its own thread; its delivery is
      // sliced by time, which this test does not pin down.)
      if (kind === 'js') expect(countAtFirstImmediate).toBeLessThan(n)
      expect(countAtFirstImmediate).toBeGreaterThan(0)
    })

    test('timers armed across turns keep deadline order', async () => {
      const { time } = runtime(kind)
      const ran: string[] = []
      time.afterFunc(30, () => ran.push('first-30'))
      await sleep(12)
      time.afterFunc(5, () => ran.push('second-5'))
      time.afterFunc(40, () => ran.push('second-40'))
      await until(() => ran.length === 3)
      expect(ran).toEqual(['second-5', 'first-30', 'second-40'])
    })
  })

  describe('the engine holds pending timers and releases them', () => {
    test('an unreachable Timer still fires', async () => {
      const { time } = runtime(kind)
      let runs = 0
      for (let i = 0; i < 100; i++) time.afterFunc(15, () => runs++)
      gc()
      await until(() => runs === 100)
    })

    test('a fired or stopped timer\'s closure is released', async () => {
      const { time } = runtime(kind)
      let fired = false
      const refs: WeakRef<object>[] = []
      ;(() => {
        const big1 = { payload: new Array(1000).fill(1) }
        const big2 = { payload: new Array(1000).fill(2) }
        refs.push(new WeakRef(big1), new WeakRef(big2))
        time.afterFunc(1, () => {
          fired = big1.payload.length > 0
        })
        time.afterFunc(10_000, () => void big2.payload).stop()
      })()
      await until(() => fired)
      await sleep(10)
      gc()
      await sleep(0)
      gc()
      expect(refs[0]!.deref()).toBeUndefined()
      expect(refs[1]!.deref()).toBeUndefined()
    })

    test('one synchronous run writing three ringfuls of commands loses none', async () => {
      const rt = runtime(kind)
      const n = 3 * Shared.RING_CAPACITY + 17
      const timers = Array.from({ length: n }, (_, i) => rt.time.afterFunc(60_000 + i, () => {}))
      let ran = 0
      for (let i = 0; i < 10; i++) rt.time.afterFunc(i, () => ran++)
      for (let i = 0; i < n; i += 3) timers[i]!.stop()
      await until(() => ran === 10)
      // The stops at the end of the run may sit in a batch of cancellations only, which does not
      // wake the native wheel thread (see below); if the short timers woke it before that batch
      // was published, it next wakes for this one.
      let woke = false
      rt.time.afterFunc(0, () => (woke = true))
      await until(() => woke)
      await until(() => rt.scheduler.engineStats().armed === n - Math.ceil(n / 3))
      expect(rt.scheduler.engineStats().protocolErrors).toBe(0)
      // Cancellations alone do not wake the native wheel thread; they are applied when it
      // next wakes, here for a short timer.
      for (const t of timers) t.stop()
      let fired = false
      rt.time.afterFunc(1, () => (fired = true))
      await until(() => fired && rt.scheduler.engineStats().armed === 0)
    })

    test('a timer armed and stopped in the same turn costs the native wheel thread no wake-up', async () => {
      const rt = runtime(kind)
      rt.time.afterFunc(60_000, () => {}).unref() // the wheel thread now sleeps for about a minute
      await sleep(50)
      const before = rt.scheduler.engineStats().rounds
      for (let i = 0; i < 2000; i++) {
        rt.time.afterFunc(30_000, () => {}).stop()
        await new Promise((resolve) => setImmediate(resolve))
      }
      const rounds = rt.scheduler.engineStats().rounds - before
      // Before the batch was rescanned, every turn woke it (2000 rounds).
      if (kind === 'native') expect(rounds).toBeLessThan(50)
      else expect(rounds).toBe(0)
    })

    test('stopping in the turn that armed or reset a timer leaves the engine holding nothing of it', async () => {
      const rt = runtime(kind)
      const ran: string[] = []
      const timer = (name: string, d: number) => rt.time.afterFunc(d, () => ran.push(name))
      // Armed and stopped in one turn, between two timers that run: their order is kept.
      const a = timer('a', 20)
      const b = timer('b', 20)
      const c = timer('c', 20)
      expect(b.stop()).toBe(true)
      expect(b.stop()).toBe(false)
      // The stopped timer's slot, reused in the same turn, then stopped and reused again.
      timer('x', 20).stop()
      const d = timer('d', 20)
      // Armed in an earlier turn, then reset (once, twice) and stopped in this one: the engine's
      // earlier arming must be cancelled, not left to expire.
      const e = timer('e', 60_000)
      const f = timer('f', 60_000)
      await new Promise((resolve) => setImmediate(resolve))
      expect(e.reset(5)).toBe(true)
      expect(e.stop()).toBe(true)
      expect(f.reset(5)).toBe(true)
      expect(f.reset(6)).toBe(true)
      expect(f.stop()).toBe(true)
      await until(() => ran.length === 3)
      expect(ran).toEqual(['a', 'c', 'd'])
      await until(() => rt.scheduler.engineStats().armed === 0)
      await sleep(30)
      expect(ran).toEqual(['a', 'c', 'd'])
      expect(rt.scheduler.engineStats().protocolErrors).toBe(0)
      expect([a, c, d].map((t) => t.stop())).toEqual([false, false, false])
    })

    test('slots are reused: arming and stopping a million times keeps the table small', () => {
      const rt = runtime(kind)
      for (let i = 0; i < 1_000_000; i++) rt.time.afterFunc(1000, () => {}).stop()
      expect(rt.scheduler.active).toBe(0)
      expect(rt.scheduler.slots).toBeLessThan(8)
    })
  })

  describe('ref, unref, hasRef', () => {
    test('hasRef is true by default and follows ref/unref, which return the timer', () => {
      const { time } = runtime(kind)
      const t = time.afterFunc(1000, () => {})
      expect(t.hasRef()).toBe(true)
      expect(t.unref()).toBe(t)
      expect(t.hasRef()).toBe(false)
      expect(t.unref()).toBe(t)
      expect(t.ref()).toBe(t)
      expect(t.hasRef()).toBe(true)
      t.unref()
      t.stop()
      expect(t.hasRef()).toBe(false)
      t.reset(1000)
      expect(t.hasRef()).toBe(false)
      t.stop()
    })

    test('the scheduler counts exactly the pending timers that keep the process alive', async () => {
      const rt = runtime(kind)
      const { time } = rt
      const a = time.afterFunc(1000, () => {})
      const b = time.afterFunc(1000, () => {}).unref()
      const c = time.afterFunc(1, () => {})
      expect(rt.scheduler.refs).toBe(2)
      b.ref()
      expect(rt.scheduler.refs).toBe(3)
      a.unref()
      a.unref()
      expect(rt.scheduler.refs).toBe(2)
      await until(() => c.stop() === false && rt.scheduler.refs === 1)
      b.stop()
      expect(rt.scheduler.refs).toBe(0)
      a.ref()
      expect(rt.scheduler.refs).toBe(1)
      a.stop()
      expect(rt.scheduler.refs).toBe(0)
    })
  })
})
