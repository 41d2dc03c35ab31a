//! The engine of afterfunc: a hierarchical timing wheel on its own thread, fed by JavaScript
//! through shared memory.
//!
//! This crate has no Node.js dependency; `crates/node` is a thin binding over it.
//!
//! | module | job |
//! |---|---|
//! | [`constants`] | values shared with the TypeScript engine (tested equal) |
//! | [`entry`] | the timer storage: a slab of 16-byte entries with intrusive FIFO lists |
//! | [`wheel`] | the hierarchical timing wheel (Varghese & Lauck): arm, cancel, poll |
//! | [`shared`] | the control block and command ring shared with JavaScript |
//! | [`clock`] | the wheel thread's view of JavaScript's monotonic clock |
//! | [`outbox`] | where expired timers wait for JavaScript, one notification at a time |
//! | [`driver`] | the wheel thread: drain commands, expire, notify, sleep |
//!
//! # Ground rules
//!
//! * JavaScript owns timer identity: it chooses dense indices and a generation per arming,
//!   keeps the callbacks, and decides what a delivered expiry means. Rust holds only indices,
//!   generations and deadlines.
//! * Concurrency protocols are model-checked with loom: `RUSTFLAGS="--cfg loom" cargo test
//!   -p afterfunc-wheel --release --test loom` (the driver itself, which needs real threads and
//!   time, is left out of loom builds).
//! * The JavaScript thread never waits for the wheel thread on the hot path: commands go
//!   through the ring ([`shared`]); the only blocking call is a synchronous drain when the
//!   ring is full.
//! * Expirations leave the wheel thread in batches, one notification per batch ([`driver`]).
//! * Deadlines are whole ticks, rounded up; the wheel never reports a timer before its tick,
//!   and the clock never runs ahead of JavaScript's ([`clock`]).

pub mod clock;
pub mod constants;
#[cfg(not(loom))]
pub mod driver;
pub mod entry;
pub mod outbox;
pub mod shared;
mod sync;
pub mod wheel;

pub use clock::Clock;
#[cfg(not(loom))]
pub use driver::{Driver, Notify, Stats};
pub use outbox::{Expired, Outbox};
pub use shared::SharedMemory;
pub use wheel::{TimerId, Wheel};
