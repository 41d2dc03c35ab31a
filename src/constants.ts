/**
 * Constants shared by the TypeScript side and the Rust engine, as the members of one
 * `const enum`, {@link Shared}, so that every use compiles to its value.
 *
 * Every value here *must* match `crates/wheel/src/constants.rs`; `__test__/constants.spec.ts`
 * compares them with the values the native binding exports. See that file for what each means.
 *
 * Time is measured in ticks of `1 / TICKS_PER_MS` ms on the `performance.now()` clock; deadlines
 * are rounded up to a whole tick. Within the members, a member may be written in terms of an
 * earlier one.
 */

export const enum Shared {
  /** Ticks per millisecond: the engine's resolution is 1/8 ms. */
  TICKS_PER_MS = 8,
  /** Bits of the per-arming generation. */
  GEN_BITS = 17,
  /** Mask of a generation. */
  GEN_MASK = (1 << GEN_BITS) - 1,
  /** Bits of a deadline tick. */
  TICK_BITS = 64 - GEN_BITS,
  /** The largest deadline tick the wheel stores (2^47 - 1, about 557 years); later deadlines saturate to it. */
  MAX_TICK = 2 ** TICK_BITS - 1,
  /** Go's largest Duration, 2^63-1 ns, in ms. Longer delays and Infinity saturate to it. */
  MAX_DURATION_MS = 9_223_372_036_854.775807,
  /** The largest timer index. */
  MAX_INDEX = 2 ** 31 - 1,

  /** Int32 word index of the published-commands counter (JS writes). */
  CTRL_TAIL = 0,
  /** Int32 word index of the consumed-commands counter (the wheel writes). */
  CTRL_HEAD = 16,
  /** Int32 word index of the wheel thread's state (the wheel writes). */
  CTRL_STATE = 32,
  /** Float64 index of the JS time (ms) the parked wheel thread wakes at by itself. */
  CTRL_PARKED_UNTIL_F64 = 17,
  /** Bytes of the control block; the command ring follows it. */
  CTRL_BYTES = 256,

  /** The wheel thread is running and will look at the ring before it parks. */
  STATE_AWAKE = 0,
  /** The wheel thread is parked until `CTRL_PARKED_UNTIL_F64` or until woken. */
  STATE_PARKED = 1,
  /** The wheel thread has exited. */
  STATE_CLOSED = 2,

  /** Commands in the ring (a power of two). */
  RING_CAPACITY = 1 << 16,
  /** Bytes per command. */
  CMD_BYTES = 16,
  /** Bits of word 0 holding the command kind; the generation sits above them. */
  CMD_KIND_BITS = 3,
  /** Mask of the command kind in word 0. */
  CMD_KIND_MASK = (1 << CMD_KIND_BITS) - 1,

  /** Sets the base time (JS ms) for the ARM_AFTER commands that follow. */
  CMD_BASE = 1,
  /** Arm or move a timer at ceil((base + delay) * TICKS_PER_MS). */
  CMD_ARM_AFTER = 2,
  /**
   * Disarm a timer, whatever generation it is armed with (no generation bits: at a CANCEL's
   * place in the ring the slot holds the arming being stopped or none).
   */
  CMD_CANCEL = 3,
  /** Arm or move a timer at ceil(value * TICKS_PER_MS), value an absolute time in ms (a ticker's grid). */
  CMD_ARM_AT = 4,
}
