/**
 * The command ring's layout in the views the TypeScript side uses (Int32Array and Float64Array
 * over the shared memory), derived from the constants shared with Rust (`../constants`). Used
 * by the scheduler (the producer) and the TypeScript engine (a consumer). A `const enum`, so
 * that each use compiles to its value (see `../constants`).
 *
 * Command `seq` sits in ring slot `seq & Ring.MASK`: its word 0 (kind and generation) at
 * i32 `Ring.I32 + slot * Ring.CMD_I32`, its index right after, its value at f64
 * `Ring.F64 + slot * Ring.CMD_F64 + 1`.
 */

import { K } from '../constants'

export const enum Ring {
  /** Ring slot of command `seq`: `seq & MASK`. */
  MASK = K.RING_CAPACITY - 1,
  /** First ring word in the Int32Array view. */
  I32 = K.CTRL_BYTES / 4,
  /** First ring word in the Float64Array view. */
  F64 = K.CTRL_BYTES / 8,
  /** Int32 words per command. */
  CMD_I32 = K.CMD_BYTES / 4,
  /** Float64 words per command. */
  CMD_F64 = K.CMD_BYTES / 8,
  /**
   * Bits of the scheduler's slot word above the GEN_BITS-bit generation: they hold the position
   * key of the slot's last ARM command (its batch's key plus its offset in the batch).
   */
  KEY_BITS = 32 - K.GEN_BITS,
  /** Mask of a position key. */
  KEY_MASK = 2 ** KEY_BITS - 1,
  /**
   * A batch (its BASE included) is published once it holds this many commands, so the engine
   * can start on a long synchronous run of commands. 1,024: a quarter of the position keys, so
   * keys tell four successive batches apart.
   */
  BATCH_MAX = 2 ** (KEY_BITS - 2),
  /** The native engine wakes its thread whenever this many published commands wait unconsumed. */
  WAKE_BACKLOG = K.RING_CAPACITY / 2,
}
