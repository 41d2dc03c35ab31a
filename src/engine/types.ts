/**
 * The engine interface: what the scheduler (`src/scheduler.ts`) needs from a timing wheel,
 * whether it runs on its own thread in Rust (`native.ts`) or on the event loop in TypeScript
 * (`js.ts`, and `virtual.ts` for the virtual clock).
 *
 * The scheduler writes commands into the engine's {@link Ring} and publishes them; the engine
 * applies them in order, expires due timers, and hands each batch of expired (slot,
 * generation) pairs to the {@link Deliver} function it was created with, on the JavaScript
 * thread, never from inside one of its own methods.
 */

import type { Ring } from './ring'

/** Which engine runs: the Rust wheel thread or the TypeScript wheel on the event loop. */
export type EngineKind = 'native' | 'js'

/**
 * Receives expired timers: `ids` holds (slot, generation) pairs in expiry order (deadline,
 * then arming order); every one of them was due at or before tick `nowTick`.
 */
export type Deliver = (ids: Uint32Array, nowTick: number) => void

/** A wheel the scheduler drives through the command ring. */
export interface Engine {
  /** The command ring the scheduler writes to. */
  readonly ring: Ring
  /**
   * New commands were published: apply them, now or soon. `earliest` is no later than any
   * deadline (JavaScript ms) they arm, Infinity if they arm none. Never delivers synchronously.
   */
  published(earliest: number): void
  /** The ring is full: apply every published command now. Never delivers synchronously. */
  makeRoom(): void
  /** Whether pending timers keep the process alive. */
  setRef(on: boolean): void
  /** Counters for tests and diagnostics. */
  stats(): EngineStats
  /**
   * Applies every published command, then disarms every timer and returns them as (slot,
   * generation, deadline tick) triples in expiry order, for moving them to another engine.
   * Expired timers already on their way to `deliver` are not included; they are still
   * delivered. The engine stays usable.
   */
  takeAll(): Float64Array
  /** The deadline tick armed for slot `index` (commands not yet applied are not seen), for diagnostics. */
  deadlineOf(index: number): number | undefined
  /** Stops the engine; pending timers are dropped. Idempotent. */
  close(): void
}

/** Counters for tests and diagnostics. */
export interface EngineStats {
  /** Timers armed in the wheel. */
  armed: number
  /** Commands the engine could not apply (always 0 unless there is a bug). */
  protocolErrors: number
  /** Rounds of the native wheel thread's loop (about one per wake-up); 0 for other engines. */
  rounds: number
}

/** Creates an engine that delivers to `deliver`, on the clock `now` (ms). */
export type EngineFactory = (deliver: Deliver, now: () => number) => Engine
