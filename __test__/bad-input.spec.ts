// Bad input across the whole API, on both engines: every entry point given wrong types, NaN,
// invalid Dates, non-functions, and foreign objects where a context (or signal, or options) is
// expected throws a clear TypeError or RangeError naming the call, and changes nothing: no
// timer armed or moved, no registration made, no context done, the clock where it was.
//
// And the other side of the rule: huge and infinite durations are not errors. Every entry
// point that takes a duration or a deadline saturates at Go's largest Duration, 2^63-1 ns
// (MAX_DURATION_MS): the engine holds the timer at now + MAX_DURATION_MS, and it does not fire.
//
// Five bugs this sweep found are fixed; four are kept here as tests (methods that trusted
// `this`, tickers with a period too small for floating point, Dates of another realm, a
// virtual clock advanced past the engines' range), the fifth in stress/faults.stress.ts (a
// closed native engine that kept the process alive).

import { cpSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import type { context as ContextApi } from '../index'
import { Shared } from '../src/constants.ts'
import { childCount } from '../src/context.ts'
import type { Runtime } from '../src/runtime.ts'
import { engines, entry, runtime, sleep, until, ceilTick, TICK_MS } from './helpers.ts'

type Context = ContextApi.Context
type Ctor = new (...args: never[]) => Error

/** Values that are not numbers (durations must be `typeof 'number'`; nothing is coerced). */
const notNumbers: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a numeric string', '5'],
  ['an empty string', ''],
  ['a bigint', 5n],
  ['a boolean', true],
  ['a symbol', Symbol('d')],
  ['an object', {}],
  ['an array of one number', [5]],
  ['a function', () => 5],
  ['a Number object', new Number(5)],
  ['an object with valueOf', { valueOf: () => 5 }],
  ['a Date', new Date()],
]
/** Bad durations: the above, and NaN however it is made. */
const notDurations: [string, unknown][] = [...notNumbers, ['NaN', NaN], ['NaN from arithmetic', 0 / 0]]
/** Not callable. Classes and bound functions are functions, and are accepted. */
const notFunctions: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 1],
  ['a string', 'f'],
  ['a symbol', Symbol('f')],
  ['a bigint', 1n],
  ['an object', {}],
  ['an array', []],
  ['an object with a call method', { call: () => {} }],
  ['a Promise', Promise.resolve()],
]
/** Huge durations, all at or beyond Go's largest: each saturates to exactly MAX_DURATION_MS. */
const huge: [string, number][] = [
  ['MAX_DURATION_MS', Shared.MAX_DURATION_MS],
  ['2 * MAX_DURATION_MS', 2 * Shared.MAX_DURATION_MS],
  ['2^53', 2 ** 53],
  ['1e300', 1e300],
  ['Number.MAX_VALUE', Number.MAX_VALUE],
  ['Infinity', Infinity],
]

/**
 * The context namespace of a second copy of the built package: its own module instances, so
 * its own context brand, as when two versions of afterfunc are installed side by side.
 */
function foreignContext(): typeof ContextApi {
  const dir = mkdtempSync(join(tmpdir(), 'afterfunc-foreign-'))
  cpSync(dirname(entry), join(dir, 'dist'), { recursive: true })
  const copy = createRequire(join(dir, 'dist', 'context.js'))(join(dir, 'dist', 'context.js')) as typeof import('../src/context.ts')
  // No scheduler: nothing made here arms a timer.
  return copy.createContext(undefined as never, { now: () => performance.now(), wallNow: Date.now, wallOffset: () => performance.timeOrigin })
}

/** Things that are not contexts of this library, however they look. */
function notContexts(rt: Runtime): [string, unknown][] {
  const [real] = rt.context.withCancel(rt.context.background())
  const foreign = foreignContext()
  return [
    ['undefined', undefined],
    ['null', null],
    ['a number', 0],
    ['a string', 'context.Background'],
    ['a symbol', Symbol('ctx')],
    ['a function', () => {}],
    ['an empty object', {}],
    [
      'a look-alike with every method',
      { deadline: () => undefined, done: () => new Promise(() => {}), err: () => undefined, value: () => undefined, signal: new AbortController().signal },
    ],
    ['an object with a context prototype', Object.create(Object.getPrototypeOf(real))],
    ['an object inheriting from a real context', Object.create(real)],
    ['a Proxy of a real context', new Proxy(real, {})],
    ['a structured clone of a real context', structuredClone(real)],
    ['a context of another copy of the package', foreign.background()],
    ['a cancelable context of another copy of the package', foreign.withCancel(foreign.background())[0]],
    ['a Timer', rt.time.afterFunc(60_000, () => {})],
    ['an AbortSignal', new AbortController().signal],
    ['an AbortController', new AbortController()],
    ['a Promise', Promise.resolve()],
  ]
}

/** What a call must not change. Read after the engine has applied every published command. */
async function snapshot(rt: Runtime) {
  await sleep(2)
  // The native wheel thread applies published commands on its own time, later on a loaded
  // machine: wait until the engine holds what the scheduler has pending (every timer in these
  // tests is far in the future, so none is on its way back).
  await until(() => rt.scheduler.engineStats().armed === rt.scheduler.active, 2000).catch(() => {})
  return { active: rt.scheduler.active, refs: rt.scheduler.refs, armed: rt.scheduler.engineStats().armed }
}

/** Runs `fn`, which must throw `type` with a message matching `message`. */
function expectThrow(fn: () => unknown, type: Ctor, message: RegExp, label: string): void {
  let threw = false
  try {
    fn()
  } catch (err) {
    threw = true
    expect(err, label).toBeInstanceOf(type)
    // A RangeError is not a TypeError and vice versa: the class says which rule was broken.
    expect((err as Error).constructor, label).toBe(type)
    expect((err as Error).message, label).toMatch(message)
  }
  expect(threw, `${label} did not throw`).toBe(true)
}

/** Runs `fn`, which must return a promise that rejects with `type`. */
async function expectReject(fn: () => Promise<unknown>, type: Ctor, message: RegExp, label: string): Promise<void> {
  let err: unknown
  try {
    await fn()
  } catch (e) {
    err = e
  }
  expect(err, `${label} did not reject`).toBeInstanceOf(type)
  expect((err as Error).constructor, label).toBe(type)
  expect((err as Error).message, label).toMatch(message)
}

/** `where: the duration must be a number of milliseconds, got …` */
const durationMessage = (where: string) => new RegExp(`^${where.replace('.', '\\.')}: the duration must be a number of milliseconds, got `)

/**
 * Checks that the engine holds slot `index` at the saturated deadline of a call made between
 * `before` and `after` (performance.now()). The native wheel thread is not woken for a
 * deadline later than the one it sleeps until (by design: such commands wait in the ring), so
 * a 0 ms timer wakes it first to apply every command.
 */
async function expectSaturated(rt: Runtime, index: number, before: number, after: number, label: string): Promise<void> {
  const low = ceilTick(before + Shared.MAX_DURATION_MS) - TICK_MS
  // (Awaited, so its slot is free again before the test arms anything else.)
  await new Promise<void>((resolve) => rt.time.afterFunc(0, resolve))
  await until(() => (rt.scheduler.deadlineOf(index) ?? 0) >= low, 3000).catch(() => {})
  const tick = rt.scheduler.deadlineOf(index)
  expect(tick, label).toBeGreaterThanOrEqual(low)
  // The batch's clock reading is taken at most a few ms after the call (a microtask later).
  expect(tick, label).toBeLessThanOrEqual(ceilTick(after + 50 + Shared.MAX_DURATION_MS) + TICK_MS)
}

describe.each(engines)('bad input on the %s engine', (kind) => {
  describe('time.afterFunc', () => {
    test('a bad duration is a TypeError naming the call; nothing is armed', async () => {
      const rt = runtime(kind)
      const before = await snapshot(rt)
      for (const [name, d] of notDurations) {
        expectThrow(() => rt.time.afterFunc(d as never, () => {}), TypeError, durationMessage('time.afterFunc'), `afterFunc(${name}, f)`)
      }
      expect(await snapshot(rt)).toEqual(before)
    })

    test('a bad callback is a TypeError naming the call; nothing is armed', async () => {
      const rt = runtime(kind)
      const before = await snapshot(rt)
      for (const [name, f] of notFunctions) {
        expectThrow(() => rt.time.afterFunc(1, f as never), TypeError, /^time\.afterFunc: the callback must be a function, got /, `afterFunc(1, ${name})`)
      }
      // Both bad: the duration is checked first.
      expectThrow(() => rt.time.afterFunc(NaN, null as never), TypeError, durationMessage('time.afterFunc'), 'afterFunc(NaN, null)')
      expect(await snapshot(rt)).toEqual(before)
    })

    test('classes, bound functions and async functions are functions, and are accepted', async () => {
      const rt = runtime(kind)
      for (const f of [class {}, function () {}.bind(null), async () => {}]) expect(rt.time.afterFunc(60_000, f as never).stop()).toBe(true)
    })
  })

  describe('Timer.reset', () => {
    test('a bad duration is a TypeError; the timer keeps its deadline and fires once, on time', async () => {
      const rt = runtime(kind)
      let runs = 0
      const start = performance.now()
      const t = rt.time.afterFunc(40, () => runs++)
      await until(() => rt.scheduler.deadlineOf(0) !== undefined)
      const tick = rt.scheduler.deadlineOf(0)
      const before = await snapshot(rt)
      for (const [name, d] of notDurations) {
        expectThrow(() => t.reset(d as never), TypeError, durationMessage('Timer.reset'), `reset(${name})`)
      }
      expect(await snapshot(rt)).toEqual(before)
      expect(rt.scheduler.deadlineOf(0)).toBe(tick)
      await until(() => runs === 1)
      expect(performance.now() - start).toBeGreaterThanOrEqual(40)
      await sleep(20)
      expect(runs).toBe(1)
    })

    test('on a stopped timer, a bad duration leaves it stopped', async () => {
      const rt = runtime(kind)
      let runs = 0
      const t = rt.time.afterFunc(5, () => runs++)
      expect(t.stop()).toBe(true)
      for (const [name, d] of notDurations) expectThrow(() => t.reset(d as never), TypeError, durationMessage('Timer.reset'), `reset(${name})`)
      await sleep(30)
      expect(runs).toBe(0)
      expect(rt.scheduler.active).toBe(0)
      expect(t.stop()).toBe(false)
    })

    // The methods check their receiver: left unchecked, Timer.prototype.reset called on a
    // foreign object would arm it, keep the process alive, and have the scheduler call its
    // `_run` from the delivery loop later.
    const foreignReceivers = (rt: Runtime, other: Runtime): [string, unknown][] => [
      ['a plain object', {}],
      ['an object shaped like a timer', { _slotRef: 0, _run: () => {} }],
      ['undefined', undefined],
      ['a Timer of another runtime', other.time.afterFunc(60_000, () => {})],
      ['a Ticker of another runtime', other.time.newTicker(60_000, () => {})],
      ['a Ticker where a Timer is expected, or the reverse', rt.time.newTicker(60_000, () => {})],
    ]

    for (const [cls, make] of [
      ['Timer', (rt: Runtime) => rt.time.afterFunc(60_000, () => {})],
      ['Ticker', (rt: Runtime) => rt.time.newTicker(60_000, () => {})],
    ] as const) {
      test(`every ${cls} method called on a foreign receiver is a TypeError and changes nothing`, async () => {
        const rt = runtime(kind)
        const other = runtime(kind)
        const own = make(rt)
        const proto = Object.getPrototypeOf(own) as Record<string | symbol, (...args: unknown[]) => unknown>
        const receivers = foreignReceivers(rt, other).filter(([, r]) => !(r instanceof (own.constructor as never)))
        const before = await snapshot(rt)
        const otherBefore = await snapshot(other)
        for (const key of ['stop', 'reset', 'ref', 'unref', 'hasRef', Symbol.dispose] as const) {
          const name = typeof key === 'symbol' ? '[Symbol.dispose]' : key
          const where = `${cls}${typeof key === 'symbol' ? '' : '.'}${name}`
          for (const [what, r] of receivers) {
            expectThrow(
              () => proto[key]!.call(r, 5),
              TypeError,
              new RegExp(`^${where.replace(/[.[\]]/g, '\\$&')}: called on .*, which is not a ${cls} made by this afterfunc$`),
              `${where} on ${what}`,
            )
          }
        }
        expect(await snapshot(rt)).toEqual(before)
        expect(await snapshot(other)).toEqual(otherBefore)
        // The receiver check does not get in the way of the real thing.
        expect(own.hasRef()).toBe(true)
        expect(own.unref()).toBe(own)
        rt.close()
        other.close()
      })
    }
  })

  describe('time.sleep and time.after', () => {
    test('a bad duration is a TypeError thrown at the call (not a rejection); nothing is armed', async () => {
      const rt = runtime(kind)
      const before = await snapshot(rt)
      for (const [name, d] of notDurations) {
        expectThrow(() => rt.time.sleep(d as never), TypeError, durationMessage('time.sleep'), `sleep(${name})`)
        expectThrow(() => rt.time.after(d as never), TypeError, durationMessage('time.after'), `after(${name})`)
      }
      expect(await snapshot(rt)).toEqual(before)
    })

    test('opts that are not an object, a ctx that is not a context, a signal that is not an AbortSignal: TypeError, nothing armed or listened to', async () => {
      const rt = runtime(kind)
      const [parent, cancel] = rt.context.withCancel(rt.context.background())
      const bad = notContexts(rt) // includes a pending Timer, made before the snapshot
      const before = await snapshot(rt)
      for (const [name, opts] of [['null', null], ['a number', 1], ['a string', 'ctx'], ['a boolean', true], ['a symbol', Symbol('o')], ['a function', () => {}]] as const) {
        expectThrow(() => rt.time.sleep(10, opts as never), TypeError, /^time\.sleep: opts must be an object or undefined, got /, `sleep(10, ${name})`)
      }
      for (const [name, ctx] of bad) {
        if (ctx === undefined) continue // { ctx: undefined } is no ctx
        expectThrow(() => rt.time.sleep(10, { ctx: ctx as Context }), TypeError, /^time\.sleep: opts\.ctx must be a context made by afterfunc's context namespace, got /, `sleep(10, { ctx: ${name} })`)
      }
      for (const [name, s] of [
        ['null', null],
        ['an object', {}],
        ['a look-alike', { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} }],
        ['an AbortController', new AbortController()],
        ['an EventTarget', new EventTarget()],
        ['an object made from AbortSignal.prototype', Object.create(AbortSignal.prototype)],
        ['a context', rt.context.background()],
      ] as const) {
        expectThrow(() => rt.time.sleep(10, { signal: s as never }), TypeError, /^time\.sleep: opts\.signal must be an AbortSignal, got /, `sleep(10, { signal: ${name} })`)
      }
      // A valid ctx with a bad signal: nothing is registered on the ctx either.
      expectThrow(() => rt.time.sleep(10, { ctx: parent, signal: {} as never }), TypeError, /opts\.signal/, 'sleep(10, { ctx, signal: {} })')
      expect(await snapshot(rt)).toEqual(before)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test('a Context is accepted in any runtime, and a signal from a Proxy of an AbortSignal works', async () => {
      const rt = runtime(kind)
      const other = runtime(kind)
      const [ctx, cancel] = other.context.withCancel(other.context.background())
      const p = rt.time.sleep(60_000, { ctx })
      cancel()
      await expect(p).rejects.toBe(other.context.Canceled)
      const ac = new AbortController()
      const q = rt.time.sleep(60_000, { signal: new Proxy(ac.signal, {}) })
      ac.abort('why')
      await expect(q).rejects.toBe('why')
      await sleep(5)
      expect(rt.scheduler.active).toBe(0)
    })
  })

  describe('time.newTicker and Ticker.reset', () => {
    test('a bad period is a TypeError, a period ≤ 0 a RangeError, a bad callback a TypeError; nothing is armed', async () => {
      const rt = runtime(kind)
      const before = await snapshot(rt)
      for (const [name, d] of notDurations) {
        expectThrow(() => rt.time.newTicker(d as never, () => {}), TypeError, durationMessage('time.newTicker'), `newTicker(${name}, f)`)
      }
      for (const d of [0, -0, -1, -1e-300, -Infinity]) {
        expectThrow(() => rt.time.newTicker(d, () => {}), RangeError, /^time\.newTicker: the period must be greater than zero, got /, `newTicker(${d}, f)`)
      }
      for (const [name, f] of notFunctions) {
        expectThrow(() => rt.time.newTicker(10, f as never), TypeError, /^time\.newTicker: the callback must be a function, got /, `newTicker(10, ${name})`)
      }
      expect(await snapshot(rt)).toEqual(before)
    })

    test('Ticker.reset with a bad period throws and leaves the ticker ticking at its old period; a stopped one stays stopped', async () => {
      const rt = runtime(kind)
      let ticks = 0
      const tk = rt.time.newTicker(60_000, () => ticks++)
      await until(() => rt.scheduler.deadlineOf(0) !== undefined)
      const tick = rt.scheduler.deadlineOf(0)
      const before = await snapshot(rt)
      for (const [name, d] of notDurations) expectThrow(() => tk.reset(d as never), TypeError, durationMessage('Ticker.reset'), `reset(${name})`)
      for (const d of [0, -0, -5, -Infinity]) {
        expectThrow(() => tk.reset(d), RangeError, /^Ticker\.reset: the period must be greater than zero, got /, `reset(${d})`)
      }
      expect(await snapshot(rt)).toEqual(before)
      expect(rt.scheduler.deadlineOf(0)).toBe(tick)
      tk.stop()
      for (const d of [NaN, 0]) expect(() => tk.reset(d)).toThrow()
      await sleep(5)
      expect(rt.scheduler.active).toBe(0)
      expect(ticks).toBe(0)
    })

    // A period so small that (now - start) / period overflows to Infinity must not put the
    // next grid point at Infinity (it once did: one tick, then a ref'd timer parked for good).
    // Like any period under the engine's tick, it ticks as often as the engine wakes.
    test('a ticker with period Number.MIN_VALUE keeps ticking', async () => {
      const rt = runtime(kind)
      let ticks = 0
      const tk = rt.time.newTicker(Number.MIN_VALUE, () => ticks++)
      await sleep(60)
      tk.stop()
      expect(ticks).toBeGreaterThan(3)
    })
  })

  describe('context', () => {
    const calls: [string, (c: typeof ContextApi, p: Context) => unknown, RegExp][] = [
      ['withCancel', (c, p) => c.withCancel(p), /^context\.withCancel: the parent must be a Context, got /],
      ['withCancelCause', (c, p) => c.withCancelCause(p), /^context\.withCancelCause: the parent must be a Context, got /],
      ['withDeadline', (c, p) => c.withDeadline(p, Date.now() + 60_000), /^context\.withDeadline: the parent must be a Context, got /],
      ['withDeadlineCause', (c, p) => c.withDeadlineCause(p, new Date(Date.now() + 60_000), 'x'), /^context\.withDeadlineCause: the parent must be a Context, got /],
      ['withTimeout', (c, p) => c.withTimeout(p, 60_000), /^context\.withTimeout: the parent must be a Context, got /],
      ['withTimeoutCause', (c, p) => c.withTimeoutCause(p, 60_000, 'x'), /^context\.withTimeoutCause: the parent must be a Context, got /],
      ['withoutCancel', (c, p) => c.withoutCancel(p), /^context\.withoutCancel: the parent must be a Context, got /],
      ['withValue', (c, p) => c.withValue(p, 'k', 'v'), /^context\.withValue: the parent must be a Context, got /],
      ['afterFunc', (c, p) => c.afterFunc(p, () => {}), /^context\.afterFunc: the context must be a Context, got /],
      ['cause', (c, p) => c.cause(p), /^context\.cause: the context must be a Context, got /],
    ]

    test('every function given a foreign object as its context throws a TypeError naming the call; nothing is armed or registered', async () => {
      const rt = runtime(kind)
      const bad = notContexts(rt) // includes a pending Timer, made before the snapshot
      const [real, cancel] = rt.context.withCancel(rt.context.background())
      const before = await snapshot(rt)
      for (const [call, fn, message] of calls) {
        for (const [name, ctx] of bad) expectThrow(() => fn(rt.context, ctx as Context), TypeError, message, `${call}(${name})`)
      }
      expect(await snapshot(rt)).toEqual(before)
      expect(childCount(real)).toBe(0)
      expect(real.err()).toBeUndefined()
      cancel()
    })

    test('withTimeout: a bad duration is a TypeError; the parent gets no child and no timer is armed', async () => {
      const rt = runtime(kind)
      const [parent, cancel] = rt.context.withCancel(rt.context.background())
      const before = await snapshot(rt)
      for (const [name, ms] of notDurations) {
        expectThrow(() => rt.context.withTimeout(parent, ms as never), TypeError, durationMessage('context.withTimeout'), `withTimeout(parent, ${name})`)
        expectThrow(() => rt.context.withTimeoutCause(parent, ms as never, 'c'), TypeError, durationMessage('context.withTimeoutCause'), `withTimeoutCause(parent, ${name})`)
      }
      // A bad parent and a bad duration: the parent is checked first.
      expectThrow(() => rt.context.withTimeout(null as never, NaN), TypeError, /the parent must be a Context/, 'withTimeout(null, NaN)')
      expect(await snapshot(rt)).toEqual(before)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    test('withDeadline: a deadline that is not a valid Date or epoch ms within ±8.64e15 is a TypeError; nothing changes', async () => {
      const rt = runtime(kind)
      const [parent, cancel] = rt.context.withCancel(rt.context.background())
      const bad: [string, unknown][] = [
        ...notNumbers.filter(([name]) => name !== 'a Date'),
        ['NaN', NaN],
        ['Infinity', Infinity],
        ['-Infinity', -Infinity],
        ['8.64e15 + 1', 8.64e15 + 1],
        ['-8.64e15 - 1', -8.64e15 - 1],
        ['Number.MAX_VALUE', Number.MAX_VALUE],
        ['an invalid Date', new Date(NaN)],
        ['an invalid Date from a string', new Date('not a date')],
        ['a Date-like object', { getTime: () => Date.now() + 1000 }],
      ]
      const before = await snapshot(rt)
      for (const [name, d] of bad) {
        expectThrow(() => rt.context.withDeadline(parent, d as never), TypeError, /^context\.withDeadline: the deadline must be /, `withDeadline(parent, ${name})`)
        expectThrow(() => rt.context.withDeadlineCause(parent, d as never, 'c'), TypeError, /^context\.withDeadlineCause: the deadline must be /, `withDeadlineCause(parent, ${name})`)
      }
      expect(await snapshot(rt)).toEqual(before)
      expect(childCount(parent)).toBe(0)
      cancel()
    })

    // A valid Date made in another realm (a vm context) is a Date (util.types.isDate), though
    // `instanceof Date` says no; and a Date whose getTime was overridden is read by its value.
    test('a valid Date from another realm is accepted as a deadline', () => {
      const rt = runtime(kind)
      const d = runInNewContext('new Date(Date.now() + 60000)') as Date
      const [ctx, cancel] = rt.context.withDeadline(rt.context.background(), d)
      expect(ctx.deadline()?.getTime()).toBe(d.getTime())
      cancel()
      const lying = new Date(Date.now() + 60_000)
      const value = lying.getTime()
      lying.getTime = () => 0
      const [ctx2, cancel2] = rt.context.withDeadline(rt.context.background(), lying)
      expect(ctx2.deadline()?.valueOf()).toBe(value)
      expect(ctx2.err()).toBeUndefined()
      cancel2()
      const invalid = runInNewContext('new Date(NaN)') as Date
      expectThrow(() => rt.context.withDeadline(rt.context.background(), invalid), TypeError, /^context\.withDeadline: the deadline must be a valid Date, got an invalid Date$/, 'foreign invalid Date')
    })

    test('context.afterFunc: a bad callback is a TypeError; nothing is registered, nothing runs on cancel', async () => {
      const rt = runtime(kind)
      const [ctx, cancel] = rt.context.withCancel(rt.context.background())
      for (const [name, f] of notFunctions) {
        expectThrow(() => rt.context.afterFunc(ctx, f as never), TypeError, /^context\.afterFunc: the callback must be a function, got /, `afterFunc(ctx, ${name})`)
      }
      // A bad context and a bad callback: the context is checked first.
      expectThrow(() => rt.context.afterFunc({} as never, null as never), TypeError, /the context must be a Context/, 'afterFunc({}, null)')
      expect(childCount(ctx)).toBe(0)
      cancel()
      await sleep(10)
      expect(rt.scheduler.active).toBe(0)
    })

    test('withValue: an undefined or null key is a TypeError; other keys (NaN, objects, symbols) are fine', () => {
      const rt = runtime(kind)
      const bg = rt.context.background()
      for (const key of [undefined, null]) {
        expectThrow(() => rt.context.withValue(bg, key, 1), TypeError, /^context\.withValue: the key must not be /, `withValue(bg, ${String(key)}, 1)`)
      }
      const sym = Symbol('k')
      expect(rt.context.withValue(bg, NaN, 1).value(NaN)).toBe(1)
      expect(rt.context.withValue(bg, sym, 2).value(sym)).toBe(2)
    })

    test('fromSignal: anything but an AbortSignal is a TypeError', () => {
      const rt = runtime(kind)
      for (const [name, s] of [
        ['undefined', undefined],
        ['null', null],
        ['an object', {}],
        ['a look-alike', { aborted: true, reason: 'x', addEventListener() {} }],
        ['an AbortController', new AbortController()],
        ['an EventTarget', new EventTarget()],
        ['an object made from AbortSignal.prototype', Object.create(AbortSignal.prototype)],
        ['a context', rt.context.background()],
      ] as const) {
        expectThrow(() => rt.context.fromSignal(s as never), TypeError, /^context\.fromSignal: the signal must be an AbortSignal, got /, `fromSignal(${name})`)
      }
    })

    test('cancel functions ignore their arguments, whatever they are', () => {
      const rt = runtime(kind)
      const [ctx, cancel] = rt.context.withCancel(rt.context.background())
      ;(cancel as (...args: unknown[]) => void)(NaN, {}, Symbol('x'))
      expect(ctx.err()).toBe(rt.context.Canceled)
      expect(rt.context.cause(ctx)).toBe(rt.context.Canceled)
    })
  })

  describe('testing.virtualClock().advance', () => {
    test('a bad ms rejects with a TypeError, a negative or infinite one with a RangeError; the clock does not move', async () => {
      const rt = runtime(kind)
      using clock = rt.testing.virtualClock()
      let ran = 0
      rt.time.afterFunc(10, () => ran++)
      const now = clock.now()
      for (const [name, ms] of notDurations) {
        await expectReject(() => clock.advance(ms as never), TypeError, /^VirtualClock\.advance: ms must be a number of milliseconds, got /, `advance(${name})`)
      }
      // index.d.ts makes an infinite advance a RangeError (it could never end), unlike the
      // durations of timers, which saturate.
      for (const ms of [-1, -1e-9, -Infinity, Infinity]) {
        await expectReject(() => clock.advance(ms), RangeError, /^VirtualClock\.advance: ms must be finite and not negative, got /, `advance(${ms})`)
      }
      expect(clock.now()).toBe(now)
      expect(clock.pending()).toBe(1)
      expect(ran).toBe(0)
      await clock.advance(-0)
      expect(clock.now()).toBe(now)
    })

    test('a saturated timer on the virtual clock fires exactly MAX_DURATION_MS (rounded up to the tick) after it was armed', async () => {
      const rt = runtime(kind)
      using clock = rt.testing.virtualClock()
      let at = 0
      const start = clock.now()
      rt.time.afterFunc(Infinity, () => (at = clock.now()))
      await clock.advance(Shared.MAX_DURATION_MS - 1)
      expect(at).toBe(0)
      await clock.advance(2)
      expect(at).toBe(ceilTick(start + Shared.MAX_DURATION_MS))
    })

    // The virtual clock stops short of the engines' last tick (MAX_TICK): deadlines are held
    // there at most, so a clock at or past it would run every new timer at once, early.
    test('advancing to the end of the engines\' range is a RangeError that moves nothing; a timer held at the end never fires early', async () => {
      const rt = runtime(kind)
      using clock = rt.testing.virtualClock()
      const start = clock.now()
      const END = Shared.MAX_TICK / Shared.TICKS_PER_MS
      await expectReject(() => clock.advance(2 * Shared.MAX_DURATION_MS), RangeError, /^VirtualClock\.advance: advancing .* would reach the end of the engines' range/, 'advance(2 * MAX)')
      await expectReject(() => clock.advance(END - start), RangeError, /^VirtualClock\.advance: /, 'advance to MAX_TICK')
      expect(clock.now()).toBe(start)
      // To the last millisecond before the end: allowed.
      await clock.advance(END - 1 - start)
      expect(clock.now()).toBe(END - 1)
      let ran = false
      rt.time.afterFunc(1000, () => (ran = true))
      // It cannot wait its whole second before the end, so it is held at the end, and the
      // clock never gets there: not early, and runAll leaves it pending.
      await clock.runAll()
      expect(ran).toBe(false)
      expect(clock.pending()).toBe(1)
      await expectReject(() => clock.advance(1), RangeError, /^VirtualClock\.advance: /, 'advance(1) at the end')
      expect(ran).toBe(false)
    })
  })
})

describe.each(engines)('huge and infinite durations saturate at 2^63-1 ns on the %s engine', (kind) => {
  test('time.afterFunc: the engine holds now + MAX_DURATION_MS, and the timer does not fire', async () => {
    for (const [name, d] of huge) {
      const rt = runtime(kind)
      let ran = false
      const before = performance.now()
      const t = rt.time.afterFunc(d, () => (ran = true))
      const after = performance.now()
      await expectSaturated(rt, 0, before, after, `afterFunc(${name})`)
      expect(ran, name).toBe(false)
      expect(t.stop(), name).toBe(true)
    }
  })

  test('just below the maximum nothing is clamped: 2^31 ms (Node clamps it to 1 ms) is held at now + 2^31', async () => {
    const rt = runtime(kind)
    const before = performance.now()
    rt.time.afterFunc(2 ** 31, () => {})
    await until(() => rt.scheduler.deadlineOf(0) !== undefined)
    expect(rt.scheduler.deadlineOf(0)).toBeGreaterThanOrEqual(ceilTick(before + 2 ** 31))
    expect(rt.scheduler.deadlineOf(0)).toBeLessThanOrEqual(ceilTick(performance.now() + 2 ** 31) + TICK_MS)
  })

  test('Timer.reset: a pending and a fired timer are both re-armed at the maximum', async () => {
    for (const [name, d] of huge) {
      const rt = runtime(kind)
      let runs = 0
      const t = rt.time.afterFunc(5, () => runs++)
      let before = performance.now()
      expect(t.reset(d), name).toBe(true)
      await expectSaturated(rt, 0, before, performance.now(), `pending.reset(${name})`)
      const fired = rt.time.afterFunc(0, () => runs++)
      await until(() => runs === 1)
      before = performance.now()
      expect(fired.reset(d), name).toBe(false)
      await expectSaturated(rt, 1, before, performance.now(), `fired.reset(${name})`)
      await sleep(10)
      expect(runs, name).toBe(1)
    }
  })

  test('time.sleep and time.after: pending at the maximum, not resolved', async () => {
    for (const [name, d] of huge) {
      for (const call of ['sleep', 'after'] as const) {
        const rt = runtime(kind)
        let settled = false
        const before = performance.now()
        const p = call === 'sleep' ? rt.time.sleep(d, {}) : rt.time.after(d)
        void p.then(() => (settled = true))
        await expectSaturated(rt, 0, before, performance.now(), `${call}(${name})`)
        expect(settled, `${call}(${name})`).toBe(false)
      }
    }
  })

  test('time.newTicker and Ticker.reset: the first tick at the maximum, no tick before', async () => {
    for (const [name, d] of huge) {
      const rt = runtime(kind)
      let ticks = 0
      let before = performance.now()
      const tk = rt.time.newTicker(d, () => ticks++)
      await expectSaturated(rt, 0, before, performance.now(), `newTicker(${name})`)
      const tk2 = rt.time.newTicker(5, () => ticks++)
      before = performance.now()
      tk2.reset(d)
      await expectSaturated(rt, 1, before, performance.now(), `Ticker.reset(${name})`)
      await sleep(10)
      expect(ticks, name).toBe(0)
      tk.stop()
      tk2.stop()
    }
  })

  test('context.withTimeout and withTimeoutCause: deadline() is Date.now() + the maximum; the timer is at the maximum; not done', async () => {
    for (const [name, d] of huge) {
      for (const call of ['withTimeout', 'withTimeoutCause'] as const) {
        const rt = runtime(kind)
        const wallBefore = Date.now()
        const before = performance.now()
        const [ctx, cancel] = call === 'withTimeout' ? rt.context.withTimeout(rt.context.background(), d) : rt.context.withTimeoutCause(rt.context.background(), d, 'c')
        const after = performance.now()
        const wallAfter = Date.now()
        const label = `${call}(bg, ${name})`
        await expectSaturated(rt, 0, before, after, label)
        const deadline = ctx.deadline()!.getTime()
        expect(deadline, label).toBeGreaterThanOrEqual(wallBefore + Shared.MAX_DURATION_MS - 1)
        expect(deadline, label).toBeLessThanOrEqual(wallAfter + Shared.MAX_DURATION_MS + 1)
        expect(ctx.err(), label).toBeUndefined()
        cancel()
        expect(rt.scheduler.active, label).toBe(0)
      }
    }
  })

  test('context.withDeadline and withDeadlineCause at the end of the Date range (8.64e15, as a number or a Date): deadline() as given, the timer at the maximum', async () => {
    for (const d of [8.64e15, new Date(8.64e15), 1e15]) {
      for (const call of ['withDeadline', 'withDeadlineCause'] as const) {
        const rt = runtime(kind)
        const before = performance.now()
        const [ctx, cancel] = call === 'withDeadline' ? rt.context.withDeadline(rt.context.background(), d) : rt.context.withDeadlineCause(rt.context.background(), d, 'c')
        const label = `${call}(bg, ${String(d)})`
        await expectSaturated(rt, 0, before, performance.now(), label)
        expect(ctx.deadline()!.getTime(), label).toBe(typeof d === 'number' ? d : d.getTime())
        expect(ctx.err(), label).toBeUndefined()
        cancel()
      }
    }
  })

  test('the negative side is not an error either: -Infinity and the start of the Date range give a context done at birth; timers fire at once', async () => {
    const rt = runtime(kind)
    const bg = rt.context.background()
    for (const [ctx] of [
      rt.context.withTimeout(bg, -Infinity),
      rt.context.withTimeoutCause(bg, -Number.MAX_VALUE, 'c'),
      rt.context.withDeadline(bg, -8.64e15),
      rt.context.withDeadlineCause(bg, new Date(-8.64e15), 'c'),
    ]) {
      expect(ctx.err()).toBe(rt.context.DeadlineExceeded)
    }
    expect(rt.scheduler.active).toBe(0)
    let runs = 0
    rt.time.afterFunc(-Infinity, () => runs++)
    rt.time.afterFunc(60_000, () => runs++).reset(-Number.MAX_VALUE)
    await rt.time.sleep(-Infinity)
    await rt.time.after(-1e300)
    await until(() => runs === 2)
  })
})
