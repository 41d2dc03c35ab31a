//! Randomized comparison of the wheel against a simple reference model.
//!
//! The reference keeps armed timers in a `BTreeMap<(deadline, seq), (index, generation)>` plus a
//! per-index key. Its deadline is `when` (a timer armed in the past is due at once, and comes out
//! in deadline order among the due ones all the same) and `seq` grows with every arm/move, which
//! makes "FIFO among equal deadlines, a moved timer goes to the back" the map's order.
//!
//! Thousands of seeded sequences of arm / move / cancel / poll run against both, with deadlines
//! on every level up to beyond `MAX_TICK`, clock jumps over several levels, polls at the
//! wheel's own `next_expiration` (as the wheel thread does) and polls into the past. After each
//! step the emitted ids, cancel results, `len`, `is_armed`/`when` and the next expiration
//! bound must agree. On failure the seed is printed; rerun one sequence with
//! `WHEEL_SEED=<seed> cargo test -p afterfunc-wheel --release --test reference`.
//! `WHEEL_SEQUENCES=<n>` changes the number of sequences.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

use afterfunc_wheel::constants::{GEN_MASK, MAX_TICK};
use afterfunc_wheel::wheel::SLOT_BITS;
use afterfunc_wheel::{TimerId, Wheel};

/// SplitMix64 (Steele, Lea & Flood): a tiny, good-enough seeded generator.
struct Rng(u64);

impl Rng {
  fn next(&mut self) -> u64 {
    self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = self.0;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
  }
  /// Uniform in `0..n` (n > 0), slightly biased: fine for tests.
  fn below(&mut self, n: u64) -> u64 {
    self.next() % n
  }
  /// `true` with probability `num / den`.
  fn chance(&mut self, num: u64, den: u64) -> bool {
    self.below(den) < num
  }
  /// A delay whose magnitude is spread over every level: `2^bits` with `bits` uniform.
  fn spread(&mut self, max_bits: u32) -> u64 {
    let bits = self.below(u64::from(max_bits) + 1) as u32;
    if bits == 0 {
      0
    } else {
      self.next() >> (64 - bits)
    }
  }
}

/// The reference model.
#[derive(Default)]
struct Reference {
  elapsed: u64,
  seq: u64,
  timers: BTreeMap<(u64, u64), TimerId>,
  /// Per index: the map key and the deadline as requested (saturated to MAX_TICK).
  key_of: Vec<Option<((u64, u64), u64)>>,
}

impl Reference {
  fn arm(&mut self, id: TimerId, when: u64) {
    let i = id.index as usize;
    if self.key_of.len() <= i {
      self.key_of.resize(i + 1, None);
    }
    if let Some((old, _)) = self.key_of[i].take() {
      self.timers.remove(&old);
    }
    self.seq += 1;
    let when = when.min(MAX_TICK);
    let key = (when, self.seq);
    self.timers.insert(key, id);
    self.key_of[i] = Some((key, when));
  }

  fn cancel(&mut self, index: u32) -> bool {
    let Some(slot) = self.key_of.get_mut(index as usize) else {
      return false;
    };
    match slot.take() {
      Some((key, _)) => {
        self.timers.remove(&key);
        true
      }
      None => false,
    }
  }

  fn poll(&mut self, now: u64) -> Vec<TimerId> {
    // Everything up to max(now, elapsed) is due, in (deadline, seq) order, including timers
    // armed with a deadline already in the past.
    self.elapsed = self.elapsed.max(now);
    let mut out = Vec::new();
    while let Some(entry) = self.timers.first_entry() {
      if entry.key().0 > self.elapsed {
        break;
      }
      let id = entry.remove();
      self.key_of[id.index as usize] = None;
      out.push(id);
    }
    out
  }

  /// The requested deadline of an armed index.
  fn when_of(&self, index: u32) -> Option<u64> {
    self.key_of.get(index as usize).copied().flatten().map(|(_, w)| w)
  }

  /// When the earliest timer is due: its deadline, or now (`elapsed`) if that has passed.
  fn earliest(&self) -> Option<u64> {
    self.timers.keys().next().map(|&(w, _)| w.max(self.elapsed))
  }
}

/// Totals over all sequences.
#[derive(Default)]
struct Stats {
  ops: u64,
  arms: u64,
  cancels: u64,
  polls: u64,
  emitted: u64,
}

/// Shape of one sequence, drawn from its seed.
struct Profile {
  ops: usize,
  index_pool: u64,
  /// Largest delay in bits (6 = level 0 only, 48 = beyond MAX_TICK).
  max_bits: u32,
}

fn run_sequence(seed: u64, stats: &mut Stats) {
  let mut rng = Rng(seed);
  let start = match rng.below(6) {
    0 => 0,
    1 => rng.below(1 << 12),
    2 => (1u64 << 32) - rng.below(1 << 10), // crosses 2^32 soon
    3 => rng.spread(40),
    4 => MAX_TICK - rng.spread(20), // runs into MAX_TICK
    _ => rng.next() & MAX_TICK,
  };
  let profile = Profile {
    ops: 50 + rng.below(400) as usize,
    index_pool: [4u64, 16, 64, 512][rng.below(4) as usize],
    max_bits: [8u32, 14, 26, 48][rng.below(4) as usize],
  };
  let mut wheel = Wheel::new(start);
  let mut reference = Reference {
    elapsed: start,
    ..Reference::default()
  };
  // Recently used deadlines, to make equal deadlines (FIFO) common.
  let mut recent: Vec<u64> = Vec::new();
  let mut next_gen = rng.below(u64::from(GEN_MASK)) as u32;

  for step in 0..profile.ops {
    stats.ops += 1;
    let elapsed_before = reference.elapsed;
    let ctx = move || format!("seed {seed:#x}, step {step}, elapsed before the step {elapsed_before}");
    match rng.below(100) {
      // Arm or move.
      0..=49 => {
        stats.arms += 1;
        let index = if rng.chance(1, 200) {
          rng.below(1 << 16) as u32 // occasional far index: slab growth
        } else {
          rng.below(profile.index_pool) as u32
        };
        next_gen = (next_gen + 1) & GEN_MASK;
        let id = TimerId::new(index, next_gen);
        let base = reference.elapsed;
        let when = match rng.below(20) {
          0..=1 if !recent.is_empty() => recent[rng.below(recent.len() as u64) as usize],
          2 => base.saturating_sub(rng.spread(20)), // in the past
          3 => base,
          4 => u64::MAX - rng.below(3), // saturated
          5 => MAX_TICK - rng.below(3),
          _ => base.saturating_add(1 + rng.spread(profile.max_bits)),
        };
        if recent.len() < 16 {
          recent.push(when);
        } else {
          recent[rng.below(16) as usize] = when;
        }
        wheel.arm(id, when);
        reference.arm(id, when);
      }
      // Cancel: mostly an armed index, sometimes one not armed or out of the pool.
      50..=69 => {
        stats.cancels += 1;
        let index = rng.below(profile.index_pool + 2) as u32;
        let (got, want) = (wheel.cancel(index), reference.cancel(index));
        assert_eq!(got, want, "cancel({index}) ({})", ctx());
      }
      // Poll.
      _ => {
        stats.polls += 1;
        let e = reference.elapsed;
        let now = match rng.below(10) {
          // Like the wheel thread: wake at the wheel's own next expiration.
          0..=2 => wheel.next_expiration().unwrap_or(e),
          3 => e.saturating_sub(rng.spread(12)),  // into the past
          4 => e.saturating_add(rng.spread(48)),  // big jumps over several levels
          5 => reference.earliest().unwrap_or(e), // exactly at a deadline
          6 => reference.earliest().unwrap_or(e).saturating_sub(1),
          7 if rng.chance(1, 20) => u64::MAX - rng.below(2), // beyond MAX_TICK
          _ => e.saturating_add(rng.spread(profile.max_bits)),
        };
        let (got, want) = poll_both(&mut wheel, &mut reference, now);
        stats.emitted += want.len() as u64;
        assert_eq!(got, want, "poll({now}) ({})", ctx());
        assert_eq!(wheel.elapsed(), reference.elapsed, "elapsed ({})", ctx());
      }
    }

    assert_eq!(wheel.len(), reference.timers.len(), "len ({})", ctx());
    // The wheel must wake no later than the earliest deadline, and not before elapsed.
    match (wheel.next_expiration(), reference.earliest()) {
      (None, None) => {}
      (Some(next), Some(earliest)) => {
        assert!(
          next <= earliest,
          "next_expiration {next} > earliest deadline {earliest} ({})",
          ctx()
        );
        assert!(
          next >= wheel.elapsed(),
          "next_expiration {next} < elapsed ({})",
          ctx()
        );
        // Due timers are reported as due now, and only then.
        assert_eq!(
          next == wheel.elapsed(),
          earliest <= reference.elapsed,
          "due-now mismatch ({})",
          ctx()
        );
      }
      (got, want) => panic!("next_expiration {got:?}, earliest deadline {want:?} ({})", ctx()),
    }
    for index in [
      rng.below(profile.index_pool) as u32,
      rng.below(profile.index_pool) as u32,
    ] {
      let want = reference.when_of(index);
      assert_eq!(
        wheel.is_armed(index),
        want.is_some(),
        "is_armed({index}) ({})",
        ctx()
      );
      assert_eq!(wheel.when(index), want, "when({index}) ({})", ctx());
    }
    if step % 32 == 0 || step + 1 == profile.ops {
      if let Err(e) = wheel.check_invariants() {
        panic!("invariant broken: {e} ({})", ctx());
      }
    }
  }

  // Finally drain everything, as the wheel thread would, and compare once more.
  let mut guard = 0;
  while let Some(t) = wheel.next_expiration() {
    guard += 1;
    assert!(guard < 100_000, "drain does not terminate (seed {seed:#x})");
    let (got, want) = poll_both(&mut wheel, &mut reference, t);
    stats.emitted += want.len() as u64;
    assert_eq!(got, want, "drain poll({t}) (seed {seed:#x})");
  }
  assert!(
    reference.timers.is_empty(),
    "wheel empty but reference is not (seed {seed:#x})"
  );
  assert_eq!(wheel.len(), 0);
}

/// Polls both and returns (wheel's emitted ids, reference's). Panics if the wheel emits more
/// timers than are armed (a corrupted list could otherwise make the test loop forever).
fn poll_both(wheel: &mut Wheel, reference: &mut Reference, now: u64) -> (Vec<TimerId>, Vec<TimerId>) {
  let limit = reference.timers.len();
  let mut got = Vec::new();
  wheel.poll(now, |id| {
    got.push(id);
    assert!(
      got.len() <= limit,
      "poll({now}) emitted more than the {limit} armed timers"
    );
  });
  (got, reference.poll(now))
}

fn env_u64(name: &str) -> Option<u64> {
  let v = std::env::var(name).ok()?;
  let v = v.trim();
  match v.strip_prefix("0x") {
    Some(hex) => u64::from_str_radix(hex, 16).ok(),
    None => v.parse().ok(),
  }
}

#[test]
fn matches_reference_model() {
  let mut stats = Stats::default();
  let started = Instant::now();
  let seeds: Vec<u64> = if let Some(seed) = env_u64("WHEEL_SEED") {
    vec![seed]
  } else {
    let n = env_u64("WHEEL_SEQUENCES").unwrap_or(if cfg!(debug_assertions) { 2_000 } else { 10_000 });
    let mut master = Rng(0xAF7E_0F0C_2024_0001);
    (0..n).map(|_| master.next()).collect()
  };
  for &seed in &seeds {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run_sequence(seed, &mut stats))) {
      eprintln!(
        "reference comparison failed for seed {seed:#x}; reproduce with \
                 WHEEL_SEED={seed:#x} cargo test -p afterfunc-wheel --release --test reference"
      );
      resume_unwind(panic);
    }
  }
  eprintln!(
    "{} sequences, {} ops ({} arms, {} cancels, {} polls), {} timers emitted, in {:?}",
    seeds.len(),
    stats.ops,
    stats.arms,
    stats.cancels,
    stats.polls,
    stats.emitted,
    started.elapsed()
  );
  assert!(stats.emitted > 0 && stats.cancels > 0);
}

/// A long single run with many timers alive at once, like a busy process.
#[test]
fn matches_reference_model_many_live_timers() {
  let mut rng = Rng(0x5EED_0000_0000_0042);
  let mut wheel = Wheel::new(1 << 20);
  let mut reference = Reference {
    elapsed: 1 << 20,
    ..Reference::default()
  };
  let mut generation = 0u32;
  let n: u32 = if cfg!(debug_assertions) { 20_000 } else { 200_000 };
  for round in 0..20u32 {
    for _ in 0..n / 4 {
      let id = TimerId::new(rng.below(u64::from(n)) as u32, generation);
      generation = (generation + 1) & GEN_MASK;
      let shift = 1 + rng.below(u64::from(4 * SLOT_BITS)) as u32;
      let when = reference.elapsed + rng.below(1 << shift);
      wheel.arm(id, when);
      reference.arm(id, when);
      if rng.chance(1, 4) {
        let victim = rng.below(u64::from(n)) as u32;
        assert_eq!(wheel.cancel(victim), reference.cancel(victim), "round {round}");
      }
    }
    let now = reference.elapsed + rng.spread(20);
    let (got, want) = poll_both(&mut wheel, &mut reference, now);
    assert_eq!(got, want, "round {round}");
    assert_eq!(wheel.len(), reference.timers.len());
    wheel.check_invariants().unwrap();
  }
  let (got, want) = poll_both(&mut wheel, &mut reference, u64::MAX);
  assert_eq!(got, want);
  assert!(wheel.is_empty());
}
