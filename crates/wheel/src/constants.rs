//! Constants shared by the Rust engine and the TypeScript engine.
//!
//! Every value here *must* match `src/constants.ts`. The native binding exports them
//! (`constants()` in `crates/node`), and `__test__/constants.spec.ts` checks that the two
//! sides agree, so a change to one side that forgets the other fails the tests.
//!
//! Time is measured in *ticks*. A tick is `1 / TICKS_PER_MS` milliseconds of the JavaScript
//! monotonic clock (`performance.now()`), counted from that clock's origin, so a tick value
//! means the same instant to both threads. Deadlines are rounded *up* to a whole tick.

/// Ticks per millisecond: the engine's resolution is 1/8 ms (125 µs), so a deadline is
/// rounded up by less than that. (A finer tick adds levels a timer cascades through: each
/// halving of the tick costs the wheel thread work per timer, for a rounding few notice.) A power of two, so that a tick is exact in binary and a
/// duration in whole milliseconds is a whole number of ticks.
pub const TICKS_PER_MS: u64 = 8;

/// Bits of the per-arming generation carried with every timer id: what is left of a `u64`
/// beside a deadline of [`TICK_BITS`] bits. It wraps after 131,072 armings of one slot, and an
/// expiry is taken for another arming's only if that many re-armings of its slot happen while
/// it is on its way to JavaScript, which takes one synchronous run resetting one timer 131,072
/// times right after it expired.
pub const GEN_BITS: u32 = 17;
/// Mask of a generation.
pub const GEN_MASK: u32 = (1 << GEN_BITS) - 1;
/// Bits of a deadline tick: a deadline and a generation share one `u64`. 2^47 ticks of 1/8 ms
/// are about 557 years, beyond Go's largest duration (about 292 years) from any time a process
/// can reach.
pub const TICK_BITS: u32 = 64 - GEN_BITS;
/// The largest deadline the wheel stores; later deadlines are saturated to it.
pub const MAX_TICK: u64 = (1 << TICK_BITS) - 1;

/// Go's largest `time.Duration`, 2^63-1 ns, in milliseconds. Longer delays (and `Infinity`)
/// are saturated to it; they are never clamped to something short. (The literal is the exact
/// value; as an `f64` it rounds to the nearest double, the same one JavaScript uses.)
#[allow(clippy::excessive_precision)]
pub const MAX_DURATION_MS: f64 = 9_223_372_036_854.775_807;

/// The largest timer index. Indices are dense small integers chosen by JavaScript: a
/// scheduler's slots (below 2^30 there: it packs a slot and a flag into one small integer) or a
/// timer set's keys (below 2^31, a JavaScript int32 that is not negative).
pub const MAX_INDEX: u32 = (1 << 31) - 1;

// ---- Shared memory between the JavaScript thread and the wheel thread -------------------
//
// One buffer, owned by Rust and seen by JavaScript as an `ArrayBuffer`:
//
// ```text
// byte 0            256                                   256 + 16 * RING_CAPACITY
// | control block  | command ring: RING_CAPACITY commands of 16 bytes                |
// ```
//
// Control block, as 32-bit word indices (each on its own 64-byte cache line):

/// Word index: commands published by JavaScript (a wrapping `u32` counter; JS writes it).
pub const CTRL_TAIL: usize = 0;
/// Word index: commands consumed by the wheel (a wrapping `u32` counter; Rust writes it).
pub const CTRL_HEAD: usize = 16;
/// Word index: what the wheel thread is doing, one of the `STATE_*` values (Rust writes it).
pub const CTRL_STATE: usize = 32;
/// `f64` index (byte offset 8 × this): while parked, the JS time in ms at which the wheel
/// thread wakes by itself; `+Infinity` when it waits for nothing (Rust writes it).
pub const CTRL_PARKED_UNTIL_F64: usize = 17;
/// Size of the control block in bytes; the ring starts here.
pub const CTRL_BYTES: usize = 256;

/// The wheel thread is running and will look at the ring before it parks again.
pub const STATE_AWAKE: i32 = 0;
/// The wheel thread is parked until `CTRL_PARKED_UNTIL_F64` or until woken.
pub const STATE_PARKED: i32 = 1;
/// The wheel thread has exited; nothing reads the ring any more.
pub const STATE_CLOSED: i32 = 2;

/// Commands in the ring (a power of two).
pub const RING_CAPACITY: usize = 1 << 16;
/// Bytes per command: word 0 = `kind | generation << CMD_KIND_BITS` (the generation: ARM only),
/// word 1 = index,
/// bytes 8..16 = an `f64` value whose meaning depends on the kind.
pub const CMD_BYTES: usize = 16;
/// Bits of word 0 holding the command kind.
pub const CMD_KIND_BITS: u32 = 3;
/// Mask of the command kind in word 0.
pub const CMD_KIND_MASK: u32 = (1 << CMD_KIND_BITS) - 1;

/// Sets the base time (JS ms, the value) for the `ARM_AFTER` commands that follow.
/// JavaScript writes it at the start of each batch and fills in the value when it
/// publishes the batch, from a clock read taken after every command in the batch was made.
pub const CMD_BASE: u32 = 1;
/// Arm (or move) timer `index` with this generation at `ceil((base + value) * TICKS_PER_MS)`,
/// where value is a delay in ms (already clamped to `0..=MAX_DURATION_MS`).
pub const CMD_ARM_AFTER: u32 = 2;
/// Disarm timer `index`, whatever generation it is armed with (the command's generation bits
/// are zero and not read). At a CANCEL's place in the ring the slot holds the arming that
/// JavaScript is stopping or none: every arming of a slot is an ARM earlier in the ring, and a
/// slot is only reused after its arming was cancelled (by a command before the reuse's ARM) or
/// emitted.
pub const CMD_CANCEL: u32 = 3;
/// Arm (or move) timer `index` with this generation at `ceil(value * TICKS_PER_MS)`, where value
/// is an absolute JavaScript time in ms: for a ticker, whose next tick is a point of its grid
/// rather than a delay from the time its batch is published.
pub const CMD_ARM_AT: u32 = 4;
