//! The memory shared by the JavaScript thread and the wheel thread: a control block and a
//! single-producer, single-consumer command ring.
//!
//! # Ground rules
//!
//! * Rust allocates the buffer ([`SharedMemory::new`]) and owns it for as long as any `Arc`
//!   to it lives; JavaScript sees it as an external `ArrayBuffer` whose finalizer drops one
//!   such `Arc`. Nothing ever frees it while either side can still touch it.
//! * The JavaScript thread is the only producer. It writes commands at `tail` with plain
//!   stores, then publishes them with one sequentially consistent store of
//!   [`CTRL_TAIL`] (`Atomics.store`). A command is never
//!   rewritten after it is published, and the producer never writes more than
//!   [`RING_CAPACITY`] commands ahead of `head`.
//! * Consumers (the wheel thread, or the JavaScript thread in a synchronous drain) hold the
//!   driver's lock while they read commands, so there is one consumer at a time. They read
//!   commands only below the `tail` they loaded with `Acquire`, then release the slots by
//!   storing `head` with `Release`.
//! * Every location is accessed with one size only, from both languages: the counters and
//!   the state as 32-bit words, `parked_until` and command values as 64-bit words. Rust
//!   accesses all of it through atomics, so it never reads memory JavaScript may be writing
//!   without synchronisation.
//!
//! # Waking the wheel thread (a Dekker handshake)
//!
//! Before it parks ([`SharedMemory::announce_park`]), the wheel thread stores its wake-up
//! time, then `STATE_PARKED` (`SeqCst`, then a `SeqCst` fence), then loads `tail` (`SeqCst`)
//! and does not park if commands arrived. After publishing, the
//! JavaScript side loads the state (`SeqCst`) and wakes the thread when it is parked and the
//! new commands need it sooner. In the single total order of these four operations either the
//! thread sees the new `tail` or JavaScript sees `STATE_PARKED`, so a command can never sit
//! unseen behind a sleeping thread.

use std::sync::atomic::Ordering;

use crate::constants::{
  CMD_BYTES, CMD_KIND_BITS, CMD_KIND_MASK, CTRL_BYTES, CTRL_HEAD, CTRL_PARKED_UNTIL_F64, CTRL_STATE,
  CTRL_TAIL, GEN_MASK, RING_CAPACITY, STATE_PARKED,
};
use crate::sync::{fence, AtomicU32, AtomicU64};

/// Total size of the shared buffer in bytes.
pub const SHARED_BYTES: usize = CTRL_BYTES + RING_CAPACITY * CMD_BYTES;
const RING_MASK: u32 = RING_CAPACITY as u32 - 1;

const _: () = assert!(RING_CAPACITY.is_power_of_two());
const _: () = assert!(CMD_BYTES == 16);
// The control words must fit in the control block, each on its own cache line.
const _: () = assert!(CTRL_TAIL * 4 / 64 != CTRL_HEAD * 4 / 64);
const _: () = assert!(CTRL_HEAD * 4 / 64 != CTRL_STATE * 4 / 64);
const _: () = assert!(CTRL_PARKED_UNTIL_F64 * 8 + 8 <= CTRL_BYTES);

/// The buffer: real memory JavaScript can see.
#[cfg(not(loom))]
mod storage {
  use super::{AtomicU32, AtomicU64, SHARED_BYTES};
  use std::ptr::NonNull;

  /// One cache line; the buffer is a whole number of them, so it is 64-byte aligned.
  #[repr(C, align(64))]
  struct CacheLine([AtomicU64; 8]);

  const CACHE_LINE_BYTES: usize = std::mem::size_of::<CacheLine>();
  const _: () = assert!(CACHE_LINE_BYTES == 64);
  const _: () = assert!(SHARED_BYTES % CACHE_LINE_BYTES == 0);

  const LINES: usize = SHARED_BYTES / CACHE_LINE_BYTES;

  /// The buffer, allocated as a `Box<[CacheLine]>` and held by its raw pointer (freed in
  /// `Drop`). Not as a `Box`: every access would then go through `&[CacheLine]` of the whole
  /// megabyte, which costs nothing in compiled code but makes Miri's borrow tracker re-tag
  /// the whole buffer on every word read, so the concurrent tests could not run under Miri in
  /// reasonable time. A raw pointer derives each word's address without a borrow of the rest.
  pub(super) struct Storage {
    lines: NonNull<CacheLine>,
  }

  // SAFETY: `Storage` owns its buffer as `Box<[CacheLine]>` would, and that type is Send and
  // Sync: the buffer holds only atomics, and every access (module rules) is atomic.
  unsafe impl Send for Storage {}
  // SAFETY: as above: shared access goes through `&AtomicU32` / `&AtomicU64` only.
  unsafe impl Sync for Storage {}

  impl Storage {
    pub(super) fn new() -> Self {
      let lines: Box<[CacheLine]> = (0..LINES).map(|_| CacheLine(Default::default())).collect();
      Storage {
        lines: NonNull::from(Box::leak(lines)).cast::<CacheLine>(),
      }
    }

    pub(super) fn as_ptr(&self) -> *mut u8 {
      self.lines.as_ptr() as *mut u8
    }

    pub(super) fn word(&self, word_index: usize) -> &AtomicU32 {
      assert!(word_index * 4 + 4 <= SHARED_BYTES);
      // SAFETY: the index is in bounds (asserted), the buffer is 64-byte aligned so every
      // 4-byte offset is aligned for AtomicU32, the memory lives as long as `self`, and
      // (module rules) this location is only ever accessed as a 32-bit word.
      unsafe { &*(self.as_ptr().add(word_index * 4) as *const AtomicU32) }
    }

    pub(super) fn dword(&self, dword_index: usize) -> &AtomicU64 {
      assert!(dword_index * 8 + 8 <= SHARED_BYTES);
      // SAFETY: in bounds (asserted), 8-byte aligned, lives as long as `self`, and this
      // location is only ever accessed as a 64-bit word.
      unsafe { &*(self.as_ptr().add(dword_index * 8) as *const AtomicU64) }
    }
  }

  impl Drop for Storage {
    fn drop(&mut self) {
      let slice = std::ptr::slice_from_raw_parts_mut(self.lines.as_ptr(), LINES);
      // SAFETY: `slice` is exactly the pointer and length `Box::leak` gave in `new`, not
      // freed before (this is the only place, and `drop` runs once), and nothing can access
      // the buffer any more: `&mut self` excludes other borrows of `Storage`, and JavaScript's
      // ArrayBuffer holds an `Arc<SharedMemory>`, so it is gone before this runs.
      drop(unsafe { Box::from_raw(slice) });
    }
  }
}

/// Under loom: the same locations as separate model-checked atomics (each location is used
/// with one size only, so words and double words never overlap), and only the first few ring
/// slots, which is all a model touches.
#[cfg(loom)]
mod storage {
  use super::{AtomicU32, AtomicU64, CMD_BYTES, CTRL_BYTES};

  /// Ring slots available to loom models.
  const LOOM_SLOTS: usize = 8;
  const BYTES: usize = CTRL_BYTES + LOOM_SLOTS * CMD_BYTES;

  pub(super) struct Storage {
    words: Vec<AtomicU32>,
    dwords: Vec<AtomicU64>,
  }

  impl Storage {
    pub(super) fn new() -> Self {
      Storage {
        words: (0..BYTES / 4).map(|_| AtomicU32::new(0)).collect(),
        dwords: (0..BYTES / 8).map(|_| AtomicU64::new(0)).collect(),
      }
    }

    pub(super) fn word(&self, word_index: usize) -> &AtomicU32 {
      &self.words[word_index]
    }

    pub(super) fn dword(&self, dword_index: usize) -> &AtomicU64 {
      &self.dwords[dword_index]
    }
  }
}

/// A command read from the ring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Command {
  /// One of the `CMD_*` kinds (unchecked: the consumer rejects unknown kinds).
  pub kind: u32,
  /// The timer generation the command applies to.
  pub generation: u32,
  /// The timer index.
  pub index: u32,
  /// The kind-specific value (a base time, a delay, or unused).
  pub value: f64,
}

/// The control block and command ring, shared with JavaScript.
pub struct SharedMemory {
  storage: storage::Storage,
}

impl SharedMemory {
  /// Allocates a zeroed buffer: `tail == head == 0`, state `STATE_AWAKE`, no commands.
  pub fn new() -> Self {
    SharedMemory {
      storage: storage::Storage::new(),
    }
  }

  /// Pointer to the first byte, for handing the buffer to JavaScript. Writes through it must
  /// follow the module's ground rules.
  #[cfg(not(loom))]
  pub fn as_ptr(&self) -> *mut u8 {
    self.storage.as_ptr()
  }

  /// Length of the buffer in bytes ([`SHARED_BYTES`]).
  pub fn len(&self) -> usize {
    SHARED_BYTES
  }

  /// Always false: the buffer has a fixed, non-zero size.
  pub fn is_empty(&self) -> bool {
    false
  }

  fn word(&self, word_index: usize) -> &AtomicU32 {
    self.storage.word(word_index)
  }

  fn dword(&self, dword_index: usize) -> &AtomicU64 {
    self.storage.dword(dword_index)
  }

  /// Loads the producer's published counter.
  pub fn tail(&self, order: Ordering) -> u32 {
    self.word(CTRL_TAIL).load(order)
  }

  /// Publishes `tail` as the producer (JavaScript does this with `Atomics.store`; this Rust
  /// version exists for tests and for Rust producers).
  pub fn publish(&self, tail: u32) {
    self.word(CTRL_TAIL).store(tail, Ordering::SeqCst);
  }

  /// Loads the consumers' counter.
  pub fn head(&self) -> u32 {
    self.word(CTRL_HEAD).load(Ordering::Acquire)
  }

  /// Releases every slot below `head` back to the producer.
  pub fn set_head(&self, head: u32) {
    self.word(CTRL_HEAD).store(head, Ordering::Release);
  }

  /// The wheel thread's state, one of the `STATE_*` constants.
  pub fn state(&self) -> i32 {
    self.word(CTRL_STATE).load(Ordering::SeqCst) as i32
  }

  /// Stores the wheel thread's state (`SeqCst`, one side of the wake-up handshake).
  pub fn set_state(&self, state: i32) {
    self.word(CTRL_STATE).store(state as u32, Ordering::SeqCst);
  }

  /// The JS time in ms at which the parked wheel thread wakes by itself.
  pub fn parked_until(&self) -> f64 {
    f64::from_bits(self.dword(CTRL_PARKED_UNTIL_F64).load(Ordering::Relaxed))
  }

  /// Stores the wake-up time; it is published to JavaScript by the `set_state` that follows.
  pub fn set_parked_until(&self, ms: f64) {
    self
      .dword(CTRL_PARKED_UNTIL_F64)
      .store(ms.to_bits(), Ordering::Relaxed);
  }

  /// The wheel thread's half of the wake-up handshake, just before it parks: publishes the
  /// time it will wake by itself (`until_ms`, JS ms; `f64::INFINITY` for never), then
  /// `STATE_PARKED`, then looks at the tail again. Returns true if it may park: no command was
  /// published that it has not consumed. If it returns false, the thread must drain again.
  pub fn announce_park(&self, until_ms: f64) -> bool {
    self.set_parked_until(until_ms);
    self.set_state(STATE_PARKED);
    // The store above and the load below are both SeqCst already; the fence makes the
    // store-then-load order explicit in a form loom can check (loom treats SeqCst accesses as
    // AcqRel but models SeqCst fences), and costs one barrier per park.
    fence(Ordering::SeqCst);
    self.tail(Ordering::SeqCst) == self.head()
  }

  /// The producer's half, as JavaScript does it after writing commands (the scheduler's
  /// `flush` and the native engine's `published` in `src/`, which *must* stay equivalent):
  /// publishes `tail`, then returns whether the wheel thread must be woken: it is parked, and
  /// either the batch holds a deadline (`earliest_ms`, JS ms) before the time it wakes by
  /// itself, or half the ring is in use.
  pub fn publish_and_check_wake(&self, tail: u32, earliest_ms: f64) -> bool {
    self.publish(tail);
    // JavaScript's `Atomics.store` then `Atomics.load` are sequentially consistent; this
    // fence gives the Rust mirror the same store-then-load order in a form loom models.
    fence(Ordering::SeqCst);
    if self.state() != STATE_PARKED {
      return false;
    }
    earliest_ms < self.parked_until() || tail.wrapping_sub(self.head()) as usize >= RING_CAPACITY / 2
  }

  /// Reads the command at ring position `seq` (a wrapping counter).
  ///
  /// The caller must have loaded a `tail` with `Acquire` such that `seq` lies in
  /// `head..tail`, so the command is published and stable.
  pub fn command(&self, seq: u32) -> Command {
    let slot = (seq & RING_MASK) as usize;
    let base_word = CTRL_BYTES / 4 + slot * (CMD_BYTES / 4);
    let word0 = self.word(base_word).load(Ordering::Relaxed);
    Command {
      kind: word0 & CMD_KIND_MASK,
      generation: (word0 >> CMD_KIND_BITS) & GEN_MASK,
      index: self.word(base_word + 1).load(Ordering::Relaxed),
      value: f64::from_bits(self.dword(base_word / 2 + 1).load(Ordering::Relaxed)),
    }
  }

  /// Writes a command at ring position `seq` as the producer would (for tests and Rust
  /// producers); it becomes visible with the next [`publish`](Self::publish).
  pub fn write_command(&self, seq: u32, command: Command) {
    let slot = (seq & RING_MASK) as usize;
    let base_word = CTRL_BYTES / 4 + slot * (CMD_BYTES / 4);
    let word0 = (command.kind & CMD_KIND_MASK) | ((command.generation & GEN_MASK) << CMD_KIND_BITS);
    self.word(base_word).store(word0, Ordering::Relaxed);
    self.word(base_word + 1).store(command.index, Ordering::Relaxed);
    self
      .dword(base_word / 2 + 1)
      .store(command.value.to_bits(), Ordering::Relaxed);
  }
}

impl Default for SharedMemory {
  fn default() -> Self {
    Self::new()
  }
}

#[cfg(all(test, not(loom)))]
mod tests {
  use super::*;
  use crate::constants::{CMD_ARM_AFTER, STATE_AWAKE, STATE_PARKED};

  #[test]
  fn starts_empty_and_awake() {
    let m = SharedMemory::new();
    assert_eq!(m.tail(Ordering::SeqCst), 0);
    assert_eq!(m.head(), 0);
    assert_eq!(m.state(), STATE_AWAKE);
    assert_eq!(m.as_ptr() as usize % 64, 0);
    assert_eq!(m.len(), SHARED_BYTES);
  }

  #[test]
  fn commands_round_trip_through_the_javascript_layout() {
    let m = SharedMemory::new();
    let c = Command {
      kind: CMD_ARM_AFTER,
      generation: GEN_MASK,
      index: 123_456,
      value: 2.5,
    };
    // Position RING_CAPACITY + 3 wraps to slot 3.
    m.write_command(RING_CAPACITY as u32 + 3, c);
    assert_eq!(m.command(3), c);
    // Check the byte layout JavaScript uses: Int32 words 0 and 1, Float64 at bytes 8..16.
    let bytes = CTRL_BYTES + 3 * CMD_BYTES;
    // SAFETY: the offsets are inside the buffer and nothing else accesses it concurrently.
    let (w0, w1, v) = unsafe {
      let p = m.as_ptr().add(bytes);
      (
        *(p as *const u32),
        *(p.add(4) as *const u32),
        *(p.add(8) as *const f64),
      )
    };
    assert_eq!(w0, CMD_ARM_AFTER | (GEN_MASK << CMD_KIND_BITS));
    assert_eq!(w1, 123_456);
    assert_eq!(v, 2.5);
  }

  #[test]
  fn control_words_sit_where_javascript_looks() {
    let m = SharedMemory::new();
    m.publish(7);
    m.set_head(5);
    m.set_state(STATE_PARKED);
    m.set_parked_until(1234.5);
    // SAFETY: reading plain words inside the buffer; no concurrent access in this test.
    unsafe {
      let p = m.as_ptr();
      assert_eq!(*(p.add(CTRL_TAIL * 4) as *const u32), 7);
      assert_eq!(*(p.add(CTRL_HEAD * 4) as *const u32), 5);
      assert_eq!(*(p.add(CTRL_STATE * 4) as *const i32), STATE_PARKED);
      assert_eq!(*(p.add(CTRL_PARKED_UNTIL_F64 * 8) as *const f64), 1234.5);
    }
  }
}
