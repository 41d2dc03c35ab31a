//! Synchronisation primitives, swapped for loom's model-checked ones under `--cfg loom`
//! (as tokio does), so the protocols in [`crate::shared`] and [`crate::outbox`] can be
//! explored exhaustively by `tests/loom.rs`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `m`. A panic while holding a lock leaves plain data that is still consistent enough
/// to keep serving or to shut down, so poisoning is ignored rather than turned into a second
/// panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  #[cfg(loom)]
  {
    m.lock().unwrap()
  }
  #[cfg(not(loom))]
  {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
  }
}
