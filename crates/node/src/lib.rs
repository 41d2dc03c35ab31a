//! Node-API binding of afterfunc's engine: one [`NativeWheel`] per JavaScript environment (the
//! main thread and each worker), each with its own wheel thread.
//!
//! This crate only converts: the wheel, the ring protocol and the thread loop live in
//! `afterfunc-wheel`. What it adds is the plumbing that needs Node-API:
//!
//! * the shared memory is handed to JavaScript once, as an external `ArrayBuffer` that keeps
//!   the memory alive until both JavaScript and the wheel thread are done with it;
//! * batches of expired timers reach JavaScript through one thread-safe function, called at
//!   most once per batch; a callback that throws becomes an `uncaughtException`, as it would
//!   from a `setTimeout` callback;
//! * whether the pending timers keep the process alive is the thread-safe function's ref
//!   state, toggled from JavaScript;
//! * an environment cleanup hook stops and joins the wheel thread when the environment goes
//!   away (process exit, `worker.terminate()`), so the thread never outlives what it serves.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use afterfunc_wheel::{constants as c, Clock, Driver, Notify, SharedMemory};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi_derive::napi;

/// The JavaScript function that receives batches: `(ids: Uint32Array, nowTick: number)`.
type Deliver = ThreadsafeFunction<(), UnknownReturnValue, FnArgs<(Uint32Array, f64)>, Status, false, true>;

/// Tells JavaScript that a batch waits, by queueing one non-blocking call.
struct TsfnNotify(Deliver);

impl Notify for TsfnNotify {
  fn notify(&self) {
    // `Closing` while the environment shuts down is expected: the batch is dropped with it.
    let _ = self.0.call((), ThreadsafeFunctionCallMode::NonBlocking);
  }
}

/// The engine of one JavaScript environment: a wheel thread, the memory it shares with
/// JavaScript, and the function it delivers expired timers to.
#[napi]
pub struct NativeWheel {
  driver: Arc<Driver<TsfnNotify>>,
  tsfn: napi::sys::napi_threadsafe_function,
  closed: bool,
}

#[napi]
impl NativeWheel {
  /// Starts a wheel thread.
  ///
  /// `on_expired(ids, nowTick)` is called on this JavaScript thread with `index, generation`
  /// pairs of expired timers, in expiry order, and the tick every one of them was due by.
  /// `js_now` must be a `performance.now()` taken just before this call: the wheel's clock
  /// starts there and so never runs ahead of JavaScript's. The thread does not keep the
  /// process alive until [`set_ref`](Self::set_ref)`(true)`.
  #[napi(constructor)]
  pub fn new(
    env: Env,
    on_expired: Function<FnArgs<(Uint32Array, f64)>, UnknownReturnValue>,
    js_now: f64,
  ) -> Result<Self> {
    if !js_now.is_finite() {
      return Err(Error::new(
        Status::InvalidArg,
        "jsNow must be a finite performance.now() reading",
      ));
    }
    let clock = Clock::new(js_now);
    let slot: Arc<OnceLock<Weak<Driver<TsfnNotify>>>> = Arc::new(OnceLock::new());
    let weak = slot.clone();
    let tsfn: Deliver = on_expired
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(move |_ctx: ThreadsafeCallContext<()>| {
        let batch = weak
          .get()
          .and_then(Weak::upgrade)
          .map(|d| d.take_expired())
          .unwrap_or_default();
        Ok(FnArgs::from((Uint32Array::new(batch.ids), batch.now_tick as f64)))
      })?;
    let raw = tsfn.raw();
    let shared = Arc::new(SharedMemory::new());
    let driver = Driver::start(shared, clock, TsfnNotify(tsfn))
      .map_err(|e| Error::from_reason(format!("cannot start the afterfunc wheel thread: {e}")))?;
    let _ = slot.set(Arc::downgrade(&driver));
    // A weak reference: the hook stays registered until the environment exits (napi-rs does
    // not free a removed hook's data), and a strong one would keep every closed engine (its
    // 1 MiB ring and the thread-safe function with JavaScript's callback) alive until then.
    // While the wheel thread runs it holds its own reference, so the hook can still stop it.
    let hook_driver = Arc::downgrade(&driver);
    env.add_env_cleanup_hook(hook_driver, |d| {
      if let Some(driver) = d.upgrade() {
        driver.shutdown();
      }
    })?;
    Ok(NativeWheel {
      driver,
      tsfn: raw,
      closed: false,
    })
  }

  /// The control block and command ring as an `ArrayBuffer` (layout in `constants`). Call it
  /// once: every call returns a new `ArrayBuffer` over the same memory.
  #[napi]
  pub fn memory<'env>(&self, env: &'env Env) -> Result<ArrayBuffer<'env>> {
    let shared = self.driver.shared().clone();
    let ptr = shared.as_ptr();
    let len = shared.len();
    // SAFETY: `ptr..ptr + len` is the live allocation owned by `shared`; the finalizer keeps
    // an `Arc` to it until JavaScript drops the ArrayBuffer, so the memory outlives every
    // JavaScript view. Concurrent access follows the protocol in `afterfunc_wheel::shared`.
    let buffer = unsafe { ArrayBuffer::from_external(env, ptr, len, shared, |_, shared| drop(shared))? };
    if buffer.as_ptr() != ptr.cast_const() {
      // The runtime copied the data (external buffers not allowed): it would not be shared.
      return Err(Error::from_reason(
        "this runtime does not allow external ArrayBuffers",
      ));
    }
    Ok(buffer)
  }

  /// Wakes the wheel thread to look at the ring. Does not wait for it.
  #[napi]
  pub fn wake(&self) {
    self.driver.wake();
  }

  /// Applies every published command on this thread (used when the ring is full), then wakes
  /// the wheel thread. Returns when the ring is empty.
  #[napi]
  pub fn drain(&self) {
    self.driver.drain_now();
  }

  /// Whether pending timers keep the process alive. Repeated calls with the same value do
  /// nothing more. Ignored after [`close`](Self::close).
  #[napi]
  pub fn set_ref(&self, env: Env, on: bool) -> Result<()> {
    if self.closed {
      return Ok(());
    }
    // SAFETY: `self.tsfn` is the raw handle of the thread-safe function that `self.driver`
    // owns; napi-rs releases it only when the driver is dropped, which cannot happen while
    // `self` holds it. This runs on the environment's own thread, before its cleanup hooks.
    let status = unsafe {
      if on {
        napi::sys::napi_ref_threadsafe_function(env.raw(), self.tsfn)
      } else {
        napi::sys::napi_unref_threadsafe_function(env.raw(), self.tsfn)
      }
    };
    check_status!(
      status,
      "cannot change whether the timer thread keeps the process alive"
    )
  }

  /// Stops the wheel thread and waits for it; pending timers are dropped, and the engine no
  /// longer keeps the process alive, whatever [`set_ref`](Self::set_ref) said last.
  /// Idempotent.
  #[napi]
  pub fn close(&mut self, env: Env) -> Result<()> {
    if self.closed {
      return Ok(());
    }
    // Unref first, while the thread-safe function is certainly alive: once closed, set_ref is
    // ignored, so a ref'd function left behind would hold the event loop open for good.
    self.set_ref(env, false)?;
    self.closed = true;
    self.driver.shutdown();
    Ok(())
  }

  /// Applies every published command, then disarms every timer and returns them as
  /// `index, generation, deadline tick` triples in expiry order, for moving them to another
  /// engine (a virtual clock). Expired timers already on their way to JavaScript are not
  /// included; they are still delivered.
  #[napi]
  pub fn take_all(&self) -> Float64Array {
    let taken = self.driver.take_all();
    let mut flat = Vec::with_capacity(taken.len() * 3);
    for (index, generation, tick) in taken {
      flat.extend_from_slice(&[index as f64, generation as f64, tick as f64]);
    }
    Float64Array::new(flat)
  }

  /// The deadline tick of timer `index` in the wheel, or `null` if it is not armed there, for
  /// tests and diagnostics (commands still in the ring are not seen).
  #[napi]
  pub fn deadline(&self, index: u32) -> Option<f64> {
    self.driver.deadline(index).map(|tick| tick as f64)
  }

  /// Timers armed in the wheel, protocol errors seen and rounds of the wheel thread's loop
  /// (about one per wake-up), for tests and diagnostics.
  #[napi]
  pub fn stats(&self) -> HashMap<String, f64> {
    let s = self.driver.stats();
    HashMap::from([
      ("armed".to_owned(), s.armed as f64),
      ("protocolErrors".to_owned(), s.protocol_errors as f64),
      ("rounds".to_owned(), s.rounds as f64),
    ])
  }
}

/// The constants the engine was built with, for the test that checks they match
/// `src/constants.ts`.
#[napi]
pub fn constants() -> HashMap<String, f64> {
  HashMap::from([
    ("TICKS_PER_MS".to_owned(), c::TICKS_PER_MS as f64),
    ("GEN_BITS".to_owned(), c::GEN_BITS as f64),
    ("GEN_MASK".to_owned(), c::GEN_MASK as f64),
    ("TICK_BITS".to_owned(), c::TICK_BITS as f64),
    ("MAX_TICK".to_owned(), c::MAX_TICK as f64),
    ("MAX_DURATION_MS".to_owned(), c::MAX_DURATION_MS),
    ("MAX_INDEX".to_owned(), c::MAX_INDEX as f64),
    ("CTRL_TAIL".to_owned(), c::CTRL_TAIL as f64),
    ("CTRL_HEAD".to_owned(), c::CTRL_HEAD as f64),
    ("CTRL_STATE".to_owned(), c::CTRL_STATE as f64),
    (
      "CTRL_PARKED_UNTIL_F64".to_owned(),
      c::CTRL_PARKED_UNTIL_F64 as f64,
    ),
    ("CTRL_BYTES".to_owned(), c::CTRL_BYTES as f64),
    ("STATE_AWAKE".to_owned(), c::STATE_AWAKE as f64),
    ("STATE_PARKED".to_owned(), c::STATE_PARKED as f64),
    ("STATE_CLOSED".to_owned(), c::STATE_CLOSED as f64),
    ("RING_CAPACITY".to_owned(), c::RING_CAPACITY as f64),
    ("CMD_BYTES".to_owned(), c::CMD_BYTES as f64),
    ("CMD_KIND_BITS".to_owned(), c::CMD_KIND_BITS as f64),
    ("CMD_KIND_MASK".to_owned(), c::CMD_KIND_MASK as f64),
    ("CMD_BASE".to_owned(), c::CMD_BASE as f64),
    ("CMD_ARM_AFTER".to_owned(), c::CMD_ARM_AFTER as f64),
    ("CMD_CANCEL".to_owned(), c::CMD_CANCEL as f64),
    ("CMD_ARM_AT".to_owned(), c::CMD_ARM_AT as f64),
  ])
}
