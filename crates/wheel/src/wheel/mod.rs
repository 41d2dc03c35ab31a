//! The hierarchical timing wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels:
//! Data Structures for the Efficient Implementation of a Timer Facility", 1987), laid out like
//! tokio's `runtime/time/wheel` and Linux's `kernel/time/timer.c`.
//!
//! # Ground rules
//!
//! Time is a `u64` tick count. `elapsed` is the tick up to which the wheel has been processed;
//! it never decreases. Every armed timer (an *entry*, see [`crate::entry`]) is in exactly one
//! FIFO place:
//!
//! - `when <= elapsed`: the **due list**, timers already due and not yet handed out by
//!   [`Wheel::poll`].
//! - `when > elapsed`: **level** `L = msb((elapsed ^ when) | (SLOTS - 1)) / SLOT_BITS`, **slot**
//!   `(when >> (L * SLOT_BITS)) & (SLOTS - 1)`. In words: `L` is the highest base-256 digit in
//!   which `when` and `elapsed` differ (at least 0). `when` and `elapsed` agree on every digit
//!   above `L` and `when`'s digit `L` (the slot) is *strictly greater* than `elapsed`'s, so every
//!   occupied slot of a level starts after `elapsed`. Each slot is a list, and a slot of level
//!   0 (one tick wide) also has an *array* of indices (see `level::Level0`), for the timers a
//!   cascade moves into it: a cascade into level 0 happens only at the start of a 256-tick block,
//!   before any timer is armed into that block, so the array's timers precede the list's.
//!   Expiring the slot reads the array's entries in order, reads independent of each other that
//!   the CPU overlaps, where walking a list waits for each link in turn: at a million timers due
//!   in 100 ms most of those reads miss the cache. Timers armed or moved into level 0 go to the
//!   lists, where removing one is O(1) and leaves nothing behind; removing a timer from an
//!   array leaves a tombstone at its position until the slot expires or empties.
//!
//! # Why level and slot need not be stored
//!
//! `elapsed` only advances in [`Wheel::poll`], and only up to the start of the earliest occupied
//! slot (over all levels) before that slot is *cascaded*: taken whole and its entries re-placed
//! with the rule above, which puts them in a lower level or the due list. While `elapsed` moves
//! within the stretch before a slot's start, the highest digit in which it differs from any
//! `when` in that slot stays the same, so the rule keeps giving the same level and slot. Hence
//! an entry's position is always a function of (`elapsed`, `when`) and is recomputed to unlink
//! it in [`Wheel::cancel`] or when it is moved by [`Wheel::arm`]: an entry is 16 bytes.
//!
//! # FIFO among equal deadlines
//!
//! Since the position is a function of (`elapsed`, `when`), timers with the same `when` are
//! always in the *same* place, whichever level they were armed into. Arming appends at the
//! tail; a cascade takes a list whole and re-appends its entries in list order, so all entries
//! with one `when` land, in unchanged relative order, in one place again. (Into a list it moves
//! each run of consecutive entries with equal `when` as one piece, relinking only the run's
//! ends: a storm of timers armed for one deadline moves as a block.) A slot at level 0 is one
//! tick wide: expiring it emits exactly its timers, the array's in order, then the list's in
//! order. A poll first emits the due list, whose deadlines are all `<= elapsed`, then takes
//! the slots that start by `now` in increasing start order: a level-0 slot is emitted; a
//! higher one is cascaded, and the entries it puts in the due list (those with `when` equal to
//! its start, in list order) are emitted before the next slot. So timers come out in order of
//! `when`, and among equal `when` in the order they were last armed or moved. A timer armed
//! with `when <= elapsed` (late: the wheel thread's clock may be ahead of the time the
//! JavaScript thread armed it at) goes straight to the due list, which the next poll emits in
//! order of `when` too: late timers usually arrive in order, and when one does not, the due
//! list is marked unsorted and the poll sorts it (stably) before emitting. So a poll emits
//! every timer with `when <= now` in order of `when`, FIFO among equal `when`, however late
//! each was armed.
//!
//! # Levels
//!
//! [`LEVELS`] levels of [`SLOTS`] slots span `256^6 = 2^48` ticks, more than [`MAX_TICK`]
//! (`2^47 - 1`); deadlines above [`MAX_TICK`] are saturated to it.
//!
//! | level | slot width (ticks) | level span (ticks) | span at 1/8 ms ticks |
//! |------:|-------------------:|-------------------:|---------------------:|
//! | 0     | 1                  | 2^8                | 32 ms                |
//! | 1     | 2^8                | 2^16               | 8.2 s                |
//! | 2     | 2^16               | 2^24               | 35 min               |
//! | 3     | 2^24               | 2^32               | 6.2 days             |
//! | 4     | 2^32               | 2^40               | 4.4 years            |
//! | 5     | 2^40               | 2^48               | 1,100 years          |
//!
//! A level has 256 slots, where tokio's and the TypeScript engine's have 64: every cascade
//! reads and relinks each timer it moves (at a million timers, a cache miss each), and with
//! level 1 spanning 8 s a timer due within a few seconds, as request deadlines and retries
//! are, cascades at most once on its way to level 0. The price is a slot bitmap of four words
//! per level, searched a word at a time.
//!
//! # Cost
//!
//! [`Wheel::arm`] and [`Wheel::cancel`] are O(1) and never allocate except to grow the entry
//! slab to a new largest index (amortized). [`Wheel::next_expiration`] is O(1): a bitmap of
//! non-empty levels and each level's slot bitmap (four words) are searched with `trailing_zeros`.
//! [`Wheel::poll`] is O(timers expired + slots cascaded + level-0 tombstones dropped); each
//! timer cascades at most `LEVELS - 1` times over its life (a cascade reads each entry's `when`
//! and link, and writes only at the ends of runs of equal `when`, or, into level 0, each
//! entry's position). A level-0 array holds one position per timer cascaded into its slot at
//! the start of the current block, and once emptied keeps at most `level::KEEP_CAPACITY`
//! (1,024) positions' worth of memory, so a storm's is given back as soon as it has expired.

mod level;

use core::fmt;

use crate::constants::{GEN_MASK, MAX_TICK};
use crate::entry::{Entry, List, Slab, IN_ARRAY, NIL};
use level::{Level, Level0};

/// Bits of a tick that select a slot within one level (see *Levels* above for why 8).
pub const SLOT_BITS: u32 = 8;
/// Slots per level.
pub const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels: enough for `SLOT_BITS * LEVELS` to cover every deadline tick.
pub const LEVELS: usize = 6;

/// Mask of a slot number within a level.
const SLOT_MASK: u64 = SLOTS as u64 - 1;

// The non-empty-levels bitmap is a `u32`, and the top level's block mask must fit a `u64`.
const _: () = assert!(LEVELS <= 32 && (LEVELS as u32) * SLOT_BITS < u64::BITS);
// Every deadline fits the wheel: the top level spans more than MAX_TICK.
const _: () = assert!(MAX_TICK < 1 << ((LEVELS as u32) * SLOT_BITS));

/// A timer's identity: the caller-chosen index plus the generation it was armed with.
///
/// The index selects the storage (`0..=MAX_INDEX`), the generation (`0..=GEN_MASK`) tells one
/// arming of an index from another: [`Wheel::poll`] emits both, so the caller can tell the
/// expiry of an arming it has since replaced from that of the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId {
  /// Storage index, `0..=MAX_INDEX`.
  pub index: u32,
  /// Generation, `0..=GEN_MASK`.
  pub generation: u32,
}

impl TimerId {
  /// `TimerId { index, generation }`.
  #[inline]
  pub const fn new(index: u32, generation: u32) -> Self {
    TimerId { index, generation }
  }
}

/// A hierarchical timing wheel of timers identified by [`TimerId`].
///
/// See the [module documentation](self) for the invariants.
pub struct Wheel {
  /// The tick up to which the wheel has been processed.
  elapsed: u64,
  /// Number of armed timers (linked entries).
  len: usize,
  /// Bit `L` set iff level `L` has an occupied slot.
  occupied_levels: u32,
  /// Timers with `when <= elapsed`: in order of `when` (FIFO among equal) unless
  /// `due_unsorted`.
  due: List,
  /// Set when a late arm put a timer behind one with a later `when`; cleared by sorting.
  due_unsorted: bool,
  /// The slot lists of every level.
  levels: Box<[Level; LEVELS]>,
  /// Level 0's arrays, next to its lists: the timers cascaded into level 0.
  level0: Box<Level0>,
  entries: Slab,
}

impl fmt::Debug for Wheel {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("Wheel")
      .field("elapsed", &self.elapsed)
      .field("len", &self.len)
      .field("next_expiration", &self.next_expiration())
      .field("slab_len", &self.entries.len())
      .finish()
  }
}

/// Level of a deadline `when > elapsed`.
#[inline]
fn level_for(elapsed: u64, when: u64) -> usize {
  let differing = (elapsed ^ when) | SLOT_MASK;
  let msb = u64::BITS - 1 - differing.leading_zeros();
  (msb / SLOT_BITS) as usize
}

/// Slot of `when` at `level`.
#[inline]
fn slot_for(when: u64, level: usize) -> usize {
  ((when >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize
}

impl Wheel {
  /// An empty wheel whose `elapsed` is `start`.
  pub fn new(start: u64) -> Self {
    Wheel {
      elapsed: start,
      len: 0,
      occupied_levels: 0,
      due: List::EMPTY,
      due_unsorted: false,
      levels: Box::new([const { Level::new() }; LEVELS]),
      level0: Box::new(Level0::new()),
      entries: Slab::new(),
    }
  }

  /// The tick up to which the wheel has been processed: the largest of `start` and every `now`
  /// passed to [`poll`](Self::poll) so far. Never decreases; only `poll` changes it.
  #[inline]
  pub fn elapsed(&self) -> u64 {
    self.elapsed
  }

  /// Number of armed timers (armed and neither cancelled nor emitted yet).
  #[inline]
  pub fn len(&self) -> usize {
    self.len
  }

  /// `true` iff no timer is armed (`len() == 0`).
  #[inline]
  pub fn is_empty(&self) -> bool {
    self.len == 0
  }

  /// `true` iff `index` is armed, with whatever generation. Never panics, whatever the index.
  #[inline]
  pub fn is_armed(&self, index: u32) -> bool {
    self.entries.get(index).is_some_and(Entry::is_linked)
  }

  /// The deadline of `index` if it is armed (as passed to [`arm`](Self::arm), saturated to
  /// [`MAX_TICK`]; even if it is now `<= elapsed()`), `None` if it is not armed.
  #[inline]
  pub fn when(&self, index: u32) -> Option<u64> {
    self.entries.get(index).filter(|e| e.is_linked()).map(Entry::when)
  }

  /// The generation `index` is armed with, `None` if it is not armed.
  #[inline]
  pub fn generation(&self, index: u32) -> Option<u32> {
    self
      .entries
      .get(index)
      .filter(|e| e.is_linked())
      .map(Entry::generation)
  }

  /// Arms timer `id.index` with generation `id.generation` to expire at tick `when`
  /// (saturated to [`MAX_TICK`]).
  ///
  /// If the index is already armed (with any generation) it is *moved*: the old deadline and
  /// generation are replaced and it goes to the back of the line for its new deadline, exactly
  /// as if it had been cancelled and armed anew. `len()` grows by one only if it was not armed.
  ///
  /// If `when <= elapsed()` the timer is due at once: the next [`poll`](Self::poll), whatever
  /// its `now`, emits it, in order of `when` among the timers due (FIFO among equal `when`).
  ///
  /// O(1); allocates only to grow the storage to a new largest index. (A late timer armed
  /// out of deadline order costs the next poll a sort of the due list.)
  ///
  /// # Panics
  /// If `id.index > MAX_INDEX` or `id.generation > GEN_MASK` (programming errors: the caller
  /// validates ids).
  pub fn arm(&mut self, id: TimerId, when: u64) {
    // (`get_or_grow` panics on an index above MAX_INDEX.)
    assert!(
      id.generation <= GEN_MASK,
      "timer generation {} exceeds GEN_MASK ({GEN_MASK})",
      id.generation
    );
    let when = when.min(MAX_TICK);
    if self.entries.get_or_grow(id.index).is_linked() {
      self.unlink(id.index);
    } else {
      self.len += 1;
    }
    let entries = self.entries.entries_mut();
    entries[id.index as usize].when_gen = Entry::pack(when, id.generation);
    // A late arm (a cascade appends in increasing `when`, so only an arm can) may land behind
    // a due timer with a later deadline.
    if when <= self.elapsed && self.due.tail != NIL && entries[self.due.tail as usize].when() > when {
      self.due_unsorted = true;
    }
    self.insert(id.index, when);
  }

  /// Cancels timer `index`, whatever generation it is armed with (in a slot, or due and not yet
  /// emitted): unlinks it and returns `true`. Otherwise (not armed: never, or already cancelled
  /// or emitted; index out of range) changes nothing and returns `false`, so a second cancel
  /// returns `false`. O(1). Like [`arm`](Self::arm), it acts on the index: a caller that must
  /// not touch a newer arming checks [`generation`](Self::generation) first. (The command ring
  /// needs no such check: at a CANCEL's place in the ring, its slot holds the arming that
  /// JavaScript is stopping, or none.)
  pub fn cancel(&mut self, index: u32) -> bool {
    match self.entries.get(index) {
      Some(e) if e.is_linked() => {
        self.unlink(index);
        self.len -= 1;
        true
      }
      _ => false,
    }
  }

  /// The tick at which the wheel next has work: `Some(elapsed())` if a timer is due already;
  /// otherwise the start tick of the earliest occupied slot, which is `> elapsed()` and at or
  /// before the earliest deadline (equal to it when that timer sits in level 0); `None` iff no
  /// timer is armed.
  ///
  /// Polling at the returned tick either emits timers or cascades a slot, so a caller that
  /// sleeps until this tick and polls, repeatedly, emits every timer on time. With any number
  /// of far-future timers it is one far tick plus at most one wake-up per level, so an idle
  /// wheel costs no CPU. O(1); does not change the wheel.
  #[inline]
  pub fn next_expiration(&self) -> Option<u64> {
    if !self.due.is_empty() {
      return Some(self.elapsed);
    }
    self.next_slot().map(|(_, _, start)| start)
  }

  /// The earliest occupied slot as (level, slot, start tick), ignoring the due list.
  ///
  /// The lowest non-empty level has it: its occupied slots lie inside `elapsed`'s block at
  /// the next level up, i.e. before any occupied slot of the higher levels.
  #[inline]
  fn next_slot(&self) -> Option<(usize, usize, u64)> {
    if self.occupied_levels == 0 {
      return None;
    }
    let level = self.occupied_levels.trailing_zeros() as usize;
    let shift = level as u32 * SLOT_BITS;
    let occupied = if level == 0 {
      self.levels[0].occupied().union(self.level0.occupied())
    } else {
      *self.levels[level].occupied()
    };
    let from = slot_for(self.elapsed, level);
    debug_assert!(
      (0..from).all(|s| !occupied.contains(s)),
      "level {level} has a slot before elapsed's slot {from}"
    );
    let slot = occupied.first_from(from)?;
    let block = (1u64 << (shift + SLOT_BITS)) - 1;
    Some((level, slot, (self.elapsed & !block) + ((slot as u64) << shift)))
  }

  /// Expires every armed timer with `when <= max(now, elapsed())` and calls `emit` with each
  /// one's id, in order of deadline and FIFO among equal deadlines (the order of their last
  /// arming), including timers armed late, with `when <= elapsed()`. Each timer is unlinked
  /// (not armed, `len()` already reduced) before `emit` sees it, so its index may be re-armed
  /// right after. Then `elapsed()` is `max(elapsed(), now)`.
  ///
  /// `now < elapsed()` is allowed: it emits only the timers already due and leaves `elapsed()`
  /// alone. A repeated `poll` with the same `now` emits only timers armed in between with
  /// `when <= now`. Cost: O(timers emitted + slots cascaded), plus O(d log d) for the d timers
  /// due when late arms came out of deadline order (a stable sort, linear on sorted runs), plus
  /// the level-0 tombstones it drops.
  pub fn poll(&mut self, now: u64, mut emit: impl FnMut(TimerId)) {
    // The due list first: its deadlines are `<= elapsed`, before any slot's start.
    self.sort_due();
    self.emit_due(&mut emit);
    // Then every slot that starts at or before `now`, in start order. A level-0 slot's live
    // entries all have `when == start`: they are emitted in array order. A higher slot is
    // cascaded: its entries with `when == start` go to the (now empty) due list, in order,
    // and are emitted; the rest go lower.
    while let Some((level, slot, start)) = self.next_slot() {
      if start > now {
        break;
      }
      debug_assert!(start > self.elapsed);
      self.elapsed = start;
      if level == 0 {
        // The slot's array (timers cascaded in at the start of this 256-tick block), then its
        // list (timers armed into it since).
        let len = &mut self.len;
        let entries = self.entries.entries_mut();
        self.level0.drain(slot, entries, |index, e| {
          *len -= 1;
          emit(TimerId {
            index,
            generation: e.generation(),
          });
        });
        // (The due list is empty here: it was emitted before this slot.)
        let list = self.levels[0].take(slot);
        self.due.append(entries, list);
        self.update_level_bit(0);
        self.emit_due(&mut emit);
        continue;
      }
      let mut list = self.levels[level].take(slot);
      self.update_level_bit(level);
      // Entries with equal deadlines go to the same list, so each run of consecutive equal
      // deadlines moves as one piece, in order (timers armed for one deadline in one go are
      // one run): only its ends are relinked.
      while let Some((run, when)) = list.pop_run_front(self.entries.entries_mut(), Entry::when) {
        self.cascade_run(run, when);
      }
      self.emit_due(&mut emit);
    }
    if now > self.elapsed {
      self.elapsed = now;
    }
  }

  /// Emits and unlinks the whole due list, in list order.
  #[inline]
  fn emit_due(&mut self, emit: &mut impl FnMut(TimerId)) {
    let entries = self.entries.entries_mut();
    while let Some(index) = self.due.pop_front(entries) {
      self.len -= 1;
      emit(TimerId {
        index,
        generation: entries[index as usize].generation(),
      });
    }
  }

  /// Disarms every timer and calls `emit` with each one's id and deadline, in the order
  /// [`poll`](Self::poll) would expire them: by deadline, FIFO among equal deadlines (timers
  /// already due first, as their deadlines are the earliest). `elapsed()` does not change, so
  /// the wheel stays usable. For moving every timer to another wheel (a virtual clock);
  /// O(n log n).
  pub fn take_all(&mut self, mut emit: impl FnMut(TimerId, u64)) {
    // Every slot list joins the due list and one stable sort by deadline orders the lot:
    // equal deadlines share one slot list, so list order keeps FIFO among them, and the
    // timers already due have the earliest deadlines.
    let entries = self.entries.entries_mut();
    // Level 0's arrays first: in each slot they come before its list (which the loop below
    // takes with the other levels' lists), and the sort keeps that order.
    let mut live = Vec::new();
    for slot in 0..SLOTS {
      self.level0.drain(slot, entries, |index, _| live.push(index));
    }
    for index in live {
      self.due.push_back(entries, index);
    }
    for level in self.levels.iter_mut() {
      for slot in 0..SLOTS {
        let mut list = level.take(slot);
        while let Some(index) = list.pop_front(entries) {
          self.due.push_back(entries, index);
        }
      }
    }
    self.occupied_levels = 0;
    self.len = 0;
    self.due_unsorted = true;
    self.sort_due();
    let entries = self.entries.entries_mut();
    while let Some(index) = self.due.pop_front(entries) {
      let e = &entries[index as usize];
      emit(
        TimerId {
          index,
          generation: e.generation(),
        },
        e.when(),
      );
    }
  }

  /// Puts the due list back in order of `when` (stable, so FIFO among equal `when`) if a late
  /// arm disturbed it. Relinks the entries in place: nothing is armed or disarmed.
  fn sort_due(&mut self) {
    if !self.due_unsorted {
      return;
    }
    self.due_unsorted = false;
    let entries = self.entries.entries_mut();
    let mut order = Vec::new();
    while let Some(index) = self.due.pop_front(entries) {
      order.push(index);
    }
    order.sort_by_key(|&index| entries[index as usize].when());
    for index in order {
      self.due.push_back(entries, index);
    }
  }

  /// Links unlinked entry `index` (deadline `when`) at the tail of the list the rules give.
  #[inline]
  fn insert(&mut self, index: u32, when: u64) {
    let one = List::single(self.entries.entries_mut(), index);
    self.insert_run(one, when);
  }

  /// Appends `run`, a non-empty list of its own whose entries all have deadline `when`, at the
  /// tail of the list (`elapsed`, `when`) place them in. For an arm or a move.
  #[inline]
  fn insert_run(&mut self, run: List, when: u64) {
    self.place_run(run, when, false);
  }

  /// [`insert_run`](Self::insert_run) for a run taken from a slot being cascaded: into level 0
  /// its entries go to the end of the slot's array instead, in order (a cascade into level 0
  /// happens only at the start of a 256-tick block, before any timer is armed into that block's
  /// slots, so the array's timers come before the slot list's).
  #[inline]
  fn cascade_run(&mut self, run: List, when: u64) {
    self.place_run(run, when, true);
  }

  /// Places `run` (see [`insert_run`](Self::insert_run)); into level 0, in the slot's array
  /// if `cascaded`, else in its list. Always inlined, so that each caller gets the branch it
  /// takes and an arm's path stays what it was before the arrays.
  #[inline(always)]
  fn place_run(&mut self, run: List, when: u64, cascaded: bool) {
    let entries = self.entries.entries_mut();
    if when <= self.elapsed {
      self.due.append(entries, run);
      return;
    }
    let level = level_for(self.elapsed, when);
    debug_assert!(level < LEVELS);
    self.occupied_levels |= 1 << level;
    let slot = slot_for(when, level);
    if level > 0 || !cascaded {
      self.levels[level].append(slot, entries, run);
      return;
    }
    let mut index = run.head;
    loop {
      let next = entries[index as usize].next;
      self.level0.push(slot, entries, index);
      if index == run.tail {
        break;
      }
      index = next;
    }
  }

  /// Unlinks linked entry `index` from the list (or level-0 array) its (`elapsed`, `when`)
  /// place it in.
  #[inline]
  fn unlink(&mut self, index: u32) {
    let entries = self.entries.entries_mut();
    let when = entries[index as usize].when();
    if when <= self.elapsed {
      self.due.unlink(entries, index);
    } else {
      if entries[index as usize].prev == IN_ARRAY {
        self.unlink_from_array(index, when);
        return;
      }
      let level = level_for(self.elapsed, when);
      self.levels[level].unlink(slot_for(when, level), entries, index);
      self.update_level_bit(level);
    }
  }

  /// Clears `level`'s bit in the non-empty-levels bitmap if the level holds no timer (at level
  /// 0: in neither its lists nor its arrays).
  #[inline]
  fn update_level_bit(&mut self, level: usize) {
    if self.levels[level].is_empty() && (level > 0 || self.level0.is_empty()) {
      self.occupied_levels &= !(1 << level);
    }
  }

  /// [`unlink`](Self::unlink) of an entry held in a level-0 array (deadline `when`): a timer
  /// cascaded into level 0 and cancelled or moved within its last 256 ticks, which is rare.
  #[cold]
  #[inline(never)]
  fn unlink_from_array(&mut self, index: u32, when: u64) {
    self
      .level0
      .remove(slot_for(when, 0), self.entries.entries_mut(), index);
    self.update_level_bit(0);
  }

  /// Checks every invariant of the structure by walking all lists and level-0 arrays:
  /// O(slots + armed timers + level-0 positions).
  /// For tests; returns a description of the first violation found.
  #[doc(hidden)]
  pub fn check_invariants(&self) -> Result<(), String> {
    let entries = self.entries.entries();
    let mut count = 0usize;
    let mut walk = |list: &List, place: &dyn Fn(u64) -> bool, name: &str| -> Result<(), String> {
      let mut prev = NIL;
      let mut cur = list.head;
      while cur != NIL {
        let e = entries
          .get(cur as usize)
          .ok_or_else(|| format!("{name}: index {cur} out of bounds"))?;
        if e.prev != prev {
          return Err(format!(
            "{name}: entry {cur} has prev {} instead of {prev}",
            e.prev
          ));
        }
        if !place(e.when()) {
          return Err(format!(
            "{name}: entry {cur} with when {} misplaced (elapsed {})",
            e.when(),
            self.elapsed
          ));
        }
        count += 1;
        if count > entries.len() {
          return Err(format!("{name}: cycle"));
        }
        prev = cur;
        cur = e.next;
      }
      if list.tail != prev {
        return Err(format!("{name}: tail {} instead of {prev}", list.tail));
      }
      Ok(())
    };
    let elapsed = self.elapsed;
    walk(&self.due, &|when| when <= elapsed, "due list")?;
    if !self.due_unsorted {
      let entries = self.entries.entries();
      let mut cur = self.due.head;
      let mut last = 0;
      while cur != NIL {
        let when = entries[cur as usize].when();
        if when < last {
          return Err(format!("due list: when {when} after {last}, not marked unsorted"));
        }
        last = when;
        cur = entries[cur as usize].next;
      }
    }
    let mut live_total = 0usize;
    // Level 0's arrays: every position is a tombstone (NIL) or an entry that says IN_ARRAY,
    // this position, a deadline in this slot; an array with no live position is empty.
    if (self.level0.is_empty() && self.levels[0].is_empty()) == (self.occupied_levels & 1 != 0) {
      return Err("level 0: non-empty-levels bit wrong".into());
    }
    for s in 0..SLOTS {
      let array = self.level0.array(s);
      let mut live = 0u32;
      for (pos, &index) in array.iter().enumerate() {
        if index == NIL {
          continue;
        }
        let e = entries
          .get(index as usize)
          .ok_or_else(|| format!("level 0 slot {s}: index {index} out of bounds"))?;
        if e.prev != IN_ARRAY || e.next != pos as u32 || slot_for(e.when(), 0) != s {
          return Err(format!(
            "level 0 slot {s}: position {pos} holds entry {index}, which says prev {} next {} when {}",
            e.prev,
            e.next,
            e.when()
          ));
        }
        if !(e.when() > elapsed && level_for(elapsed, e.when()) == 0) {
          return Err(format!(
            "level 0 slot {s}: entry {index} with when {} misplaced (elapsed {elapsed})",
            e.when()
          ));
        }
        live += 1;
      }
      if live != self.level0.live(s) {
        return Err(format!(
          "level 0 slot {s}: {live} live positions, counted {}",
          self.level0.live(s)
        ));
      }
      if (live == 0) != array.is_empty() || (live == 0) == self.level0.occupied().contains(s) {
        return Err(format!("level 0 slot {s}: occupancy bit or emptiness wrong"));
      }
      live_total += live as usize;
    }
    // Every entry that says IN_ARRAY is at its position of its slot's array.
    for (index, e) in entries.iter().enumerate() {
      if e.prev == IN_ARRAY
        && self.level0.array(slot_for(e.when(), 0)).get(e.next as usize) != Some(&(index as u32))
      {
        return Err(format!(
          "entry {index} says level 0 position {} but is not there",
          e.next
        ));
      }
    }
    for (l, lvl) in self.levels.iter().enumerate() {
      if l > 0 && lvl.is_empty() == (self.occupied_levels & (1 << l) != 0) {
        return Err(format!("level {l}: non-empty-levels bit wrong"));
      }
      for s in 0..SLOTS {
        let list = lvl.slot(s);
        if list.is_empty() == lvl.occupied().contains(s) {
          return Err(format!("level {l} slot {s}: occupancy bit wrong"));
        }
        let place = |when: u64| when > elapsed && level_for(elapsed, when) == l && slot_for(when, l) == s;
        walk(list, &place, &format!("level {l} slot {s}"))?;
      }
    }
    if self.occupied_levels >> LEVELS != 0 {
      return Err("non-empty-levels bits above LEVELS".into());
    }
    let linked = entries.iter().filter(|e| e.is_linked()).count();
    let count = count + live_total;
    if count != self.len || linked != self.len {
      return Err(format!(
        "len {} but {count} entries in lists and {linked} linked",
        self.len
      ));
    }
    Ok(())
  }
}
