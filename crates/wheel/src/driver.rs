//! The wheel thread: it drains the command ring into the [`Wheel`], expires due timers into an
//! outbox, tells the JavaScript side once per batch, and sleeps until the next deadline.
//!
//! # Ground rules
//!
//! * The [`Wheel`] and the batch base time live in `Core`, behind one mutex. Whoever holds
//!   it is the ring's single consumer: normally the wheel thread; the JavaScript thread only
//!   in [`Driver::drain_now`], when the ring is full.
//! * Expired `(index, generation)` pairs go to the [`Outbox`] (see its protocol): at most one
//!   notification is outstanding, so however long JavaScript is busy, expirations pile up in
//!   one growing batch, never in a queue of calls.
//! * Nothing here calls JavaScript. [`Notify::notify`] must not block (the Node binding queues a
//!   non-blocking thread-safe-function call); it may be called with the core lock held.
//! * Every batch carries `now_tick`, the tick the wheel had reached: every timer in it had
//!   a deadline at or below it, which lets the receiver check "never early" once per batch.
//!
//! # The loop
//!
//! ```text
//! state = AWAKE
//! lock core: drain ring, poll(now), next = next_expiration()
//!     (during a long poll: post every POST_EVERY expired to the outbox; notify if it was idle)
//! post the rest to the outbox; notify if it was idle                 (no locks held here on)
//! announce_park(next): parked_until = next; state = PARKED; if tail moved meanwhile -> loop
//! park until max(next, last hand-off + MIN_WAKE_INTERVAL_MS) (or forever); an unpark from
//!     JavaScript ends it early
//! ```
//!
//! While timers keep expiring, the thread wakes by itself at most once per
//! [`MIN_WAKE_INTERVAL_MS`]: a timer due sooner after the last hand-off of expired timers waits
//! for the next interval, up to that much later than its tick, never earlier. A lone timer
//! (nothing handed off within the interval before its deadline) wakes the thread at its own
//! tick. `parked_until` still announces `next`, so JavaScript wakes the thread only for a
//! timer due before every armed one, as without the interval.
//!
//! The wake-up handshake with JavaScript is described in [`crate::shared`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use crate::clock::{ms_to_tick_ceil, tick_to_ms, Clock};
use crate::constants::{
  CMD_ARM_AFTER, CMD_ARM_AT, CMD_BASE, CMD_CANCEL, MAX_DURATION_MS, MAX_INDEX, RING_CAPACITY, STATE_AWAKE,
  STATE_CLOSED,
};
use crate::outbox::{Expired, Outbox};
use crate::shared::{Command, SharedMemory};
use crate::sync::lock;
use crate::wheel::{TimerId, Wheel};

/// How the wheel thread tells the JavaScript side that a batch is waiting in the outbox.
pub trait Notify: Send + Sync + 'static {
  /// Called on the wheel thread, at most once until the next [`Driver::take_expired`].
  /// Must not block and must not call back into the driver.
  fn notify(&self);
}

/// The least time between two wake-ups of the wheel thread by its own deadline while it keeps
/// handing expired timers to JavaScript, in ms. A wake-up (a timed sleep ended, a
/// notification, a batch received) costs the wheel thread and the JavaScript thread far more
/// than an expiration; at 1/8 ms ticks, timers due every few ticks (a million idle connections
/// expiring, a storm) would otherwise wake both threads for every tick. One millisecond is
/// Node's own timers' resolution; lone timers keep 1/8 ms.
pub const MIN_WAKE_INTERVAL_MS: f64 = 1.0;

/// The longest single sleep. Sleeping longer would be correct too; waking once in a while
/// keeps every sleep well inside what all platforms' timed waits accept.
const MAX_PARK: Duration = Duration::from_secs(3600);
/// While draining, hand slots back to the producer every this many commands, so a producer
/// waiting for room does not wait for the whole drain.
const HEAD_PUBLISH_EVERY: u32 = 1024;
/// While a poll emits, post to the outbox every this many expired timers (a post may notify
/// JavaScript: at most one notification is ever outstanding, see `outbox`).
const POST_EVERY: usize = 32768;

/// State owned by the ring's consumer.
struct Core {
  wheel: Wheel,
  /// Base time (JS ms) for `CMD_ARM_AFTER`, from the last `CMD_BASE`.
  base_ms: f64,
  /// Commands that broke the protocol (unknown kind, index out of range); ignored.
  protocol_errors: u64,
}

impl Core {
  fn apply(&mut self, cmd: Command) {
    match cmd.kind {
      CMD_BASE => self.base_ms = cmd.value,
      CMD_ARM_AFTER if cmd.index <= MAX_INDEX => {
        // JavaScript clamps delays; clamp again so a bad value cannot misplace a timer.
        let delay = if cmd.value > 0.0 {
          cmd.value.min(MAX_DURATION_MS)
        } else {
          0.0
        };
        let when = ms_to_tick_ceil(self.base_ms + delay);
        self.wheel.arm(
          TimerId {
            index: cmd.index,
            generation: cmd.generation,
          },
          when,
        );
      }
      CMD_ARM_AT if cmd.index <= MAX_INDEX => {
        // A time before now is due at once; NaN is not a time JavaScript sends.
        let when = if cmd.value > 0.0 {
          ms_to_tick_ceil(cmd.value)
        } else {
          0
        };
        self.wheel.arm(
          TimerId {
            index: cmd.index,
            generation: cmd.generation,
          },
          when,
        );
      }
      CMD_CANCEL if cmd.index <= MAX_INDEX => {
        self.wheel.cancel(cmd.index);
      }
      _ => self.protocol_errors += 1,
    }
  }
}

/// Asks the operating system to end this thread's timed sleeps on time. Linux lets a sleep
/// run over by the thread's timer slack (50 µs by default) to batch wake-ups; the wheel
/// thread sleeps until a deadline of 1/8 ms resolution, so it takes the least slack there
/// is. Elsewhere there is nothing to ask for (nor under Miri, which runs no system calls).
fn precise_sleeps() {
  #[cfg(all(target_os = "linux", not(miri)))]
  // SAFETY: PR_SET_TIMERSLACK takes one integer argument (the slack in ns; 1 is the least, 0
  // would mean "the default") and changes only the calling thread's timer slack; it reads or
  // writes no memory of ours. A failure leaves the default slack, which is only less precise.
  unsafe {
    libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
  }
}

/// Counters for tests and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
  /// Timers armed in the wheel (commands still in the ring are not counted).
  pub armed: usize,
  /// Commands that broke the protocol and were ignored.
  pub protocol_errors: u64,
  /// Times the wheel thread went round its loop: one per wake-up (by a deadline, by
  /// JavaScript, or spuriously) plus one per batch found while about to park.
  pub rounds: u64,
}

/// Owns the wheel thread. Create with [`Driver::start`]; stop with [`Driver::shutdown`].
pub struct Driver<N: Notify> {
  shared: Arc<SharedMemory>,
  core: Mutex<Core>,
  outbox: Outbox,
  clock: Clock,
  shutdown: AtomicBool,
  rounds: AtomicU64,
  thread: Thread,
  join: Mutex<Option<JoinHandle<()>>>,
  notify: N,
}

impl<N: Notify> Driver<N> {
  /// Starts the wheel thread over `shared`, with `clock` mapping its time to JavaScript's.
  ///
  /// The wheel starts at the clock's current tick. Returns an error only if the operating
  /// system refuses to create a thread.
  pub fn start(shared: Arc<SharedMemory>, clock: Clock, notify: N) -> std::io::Result<Arc<Self>> {
    let start_tick = clock.now_tick();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<Self>>(1);
    let join = thread::Builder::new()
      .name("afterfunc-wheel".into())
      .spawn(move || {
        precise_sleeps();
        if let Ok(driver) = rx.recv() {
          driver.run();
        }
      })?;
    let driver = Arc::new(Driver {
      shared,
      core: Mutex::new(Core {
        wheel: Wheel::new(start_tick),
        base_ms: clock.now_ms(),
        protocol_errors: 0,
      }),
      outbox: Outbox::new(),
      clock,
      shutdown: AtomicBool::new(false),
      rounds: AtomicU64::new(0),
      thread: join.thread().clone(),
      join: Mutex::new(Some(join)),
      notify,
    });
    // The thread holds its own Arc; it exits (dropping it) on shutdown.
    tx.send(driver.clone())
      .expect("the wheel thread waits for its driver");
    Ok(driver)
  }

  /// The shared memory this driver consumes.
  pub fn shared(&self) -> &Arc<SharedMemory> {
    &self.shared
  }

  /// Wakes the wheel thread if it is parked (or makes its next park return at once). Cheap
  /// when it is awake. Does not wait for anything.
  pub fn wake(&self) {
    self.thread.unpark();
  }

  /// Drains the ring on the calling thread (the JavaScript thread when the ring is full),
  /// then wakes the wheel thread so it recomputes its deadline. Returns when every command
  /// published before the call is in the wheel. May wait for the wheel thread to release the
  /// lock (it holds it only while draining and polling).
  pub fn drain_now(&self) {
    {
      let mut core = lock(&self.core);
      self.drain(&mut core);
    }
    self.wake();
  }

  /// Takes the waiting batch (possibly empty) and re-enables notification. Called on the
  /// JavaScript thread when a notification arrives.
  pub fn take_expired(&self) -> Expired {
    self.outbox.take()
  }

  /// Counters for tests and diagnostics.
  pub fn stats(&self) -> Stats {
    let core = lock(&self.core);
    Stats {
      armed: core.wheel.len(),
      protocol_errors: core.protocol_errors,
      rounds: self.rounds.load(Ordering::Relaxed),
    }
  }

  /// Applies every published command, then disarms every timer in the wheel and returns
  /// them as `(index, generation, deadline tick)` in expiry order (see
  /// [`Wheel::take_all`]). Timers already expired and waiting in the outbox are not included:
  /// they are still delivered. Runs on the calling thread, under the wheel's lock.
  pub fn take_all(&self) -> Vec<(u32, u32, u64)> {
    let mut taken = Vec::new();
    {
      let mut core = lock(&self.core);
      self.drain(&mut core);
      core
        .wheel
        .take_all(|id, when| taken.push((id.index, id.generation, when)));
    }
    self.wake();
    taken
  }

  /// The deadline tick timer `index` is armed at in the wheel (commands still in the ring are
  /// not seen), or `None`.
  pub fn deadline(&self, index: u32) -> Option<u64> {
    lock(&self.core).wheel.when(index)
  }

  /// Stops the wheel thread and waits for it to exit. Idempotent; pending timers are dropped
  /// (never delivered). Must not be called from the wheel thread itself.
  pub fn shutdown(&self) {
    self.shutdown.store(true, Ordering::SeqCst);
    self.wake();
    let handle = lock(&self.join).take();
    if let Some(handle) = handle {
      // A panic on the wheel thread was already reported by the panic hook.
      let _ = handle.join();
    }
    self.shared.set_state(STATE_CLOSED);
  }

  /// Applies every published command.
  fn drain(&self, core: &mut Core) {
    let tail = self.shared.tail(Ordering::Acquire);
    let mut head = self.shared.head();
    if tail.wrapping_sub(head) as usize > RING_CAPACITY {
      // The producer broke the protocol; skip rather than read garbage.
      core.protocol_errors += 1;
      self.shared.set_head(tail);
      return;
    }
    while head != tail {
      core.apply(self.shared.command(head));
      head = head.wrapping_add(1);
      if head % HEAD_PUBLISH_EVERY == 0 {
        self.shared.set_head(head);
      }
    }
    self.shared.set_head(head);
  }

  fn run(&self) {
    let mut expired: Vec<u32> = Vec::new();
    // When this thread last handed expired timers to JavaScript (JS ms).
    let mut handed_off_ms = f64::NEG_INFINITY;
    while !self.shutdown.load(Ordering::SeqCst) {
      self.rounds.fetch_add(1, Ordering::Relaxed);
      self.shared.set_state(STATE_AWAKE);
      let (next, now_tick, emitted) = {
        let mut core = lock(&self.core);
        self.drain(&mut core);
        let now_tick = self.clock.now_tick();
        // A long poll hands its expirations over in parts, so that JavaScript runs the first
        // ones while this thread is still emitting the rest.
        let emitted = poll_in_parts(&mut core.wheel, now_tick, POST_EVERY, &mut expired, |part| {
          if self.outbox.post(part, now_tick) {
            self.notify.notify();
          }
        });
        (core.wheel.next_expiration(), now_tick, emitted)
      };
      if !expired.is_empty() && self.outbox.post(&mut expired, now_tick) {
        self.notify.notify();
      }
      if emitted > 0 {
        handed_off_ms = tick_to_ms(now_tick);
      }
      let until_ms = next.map_or(f64::INFINITY, tick_to_ms);
      if !self.shared.announce_park(until_ms) || self.shutdown.load(Ordering::SeqCst) {
        continue;
      }
      // No deadline: `until_ms(INFINITY)` is `Duration::MAX`, so a MAX_PARK sleep.
      let wait = self
        .clock
        .until_ms(until_ms.max(handed_off_ms + MIN_WAKE_INTERVAL_MS));
      if !wait.is_zero() {
        thread::park_timeout(wait.min(MAX_PARK));
      }
    }
    // (`shutdown`, the only way out of the loop, sets STATE_CLOSED once the thread is joined.)
  }
}

/// Polls `wheel` up to `now_tick`, appending each expired timer's `index, generation` to
/// `expired`, and calls `post(expired)` whenever it holds `every` timers; `post` must empty it
/// (the outbox's `post` does). What is left when the poll ends stays in `expired`. The
/// concatenation of the parts and the rest is exactly what one `poll` would have emitted, in
/// its order. Returns how many timers it emitted.
fn poll_in_parts(
  wheel: &mut Wheel,
  now_tick: u64,
  every: usize,
  expired: &mut Vec<u32>,
  mut post: impl FnMut(&mut Vec<u32>),
) -> usize {
  let mut emitted = 0;
  wheel.poll(now_tick, |id| {
    emitted += 1;
    expired.extend_from_slice(&[id.index, id.generation]);
    if expired.len() >= 2 * every {
      post(expired);
      debug_assert!(expired.is_empty(), "post must take the part");
    }
  });
  emitted
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::constants::{STATE_PARKED, TICKS_PER_MS};
  use std::sync::Condvar;
  use std::time::Instant;

  /// Counts notifications and lets a test wait for one.
  #[derive(Default)]
  struct Signal {
    count: Mutex<u64>,
    cv: Condvar,
  }

  impl Notify for Arc<Signal> {
    fn notify(&self) {
      *self.count.lock().unwrap() += 1;
      self.cv.notify_all();
    }
  }

  struct Producer {
    shared: Arc<SharedMemory>,
    tail: u32,
  }

  impl Producer {
    fn push(&mut self, kind: u32, index: u32, generation: u32, value: f64) {
      self.shared.write_command(
        self.tail,
        Command {
          kind,
          generation,
          index,
          value,
        },
      );
      self.tail = self.tail.wrapping_add(1);
    }
    fn publish(&self) {
      self.shared.publish(self.tail);
    }
  }

  fn start() -> (Arc<Driver<Arc<Signal>>>, Arc<Signal>, Producer, Instant) {
    let shared = Arc::new(SharedMemory::new());
    let signal = Arc::new(Signal::default());
    let t0 = Instant::now();
    let driver = Driver::start(shared.clone(), Clock::new(0.0), signal.clone()).unwrap();
    (driver, signal, Producer { shared, tail: 0 }, t0)
  }

  /// The timer indices of what `collect` got, in order.
  fn indices(got: &[(u32, u32, u64)]) -> Vec<u32> {
    got.iter().map(|g| g.0).collect()
  }

  /// Waits until `n` pairs arrived (taking batches as JavaScript would), or times out; each
  /// with its batch's `now_tick`.
  fn collect(
    driver: &Driver<Arc<Signal>>,
    signal: &Signal,
    n: usize,
    timeout: Duration,
  ) -> Vec<(u32, u32, u64)> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut seen = 0;
    while got.len() < n && Instant::now() < deadline {
      let mut count = signal.count.lock().unwrap();
      while *count == seen && Instant::now() < deadline {
        count = signal
          .cv
          .wait_timeout(count, Duration::from_millis(10))
          .unwrap()
          .0;
      }
      seen = *count;
      drop(count);
      let batch = driver.take_expired();
      for pair in batch.ids.chunks(2) {
        got.push((pair[0], pair[1], batch.now_tick));
      }
    }
    got
  }

  #[test]
  fn expires_in_deadline_order_never_early_and_once() {
    let (driver, signal, mut p, t0) = start();
    p.push(CMD_BASE, 0, 0, 0.0);
    p.push(CMD_ARM_AFTER, 1, 7, 30.0);
    p.push(CMD_ARM_AFTER, 2, 7, 10.0);
    p.push(CMD_ARM_AFTER, 3, 7, 10.0);
    p.push(CMD_ARM_AFTER, 4, 7, 0.0);
    p.publish();
    driver.wake();
    let got = collect(&driver, &signal, 4, Duration::from_secs(5));
    assert_eq!(indices(&got), [4, 2, 3, 1]);
    assert!(t0.elapsed() >= Duration::from_millis(30));
    for (index, generation, now_tick) in got {
      assert_eq!(generation, 7);
      let deadline = TICKS_PER_MS
        * match index {
          1 => 30,
          2 | 3 => 10,
          _ => 0,
        };
      assert!(
        now_tick >= deadline,
        "timer {index} delivered in a batch at tick {now_tick}"
      );
    }
    assert!(collect(&driver, &signal, 1, Duration::from_millis(50)).is_empty());
    driver.shutdown();
  }

  #[test]
  fn while_timers_keep_expiring_the_thread_wakes_at_most_once_per_interval() {
    let (driver, signal, mut p, _) = start();
    // 40 timers one tick apart, from 20 ms on: 5 ms of expiries.
    let n = 40u32;
    let tick_ms = 1.0 / TICKS_PER_MS as f64;
    p.push(CMD_BASE, 0, 0, 0.0);
    for index in 0..n {
      p.push(CMD_ARM_AFTER, index, 1, 20.0 + f64::from(index) * tick_ms);
    }
    p.publish();
    driver.wake();
    while driver.shared().state() != STATE_PARKED || driver.shared().parked_until() < 20.0 {
      thread::yield_now();
    }
    let rounds_before = driver.stats().rounds;
    let got = collect(&driver, &signal, n as usize, Duration::from_secs(5));
    let rounds = driver.stats().rounds - rounds_before;
    assert_eq!(indices(&got), (0..n).collect::<Vec<_>>());
    for (index, _, now_tick) in got {
      let deadline = 20 * TICKS_PER_MS + u64::from(index);
      assert!(now_tick >= deadline, "timer {index} delivered at tick {now_tick}");
    }
    // One wake-up per tick would be 40; one per MIN_WAKE_INTERVAL_MS over 5 ms is about 6.
    assert!(
      rounds <= u64::from(n) / 4,
      "{rounds} wake-ups for {n} timers due over 5 ms"
    );
    driver.shutdown();
  }

  #[test]
  fn a_cancel_disarms_its_slot_whatever_the_generation_and_an_unarmed_one_is_no_error() {
    let (driver, signal, mut p, _) = start();
    p.push(CMD_BASE, 0, 0, 0.0);
    p.push(CMD_ARM_AFTER, 1, 1, 20.0);
    p.push(CMD_ARM_AFTER, 2, 1, 20.0);
    p.push(CMD_ARM_AFTER, 1, 2, 20.0); // slot 1 re-armed: a move, generation 2
    p.push(CMD_CANCEL, 1, 0, 0.0); // the generation bits of a CANCEL are not read
    p.push(CMD_CANCEL, 9, 0, 0.0); // never armed
    p.publish();
    driver.wake();
    // Generous timeouts: on a loaded 2-core machine the wheel thread may wait long for a core.
    let got = collect(&driver, &signal, 1, Duration::from_secs(5));
    assert_eq!(indices(&got), [2]);
    // Timer 1 was due with timer 2: had its cancel been lost, it would have come with it or
    // right after.
    assert!(collect(&driver, &signal, 1, Duration::from_millis(100)).is_empty());
    assert_eq!(driver.stats().protocol_errors, 0);
    driver.shutdown();
  }

  #[test]
  fn a_wake_brings_an_earlier_deadline_forward() {
    let (driver, signal, mut p, t0) = start();
    p.push(CMD_BASE, 0, 0, 0.0);
    p.push(CMD_ARM_AFTER, 1, 0, 60_000.0);
    p.publish();
    driver.wake();
    // Wait until the thread parks for a minute.
    while driver.shared().state() != STATE_PARKED || driver.shared().parked_until() < 1000.0 {
      thread::yield_now();
    }
    p.push(CMD_ARM_AFTER, 2, 0, 5.0);
    p.publish();
    // (Not asserted: that the thread is still parked here. `park_timeout` may return
    // spuriously, and then the thread sees the command by itself.)
    driver.wake();
    let got = collect(&driver, &signal, 1, Duration::from_secs(5));
    assert_eq!(indices(&got), [2]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(driver.stats().armed, 1);
    driver.shutdown();
  }

  #[test]
  fn drain_now_consumes_on_the_calling_thread() {
    let (driver, _signal, mut p, _) = start();
    p.push(CMD_BASE, 0, 0, 0.0);
    for i in 0..1000 {
      p.push(CMD_ARM_AFTER, i, 0, 1e9);
    }
    p.publish();
    driver.drain_now();
    assert_eq!(driver.shared().head(), p.tail);
    assert_eq!(driver.stats().armed, 1000);
    driver.shutdown();
  }

  #[test]
  fn protocol_errors_are_counted_and_ignored() {
    let (driver, _signal, mut p, _) = start();
    p.push(7, 1, 0, 0.0);
    p.push(CMD_ARM_AFTER, MAX_INDEX + 1, 0, 1.0);
    p.publish();
    driver.drain_now();
    let stats = driver.stats();
    assert_eq!((stats.armed, stats.protocol_errors), (0, 2));
    driver.shutdown();
  }

  #[test]
  fn shutdown_is_idempotent_and_closes() {
    let (driver, _signal, _p, _) = start();
    driver.shutdown();
    driver.shutdown();
    assert_eq!(driver.shared().state(), STATE_CLOSED);
  }

  #[test]
  fn a_long_poll_is_posted_in_parts_in_expiry_order() {
    let mut wheel = Wheel::new(0);
    let n = 2 * 4 + 3;
    // Deadlines 10, 11, 12, 10, 11, ...: expiry order is by deadline, then arming order.
    for i in 0..n {
      wheel.arm(
        TimerId {
          index: i,
          generation: 1 + i % 2,
        },
        10 + u64::from(i % 3),
      );
    }
    let mut parts = Vec::new();
    let mut expired = Vec::new();
    poll_in_parts(&mut wheel, 20, 4, &mut expired, |part| {
      parts.push(std::mem::take(part))
    });
    assert_eq!(parts.len(), 2, "two full parts of 4 timers");
    assert!(parts.iter().all(|p| p.len() == 8));
    assert_eq!(expired.len(), 6, "the last 3 timers are left for the caller");
    let all: Vec<u32> = parts.concat().into_iter().chain(expired).collect();
    let mut want: Vec<u32> = (0..n).collect();
    want.sort_by_key(|&i| (i % 3, i));
    let want: Vec<u32> = want.into_iter().flat_map(|i| [i, 1 + i % 2]).collect();
    assert_eq!(all, want);
    assert!(wheel.is_empty());
  }
}
