// Testing timer code with the virtual clock (vitest): an hour of session expiry, a request
// deadline and a ticker run in milliseconds, with the same result every time.
//
//   npx vitest run examples/virtual-clock.test.mjs

import { expect, onTestFinished, test } from 'vitest'
import { context, testing, time } from 'afterfunc'

/** A virtual clock for the current test, returned to the real clock when the test ends. */
function virtualClock() {
  const clock = testing.virtualClock()
  onTestFinished(() => clock[Symbol.dispose]())
  return clock
}

/** Sessions that expire after `ttl` without use: one timer each, pushed back on every use. */
class Sessions {
  #ttl
  #timers = new Map()
  constructor(ttl) {
    this.#ttl = ttl
  }
  touch(id) {
    const timer = this.#timers.get(id)
    if (timer !== undefined) timer.reset(this.#ttl)
    else this.#timers.set(id, time.afterFunc(this.#ttl, () => this.#timers.delete(id)))
  }
  has(id) {
    return this.#timers.has(id)
  }
}

/** A call that gives up when ctx is done: here, a slow upstream that takes `ms`. */
async function slowCall(ctx, ms) {
  await time.sleep(ms, { ctx })
  return 'answer'
}

test('a session expires 30 minutes after its last use, not after its first', async () => {
  const clock = virtualClock()
  const sessions = new Sessions(30 * time.Minute)
  sessions.touch('alice')
  await clock.advance(20 * time.Minute)
  sessions.touch('alice') // used again: expires at 50 min
  await clock.advance(29 * time.Minute)
  expect(sessions.has('alice')).toBe(true)
  await clock.advance(time.Minute)
  expect(sessions.has('alice')).toBe(false)
})

test('a request deadline cuts a slow call at 2 s, not before', async () => {
  const clock = virtualClock()
  const [ctx, cancel] = context.withTimeout(context.background(), 2 * time.Second)
  const call = slowCall(ctx, 10 * time.Second)
  call.catch(() => {})
  await clock.advance(1999)
  expect(ctx.err()).toBeUndefined()
  await clock.advance(1)
  await expect(call).rejects.toBe(context.DeadlineExceeded)
  cancel()
})

test('a ticker ticks 60 times in an hour, on the minute', async () => {
  const clock = virtualClock()
  const start = clock.now()
  const [ctx, cancel] = context.withTimeout(context.background(), time.Hour + time.Second)
  const minutes = []
  const loop = (async () => {
    for await (const now of time.tick(time.Minute, { ctx })) minutes.push((now - start) / time.Minute)
  })()
  await clock.advance(2 * time.Hour)
  await loop
  expect(minutes).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
  cancel()
})
