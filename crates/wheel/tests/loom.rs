//! Model checks of the two cross-thread protocols, with loom exploring every interleaving
//! (and every weak-memory outcome loom models):
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p afterfunc-wheel --release --test loom
//! ```
//!
//! 1. The wake-up handshake over the command ring (`SharedMemory::announce_park` on the wheel
//!    thread, `SharedMemory::publish_and_check_wake` as JavaScript does it): a published
//!    command is never left behind a parked wheel thread, and the consumer reads exactly the
//!    payload the producer wrote. A lost wake-up shows up as a loom deadlock.
//! 2. The outbox (`Outbox::post` on the wheel thread, `Outbox::take` on the JavaScript
//!    thread): every expiration reaches JavaScript exactly once, in order, and a notification
//!    is always on its way while anything waits. A lost notification shows up as a deadlock.
//!
//! The wheel thread's loop (`Driver::run`) is exactly "drain, poll, post, announce_park,
//! park"; these models run that loop with loom's `park`, without time (a park with a timeout
//! is modelled as a park that only a wake-up ends, the hardest case for the protocol).
#![cfg(loom)]

use afterfunc_wheel::constants::{CMD_ARM_AFTER, CMD_BASE, STATE_AWAKE};
use afterfunc_wheel::shared::Command;
use afterfunc_wheel::{Outbox, SharedMemory};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// The wheel thread's loop against the ring: consume `expect` commands, parking in between
/// exactly as `Driver::run` does. Returns the payloads seen, in order.
fn wheel_thread(shared: &SharedMemory, expect: usize, parked_until: f64) -> Vec<(u32, f64)> {
  let mut seen = Vec::new();
  loop {
    shared.set_state(STATE_AWAKE);
    let tail = shared.tail(Ordering::Acquire);
    let mut head = shared.head();
    while head != tail {
      let c = shared.command(head);
      seen.push((c.index, c.value));
      head = head.wrapping_add(1);
    }
    shared.set_head(head);
    if seen.len() == expect {
      return seen;
    }
    if shared.announce_park(parked_until) {
      thread::park();
    }
  }
}

fn command(index: u32, value: f64) -> Command {
  Command {
    kind: CMD_ARM_AFTER,
    generation: 1,
    index,
    value,
  }
}

#[test]
fn a_published_command_never_waits_behind_a_parked_wheel_thread() {
  loom::model(|| {
    let shared = Arc::new(SharedMemory::new());
    let wheel = {
      let shared = shared.clone();
      thread::spawn(move || wheel_thread(&shared, 2, f64::INFINITY))
    };
    // JavaScript: two batches of one command each, deciding after each whether to wake.
    shared.write_command(0, command(7, 1.5));
    if shared.publish_and_check_wake(1, 10.0) {
      wheel.thread().unpark();
    }
    shared.write_command(1, command(8, 2.5));
    if shared.publish_and_check_wake(2, 20.0) {
      wheel.thread().unpark();
    }
    assert_eq!(wheel.join().unwrap(), vec![(7, 1.5), (8, 2.5)]);
  });
}

#[test]
fn a_later_deadline_does_not_wake_but_an_earlier_one_does() {
  // The thread sleeps until 100 ms. A batch due at 500 ms must not wake it; a batch due at
  // 50 ms must. (The first is picked up by the second wake-up.)
  loom::model(|| {
    let shared = Arc::new(SharedMemory::new());
    let wheel = {
      let shared = shared.clone();
      thread::spawn(move || wheel_thread(&shared, 3, 100.0))
    };
    shared.write_command(
      0,
      Command {
        kind: CMD_BASE,
        generation: 0,
        index: 0,
        value: 0.0,
      },
    );
    shared.write_command(1, command(1, 500.0));
    // Whether the thread is awake, parking or parked for 100 ms: no wake-up for 500 ms.
    assert!(!shared.publish_and_check_wake(2, 500.0));
    shared.write_command(2, command(2, 50.0));
    if shared.publish_and_check_wake(3, 50.0) {
      wheel.thread().unpark();
    }
    let seen = wheel.join().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(&seen[1..], &[(1, 500.0), (2, 50.0)]);
  });
}

#[test]
fn every_expiration_reaches_javascript_exactly_once_in_order() {
  loom::model(|| {
    let outbox = Arc::new(Outbox::new());
    // Notifications in flight: the JavaScript thread "runs" one per notification.
    let notified = Arc::new(AtomicUsize::new(0));
    let wheel = {
      let outbox = outbox.clone();
      let notified = notified.clone();
      thread::spawn(move || {
        for (i, tick) in [(1u32, 10u64), (2, 11), (3, 12)] {
          let mut batch = vec![i, 0];
          if outbox.post(&mut batch, tick) {
            notified.fetch_add(1, Ordering::SeqCst);
          }
          assert!(batch.is_empty());
        }
      })
    };
    // JavaScript: take a batch for every notification, until all three arrived.
    let mut got = Vec::new();
    let mut handled = 0;
    while got.len() < 6 {
      if notified.load(Ordering::SeqCst) > handled {
        handled += 1;
        got.extend(outbox.take().ids);
      } else {
        thread::yield_now();
      }
    }
    wheel.join().unwrap();
    assert_eq!(got, vec![1, 0, 2, 0, 3, 0]);
    // Nothing left behind, and no notification without a batch to go with it.
    assert!(outbox.take().ids.is_empty());
    assert!(notified.load(Ordering::SeqCst) <= 3);
  });
}
