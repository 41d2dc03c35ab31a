//! One level of the wheel: [`SLOTS`] FIFO lists and an occupancy bitmap ([`Level`]);
//! level 0 also has [`SLOTS`] index arrays ([`Level0`]).

use super::SLOTS;
use crate::entry::{Entry, List, IN_ARRAY, NIL, UNLINKED};

/// A level's occupancy bitmap: bit `s` is set iff slot `s` is occupied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bitmap([u64; SLOTS / 64]);

const _: () = assert!(SLOTS % 64 == 0);

impl Bitmap {
  /// No bit set.
  pub(crate) const EMPTY: Bitmap = Bitmap([0; SLOTS / 64]);

  /// `true` iff no bit is set.
  #[inline]
  pub(crate) fn is_empty(&self) -> bool {
    self.0.iter().all(|&word| word == 0)
  }

  /// Whether bit `slot` is set.
  #[inline]
  pub(crate) fn contains(&self, slot: usize) -> bool {
    self.0[slot / 64] & (1 << (slot % 64)) != 0
  }

  /// Sets bit `slot`.
  #[inline]
  pub(crate) fn insert(&mut self, slot: usize) {
    self.0[slot / 64] |= 1 << (slot % 64);
  }

  /// Clears bit `slot`.
  #[inline]
  pub(crate) fn remove(&mut self, slot: usize) {
    self.0[slot / 64] &= !(1 << (slot % 64));
  }

  /// The bits set in either.
  #[inline]
  pub(crate) fn union(mut self, other: &Bitmap) -> Bitmap {
    for (word, other) in self.0.iter_mut().zip(other.0) {
      *word |= other;
    }
    self
  }

  /// The first set bit at or after `from` (no wrap-around), or `None` if there is none.
  /// `from` must be below [`SLOTS`].
  #[inline]
  pub(crate) fn first_from(&self, from: usize) -> Option<usize> {
    debug_assert!(from < SLOTS);
    let mut word = from / 64;
    let mut candidates = self.0[word] & (u64::MAX << (from % 64));
    loop {
      if candidates != 0 {
        return Some(word * 64 + candidates.trailing_zeros() as usize);
      }
      word += 1;
      if word == self.0.len() {
        return None;
      }
      candidates = self.0[word];
    }
  }
}

/// One level: slot `s` holds the timers whose deadline falls in the `s`-th `256^level`-tick
/// stretch of the current `256^(level+1)`-tick block. Bit `s` of `occupied` is set iff slot `s`
/// is non-empty.
#[derive(Clone, Debug)]
pub(crate) struct Level {
  occupied: Bitmap,
  slots: [List; SLOTS],
}

impl Level {
  /// A level with all slots empty.
  pub(crate) const fn new() -> Self {
    Level {
      occupied: Bitmap::EMPTY,
      slots: [List::EMPTY; SLOTS],
    }
  }

  /// `true` iff every slot is empty.
  #[inline]
  pub(crate) fn is_empty(&self) -> bool {
    self.occupied.is_empty()
  }

  /// The occupancy bitmap (bit `s` set iff slot `s` is non-empty).
  #[inline]
  pub(crate) const fn occupied(&self) -> &Bitmap {
    &self.occupied
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
    self.occupied.insert(slot);
  }

  /// Unlinks entry `index`, which must be in `slot`; clears the slot's bit if it became empty.
  #[inline]
  pub(crate) fn unlink(&mut self, slot: usize, entries: &mut [Entry], index: u32) {
    let list = &mut self.slots[slot];
    list.unlink(entries, index);
    if list.is_empty() {
      self.occupied.remove(slot);
    }
  }

  /// Takes the whole list of `slot` (leaving it empty) and clears its bit.
  #[inline]
  pub(crate) fn take(&mut self, slot: usize) -> List {
    self.occupied.remove(slot);
    self.slots[slot].take()
  }
}

/// Level 0's arrays: slot `s` holds, as an array of their indices in order, the timers that
/// the cascade at the start of the current 256-tick block moved into level 0 with a deadline at
/// the block's `s`-th tick (timers armed or moved into level 0 later go to the slot's list).
///
/// An entry held here has `prev == IN_ARRAY` and `next` = its position in its slot's array.
/// Removing it (cancel, or a move elsewhere) writes a tombstone ([`NIL`]) at its position;
/// tombstones are dropped when the slot expires, or all at once when the slot's last live
/// entry is removed.
///
/// Why arrays: expiring a slot reads its entries in array order, and those reads are
/// independent of each other, so the CPU fetches many at once; walking a list fetches one
/// entry at a time, each link read waiting for the previous.
#[derive(Clone, Debug)]
pub(crate) struct Level0 {
  occupied: Bitmap,
  /// Live entries per slot (positions that are not tombstones).
  live: [u32; SLOTS],
  slots: [Vec<u32>; SLOTS],
}

/// Capacity, in positions, that a level-0 array keeps at most once emptied (4 KiB, so at most
/// 1 MiB for the level): a slot that held a storm's timers gives their memory back as soon as
/// it has expired, and a steady load re-grows its arrays at the cost of copying 4-byte indices
/// (a slot is one tick, 1/8 ms: 1,024 positions are eight million timers due a second).
pub(crate) const KEEP_CAPACITY: usize = 1024;

impl Level0 {
  /// Level 0 with all slots empty (no allocation).
  pub(crate) const fn new() -> Self {
    Level0 {
      occupied: Bitmap::EMPTY,
      live: [0; SLOTS],
      slots: [const { Vec::new() }; SLOTS],
    }
  }

  /// `true` iff no slot holds a live entry.
  #[inline]
  pub(crate) fn is_empty(&self) -> bool {
    self.occupied.is_empty()
  }

  /// The occupancy bitmap (bit `s` set iff slot `s` holds a live entry).
  #[inline]
  pub(crate) const fn occupied(&self) -> &Bitmap {
    &self.occupied
  }

  /// Number of live entries in `slot`.
  #[inline]
  pub(crate) fn live(&self, slot: usize) -> u32 {
    self.live[slot]
  }

  /// The array of `slot`, tombstones included (read only).
  #[inline]
  pub(crate) fn array(&self, slot: usize) -> &[u32] {
    &self.slots[slot]
  }

  /// Places entry `index` at the end of `slot`'s array and marks the slot occupied. The entry
  /// must be in no list and no array (it may be a list of its own, or a run's member: its
  /// links are overwritten).
  #[inline]
  pub(crate) fn push(&mut self, slot: usize, entries: &mut [Entry], index: u32) {
    let array = &mut self.slots[slot];
    let e = &mut entries[index as usize];
    debug_assert!(array.len() < IN_ARRAY as usize);
    e.prev = IN_ARRAY;
    e.next = array.len() as u32;
    array.push(index);
    self.live[slot] += 1;
    self.occupied.insert(slot);
  }

  /// Removes live entry `index`, which must be in `slot`, and marks it unlinked; its position
  /// becomes a tombstone ([`NIL`]). When the slot has no live entry left its array is emptied
  /// and its bit cleared.
  #[inline]
  pub(crate) fn remove(&mut self, slot: usize, entries: &mut [Entry], index: u32) {
    let e = &mut entries[index as usize];
    debug_assert!(e.prev == IN_ARRAY && self.slots[slot].get(e.next as usize) == Some(&index));
    self.slots[slot][e.next as usize] = NIL;
    e.prev = UNLINKED;
    e.next = NIL;
    self.live[slot] -= 1;
    if self.live[slot] == 0 {
      self.occupied.remove(slot);
      Self::empty(&mut self.slots[slot]);
    }
  }

  /// Empties `slot`: calls `each` with every live entry's index in order, after marking the
  /// entry unlinked, then clears the array (tombstones included) and the slot's bit.
  #[inline]
  pub(crate) fn drain(&mut self, slot: usize, entries: &mut [Entry], mut each: impl FnMut(u32, &Entry)) {
    let array = &mut self.slots[slot];
    for &index in array.iter() {
      if index == NIL {
        continue; // removed
      }
      let e = &mut entries[index as usize];
      debug_assert!(e.prev == IN_ARRAY && (e.when() & (SLOTS as u64 - 1)) as usize == slot);
      e.prev = UNLINKED;
      e.next = NIL;
      each(index, e);
    }
    self.live[slot] = 0;
    self.occupied.remove(slot);
    Self::empty(array);
  }

  /// Clears `array`, keeping at most [`KEEP_CAPACITY`] positions of capacity.
  #[inline]
  fn empty(array: &mut Vec<u32>) {
    array.clear();
    if array.capacity() > KEEP_CAPACITY {
      array.shrink_to(KEEP_CAPACITY);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::entry::Slab;

  /// A bitmap with `slots` set.
  fn bits(slots: &[usize]) -> Bitmap {
    let mut b = Bitmap::EMPTY;
    for &slot in slots {
      b.insert(slot);
    }
    b
  }

  #[test]
  fn bitmap_finds_the_first_set_bit_from_a_slot_across_words() {
    let last = SLOTS - 1;
    let b = bits(&[3, 64, last]);
    assert_eq!(b.first_from(0), Some(3));
    assert_eq!(b.first_from(3), Some(3));
    assert_eq!(b.first_from(4), Some(64));
    assert_eq!(b.first_from(64), Some(64));
    assert_eq!(b.first_from(65), Some(last));
    assert_eq!(b.first_from(last), Some(last));
    assert_eq!(bits(&[3]).first_from(4), None);
    assert!(b.contains(64) && !b.contains(63) && !b.contains(65));
    assert_eq!(b.union(&bits(&[7])), bits(&[3, 7, 64, last]));
    let mut c = b;
    for slot in [3, 64, last] {
      assert!(!c.is_empty());
      c.remove(slot);
    }
    assert!(c.is_empty());
    assert_eq!(c, Bitmap::EMPTY);
  }

  #[test]
  fn occupancy_tracks_slots() {
    let mut slab = Slab::new();
    slab.get_or_grow(3);
    let es = slab.entries_mut();
    let mut level = Level::new();
    assert!(level.is_empty());
    assert_eq!(level.occupied().first_from(0), None);
    for (slot, index) in [(5, 0), (5, 1), (63, 2), (0, 3)] {
      let one = List::single(es, index);
      level.append(slot, es, one);
    }
    assert_eq!(level.occupied(), &bits(&[0, 5, 63]));
    assert_eq!(level.occupied().first_from(0), Some(0));
    assert_eq!(level.occupied().first_from(1), Some(5));
    assert_eq!(level.occupied().first_from(5), Some(5));
    assert_eq!(level.occupied().first_from(6), Some(63));
    assert_eq!(level.occupied().first_from(63), Some(63));
    level.unlink(5, es, 0);
    assert_eq!(level.occupied(), &bits(&[0, 5, 63]), "slot 5 still holds entry 1");
    assert_eq!(level.slot(5).head, 1);
    level.unlink(5, es, 1);
    assert_eq!(level.occupied().first_from(1), Some(63));
    let taken = level.take(63);
    assert_eq!((taken.head, taken.tail), (2, 2));
    assert_eq!(level.occupied().first_from(1), None);
    assert!(level.slot(63).is_empty());
    level.unlink(0, es, 3);
    assert!(level.is_empty());
  }

  /// Entry `index` with deadline `when` (generation 1), unlinked.
  fn set_when(es: &mut [Entry], index: u32, when: u64) {
    es[index as usize] = Entry {
      when_gen: Entry::pack(when, 1),
      ..Entry::UNARMED
    };
  }

  fn drained(level: &mut Level0, slot: usize, es: &mut [Entry]) -> Vec<u32> {
    let mut got = Vec::new();
    level.drain(slot, es, |index, e| {
      assert!(!e.is_linked());
      got.push(index);
    });
    got
  }

  #[test]
  fn level0_removals_leave_tombstones_that_are_skipped_and_dropped() {
    let mut slab = Slab::new();
    slab.get_or_grow(4);
    let es = slab.entries_mut();
    let mut level = Level0::new();
    // 0, 1, 2 due at tick 5 (slot 5), 3 at tick 9 (slot 9).
    for index in 0..3 {
      set_when(es, index, 5);
      level.push(5, es, index);
    }
    set_when(es, 3, 9);
    level.push(9, es, 3);
    assert_eq!(level.occupied(), &bits(&[5, 9]));
    assert_eq!((es[1].prev, es[1].next), (IN_ARRAY, 1));
    // Cancel 1: a tombstone at its position, the slot stays occupied.
    level.remove(5, es, 1);
    assert!(!es[1].is_linked());
    assert_eq!(level.live(5), 2);
    assert_eq!(level.array(5), &[0, NIL, 2]);
    // Move 0 to slot 9 (position 1 there), then back to slot 5 (position 3).
    level.remove(5, es, 0);
    set_when(es, 0, 9);
    level.push(9, es, 0);
    level.remove(9, es, 0);
    set_when(es, 0, 5);
    level.push(5, es, 0);
    assert_eq!(level.array(5), &[NIL, NIL, 2, 0]);
    assert_eq!(level.array(9), &[3, NIL]);
    // Slot 5 yields its live entries in the order they were placed: 2, then 0 (moved last).
    assert_eq!(drained(&mut level, 5, es), vec![2, 0]);
    assert!(level.array(5).is_empty());
    assert_eq!(level.occupied(), &bits(&[9]));
    assert_eq!(drained(&mut level, 9, es), vec![3]);
    assert!(level.is_empty());
  }

  #[test]
  fn level0_slot_with_no_live_entry_is_emptied() {
    let mut slab = Slab::new();
    slab.get_or_grow(1);
    let es = slab.entries_mut();
    let mut level = Level0::new();
    set_when(es, 0, 7);
    set_when(es, 1, 7);
    level.push(7, es, 0);
    level.push(7, es, 1);
    level.remove(7, es, 0);
    assert_eq!(level.occupied(), &bits(&[7]));
    level.remove(7, es, 1);
    assert!(level.is_empty());
    assert!(
      level.array(7).is_empty(),
      "the stale positions went with the last live one"
    );
    // A new placement starts at position 0 again.
    level.push(7, es, 1);
    assert_eq!((es[1].prev, es[1].next), (IN_ARRAY, 0));
  }

  #[test]
  fn level0_gives_back_a_storms_memory() {
    let n = 4 * KEEP_CAPACITY as u32;
    let mut slab = Slab::new();
    slab.get_or_grow(n - 1);
    let es = slab.entries_mut();
    let mut level = Level0::new();
    for index in 0..n {
      set_when(es, index, 3);
      level.push(3, es, index);
    }
    assert!(level.slots[3].capacity() >= n as usize);
    assert_eq!(drained(&mut level, 3, es).len(), n as usize);
    let kept = level.slots[3].capacity();
    assert!(kept <= KEEP_CAPACITY, "emptied: {kept} positions kept");
    // Emptied by removals instead: the same.
    for index in 0..n {
      level.push(3, es, index);
    }
    for index in 0..n {
      level.remove(3, es, index);
    }
    assert!(level.is_empty());
    assert!(level.slots[3].capacity() <= KEEP_CAPACITY);
  }
}
