/**
 * The `testing` namespace: a virtual clock for tests. The contract is in `index.d.ts`.
 *
 * HOW: `virtualClock()` publishes what the scheduler holds, reads the time, and asks the
 * scheduler to move every pending timer to a {@link VirtualEngine} whose clock is a number
 * this module owns (`EngineSource.swap`); the clock starts at that time rounded up to a
 * tick, so every moved timer keeps its deadline tick. It points the runtime's wall clock (for
 * `Date` deadlines) at the same virtual time. `advance(ms)` then walks the virtual engine from
 * one due tick to the next: it sets the clock to the tick, lets the engine deliver what is due
 * (callbacks run synchronously, in deadline order, FIFO among equals), and yields to the event
 * loop until a turn passes in which nothing was armed or stopped, so that promise reactions
 * and `setImmediate` callbacks settle and the timers they arm are published before the next
 * step. Disposing moves the timers still pending back to the real engine, or discards them.
 *
 * WHY not patch globals: the engines never read `setTimeout` or `Date.now()` on the hot path,
 * and the native engine's thread cannot be faked from JavaScript, so the seam is the
 * scheduler's engine and clock, which covers both engines and everything built on them.
 */

import type { testing as TestingApi } from '../index'
import { Shared } from './constants'
import { VirtualEngine } from './engine/virtual'
import { describe } from './arguments'
import type { EngineSource, TimerTable } from './engine/link'
import type { Scheduler } from './scheduler'

/** What a runtime lends the virtual clock. */
export interface TestingDeps {
  readonly scheduler: Scheduler
  /** Where the runtime's engines come from: the clock swaps them all. */
  readonly engines: EngineSource
  /**
   * Makes `wallNow` the wall clock of the runtime's contexts, and `wallOffset` the wall time at
   * its monotonic clock's zero; returns a function that puts the previous ones back.
   */
  setWallClock(wallNow: () => number, wallOffset: () => number): () => void
}

/**
 * Where the virtual clock ends, in ms: the engines' last tick, MAX_TICK (2^47-1 ticks of 1/8 ms of
 * performance.now(), about 557 years). A deadline is held there at most, so the clock must stay
 * short of it: a clock at or past it would run every new timer at once, early. `advance` and
 * `runAll` stop before it, and a timer held at MAX_TICK (armed when less than Go's maximum
 * duration was left) never fires: late is allowed, early never.
 */
const END_MS = Shared.MAX_TICK / Shared.TICKS_PER_MS

/** Rounds at one instant after which a timer is taken to re-arm itself forever. */
const MAX_ROUNDS = 100_000

/** Turns of the event loop `settle` waits, at most, for code that keeps arming or stopping timers. */
const MAX_SETTLE_TURNS = 1000

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Whether `setImmediate` callbacks are queued (where the runtime can tell; else false). */
const immediatesQueued: () => boolean =
  typeof process.getActiveResourcesInfo === 'function' ? () => process.getActiveResourcesInfo().includes('Immediate') : () => false

/** Builds the `testing` namespace of a runtime. */
export function createTesting(deps: TestingDeps): typeof TestingApi {
  let active: VirtualClock | undefined

  class VirtualClock implements TestingApi.VirtualClock {
    #now: number
    /** The virtual engines: one per link (the scheduler's, and each timer set's), in the order made. */
    readonly #engines: VirtualEngine[] = []
    #restore: (() => void) | undefined
    #disposed = false
    readonly #discardAtDispose: boolean
    /** Per table, the timers moved onto the clock when it started, with their armings' generations. */
    readonly #movedIn = new Map<TimerTable, Map<number, number>>()

    constructor(discardAtDispose: boolean) {
      this.#discardAtDispose = discardAtDispose
      const links = deps.engines.live()
      // Everything armed before is published first, so its deadline is fixed before the start.
      for (const link of links) link.publish()
      // A whole millisecond, so whole-millisecond delays give whole-millisecond deadlines; being
      // a whole tick too, every moved timer keeps its deadline tick.
      const start = Math.ceil(deps.scheduler.clock())
      const wallStart = Date.now()
      this.#now = start
      const restoreWall = deps.setWallClock(
        () => wallStart + (this.#now - start),
        () => wallStart - start,
      )
      const restoreEngines = deps.engines.swap(
        (deliver, now) => {
          const engine = new VirtualEngine(deliver, now)
          this.#engines.push(engine)
          return engine
        },
        () => this.#now,
      )
      for (const link of links) this.#movedIn.set(link.table, link.table.pendingArmings())
      this.#restore = () => {
        restoreEngines()
        restoreWall()
      }
    }

    now(): number {
      return this.#now
    }

    async advance(ms: number): Promise<void> {
      if (typeof ms !== 'number' || ms !== ms) {
        throw new TypeError(`VirtualClock.advance: ms must be a number of milliseconds, got ${typeof ms === 'number' ? 'NaN' : typeof ms}`)
      }
      if (ms < 0 || ms === Infinity) throw new RangeError(`VirtualClock.advance: ms must be finite and not negative, got ${ms}`)
      if (this.#now + ms >= END_MS) {
        throw new RangeError(
          `VirtualClock.advance: advancing ${ms} ms from ${this.#now} would reach the end of the engines' range, ` +
            `${END_MS} ms (about 557 years), where new timers could no longer be held to their deadline`,
        )
      }
      await this.#advanceTo(this.#now + ms, 'advance')
    }

    async runAll(): Promise<void> {
      this.#check('runAll')
      for (let rounds = 0; ; rounds++) {
        await this.#settle()
        const next = this.#next()
        // Timers held at the end of the range never fire (see END_MS): they stay pending.
        if (next === undefined || next >= Shared.MAX_TICK) return
        if (rounds >= MAX_ROUNDS) {
          throw new Error(`VirtualClock.runAll: timers were still being armed after ${MAX_ROUNDS} rounds (a ticker, or a timer that re-arms itself, never ends)`)
        }
        await this.#advanceTo(Math.max(this.#now, next / Shared.TICKS_PER_MS), 'runAll')
      }
    }

    pending(): number {
      let pending = 0
      for (const link of deps.engines.live()) pending += link.table.pendingCount()
      return pending
    }

    clear(): number {
      this.#check('clear')
      return this.#discard()
    }

    [Symbol.dispose](): void {
      if (this.#disposed) return
      if (this.#discardAtDispose) this.#discard()
      this.#disposed = true
      if (active === this) active = undefined
      this.#restore!()
      this.#restore = undefined
    }

    /** Stops every timer armed (or re-armed) since the clock started; returns how many. */
    #discard(): number {
      let discarded = 0
      for (const link of deps.engines.live()) {
        const table = link.table
        discarded += table.discardExcept(this.#movedIn.get(table) ?? new Map())
      }
      return discarded
    }

    /** The earliest tick at which one of the virtual engines has work; undefined if none has. */
    #next(): number | undefined {
      let next: number | undefined
      for (const engine of this.#engines) {
        const tick = engine.next()
        if (tick !== undefined && (next === undefined || tick < next)) next = tick
      }
      return next
    }

    /** Commands the virtual engines applied so far: it changes whenever a timer is armed or stopped. */
    #commandsApplied(): number {
      let applied = 0
      for (const engine of this.#engines) applied += engine.commandsApplied()
      return applied
    }

    /**
     * Yields to the event loop until a turn passes in which no timer was armed or stopped and
     * after which no `setImmediate` callback waits, so that code awaiting a promise or yielding
     * with `setImmediate` has armed its next timer.
     */
    async #settle(): Promise<void> {
      for (let turn = 0; turn < MAX_SETTLE_TURNS; turn++) {
        const before = this.#commandsApplied()
        await nextTurn()
        if (this.#commandsApplied() === before && !immediatesQueued()) return
      }
    }

    #check(what: string): void {
      if (this.#disposed) throw new Error(`VirtualClock.${what}: the clock was disposed`)
    }

    /** Runs everything due up to `target`, one due tick at a time, then stops the clock at `target`. */
    async #advanceTo(target: number, what: 'advance' | 'runAll'): Promise<void> {
      this.#check(what)
      await this.#settle()
      let rounds = 0
      let lastTick = -1
      for (;;) {
        const next = this.#next()
        if (next === undefined || next / Shared.TICKS_PER_MS > target) break
        if (next === lastTick && ++rounds > MAX_ROUNDS) {
          throw new Error(`VirtualClock.advance: more than ${MAX_ROUNDS} rounds at virtual time ${this.#now} (a timer re-arms itself without delay)`)
        }
        if (next !== lastTick) rounds = 0
        lastTick = next
        this.#now = Math.max(this.#now, next / Shared.TICKS_PER_MS)
        // The engines due at this tick, in the order they were made: the scheduler's first.
        for (const engine of this.#engines) if (engine.next() === next) engine.fire()
        await this.#settle()
      }
      if (target > this.#now) this.#now = target
      await this.#settle()
    }
  }

  function virtualClock(options?: TestingApi.VirtualClockOptions): TestingApi.VirtualClock {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`testing.virtualClock: options must be an object or undefined, got ${describe(options)}`)
    }
    const atDispose = options?.atDispose ?? 'restore'
    if (atDispose !== 'restore' && atDispose !== 'discard') {
      throw new TypeError(`testing.virtualClock: options.atDispose must be 'restore' or 'discard', got ${describe(atDispose)}`)
    }
    if (active !== undefined) {
      throw new Error('testing.virtualClock: a virtual clock is already active in this thread; dispose it first')
    }
    active = new VirtualClock(atDispose === 'discard')
    return active
  }

  return Object.freeze({ virtualClock })
}
