//! One level of the wheel: [`SLOTS`] FIFO lists and a 64-bit occupancy bitmap.

use crate::constants::SLOTS;
use crate::entry::{Entry, List};

// The occupancy bitmap is one `u64`: one bit per slot.
const _: () = assert!(SLOTS == u64::BITS as usize);

/// One level: slot `s` holds the timers whose deadline falls in the `s`-th `64^level`-tick
/// stretch of the current `64^(level+1)`-tick block. Bit `s` of `occupied` is set iff slot `s`
/// is non-empty.
#[derive(Clone, Debug)]
pub(crate) struct Level {
  occupied: u64,
  slots: [List; SLOTS],
}

impl Level {
  /// A level with all slots empty.
  pub(crate) const fn new() -> Self {
    Level {
      occupied: 0,
      slots: [List::EMPTY; SLOTS],
    }
  }

  /// `true` iff every slot is empty.
  #[inline]
  pub(crate) const fn is_empty(&self) -> bool {
    self.occupied == 0
  }

  /// The occupancy bitmap (bit `s` set iff slot `s` is non-empty).
  #[inline]
  pub(crate) const fn occupied(&self) -> u64 {
    self.occupied
  }

  /// The list of `slot` (read only).
  #[inline]
  pub(crate) fn slot(&self, slot: usize) -> &List {
    &self.slots[slot]
  }

  /// Appends `list` (a list of its own, non-empty) at the tail of `slot` and marks the slot
  /// occupied.
  #[inline]
  pub(crate) fn append(&mut self, slot: usize, entries: &mut [Entry], list: List) {
    debug_assert!(!list.is_empty());
    self.slots[slot].append(entries, list);
    self.occupied |= 1 << slot;
  }

  /// Unlinks entry `index`, which must be in `slot`; clears the slot's bit if it became empty.
  #[inline]
  pub(crate) fn unlink(&mut self, slot: usize, entries: &mut [Entry], index: u32) {
    let list = &mut self.slots[slot];
    list.unlink(entries, index);
    if list.is_empty() {
      self.occupied &= !(1 << slot);
    }
  }

  /// The first occupied slot at or after `from` (no wrap-around), or `None` if there is none.
  /// `from` must be below [`SLOTS`].
  #[inline]
  pub(crate) const fn next_occupied(&self, from: usize) -> Option<usize> {
    debug_assert!(from < SLOTS);
    let candidates = self.occupied & (u64::MAX << from);
    if candidates == 0 {
      None
    } else {
      Some(candidates.trailing_zeros() as usize)
    }
  }

  /// Takes the whole list of `slot` (leaving it empty) and clears its bit.
  #[inline]
  pub(crate) fn take(&mut self, slot: usize) -> List {
    self.occupied &= !(1 << slot);
    self.slots[slot].take()
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::entry::Slab;

  #[test]
  fn occupancy_tracks_slots() {
    let mut slab = Slab::new();
    slab.get_or_grow(3);
    let es = slab.entries_mut();
    let mut level = Level::new();
    assert!(level.is_empty());
    assert_eq!(level.next_occupied(0), None);
    for (slot, index) in [(5, 0), (5, 1), (63, 2), (0, 3)] {
      let one = List::single(es, index);
      level.append(slot, es, one);
    }
    assert_eq!(level.occupied(), 1 | 1 << 5 | 1 << 63);
    assert_eq!(level.next_occupied(0), Some(0));
    assert_eq!(level.next_occupied(1), Some(5));
    assert_eq!(level.next_occupied(5), Some(5));
    assert_eq!(level.next_occupied(6), Some(63));
    assert_eq!(level.next_occupied(63), Some(63));
    level.unlink(5, es, 0);
    assert_eq!(
      level.occupied(),
      1 | 1 << 5 | 1 << 63,
      "slot 5 still holds entry 1"
    );
    assert_eq!(level.slot(5).head, 1);
    level.unlink(5, es, 1);
    assert_eq!(level.next_occupied(1), Some(63));
    let taken = level.take(63);
    assert_eq!((taken.head, taken.tail), (2, 2));
    assert_eq!(level.next_occupied(1), None);
    assert!(level.slot(63).is_empty());
    level.unlink(0, es, 3);
    assert!(level.is_empty());
  }
}
