#!/usr/bin/env bash
# `npm run test:memcheck`: the core crate's tests (crates/wheel) under valgrind's memcheck, which
# reports every read or write outside an allocation, every use of uninitialised memory, every
# bad free and every leak the tests make, in the optimised code the addon ships.
#
# It complements `npm run test:miri`: Miri checks Rust's own rules (aliasing, data races,
# weak-memory outcomes) but needs the nightly toolchain, which a machine without access to
# rustup's server cannot install; memcheck needs only the stable toolchain and valgrind, so it
# always runs. Built with overflow checks and debug assertions. What runs: the unit tests (the driver's wheel thread, the shared ring, the
# outbox, the slab), tests/wheel.rs, and tests/reference.rs with WHEEL_SEQUENCES random
# sequences against a BTreeMap (memcheck runs code about 20-50x slower). tests/loom.rs is
# built only under --cfg loom (`npm run test:loom`).
set -euo pipefail
cd "$(dirname "$0")/../.."

WHEEL_SEQUENCES="${WHEEL_SEQUENCES:-1000}"

if ! command -v valgrind >/dev/null 2>&1; then
  echo "test:memcheck: FAILED: valgrind is not installed (Debian: apt-get install valgrind)" >&2
  exit 1
fi

export CARGO_TARGET_DIR=target/memcheck
# Release code, with debug info so that a report names the line, and with overflow checks and
# debug assertions on, so arithmetic that wraps panics here (`npm test` runs the same tests
# without them, as the addon ships).
export CARGO_PROFILE_RELEASE_DEBUG=true
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
started=$SECONDS
mapfile -t binaries < <(
  cargo test -p afterfunc-wheel --release --lib --test wheel --test reference --no-run --message-format=json 2>/dev/null |
    node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        for (const line of s.split("\n")) {
          if (!line.startsWith("{")) continue
          const m = JSON.parse(line)
          if (m.reason === "compiler-artifact" && m.profile && m.profile.test && m.executable) console.log(m.executable)
        }
      })'
)
if [ "${#binaries[@]}" -ne 3 ]; then
  echo "test:memcheck: FAILED: expected 3 test binaries, got ${#binaries[@]}: ${binaries[*]:-none}" >&2
  exit 1
fi

for bin in "${binaries[@]}"; do
  echo "test:memcheck: $(basename "$bin")"
  WHEEL_SEQUENCES="$WHEEL_SEQUENCES" valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    "$bin" --test-threads=1
done

echo "test:memcheck: passed in $((SECONDS - started)) s"
