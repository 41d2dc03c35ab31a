//! The wheel thread's view of the JavaScript clock.
//!
//! Deadlines are in ticks of the JavaScript monotonic clock (`performance.now()`), so the wheel
//! thread needs to know what that clock reads. [`Clock::new`] is given a reading `js_now_ms`
//! that JavaScript took *before* calling into Rust, and takes its own `Instant` during the
//! call. From then on it estimates the JavaScript time as `js_now_ms + (Instant::now() -
//! origin)`.
//!
//! The estimate is never ahead of the real JavaScript clock: at the moment `origin` was taken
//! the JavaScript clock already read at least `js_now_ms`, and both clocks are the same
//! monotonic source (`CLOCK_MONOTONIC` on Linux, `mach_absolute_time` on macOS,
//! `QueryPerformanceCounter` on Windows) advancing at the same rate. It lags by the duration
//! of the call that created the clock, a few microseconds. So a tick the wheel thread
//! considers due is due on the JavaScript clock too, which is what "never early" needs.

use std::time::{Duration, Instant};

use crate::constants::TICKS_PER_MS;

/// Maps `Instant`s to JavaScript milliseconds and ticks.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
  origin: Instant,
  origin_ms: f64,
}

impl Clock {
  /// A clock whose current reading is `js_now_ms`: pass a `performance.now()` taken just
  /// before this call.
  pub fn new(js_now_ms: f64) -> Self {
    Clock {
      origin: Instant::now(),
      origin_ms: js_now_ms,
    }
  }

  /// The estimated JavaScript time in ms; never ahead of the real one.
  pub fn now_ms(&self) -> f64 {
    self.ms_at(Instant::now())
  }

  /// The JavaScript time in ms at `instant` (before the origin this saturates to the origin).
  pub fn ms_at(&self, instant: Instant) -> f64 {
    self.origin_ms + instant.saturating_duration_since(self.origin).as_secs_f64() * 1e3
  }

  /// The current tick: every deadline tick at or below it is due.
  pub fn now_tick(&self) -> u64 {
    ms_to_tick_floor(self.now_ms())
  }

  /// How long from now until the JavaScript clock reads `ms` (zero if it already has).
  pub fn until_ms(&self, ms: f64) -> Duration {
    let wait = ms - self.now_ms();
    if wait > 0.0 {
      Duration::try_from_secs_f64(wait / 1e3).unwrap_or(Duration::MAX)
    } else {
      Duration::ZERO
    }
  }
}

/// The tick containing the JavaScript time `ms` (rounded down; negative times give 0).
pub fn ms_to_tick_floor(ms: f64) -> u64 {
  // `as` saturates: NaN and negatives give 0, huge values give u64::MAX.
  (ms * TICKS_PER_MS as f64).floor() as u64
}

/// The first tick at or after the JavaScript time `ms`: a deadline is rounded up to it.
/// Negative times and NaN give 0, times beyond `u64::MAX` ticks give `u64::MAX`: exactly
/// `(ms * TICKS_PER_MS).ceil() as u64`.
///
/// Written without `f64::ceil`, which on the baseline x86-64 target (no SSE4.1, what the
/// published binaries are built for) is a call into libm: in a storm of resets that call was
/// a fifth of the wheel thread's time. `as` truncates toward zero and saturates, so for a
/// positive `x` the truncation is the floor, and one more when `x` had a fraction; `x` at or
/// beyond 2^53 has none, and the comparison is false for a negative `x` and for NaN.
#[inline]
pub fn ms_to_tick_ceil(ms: f64) -> u64 {
  let x = ms * TICKS_PER_MS as f64;
  let t = x as u64;
  if (t as f64) < x {
    t.saturating_add(1)
  } else {
    t
  }
}

/// The JavaScript time in ms at which `tick` begins.
pub fn tick_to_ms(tick: u64) -> f64 {
  tick as f64 / TICKS_PER_MS as f64
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::constants::MAX_DURATION_MS;

  #[test]
  fn estimate_starts_at_the_given_reading_and_advances() {
    let c = Clock::new(1000.25);
    let a = c.now_ms();
    assert!(a >= 1000.25);
    std::thread::sleep(Duration::from_millis(5));
    let b = c.now_ms();
    assert!(b - a >= 5.0, "{a} -> {b}");
  }

  #[test]
  fn ticks_round_the_right_way() {
    let per_ms = TICKS_PER_MS;
    let tick = 1.0 / per_ms as f64;
    assert_eq!(ms_to_tick_ceil(10.0), 10 * per_ms);
    assert_eq!(ms_to_tick_ceil(10.000_001), 10 * per_ms + 1);
    assert_eq!(ms_to_tick_ceil(10.0 + tick), 10 * per_ms + 1);
    assert_eq!(ms_to_tick_floor(10.999), 11 * per_ms - 1);
    assert_eq!(ms_to_tick_floor(10.0 + tick / 2.0), 10 * per_ms);
    assert_eq!(ms_to_tick_floor(-3.0), 0);
    assert_eq!(ms_to_tick_floor(f64::NAN), 0);
    assert_eq!(tick_to_ms(42 * per_ms), 42.0);
    assert_eq!(tick_to_ms(1), tick);
  }

  #[test]
  fn tick_ceil_is_exactly_the_ceiling() {
    let mut values = vec![
      0.0,
      -0.0,
      1e-300,
      0.5,
      1.0,
      1.5,
      -0.5,
      -1.0,
      -3.5,
      f64::NAN,
      f64::INFINITY,
      f64::NEG_INFINITY,
      f64::MIN_POSITIVE,
      f64::EPSILON,
      1.0 - f64::EPSILON / 2.0,
      1.0 + f64::EPSILON,
      MAX_DURATION_MS,
      2f64.powi(52) + 0.5,
      2f64.powi(53) - 1.0,
      2f64.powi(53),
      2f64.powi(53) + 2.0,
      2f64.powi(63),
      2f64.powi(64) - 2048.0,
      2f64.powi(64),
      2f64.powi(65),
      f64::MAX,
    ];
    // Every power of two near the tick range, and its neighbours one ulp either side.
    for e in -60..70 {
      let p = 2f64.powi(e);
      values.extend([
        p,
        f64::from_bits(p.to_bits() + 1),
        f64::from_bits(p.to_bits() - 1),
        -p,
      ]);
    }
    // JavaScript-like times: a clock reading plus a delay, both with fractions. (Fewer under
    // Miri, which interprets every step: this function has no unsafe code for it to check.)
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..if cfg!(miri) { 500 } else { 100_000 } {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      let base = (x % 10_000_000_000) as f64 / 1024.0;
      let delay = ((x >> 20) % 100_000_000) as f64 / 3.0;
      values.push(base + delay);
      values.push(f64::from_bits(x)); // any bit pattern: subnormals, NaNs, huge values
    }
    for v in values {
      assert_eq!(
        ms_to_tick_ceil(v),
        (v * TICKS_PER_MS as f64).ceil() as u64,
        "ceil of {v:e}"
      );
    }
  }

  #[test]
  fn until_is_zero_for_the_past_and_saturates_for_infinity() {
    let c = Clock::new(50.0);
    assert_eq!(c.until_ms(0.0), Duration::ZERO);
    assert_eq!(c.until_ms(f64::INFINITY), Duration::MAX);
    assert!(c.until_ms(c.now_ms() + 100.0) <= Duration::from_millis(100));
  }
}
