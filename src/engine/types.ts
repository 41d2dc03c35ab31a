/**
 * The engine interface: what the scheduler (`src/scheduler.ts`) needs from a wheel, whether it
 * runs on its own thread in Rust (`native.ts`) or on the event loop in TypeScript (`js.ts`).
 *
 * The scheduler writes commands into the ring the engine exposes (layout in `constants.ts`),
 * publishes them by storing `CTRL_TAIL`, and tells the engine with {@link Engine.published}.
 * The engine applies them in order, expires due timers, and hands every batch of expired
 * `index, generation` pairs to the {@link Deliver} function it was created with, on the
 * JavaScript thread, never from inside one of its own methods.
 */

/** Which engine runs: the Rust wheel thread or the TypeScript wheel on the event loop. */
export type EngineKind = 'native' | 'js'

/**
 * Receives expired timers: `ids` holds `index, generation` pairs in expiry order (deadline,
 * then arming order); every one of them was due at or before tick `nowTick`. `head` is the
 * ring position (`CTRL_HEAD`, as a uint32) the engine had applied commands up to when it
 * polled the first of them: if the scheduler has written no command beyond it, no pair can be
 * stale. It is -1 when the engine cannot vouch for that (it met a command that broke the
 * protocol).
 */
export type Deliver = (ids: Uint32Array, nowTick: number, head: number) => void

/** A wheel the scheduler drives through the shared command ring. */
export interface Engine {
  /** Int32 view of the control block and command ring. */
  readonly i32: Int32Array
  /** Float64 view of the same memory. */
  readonly f64: Float64Array
  /**
   * Commands up to the stored `CTRL_TAIL` are published. `earliest` is a lower bound of the
   * earliest deadline (JavaScript ms) they arm (`Infinity` if they arm nothing): it also
   * counts arms that later commands of the batch cancelled or moved. `exact()` returns the
   * earliest deadline among the arms still current, scanning the batch: an engine calls it
   * only when `earliest` alone would make it do work (wake a thread). Never delivers
   * synchronously.
   */
  published(earliest: number, exact: () => number): void
  /** The ring is full: apply every published command now. Never delivers synchronously. */
  makeRoom(): void
  /** Whether pending timers keep the process alive. */
  setRef(on: boolean): void
  /** Timers armed in the wheel (commands not yet applied are not counted) and corrupt commands seen. */
  stats(): EngineStats
  /**
   * Applies every published command, then disarms every timer and returns them as `index,
   * generation, deadline tick` triples in expiry order, for moving them to another engine.
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
