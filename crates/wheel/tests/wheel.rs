//! Unit tests of the wheel through its public API.

use afterfunc_wheel::constants::{GEN_MASK, MAX_INDEX, MAX_TICK};
use afterfunc_wheel::wheel::{LEVELS, SLOTS, SLOT_BITS};
use afterfunc_wheel::{TimerId, Wheel};

fn id(index: u32) -> TimerId {
  TimerId::new(index, index & GEN_MASK)
}

/// Polls and returns the emitted indices, checking each id's generation and the structure.
fn poll(w: &mut Wheel, now: u64) -> Vec<u32> {
  let limit = w.len();
  let mut out = Vec::new();
  w.poll(now, |t| {
    out.push(t.index);
    assert!(out.len() <= limit, "emitted more than the {limit} armed timers");
  });
  w.check_invariants().unwrap();
  out
}

/// Like a wheel thread: sleeps until `next_expiration`, polls there, and records
/// (index, tick of the poll that emitted it), up to `until`. Returns also the wake-up count.
fn run_until(w: &mut Wheel, until: u64) -> (Vec<(u32, u64)>, usize) {
  let mut out = Vec::new();
  let mut wakeups = 0;
  while let Some(t) = w.next_expiration() {
    if t > until {
      break;
    }
    assert!(
      t >= w.elapsed(),
      "next_expiration {t} before elapsed {}",
      w.elapsed()
    );
    wakeups += 1;
    let limit = out.len() + w.len();
    w.poll(t, |id| {
      out.push((id.index, t));
      assert!(out.len() <= limit, "emitted more than the armed timers");
    });
    w.check_invariants().unwrap();
  }
  w.poll(until, |id| out.push((id.index, until)));
  (out, wakeups)
}

#[test]
fn fifo_for_equal_deadlines_same_list() {
  let mut w = Wheel::new(0);
  for i in 0..10 {
    w.arm(id(i), 40);
  }
  assert_eq!(poll(&mut w, 39), Vec::<u32>::new());
  assert_eq!(poll(&mut w, 40), (0..10).collect::<Vec<_>>());
  assert!(w.is_empty());
}

#[test]
fn runs_of_equal_deadlines_cascade_whole_and_stay_cancellable() {
  // Level 2 from tick 0: runs of 4 at `when`, 3 at `when + 1`, 4 at `when`, 2 at `when + 70`
  // (a different level-1 slot), cascaded by two polls before they are due. Mirrors the
  // TypeScript wheel's test of the same name.
  let width = |level: u32| 1u64 << (level * SLOT_BITS);
  let when = 5 * width(2) + 3 * width(1) + 2;
  let offsets = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 70, 70];
  let mut w = Wheel::new(0);
  for (i, d) in offsets.iter().enumerate() {
    w.arm(id(i as u32), when + d);
  }
  // The level-2 slot cascades to level 1.
  assert_eq!(poll(&mut w, 5 * width(2)), Vec::<u32>::new());
  // Cancel a run's first entry, one in the middle, a run's last entry, one of a run of two.
  for i in [0, 5, 10, 12] {
    assert!(w.cancel(i));
  }
  w.check_invariants().unwrap();
  assert_eq!(poll(&mut w, when - 1), Vec::<u32>::new()); // to level 0
  assert!(w.cancel(8)); // inside a run after its second move
  w.check_invariants().unwrap();
  assert_eq!(poll(&mut w, when), [1, 2, 3, 7, 9]);
  assert_eq!(poll(&mut w, when + 1), [4, 6]);
  w.arm(id(13), when + 70);
  assert_eq!(poll(&mut w, MAX_TICK), [11, 13]);
  assert!(w.is_empty());
}

#[test]
fn fifo_for_equal_deadlines_across_levels() {
  // A is armed far ahead (level 2), the wheel advances past a cascade, then B is armed with
  // the same deadline straight into level 0: A must still run first.
  let mut w = Wheel::new(0);
  w.arm(id(1), 5000);
  assert_eq!(poll(&mut w, 4990), Vec::<u32>::new());
  w.arm(id(2), 5000);
  // Another with the same deadline armed from an intermediate level.
  let mut w2 = Wheel::new(0);
  w2.arm(id(1), 300_000);
  assert_eq!(poll(&mut w2, 262_144 + 1), Vec::<u32>::new());
  w2.arm(id(2), 300_000);
  assert_eq!(poll(&mut w2, 299_000), Vec::<u32>::new());
  w2.arm(id(3), 300_000);
  assert_eq!(poll(&mut w, 5000), [1, 2]);
  assert_eq!(poll(&mut w2, 1 << 40), [1, 2, 3]);

  // Without polling in between: the first is placed high, the wheel jumps to the deadline.
  let mut w3 = Wheel::new(7);
  w3.arm(id(1), 1 << 30);
  w3.arm(id(2), 1 << 30);
  assert_eq!(poll(&mut w3, (1 << 30) - 1), Vec::<u32>::new());
  w3.arm(id(3), 1 << 30);
  assert_eq!(poll(&mut w3, u64::MAX), [1, 2, 3]);
}

#[test]
fn moved_timer_goes_behind_equal_deadlines() {
  let mut w = Wheel::new(0);
  w.arm(id(1), 9000);
  w.arm(id(2), 9000);
  w.arm(id(3), 9000);
  w.arm(id(1), 9000); // move to the back
  assert_eq!(poll(&mut w, 8000), Vec::<u32>::new());
  w.arm(id(2), 9000); // move after a cascade
  assert_eq!(poll(&mut w, 9000), [3, 1, 2]);
}

#[test]
fn earlier_deadline_first_across_levels() {
  let mut w = Wheel::new(100);
  let deadlines: Vec<u64> = vec![
    MAX_TICK,
    1 << 43,
    1 << 36,
    5 << 30,
    1 << 24,
    70_000,
    4097,
    4096,
    4095,
    200,
    164,
    163,
    101,
    100,
    3,
  ];
  for (i, &d) in deadlines.iter().enumerate() {
    w.arm(id(i as u32), d);
  }
  assert_eq!(w.len(), deadlines.len());
  let (out, _) = run_until(&mut w, u64::MAX);
  // Past deadlines (100, 3) are due at once; all come out in deadline order, the past ones
  // too (3 before 100, though armed after it).
  let mut expected: Vec<(u64, usize)> = deadlines.iter().enumerate().map(|(i, &d)| (d, i)).collect();
  expected.sort();
  let got: Vec<u32> = out.iter().map(|&(i, _)| i).collect();
  let want: Vec<u32> = expected.iter().map(|&(_, i)| i as u32).collect();
  assert_eq!(got, want);
  for &(i, t) in &out {
    assert_eq!(
      t,
      deadlines[i as usize].max(100),
      "timer {i} emitted at the wrong tick"
    );
  }
}

#[test]
fn slot_and_level_boundaries_fire_exactly() {
  for start in [0u64, 1, 63, 64, 4095, 12_345, (1 << 32) - 3] {
    let mut w = Wheel::new(start);
    let mut deadlines = Vec::new();
    for l in 0..LEVELS as u32 {
      let span = 1u64 << (l * SLOT_BITS);
      for d in [
        span - 1,
        span,
        span + 1,
        SLOTS as u64 * span - 1,
        SLOTS as u64 * span,
      ] {
        deadlines.push(start + d);
      }
    }
    deadlines.sort();
    deadlines.dedup();
    for (i, &d) in deadlines.iter().enumerate() {
      w.arm(id(i as u32), d);
    }
    let (out, wakeups) = run_until(&mut w, u64::MAX);
    assert_eq!(out.len(), deadlines.len());
    for (k, &(i, t)) in out.iter().enumerate() {
      assert_eq!(i as usize, k, "start {start}: order");
      assert_eq!(
        t,
        deadlines[k].min(MAX_TICK).max(start),
        "start {start}: timer {i} fired at {t}"
      );
    }
    assert!(wakeups <= deadlines.len() * LEVELS);
  }
}

#[test]
fn cancel_returns_true_once() {
  let mut w = Wheel::new(0);
  let a = TimerId::new(5, 77);
  w.arm(a, 1 << 20);
  assert_eq!(w.len(), 1);
  assert!(!w.cancel(6), "an index never armed");
  assert!(!w.cancel(u32::MAX), "index out of range");
  assert!(w.is_armed(5));
  assert!(w.cancel(5));
  assert!(!w.cancel(5), "second cancel");
  assert!(!w.is_armed(5));
  assert_eq!(w.when(5), None);
  assert_eq!(w.len(), 0);
  assert_eq!(w.next_expiration(), None);
  assert_eq!(poll(&mut w, u64::MAX), Vec::<u32>::new());
  // Cancel after the timer was emitted.
  w.arm(a, u64::MAX);
  assert_eq!(poll(&mut w, u64::MAX), [5]);
  assert!(!w.cancel(5));
}

#[test]
fn cancel_acts_on_the_index_whatever_the_generation() {
  let mut w = Wheel::new(0);
  w.arm(TimerId::new(3, 1), 100);
  w.arm(TimerId::new(3, 2), 200); // a move: generation 2 replaces 1
  assert_eq!(w.generation(3), Some(2));
  assert!(w.cancel(3));
  assert_eq!(w.generation(3), None);
  assert_eq!(poll(&mut w, u64::MAX), Vec::<u32>::new());
}

#[test]
fn cancel_keeps_other_timers_in_order() {
  let mut w = Wheel::new(0);
  for i in 0..6 {
    w.arm(id(i), 300);
  }
  assert!(w.cancel(0) && w.cancel(3) && w.cancel(5));
  assert_eq!(w.len(), 3);
  assert_eq!(poll(&mut w, 300), [1, 2, 4]);
}

#[test]
fn arm_of_armed_index_moves_it() {
  let mut w = Wheel::new(0);
  w.arm(TimerId::new(3, 1), 100);
  w.arm(TimerId::new(3, 2), 50_000);
  assert_eq!(w.len(), 1);
  assert_eq!(w.when(3), Some(50_000));
  assert_eq!(w.generation(3), Some(2));
  assert_eq!(poll(&mut w, 49_999), Vec::<u32>::new());
  w.arm(TimerId::new(3, 3), 10); // move into the past
  assert_eq!(w.len(), 1);
  let mut got = Vec::new();
  w.poll(49_999, |t| got.push(t));
  assert_eq!(got, [TimerId::new(3, 3)]);
  assert_eq!(
    poll(&mut w, u64::MAX),
    Vec::<u32>::new(),
    "moved timer must not fire twice"
  );
}

#[test]
fn past_deadline_is_due_on_next_poll() {
  let mut w = Wheel::new(1000);
  w.arm(id(1), 1000); // == elapsed
  w.arm(id(2), 5); // < elapsed
  w.arm(id(3), 1001);
  assert_eq!(w.next_expiration(), Some(1000));
  assert_eq!(w.when(2), Some(5));
  // A poll with now < elapsed expires only the due list and keeps elapsed; in deadline
  // order, though 2 (due at 5) was armed after 1 (due at 1000).
  assert_eq!(poll(&mut w, 0), [2, 1]);
  assert_eq!(w.elapsed(), 1000);
  assert_eq!(w.next_expiration(), Some(1001));
  assert_eq!(poll(&mut w, 1000), Vec::<u32>::new());
  assert_eq!(poll(&mut w, 1001), [3]);
  // Due timers come before timers cascaded in the same poll.
  w.arm(id(4), 2000);
  w.arm(id(5), 0);
  assert_eq!(poll(&mut w, 5000), [5, 4]);
}

#[test]
fn cancel_from_due_list() {
  let mut w = Wheel::new(500);
  w.arm(id(1), 400);
  w.arm(id(2), 500);
  w.arm(id(3), 10);
  assert!(w.cancel(2));
  assert!(!w.cancel(2));
  assert_eq!(w.len(), 2);
  w.check_invariants().unwrap();
  // In deadline order: 3 (due at 10) before 1 (due at 400).
  assert_eq!(poll(&mut w, 500), [3, 1]);
  w.arm(id(1), 0);
  assert!(w.cancel(1));
  assert_eq!(w.next_expiration(), None);
  assert_eq!(poll(&mut w, 10_000), Vec::<u32>::new());
  // Head and tail of the due list, with when == elapsed (the boundary between due list and
  // level 0), and a timer cascaded to elapsed then moved back to the same tick.
  for i in 4..8 {
    w.arm(id(i), 10_000);
  }
  assert!(w.cancel(4) && w.cancel(7));
  w.check_invariants().unwrap();
  assert_eq!(w.next_expiration(), Some(10_000));
  assert_eq!(poll(&mut w, 10_000), [5, 6]);
  w.arm(id(8), 10_000);
  assert!(w.cancel(8));
  assert_eq!(w.next_expiration(), None);
  w.check_invariants().unwrap();
}

#[test]
fn max_tick_saturation() {
  let mut w = Wheel::new(0);
  w.arm(id(1), u64::MAX);
  w.arm(id(2), MAX_TICK + 1);
  w.arm(id(3), MAX_TICK);
  assert_eq!(w.when(1), Some(MAX_TICK));
  assert_eq!(w.when(2), Some(MAX_TICK));
  let next = w.next_expiration().unwrap();
  assert!(next > 0 && next <= MAX_TICK);
  assert_eq!(poll(&mut w, MAX_TICK - 1), Vec::<u32>::new());
  assert_eq!(w.next_expiration(), Some(MAX_TICK));
  assert_eq!(poll(&mut w, MAX_TICK), [1, 2, 3]);
  assert_eq!(w.elapsed(), MAX_TICK);
}

#[test]
fn near_and_beyond_max_tick() {
  let mut w = Wheel::new(MAX_TICK - 100);
  w.arm(id(1), MAX_TICK);
  w.arm(id(2), MAX_TICK - 50);
  w.arm(id(3), u64::MAX);
  let (out, _) = run_until(&mut w, MAX_TICK);
  assert_eq!(out, [(2, MAX_TICK - 50), (1, MAX_TICK), (3, MAX_TICK)]);
  // elapsed may go past MAX_TICK: every deadline is then due at once.
  assert_eq!(poll(&mut w, u64::MAX - 1), Vec::<u32>::new());
  assert_eq!(w.elapsed(), u64::MAX - 1);
  w.arm(id(4), u64::MAX);
  assert_eq!(w.next_expiration(), Some(u64::MAX - 1));
  assert_eq!(poll(&mut w, 0), [4]);

  let mut w = Wheel::new(u64::MAX);
  w.arm(id(7), 3);
  assert_eq!(poll(&mut w, u64::MAX), [7]);
}

#[test]
fn poll_beyond_u32() {
  let start = (1u64 << 32) - 10;
  let mut w = Wheel::new(start);
  let deadlines = [
    start + 5,
    1 << 32,
    (1 << 32) + 1,
    (1 << 32) + 100_000,
    1 << 33,
    (1 << 33) + 7,
  ];
  for (i, &d) in deadlines.iter().enumerate().rev() {
    w.arm(id(i as u32), d);
  }
  let (out, _) = run_until(&mut w, 1 << 34);
  let want: Vec<(u32, u64)> = deadlines
    .iter()
    .enumerate()
    .map(|(i, &d)| (i as u32, d))
    .collect();
  assert_eq!(out, want);

  // One big jump from 0 over 2^32 expires everything in order.
  let mut w = Wheel::new(0);
  for (i, &d) in deadlines.iter().enumerate().rev() {
    w.arm(id(i as u32), d);
  }
  assert_eq!(poll(&mut w, (1 << 33) + 6), [0, 1, 2, 3, 4]);
  assert_eq!(w.elapsed(), (1 << 33) + 6);
  assert_eq!(poll(&mut w, (1 << 33) + 7), [5]);
}

#[test]
fn next_expiration_empty_and_nonempty() {
  let mut w = Wheel::new(10);
  assert_eq!(w.next_expiration(), None);
  w.arm(id(1), 20);
  assert_eq!(w.next_expiration(), Some(20), "level 0 gives the exact deadline");
  w.arm(id(2), 15);
  assert_eq!(w.next_expiration(), Some(15));
  assert!(w.cancel(2) && w.cancel(1));
  assert_eq!(w.next_expiration(), None);
  // A far timer: the start of its slot, after elapsed and not after the deadline.
  w.arm(id(3), 1_000_000);
  let t = w.next_expiration().unwrap();
  assert!(t > 10 && t <= 1_000_000, "{t}");
  assert_eq!(poll(&mut w, t - 1), Vec::<u32>::new());
  assert_eq!(w.next_expiration(), Some(t), "polling before it changes nothing");
}

#[test]
fn idle_far_timers_need_few_wakeups() {
  // 10,000 timers in one far slot: the wheel wakes once per level, not per timer.
  let mut w = Wheel::new(0);
  let base = 1u64 << 40;
  for i in 0..10_000u32 {
    w.arm(id(i), base + u64::from(i % 4));
  }
  let (out, wakeups) = run_until(&mut w, u64::MAX);
  assert_eq!(out.len(), 10_000);
  assert!(wakeups <= LEVELS + 4, "{wakeups} wake-ups");
  for (k, &(i, t)) in out.iter().enumerate() {
    assert_eq!(t, base + u64::from(i % 4));
    if k > 0 {
      let (pi, pt) = out[k - 1];
      assert!((pt, pi) < (t, i), "order");
    }
  }
}

#[test]
fn accessors() {
  let mut w = Wheel::new(42);
  assert_eq!(w.elapsed(), 42);
  assert!(w.is_empty() && !w.is_armed(0) && !w.is_armed(u32::MAX));
  assert_eq!(w.when(u32::MAX), None);
  w.arm(TimerId::new(1000, GEN_MASK), 43);
  assert_eq!((w.len(), w.is_armed(1000), w.when(1000)), (1, true, Some(43)));
  assert!(!w.is_armed(999));
  let mut got = Vec::new();
  w.poll(43, |t| got.push(t));
  assert_eq!(got, [TimerId::new(1000, GEN_MASK)]);
  assert_eq!((w.len(), w.is_armed(1000), w.elapsed()), (0, false, 43));
  assert!(format!("{w:?}").contains("elapsed: 43"));
}

#[test]
#[should_panic(expected = "exceeds MAX_INDEX")]
fn arm_rejects_index_above_max() {
  Wheel::new(0).arm(TimerId::new(MAX_INDEX + 1, 0), 1);
}

#[test]
#[should_panic(expected = "exceeds GEN_MASK")]
fn arm_rejects_generation_above_mask() {
  Wheel::new(0).arm(TimerId::new(0, GEN_MASK + 1), 1);
}

#[test]
fn take_all_empties_in_poll_order_and_keeps_the_wheel_usable() {
  // Two identical wheels: one drained by take_all, the other by polling to the end.
  let mut a = Wheel::new(1000);
  let mut b = Wheel::new(1000);
  let deadlines = [
    5000u64,
    1001,
    70_000,
    1001,
    999,
    4_000_000,
    1000,
    5000,
    64u64.pow(4) + 3,
    2000,
  ];
  for (i, &when) in deadlines.iter().enumerate() {
    let id = TimerId::new(i as u32, (i * 7) as u32);
    a.arm(id, when);
    b.arm(id, when);
  }
  // Move both along, so some timers cascaded, then arm two that are due at once.
  let (mut fired_a, mut fired_b) = (Vec::new(), Vec::new());
  a.poll(3000, |id| fired_a.push(id));
  b.poll(3000, |id| fired_b.push(id));
  assert_eq!(fired_a, fired_b);
  assert_eq!(fired_a.len(), 5);
  for w in [&mut a, &mut b] {
    w.arm(TimerId::new(20, 1), 2500);
    w.arm(TimerId::new(21, 1), 10);
  }
  let deadlines: Vec<u64> = deadlines
    .iter()
    .copied()
    .chain((10..20).map(|_| 0))
    .chain([2500, 10])
    .collect();
  let mut expected = Vec::new();
  let mut taken = Vec::new();
  a.take_all(|id, when| taken.push((id, when)));
  b.poll(u64::MAX, |id| expected.push((id, b_when(&deadlines, id))));
  assert_eq!(taken, expected);
  assert_eq!(a.len(), 0);
  assert_eq!(a.elapsed(), 3000);
  assert_eq!(a.next_expiration(), None);
  a.check_invariants().unwrap();
  // Still usable: arm again, poll normally.
  a.arm(TimerId::new(3, 1), 3500);
  let mut after = Vec::new();
  a.poll(3500, |id| after.push(id.index));
  assert_eq!(after, vec![3]);

  fn b_when(deadlines: &[u64], id: TimerId) -> u64 {
    deadlines[id.index as usize]
  }
}

#[test]
fn late_arms_come_out_in_deadline_order_fifo_among_equals() {
  // The wheel thread's clock may be ahead of the JavaScript time a batch was armed at, so a
  // batch can arrive with several deadlines already past, in any order.
  let mut w = Wheel::new(1000);
  let late = [(1, 900), (2, 300), (3, 900), (4, 1000), (5, 300), (6, 50)];
  for &(i, when) in &late {
    w.arm(id(i), when);
  }
  w.arm(id(7), 1001);
  // Cancelling and moving within the unsorted due list keep the rest in order.
  assert!(w.cancel(3));
  w.arm(id(2), 300); // moved: now behind 5, its equal
  w.check_invariants().unwrap();
  assert_eq!(poll(&mut w, 1001), [6, 5, 2, 1, 4, 7]);
  w.check_invariants().unwrap();

  // take_all sees the same order.
  for &(i, when) in &late {
    w.arm(id(i), when);
  }
  let mut taken = Vec::new();
  w.take_all(|id, when| taken.push((id.index, when)));
  assert_eq!(
    taken,
    [(6, 50), (2, 300), (5, 300), (1, 900), (3, 900), (4, 1000)]
  );
  assert_eq!(w.len(), 0);

  // Many late arms in reverse order, with equal deadlines interleaved.
  let mut w = Wheel::new(1 << 20);
  for i in 0..10_000u32 {
    w.arm(id(i), u64::from(10_000 - i / 2));
  }
  let out = poll(&mut w, 1 << 20);
  let want: Vec<u32> = (0..5_000u32).rev().flat_map(|k| [2 * k, 2 * k + 1]).collect();
  assert_eq!(out, want);
}
