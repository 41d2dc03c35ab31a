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
pub fn ms_to_tick_ceil(ms: f64) -> u64 {
  (ms * TICKS_PER_MS as f64).ceil() as u64
}

/// The JavaScript time in ms at which `tick` begins.
pub fn tick_to_ms(tick: u64) -> f64 {
  tick as f64 / TICKS_PER_MS as f64
}

#[cfg(test)]
mod tests {
  use super::*;

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
    assert_eq!(ms_to_tick_ceil(10.0), 10);
    assert_eq!(ms_to_tick_ceil(10.000_001), 11);
    assert_eq!(ms_to_tick_floor(10.999), 10);
    assert_eq!(ms_to_tick_floor(-3.0), 0);
    assert_eq!(ms_to_tick_floor(f64::NAN), 0);
    assert_eq!(tick_to_ms(42), 42.0);
  }

  #[test]
  fn until_is_zero_for_the_past_and_saturates_for_infinity() {
    let c = Clock::new(50.0);
    assert_eq!(c.until_ms(0.0), Duration::ZERO);
    assert_eq!(c.until_ms(f64::INFINITY), Duration::MAX);
    assert!(c.until_ms(c.now_ms() + 100.0) <= Duration::from_millis(100));
  }
}
