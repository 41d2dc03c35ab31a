/**
 * Constants shared by the TypeScript engine and the Rust engine.
 *
 * Every value here *must* match `crates/wheel/src/constants.rs`; `__test__/constants.spec.ts`
 * compares them with the values the native binding exports. See that file for what each means.
 *
 * Time is measured in ticks of `1 / TICKS_PER_MS` ms on the `performance.now()` clock; deadlines
 * are rounded up to a whole tick.
 */

/** Ticks per millisecond: the engine's resolution is 1 ms. */
export const TICKS_PER_MS = 1
/** Bits of a tick that select a slot within one level. */
export const SLOT_BITS = 6
/** Slots per level. */
export const SLOTS = 1 << SLOT_BITS
/** Levels of the wheel: it spans 64^8 = 2^48 ticks. */
export const LEVELS = 8
/** Bits of the per-arming generation. */
export const GEN_BITS = 20
/** Mask of a generation. */
export const GEN_MASK = (1 << GEN_BITS) - 1
/** Bits of a deadline tick. */
export const TICK_BITS = 64 - GEN_BITS
/** The largest deadline tick the wheel stores (2^44 - 1); later deadlines saturate to it. */
export const MAX_TICK = 2 ** TICK_BITS - 1
/** Go's largest Duration, 2^63-1 ns, in ms. Longer delays and Infinity saturate to it. */
export const MAX_DURATION_MS = 9_223_372_036_854.775807
/** The largest timer index. */
export const MAX_INDEX = 2 ** 30 - 1

/** Int32 word index of the published-commands counter (JS writes). */
export const CTRL_TAIL = 0
/** Int32 word index of the consumed-commands counter (the wheel writes). */
export const CTRL_HEAD = 16
/** Int32 word index of the wheel thread's state (the wheel writes). */
export const CTRL_STATE = 32
/** Float64 index of the JS time (ms) the parked wheel thread wakes at by itself. */
export const CTRL_PARKED_UNTIL_F64 = 17
/** Bytes of the control block; the command ring follows it. */
export const CTRL_BYTES = 256

/** The wheel thread is running and will look at the ring before it parks. */
export const STATE_AWAKE = 0
/** The wheel thread is parked until `CTRL_PARKED_UNTIL_F64` or until woken. */
export const STATE_PARKED = 1
/** The wheel thread has exited. */
export const STATE_CLOSED = 2

/** Commands in the ring (a power of two). */
export const RING_CAPACITY = 1 << 16
/** Bytes per command. */
export const CMD_BYTES = 16
/** Bits of word 0 holding the command kind; the generation sits above them. */
export const CMD_KIND_BITS = 3
/** Mask of the command kind in word 0. */
export const CMD_KIND_MASK = (1 << CMD_KIND_BITS) - 1

/** Sets the base time (JS ms) for the ARM_AFTER commands that follow. */
export const CMD_BASE = 1
/** Arm or move a timer at ceil((base + delay) * TICKS_PER_MS). */
export const CMD_ARM_AFTER = 2
/** Disarm a timer if it is armed with the given generation. */
export const CMD_CANCEL = 3
