#!/usr/bin/env bash
# The whole test suite of smppgw (the README's test command).
#
# On a fresh Debian machine with the Rust toolchain, python3 (3.9+) with pip and node (18+) with
# npm, it installs what the tests need and runs them all:
#   1. a Python venv at tests/interop/.venv with tests/interop/requirements.txt (smpplib, pytest…)
#   2. `npm ci` in tests/interop/node (the Node `smpp` carrier SMSC); Debian's chromium and
#      `npm ci` in tests/e2e (playwright-core) for the dashboard's browser tests
#   3. cargo build --workspace --bins
#   4. cargo test --workspace, then a bounded cargo-fuzz run of the codec (FUZZ_SECONDS, 60)
#   5. pytest -q tests/interop, against target/debug/smppgw
#   6. benches/run.sh --smoke: every benchmark scenario, tiny, counts checked at both ends
# It exits non-zero when anything fails: at once when an install or the build fails, after the
# interoperability tests when `cargo test` fails. A pytest run that collects no test fails too. Environment: PYTHON (interpreter for the venv), SMPPGW_BIN (binary under test),
# FUZZ_SECONDS (length of the fuzz run, 0 skips it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/tests/interop/.venv"
NODE_DIR="$ROOT/tests/interop/node"

REPORTED=0
step() { printf '\n==> %s\n' "$*"; }
fail() {
  REPORTED=1
  printf '\nscripts/test.sh: FAILED: %s\n' "$*" >&2
  exit 1
}
# Anything that fails without a message of its own (set -e) still says where it stopped.
trap 'rc=$?; if [ "$rc" -ne 0 ] && [ "$REPORTED" = 0 ]; then printf "\nscripts/test.sh: FAILED (exit %s) at: %s\n" "$rc" "$BASH_COMMAND" >&2; fi' EXIT

# ---- tools -----------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || fail "cargo not found: install the Rust toolchain (rustup)"
command -v node >/dev/null 2>&1 || fail "node not found: install Node.js 18+ (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || fail "npm not found: install npm (Debian: apt-get install npm)"
# The TLS interoperability tests make their certificates with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "openssl not found: installing it with apt-get (the TLS tests make certificates with it)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y openssl ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openssl; } ||
      fail "cannot install openssl"
  else
    fail "openssl not found: install it (Debian: apt-get install openssl); the TLS tests need it"
  fi
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || fail "node $node_major is too old: 18 or newer is needed"

if [ -z "${PYTHON:-}" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      PYTHON="$candidate"
      break
    fi
  done
fi
[ -n "${PYTHON:-}" ] || fail "python3 not found: install Python 3.9+ with pip"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
  fail "$PYTHON is too old: Python 3.9 or newer is needed"

# curl: tests/interop/test_send_api.py runs seed 000's curl command as it is written.
if ! command -v curl >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "curl is missing: installing it with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y curl ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl; } ||
      fail "cannot install curl"
  else
    fail "curl not found: install curl (Debian: apt-get install curl)"
  fi
fi

# ---- 1. Python venv --------------------------------------------------------------------------
step "Python venv at tests/interop/.venv ($("$PYTHON" --version 2>&1))"
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "existing venv is broken: recreating it"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf "$VENV"
    pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "the venv module is missing: installing python${pyver}-venv with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y "python${pyver}-venv" ||
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "python${pyver}-venv"; } ||
        fail "cannot install python${pyver}-venv"
      "$PYTHON" -m venv "$VENV" || fail "cannot create the venv at $VENV"
    else
      fail "cannot create a venv: install python${pyver}-venv (Debian) and run again"
    fi
  fi
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r tests/interop/requirements.txt ||
  fail "pip install -r tests/interop/requirements.txt"

# ---- 2. Node packages ------------------------------------------------------------------------
step "npm ci in tests/interop/node"
(cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/interop/node"

# ---- 2b. the dashboard's browser tests: Debian's Chromium and playwright-core -------------------
# tests/interop/test_dashboard.py runs tests/e2e/dashboard.mjs in headless /usr/bin/chromium.
step "chromium and npm ci in tests/e2e (the dashboard's end-to-end tests)"
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "chromium is missing: installing it with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } ||
      fail "cannot install chromium"
  else
    fail "/usr/bin/chromium not found: install it (Debian: apt-get install chromium); the dashboard tests need it"
  fi
fi
(cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/e2e"

# ---- 3. build --------------------------------------------------------------------------------
step "cargo build --workspace --bins"
cargo build --workspace --bins || fail "cargo build --workspace --bins"

# ---- 3b. tools the file checks use -------------------------------------------------------------
# promtool (Debian's prometheus package) checks and unit-tests docs/prometheus/smpp-alerts.yml and
# the Grafana dashboard's queries (crates/gateway/tests/ops_files.rs); systemd-analyze verifies
# systemd/smppgw.service. A test whose tool is missing says so and checks the rest.
step "promtool and systemd-analyze for the operations files"
if ! command -v promtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing promtool (Debian package prometheus)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; } ||
      echo "WARNING: Debian package prometheus unavailable: the promtool checks will be skipped"
  else
    echo "WARNING: promtool not found and cannot be installed here (not root or no apt-get): its checks will be skipped"
  fi
fi
command -v promtool >/dev/null 2>&1 && promtool --version 2>&1 | head -1
command -v systemd-analyze >/dev/null 2>&1 && systemd-analyze --version | head -1 ||
  echo "WARNING: systemd-analyze not found: the unit check will be skipped"

# ---- 4. Rust tests ---------------------------------------------------------------------------
# A failure here is reported at the end: the interoperability tests still run, so that one run
# tells everything.
FAILED_STEPS=()
step "cargo test --workspace"
if ! cargo test --workspace; then
  FAILED_STEPS+=("cargo test --workspace")
fi

# ---- 4b. bounded fuzzing of the codec's decoder ------------------------------------------------
# crates/smpp-codec/fuzz/README.md: nightly + AddressSanitizer when a nightly toolchain exists,
# else stable with RUSTC_BOOTSTRAP=1 and no sanitizer. New inputs go to a temporary directory; a
# crash leaves its input in crates/smpp-codec/fuzz/artifacts/. FUZZ_SECONDS=0 skips this step.
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
if [ "$FUZZ_SECONDS" != 0 ]; then
  step "cargo fuzz run decode for ${FUZZ_SECONDS}s (codec decoder, corpus crates/smpp-codec/fuzz/corpus/decode)"
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2 || FAILED_STEPS+=("cargo install cargo-fuzz")
  fi
  if command -v cargo-fuzz >/dev/null 2>&1; then
    fuzz_new="$(mktemp -d)"
    if rustup run nightly rustc --version >/dev/null 2>&1; then
      fuzz_cmd=(cargo +nightly fuzz run decode)
    else
      echo "no nightly toolchain: fuzzing on stable (RUSTC_BOOTSTRAP=1, --sanitizer none)"
      fuzz_cmd=(env RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none decode)
    fi
    if ! (cd crates/smpp-codec && "${fuzz_cmd[@]}" "$fuzz_new" fuzz/corpus/decode -- \
        -max_total_time="$FUZZ_SECONDS" -max_len=4096 -rss_limit_mb=1024 -print_final_stats=1); then
      FAILED_STEPS+=("cargo fuzz run decode (finding in crates/smpp-codec/fuzz/artifacts/decode)")
    fi
    rm -rf "$fuzz_new"
  fi
fi

# ---- 5. interoperability tests ---------------------------------------------------------------
export SMPPGW_BIN="${SMPPGW_BIN:-$ROOT/target/debug/smppgw}"
[ -x "$SMPPGW_BIN" ] || fail "the gateway binary $SMPPGW_BIN was not built"
step "pytest -q tests/interop (SMPPGW_BIN=$SMPPGW_BIN)"
set +e
"$VENV/bin/python" -m pytest -q tests/interop
pytest_rc=$?
set -e
case "$pytest_rc" in
  0) ;;
  5) FAILED_STEPS+=("pytest tests/interop: no test collected") ;;
  *) FAILED_STEPS+=("pytest tests/interop (exit $pytest_rc)") ;;
esac

# ---- 6. benchmark scenarios, tiny ----------------------------------------------------------------
# benches/run.sh --smoke runs every scenario of docs/performance.md ("Scenarios") for seconds with
# the debug binaries and checks the counts at both ends: it fails on a lost or duplicated message,
# never on a figure.
step "benches/run.sh --smoke (every benchmark scenario, tiny)"
if ! PROFILE=debug benches/run.sh --smoke; then
  FAILED_STEPS+=("benches/run.sh --smoke")
fi

if [ "${#FAILED_STEPS[@]}" -ne 0 ]; then
  fail "$(printf '%s; ' "${FAILED_STEPS[@]}")"
fi
step "all tests passed"
