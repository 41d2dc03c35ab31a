//! Where expired timers wait for the JavaScript thread: one growing batch, at most one
//! notification outstanding.
//!
//! # Protocol
//!
//! The wheel thread [`post`](Outbox::post)s each poll's expirations (a long poll's in parts,
//! as they are emitted); `post` returns true only
//! when it moves the outbox from idle to scheduled, and only then does the thread notify
//! JavaScript (one thread-safe-function call). JavaScript, when notified,
//! [`take`](Outbox::take)s everything and moves the outbox back to idle. Both happen under
//! one lock, so a post that lands after a take sees "idle" and notifies again: no expiration
//! waits without a notification on its way, and however long JavaScript is busy there is
//! never more than one call queued. `tests/loom.rs` checks this under every interleaving.

use crate::sync::{lock, Mutex};

/// A batch of expired timers, taken by the JavaScript side.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expired {
  /// `index, generation` pairs in expiry order (deadline, then FIFO).
  pub ids: Vec<u32>,
  /// Every timer in `ids` had a deadline tick at or below this one.
  pub now_tick: u64,
}

struct Inner {
  batch: Expired,
  scheduled: bool,
}

/// The expired timers waiting for JavaScript.
pub struct Outbox {
  inner: Mutex<Inner>,
}

impl Outbox {
  /// An empty, idle outbox.
  pub fn new() -> Self {
    Outbox {
      inner: Mutex::new(Inner {
        batch: Expired::default(),
        scheduled: false,
      }),
    }
  }

  /// Moves `expired` (pairs; left empty) into the batch and records `now_tick`. Returns true
  /// if the caller must notify JavaScript: the outbox was idle. Never blocks for long and
  /// never calls out.
  pub fn post(&self, expired: &mut Vec<u32>, now_tick: u64) -> bool {
    let mut inner = lock(&self.inner);
    if inner.batch.ids.is_empty() {
      std::mem::swap(&mut inner.batch.ids, expired);
    } else {
      inner.batch.ids.append(expired);
    }
    inner.batch.now_tick = now_tick;
    !std::mem::replace(&mut inner.scheduled, true)
  }

  /// Takes the batch (possibly empty) and makes the outbox idle again, so the next post
  /// notifies.
  pub fn take(&self) -> Expired {
    let mut inner = lock(&self.inner);
    inner.scheduled = false;
    Expired {
      ids: std::mem::take(&mut inner.batch.ids),
      now_tick: inner.batch.now_tick,
    }
  }
}

impl Default for Outbox {
  fn default() -> Self {
    Self::new()
  }
}

#[cfg(all(test, not(loom)))]
mod tests {
  use super::*;

  #[test]
  fn notifies_once_per_idle_period_and_keeps_order() {
    let o = Outbox::new();
    assert!(o.post(&mut vec![1, 0], 5));
    assert!(!o.post(&mut vec![2, 0], 6));
    assert_eq!(
      o.take(),
      Expired {
        ids: vec![1, 0, 2, 0],
        now_tick: 6,
      }
    );
    assert!(o.take().ids.is_empty());
    assert!(o.post(&mut vec![3, 1], 7));
    assert_eq!(
      o.take(),
      Expired {
        ids: vec![3, 1],
        now_tick: 7,
      }
    );
  }
}
