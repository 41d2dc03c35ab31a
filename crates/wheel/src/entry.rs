//! Entry storage and the intrusive FIFO lists threaded through it.
//!
//! Every timer index owns one [`Entry`] in a [`Slab`]: a plain `Vec<Entry>` indexed by the
//! caller-chosen `u32` index, grown on demand to the largest index seen. Lists ([`List`]) are
//! only a head and a tail index; the links live in the entries themselves (`next`, `prev`), so
//! linking, unlinking and moving a timer never allocates.
//!
//! Link conventions:
//! - [`NIL`] ends a list: the head's `prev` and the tail's `next` are [`NIL`], and an empty
//!   list has `head == tail == NIL`.
//! - [`UNLINKED`] in `prev` marks an entry that is in no list (not armed). Its `next` is
//!   [`NIL`] then, and its `when_gen` is stale.
//!
//! - [`IN_ARRAY`] in `prev` marks an entry held in a level-0 slot's index array instead of a
//!   list; its `next` is then its position in that array (see [`crate::wheel`]).
//!
//! The sentinels are above [`MAX_INDEX`], so they never collide with a real index.

use crate::constants::{GEN_BITS, GEN_MASK, MAX_INDEX, MAX_TICK};

/// Link value ending a list: `prev` of a head, `next` of a tail, `head`/`tail` of an empty list.
pub const NIL: u32 = u32::MAX;

/// Value of `prev` marking an entry that is in no list (its timer is not armed).
pub const UNLINKED: u32 = u32::MAX - 1;

/// Value of `prev` marking an entry held in a level-0 slot's index array rather than in a
/// list: its `next` is then its position in that array (see [`crate::wheel`]).
pub const IN_ARRAY: u32 = u32::MAX - 2;

// The sentinels must never be valid indices, nor equal to each other.
const _: () = assert!(
  NIL > MAX_INDEX
    && UNLINKED > MAX_INDEX
    && IN_ARRAY > MAX_INDEX
    && NIL != UNLINKED
    && IN_ARRAY != NIL
    && IN_ARRAY != UNLINKED
);

/// The per-index record: deadline, generation and list links, exactly 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Entry {
  /// `when << GEN_BITS | generation`: the deadline tick (at most [`MAX_TICK`]) in the high
  /// [`crate::constants::TICK_BITS`] bits, the generation in the low [`GEN_BITS`] bits.
  /// Meaningful only while the entry is linked.
  pub when_gen: u64,
  /// The next entry in the same list, or [`NIL`] at the tail (and when unlinked).
  pub next: u32,
  /// The previous entry in the same list, [`NIL`] at the head, [`UNLINKED`] when in no list.
  pub prev: u32,
}

impl Entry {
  /// An entry in no list, with deadline 0 and generation 0.
  pub const UNARMED: Entry = Entry {
    when_gen: 0,
    next: NIL,
    prev: UNLINKED,
  };

  /// Packs a deadline and a generation into a `when_gen` word.
  ///
  /// `when` must be at most [`MAX_TICK`] and `generation` at most [`GEN_MASK`]
  /// (checked by `debug_assert!`; in release, extra bits would corrupt the other field).
  #[inline]
  pub const fn pack(when: u64, generation: u32) -> u64 {
    debug_assert!(when <= MAX_TICK && generation <= GEN_MASK);
    (when << GEN_BITS) | generation as u64
  }

  /// The deadline tick stored in `when_gen`.
  #[inline]
  pub const fn when(&self) -> u64 {
    self.when_gen >> GEN_BITS
  }

  /// The generation stored in `when_gen`.
  #[inline]
  pub const fn generation(&self) -> u32 {
    (self.when_gen & GEN_MASK as u64) as u32
  }

  /// `true` iff the entry is in some list (slot or due list), i.e. its timer is armed.
  #[inline]
  pub const fn is_linked(&self) -> bool {
    self.prev != UNLINKED
  }
}

/// Entries indexed by timer index, grown on demand to the largest index seen.
///
/// Growth goes through `Vec::resize`, which at least doubles the capacity when it reallocates,
/// so it is amortized O(1) per index; nothing is ever freed until the slab is dropped.
#[derive(Clone, Debug, Default)]
pub struct Slab {
  entries: Vec<Entry>,
}

impl Slab {
  /// An empty slab (no allocation).
  pub const fn new() -> Self {
    Slab { entries: Vec::new() }
  }

  /// Number of indices with storage: one more than the largest index grown to, 0 if none.
  #[inline]
  pub fn len(&self) -> usize {
    self.entries.len()
  }

  /// `true` iff no index has storage yet.
  #[inline]
  pub fn is_empty(&self) -> bool {
    self.entries.is_empty()
  }

  /// The entry of `index`, or `None` if the slab never grew that far (then the index is
  /// certainly not armed). Never panics, whatever the index.
  #[inline]
  pub fn get(&self, index: u32) -> Option<&Entry> {
    self.entries.get(index as usize)
  }

  /// The entry of `index`, growing the slab with [`Entry::UNARMED`] entries if needed.
  ///
  /// # Panics
  /// If `index > MAX_INDEX` (a programming error: the caller validates indices).
  #[inline]
  pub fn get_or_grow(&mut self, index: u32) -> &mut Entry {
    assert!(
      index <= MAX_INDEX,
      "timer index {index} exceeds MAX_INDEX ({MAX_INDEX})"
    );
    let i = index as usize;
    if i >= self.entries.len() {
      self.grow(i);
    }
    &mut self.entries[i]
  }

  #[cold]
  #[inline(never)]
  fn grow(&mut self, i: usize) {
    self.entries.resize(i + 1, Entry::UNARMED);
  }

  /// All entries, for the list operations.
  #[inline]
  pub fn entries(&self) -> &[Entry] {
    &self.entries
  }

  /// All entries, mutably, for the list operations.
  #[inline]
  pub fn entries_mut(&mut self) -> &mut [Entry] {
    &mut self.entries
  }
}

/// A doubly linked FIFO list of entries: just the head and tail indices ([`NIL`] when empty).
///
/// The operations take the entry storage as a separate argument, so a list can live anywhere
/// (a wheel slot, the due list, a local variable) without borrowing the storage. Every index
/// passed in or linked must be in bounds of `entries`; otherwise the operations panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct List {
  /// First entry (the oldest), or [`NIL`].
  pub head: u32,
  /// Last entry (the newest), or [`NIL`].
  pub tail: u32,
}

impl Default for List {
  fn default() -> Self {
    List::EMPTY
  }
}

impl List {
  /// The empty list.
  pub const EMPTY: List = List { head: NIL, tail: NIL };

  /// `true` iff the list has no entries.
  #[inline]
  pub const fn is_empty(&self) -> bool {
    self.head == NIL
  }

  /// Unlinked entry `index` as a list of its own, to [`append`](List::append) somewhere. O(1).
  ///
  /// The entry must not be in any list (checked by `debug_assert!`).
  #[inline]
  pub fn single(entries: &mut [Entry], index: u32) -> List {
    let e = &mut entries[index as usize];
    debug_assert!(!e.is_linked(), "a linked entry made a list of its own");
    e.prev = NIL;
    e.next = NIL;
    List {
      head: index,
      tail: index,
    }
  }

  /// Appends unlinked entry `index` at the tail. O(1).
  ///
  /// The entry must not be in any list (checked by `debug_assert!`).
  #[inline]
  pub fn push_back(&mut self, entries: &mut [Entry], index: u32) {
    let one = List::single(entries, index);
    self.append(entries, one);
  }

  /// Removes entry `index`, which must be in *this* list, and marks it unlinked
  /// (`prev = UNLINKED`, `next = NIL`). O(1).
  #[inline]
  pub fn unlink(&mut self, entries: &mut [Entry], index: u32) {
    let Entry { prev, next, .. } = entries[index as usize];
    debug_assert!(prev != UNLINKED, "unlink of an unlinked entry");
    if prev == NIL {
      debug_assert_eq!(self.head, index, "entry is not in this list");
      self.head = next;
    } else {
      entries[prev as usize].next = next;
    }
    if next == NIL {
      debug_assert_eq!(self.tail, index, "entry is not in this list");
      self.tail = prev;
    } else {
      entries[next as usize].prev = prev;
    }
    let e = &mut entries[index as usize];
    e.prev = UNLINKED;
    e.next = NIL;
  }

  /// Removes the head, marks it unlinked and returns its index; `None` if the list is empty
  /// (then nothing changes). Repeated calls drain the list in FIFO order.
  #[inline]
  pub fn pop_front(&mut self, entries: &mut [Entry]) -> Option<u32> {
    let index = self.head;
    if index == NIL {
      return None;
    }
    let next = entries[index as usize].next;
    self.head = next;
    if next == NIL {
      self.tail = NIL;
    } else {
      entries[next as usize].prev = NIL;
    }
    let e = &mut entries[index as usize];
    e.prev = UNLINKED;
    e.next = NIL;
    Some(index)
  }

  /// Takes the whole list, leaving this one empty. O(1): the entries stay linked to each
  /// other and now belong to the returned list (drain it with [`List::pop_front`]).
  #[inline]
  pub fn take(&mut self) -> List {
    core::mem::replace(self, List::EMPTY)
  }

  /// Removes the longest run of entries at the front whose `key` equals the head's and returns
  /// it, as a list of its own (its entries still linked to each other, in order), with that
  /// key; `None` if the list is empty (then nothing changes). O(length of the run): only the
  /// run's two ends are relinked.
  #[inline]
  pub fn pop_run_front<K: PartialEq>(
    &mut self,
    entries: &mut [Entry],
    key: impl Fn(&Entry) -> K,
  ) -> Option<(List, K)> {
    let first = self.head;
    if first == NIL {
      return None;
    }
    let k = key(&entries[first as usize]);
    let mut last = first;
    let mut next = entries[first as usize].next;
    while next != NIL && key(&entries[next as usize]) == k {
      last = next;
      next = entries[next as usize].next;
    }
    self.head = next;
    if next == NIL {
      self.tail = NIL;
    } else {
      entries[next as usize].prev = NIL;
    }
    entries[last as usize].next = NIL;
    Some((
      List {
        head: first,
        tail: last,
      },
      k,
    ))
  }

  /// Appends every entry of `other`, a list of its own (as [`List::take`] and
  /// [`List::pop_run_front`] return), at the tail, in order. O(1).
  #[inline]
  pub fn append(&mut self, entries: &mut [Entry], other: List) {
    if other.is_empty() {
      return;
    }
    debug_assert_eq!(
      entries[other.head as usize].prev, NIL,
      "append of a list that is not its own"
    );
    debug_assert_eq!(
      entries[other.tail as usize].next, NIL,
      "append of a list that is not its own"
    );
    if self.tail == NIL {
      self.head = other.head;
    } else {
      entries[self.tail as usize].next = other.head;
      entries[other.head as usize].prev = self.tail;
    }
    self.tail = other.tail;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn entry_is_16_bytes() {
    assert_eq!(core::mem::size_of::<Entry>(), 16);
    assert_eq!(core::mem::align_of::<Entry>(), 8);
  }

  #[test]
  fn pack_roundtrip_extremes() {
    for &(when, generation) in &[
      (0, 0),
      (MAX_TICK, GEN_MASK),
      (MAX_TICK, 0),
      (0, GEN_MASK),
      (12345, 678),
    ] {
      let e = Entry {
        when_gen: Entry::pack(when, generation),
        ..Entry::UNARMED
      };
      assert_eq!((e.when(), e.generation()), (when, generation));
    }
  }

  fn collect(list: &List, entries: &[Entry]) -> Vec<u32> {
    // Walk forward and check the backward links agree.
    let mut out = Vec::new();
    let mut prev = NIL;
    let mut cur = list.head;
    while cur != NIL {
      assert_eq!(entries[cur as usize].prev, prev);
      out.push(cur);
      prev = cur;
      cur = entries[cur as usize].next;
    }
    assert_eq!(list.tail, prev);
    out
  }

  #[test]
  fn list_push_unlink_pop_take() {
    let mut slab = Slab::new();
    slab.get_or_grow(9);
    assert_eq!(slab.len(), 10);
    let es = slab.entries_mut();
    let mut l = List::EMPTY;
    assert!(l.is_empty());
    for i in [3, 1, 4, 5, 9] {
      l.push_back(es, i);
    }
    assert_eq!(collect(&l, es), [3, 1, 4, 5, 9]);
    l.unlink(es, 4); // middle
    assert_eq!(collect(&l, es), [3, 1, 5, 9]);
    l.unlink(es, 3); // head
    l.unlink(es, 9); // tail
    assert_eq!(collect(&l, es), [1, 5]);
    assert!(!es[3].is_linked() && !es[4].is_linked() && !es[9].is_linked());
    l.push_back(es, 3);
    let mut taken = l.take();
    assert!(l.is_empty());
    assert_eq!(collect(&taken, es), [1, 5, 3]);
    assert_eq!(taken.pop_front(es), Some(1));
    assert_eq!(taken.pop_front(es), Some(5));
    assert_eq!(collect(&taken, es), [3]);
    assert_eq!(taken.pop_front(es), Some(3));
    assert_eq!(taken.pop_front(es), None);
    assert_eq!(taken, List::EMPTY);
    assert!(es.iter().all(|e| !e.is_linked() && e.next == NIL));
  }

  #[test]
  fn list_pop_run_front_and_append() {
    let mut slab = Slab::new();
    slab.get_or_grow(9);
    let es = slab.entries_mut();
    for (i, e) in es.iter_mut().enumerate() {
      // Keys 7, 7, 7, 8, 7, 9, 9, ... by index: runs [0 1 2] [3] [4] [5 6 7 8 9].
      let key = [7, 7, 7, 8, 7, 9, 9, 9, 9, 9][i];
      e.when_gen = Entry::pack(key, 0);
    }
    let mut l = List::EMPTY;
    for i in 0..10 {
      l.push_back(es, i);
    }
    let mut runs = Vec::new();
    let mut joined = List::EMPTY;
    while let Some((run, key)) = l.pop_run_front(es, Entry::when) {
      runs.push((collect(&run, es), key));
      collect(&l, es); // the rest stays a well-formed list
      joined.append(es, run);
    }
    assert_eq!(
      runs,
      [
        (vec![0, 1, 2], 7),
        (vec![3], 8),
        (vec![4], 7),
        (vec![5, 6, 7, 8, 9], 9)
      ]
    );
    assert!(l.is_empty());
    assert_eq!(collect(&joined, es), (0..10).collect::<Vec<_>>());
    joined.append(es, List::EMPTY);
    assert_eq!(collect(&joined, es), (0..10).collect::<Vec<_>>());
    let mut empty = List::EMPTY;
    assert_eq!(empty.pop_run_front(es, Entry::when), None);
  }

  #[test]
  fn slab_get_never_panics() {
    let mut slab = Slab::new();
    assert!(slab.get(0).is_none() && slab.get(u32::MAX).is_none());
    slab.get_or_grow(MAX_INDEX.min(1000));
    assert!(slab.get(1000).is_some() && slab.get(1001).is_none());
  }

  #[test]
  #[should_panic(expected = "exceeds MAX_INDEX")]
  fn slab_rejects_index_above_max() {
    Slab::new().get_or_grow(MAX_INDEX + 1);
  }
}
