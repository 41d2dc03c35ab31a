/**
 * The command ring's layout in the views the TypeScript side uses (Int32Array and Float64Array
 * over the shared memory), derived from the constants shared with Rust (`../constants`). Used
 * by the scheduler (the producer) and the TypeScript engine (a consumer).
 *
 * Command `seq` sits in ring slot `seq & RING_MASK`: its word 0 (kind and generation) at
 * i32 `RING_I32 + slot * CMD_I32`, its index right after, its value at f64
 * `RING_F64 + slot * CMD_F64 + 1`.
 */

import { CMD_BYTES, CTRL_BYTES, GEN_BITS, RING_CAPACITY } from '../constants'

/** Ring slot of command `seq`: `seq & RING_MASK`. */
export const RING_MASK = RING_CAPACITY - 1
/** First ring word in the Int32Array view. */
export const RING_I32 = CTRL_BYTES / 4
/** First ring word in the Float64Array view. */
export const RING_F64 = CTRL_BYTES / 8
/** Int32 words per command. */
export const CMD_I32 = CMD_BYTES / 4
/** Float64 words per command. */
export const CMD_F64 = CMD_BYTES / 8
/**
 * Bits of the scheduler's slot word above the GEN_BITS-bit generation: they hold the position
 * key of the slot's last ARM command (its batch's key plus its offset in the batch).
 */
const KEY_BITS = 32 - GEN_BITS
export const KEY_MASK = 2 ** KEY_BITS - 1
/**
 * A batch (its BASE included) is published once it holds this many commands, so the engine can
 * start on a long synchronous run of commands. 1,024: a quarter of the position keys, so keys
 * tell four successive batches apart.
 */
export const BATCH_MAX = 2 ** (KEY_BITS - 2)
/** The native engine wakes its thread whenever this many published commands wait unconsumed. */
export const WAKE_BACKLOG = RING_CAPACITY / 2
