#!/usr/bin/env bash
# `npm run test:miri`: the core crate (crates/wheel) under Miri, which checks every access the
# tests make for undefined behaviour: the raw-pointer atomics over the cache-line buffer that
# is shared with JavaScript (src/shared.rs), aliasing (Stacked Borrows), data races and
# weak-memory outcomes between the wheel thread and the producer (src/driver.rs, src/outbox.rs).
#
# What runs, and what does not (Miri interprets, thousands of times slower than native code):
# - every unit test of the crate: the shared buffer with its raw-pointer atomics, the driver's
#   wheel thread against a producer, the outbox, the slab, the clock (about a minute: the
#   buffer is held by a raw pointer, so an access does not re-borrow the whole megabyte, which
#   Miri's borrow tracker would pay for on every word; see shared.rs);
# - the concurrent tests (driver, outbox, shared) again under MIRI_SEEDS scheduling seeds,
#   so that different thread interleavings and weak-memory outcomes are explored;
# - not tests/wheel.rs and tests/reference.rs: the wheel (src/wheel, src/entry.rs) has no
#   unsafe code and no threads, so Miri would find there only what the overflow-checked run
#   of `npm run test:memcheck` finds, at a thousand times the cost (wheel.rs alone took over
#   ten minutes);
# - not tests/loom.rs: it is built only under --cfg loom (`npm run test:loom` model-checks it).
#
# Needs the nightly toolchain with the miri and rust-src components: installed here if
# missing; if that fails (no network, no rustup), the run is skipped with a message and exits
# 0, so a machine without them still passes `npm run test:stress`.
set -uo pipefail
cd "$(dirname "$0")/../.."

MIRI_SEEDS="${MIRI_SEEDS:-4}"

skip() {
  echo "test:miri: SKIPPED: $1"
  echo "test:miri: to run it, install the nightly toolchain with miri and rust-src: rustup toolchain install nightly --profile minimal --component miri,rust-src"
  exit 0
}

command -v rustup >/dev/null 2>&1 || skip "rustup is not installed"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "test:miri: installing the nightly toolchain (minimal profile, with miri and rust-src)"
  timeout 900 rustup toolchain install nightly --profile minimal --component miri,rust-src ||
    skip "the nightly toolchain could not be installed (no network?)"
fi
timeout 900 rustup component add --toolchain nightly miri rust-src ||
  skip "the miri and rust-src components could not be installed for nightly (no network?)"

set -e
export CARGO_TARGET_DIR=target/miri
started=$SECONDS
cargo +nightly miri --version
cargo +nightly miri setup

echo "test:miri: unit tests"
cargo +nightly miri test -p afterfunc-wheel --lib

echo "test:miri: concurrent tests under $MIRI_SEEDS scheduling seeds"
MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-many-seeds=0..$MIRI_SEEDS" \
  cargo +nightly miri test -p afterfunc-wheel --lib -- driver:: outbox:: shared::

echo "test:miri: passed in $((SECONDS - started)) s"
