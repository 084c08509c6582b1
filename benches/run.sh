#!/usr/bin/env bash
# The benchmark scenarios of issue 8 (docs/performance.md, "Scenarios"), all in one run, each
# figure as a ratio to its reference measured in the same run.
#
#   benches/run.sh            release build, full sizes, REPEAT runs each (median), writes the
#                             table between the markers of docs/performance.md
#   benches/run.sh --smoke    every scenario tiny (seconds each, 200 idle binds), with the
#                             binaries in target/debug (scripts/test.sh builds them); checks the
#                             counts at both ends and writes nothing
#
# Exits non-zero when any message is lost or duplicated, a count at the far end differs, or a
# scenario cannot run; never because of a figure. Environment: REPEAT (runs per scenario, 3;
# smoke 1), KEEP=1 keeps the temp dir, SCENARIOS (space-separated subset: "S0 S1 S3 S2 S4 S5").
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=benches/lib.sh
. "$ROOT/benches/lib.sh"

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1

if [ "$SMOKE" = 1 ]; then
  PROFILE=${PROFILE:-debug}
  REPEAT=${REPEAT:-1}
  MSG=2000 MSG_S0=20000 MSG_S3=1000 SESSIONS=4 WINDOW=50
  IDLE_BINDS=200 IDLE_SECONDS=2 S5_SESSIONS=20 S5_SECONDS=2 HALF_SECONDS=1 MAX_SECONDS=30
else
  PROFILE=release
  REPEAT=${REPEAT:-3}
  MSG=${MSG:-300000} MSG_S0=${MSG_S0:-2000000} MSG_S3=${MSG_S3:-100000}
  SESSIONS=${SESSIONS:-16} WINDOW=${WINDOW:-100}
  IDLE_BINDS=${IDLE_BINDS:-10000} IDLE_SECONDS=10 S5_SESSIONS=1000 S5_SECONDS=20 HALF_SECONDS=10
  MAX_SECONDS=${MAX_SECONDS:-90}
  # Two builds: one `-p a -p b` build unifies features differently and rebuilds both.
  echo "==> cargo build --release -p gateway --bin smppgw; cargo build --release -p smpp-load"
  cargo build --release -p gateway --bin smppgw || exit 2
  cargo build --release -p smpp-load || exit 2
fi
# SMPPGW_BENCH_BIN: another gateway binary to measure (e.g. one built with other features).
GW="${SMPPGW_BENCH_BIN:-$ROOT/target/$PROFILE/smppgw}"
LOAD="$ROOT/target/$PROFILE/smpp-load"
for b in "$GW" "$LOAD"; do
  [ -x "$b" ] || { echo "benches/run.sh: $b is missing (build it first)" >&2; exit 2; }
done
SCENARIOS=${SCENARIOS:-"S0 S1 S3 S2 S4 S5"}

# 10 000 binds in the gateway and as many in the idle tool (the limit is per process), plus their
# other files.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $((IDLE_BINDS + 1000)) ]; then
  echo "benches/run.sh: ulimit -n is $(ulimit -n); S4 needs $((IDLE_BINDS + 1000)): fewer idle binds" >&2
  IDLE_BINDS=$(( $(ulimit -n) - 1000 ))
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smppgw-bench.XXXXXX")
RES="$WORK/results"
mkdir -p "$RES"
FAILURES=0
CHILDREN=()
cleanup() {
  local p
  for p in "${CHILDREN[@]}"; do kill -TERM "$p" 2>/dev/null; done
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# check NAME ACTUAL EXPECTED: a count at the far end.
check() {
  if [ "$2" != "$3" ]; then fail "$1: $2, expected $3"; else echo "   ok: $1 = $2"; fi
}

# esme OUT ARGS…: runs the load ESME with --json into OUT; a non-zero exit (loss, duplicate,
# timeout) is a failure. The report's errors must be empty too.
esme() {
  local out=$1; shift
  "$LOAD" esme --json --quiet --max-seconds "$MAX_SECONDS" "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ "$rc" != 0 ]; then
    fail "esme $* exited $rc: $(tail -c 600 "$out.err") $(head -c 1500 "$out")"
    return 1
  fi
  local errors
  errors=$(jget "$out" errors)
  [ "$errors" = "{}" ] || fail "esme $*: errors by command_status $errors"
  printf '   %s: %.0f msg/s, p50 %.0f µs, p99 %.0f µs\n' "$(basename "$out" .json)" \
    "$(jget "$out" throughput_per_s)" "$(jget "$out" latency.p50_us)" "$(jget "$out" latency.p99_us)"
}

# sink_start DIR ARGS…: an smpp-load sink on a free port; sets SINK_PID, SINK_PORT, SINK_REPORT.
sink_start() {
  local dir=$1; shift
  SINK_PORT=$(free_port)
  SINK_REPORT="$dir/sink.json"
  "$LOAD" sink --listen "127.0.0.1:$SINK_PORT" --report-file "$SINK_REPORT" "$@" 2>"$dir/sink.err" &
  SINK_PID=$!
  CHILDREN+=("$SINK_PID")
  wait_port "$SINK_PORT" 10
}

run_dir() {
  local d="$WORK/$1"
  mkdir -p "$d"
  echo "$d"
}

# ---- S0: ESME → sink ------------------------------------------------------------------------
s0() {
  echo "==> S0: ESME → load sink ($MSG_S0 messages, $SESSIONS sessions, window $WINDOW)"
  local r d
  for ((r = 1; r <= REPEAT; r++)); do
    d=$(run_dir "S0.$r")
    sink_start "$d" || { fail "S0: sink did not start"; return; }
    esme "$RES/S0.$r.json" --addr "127.0.0.1:$SINK_PORT" --sessions "$SESSIONS" --window "$WINDOW" --messages "$MSG_S0"
    stop_pid "$SINK_PID"
    check "S0 run $r: submit_sm received by the sink" "$(jget "$SINK_REPORT" submits)" "$MSG_S0"
  done
}

# gw_run NAME OUT_PREFIX CONFIG_OPTIONS… -- ESME_ARGS…: a fresh gateway per run, the ESME
# against it, the gateway's count of received submit_sm checked, its CPU time recorded.
gw_run() {
  local name=$1 out=$2; shift 2
  local opts=() r d
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  for ((r = 1; r <= REPEAT; r++)); do
    d=$(run_dir "$out.$r")
    gw_config "$d/gw.toml" "${opts[@]}" || return
    gw_start "$d/gw.toml" "$d/gw.log" || { fail "$name: the gateway did not start"; return; }
    CHILDREN+=("$GW_PID")
    local t0 t1 c0 c1
    c0=$(cpu_ticks "$GW_PID"); t0=$(date +%s.%N)
    esme "$RES/$out.$r.json" --addr "127.0.0.1:$GW_SMPP" "$@"
    c1=$(cpu_ticks "$GW_PID"); t1=$(date +%s.%N)
    python3 - "$RES/$out.$r.json" "$c0" "$c1" "$t0" "$t1" "$CLK_TCK" <<'PY'
import json, sys
f, c0, c1, t0, t1, hz = sys.argv[1], *map(float, sys.argv[2:])
d = json.load(open(f))
d["gateway_cpu_s"] = (c1 - c0) / hz
d["gateway_cpu_pct"] = 100 * (c1 - c0) / hz / max(t1 - t0, 1e-9)
json.dump(d, open(f, "w"))
PY
    local expected
    expected=$(jget "$RES/$out.$r.json" messages 2>/dev/null || echo "?")
    # With carriers, the gateway also receives one deliver_sm (the receipt) per message.
    [ "${RECEIVED_FACTOR:-1}" != 1 ] && expected=$((expected * RECEIVED_FACTOR))
    check "$name run $r: messages received by the gateway (smpp_messages_received_total)" \
      "$(metric_sum "$GW_METRICS" smpp_messages_received_total)" "$expected"
    GW_LAST_CONFIG="$d/gw.toml"
    stop_pid "$GW_PID"
  done
}

# ---- S1: ESME → smppgw server bind (cache off) → embedded core; smpp34's server -----------------
s1() {
  echo "==> S1: ESME → smppgw (cache off) → embedded core ($MSG messages, $SESSIONS sessions on $SESSIONS partners, window $WINDOW)"
  gw_run S1 S1 partners="$SESSIONS" cache=off parked=1 -- \
    --system-id "$(system_ids "$SESSIONS")" --password pw --sessions "$SESSIONS" --window "$WINDOW" --messages "$MSG"
  echo "==> S1 with the binds calling the embedded core over HTTP (in_process = false)"
  gw_run S1http S1http partners="$SESSIONS" cache=off parked=1 in_process=false -- \
    --system-id "$(system_ids "$SESSIONS")" --password pw --sessions "$SESSIONS" --window "$WINDOW" --messages "$MSG"
  echo "==> S1 reference: ESME → smpp34's ack-only server (same load)"
  local r d port pid
  for ((r = 1; r <= REPEAT; r++)); do
    d=$(run_dir "smpp34.$r")
    port=$(free_port)
    "$LOAD" smpp34-sink --listen "127.0.0.1:$port" --report-file "$d/smpp34.json" >/dev/null 2>"$d/smpp34.err" &
    pid=$!
    CHILDREN+=("$pid")
    wait_port "$port" 10 || { fail "smpp34 sink did not start"; return; }
    esme "$RES/smpp34.$r.json" --addr "127.0.0.1:$port" --system-id "$(system_ids "$SESSIONS")" --password pw \
      --sessions "$SESSIONS" --window "$WINDOW" --messages "$MSG"
    stop_pid "$pid"
    check "smpp34 run $r: submit_sm acknowledged by the smpp34 server" "$(jget "$d/smpp34.json" submits)" "$MSG"
  done
  # The disk's own durability cost, on the filesystem of the gateways' data directories: the
  # floor of any latency of a durable acknowledgement.
  python3 "$ROOT/benches/fsync_probe.py" "$WORK" "$([ "$SMOKE" = 1 ] && echo 50 || echo 1000)" >"$RES/fsync.json" ||
    fail "the fsync probe"
  printf '   fsync of 4 KiB: p50 %.0f µs, p99 %.0f µs\n' "$(jget "$RES/fsync.json" p50_us)" "$(jget "$RES/fsync.json" p99_us)"
  # p99 at half of S1's maximum rate (the median of S1's runs).
  local s1max half n
  s1max=$(python3 "$ROOT/benches/report.py" median "$RES" S1 throughput_per_s)
  half=$(python3 -c "print(max(1.0, $s1max / 2))")
  n=$(python3 -c "print(max(100, int($half * $HALF_SECONDS)))")
  echo "==> S1 at half its maximum rate: $half msg/s for ${HALF_SECONDS}s"
  gw_run S1half S1half partners="$SESSIONS" cache=off parked=1 -- \
    --system-id "$(system_ids "$SESSIONS")" --password pw --sessions "$SESSIONS" --window "$WINDOW" --messages "$n" --tps "$half"
}

# ---- S2: S1 with the retry cache -----------------------------------------------------------------
s2() {
  local mode core
  for core in embedded down; do
    for mode in disk memory; do
      echo "==> S2: as S1 with the retry cache in $mode, core $core"
      gw_run "S2 $mode core $core" "S2.$mode.$core" partners="$SESSIONS" cache="$mode" core="$core" parked=1 -- \
        --system-id "$(system_ids "$SESSIONS")" --password pw --sessions "$SESSIONS" --window "$WINDOW" --messages "$MSG"
    done
  done
}

# ---- S3: ESME → smppgw → embedded core → smppgw client binds → sink, receipts back -----------
s3() {
  echo "==> S3: full path with receipts ($MSG_S3 messages, $SESSIONS sessions, 10 carrier binds)"
  local r d
  for ((r = 1; r <= REPEAT; r++)); do
    d=$(run_dir "S3sink.$r")
    sink_start "$d" --receipts || { fail "S3: sink did not start"; return; }
    local sink_pid=$SINK_PID sink_report=$SINK_REPORT
    REPEAT_SAVED=$REPEAT; REPEAT=1; RECEIVED_FACTOR=2
    gw_run S3 "S3.$r" partners="$SESSIONS" cache=off carriers=10 sink_port="$SINK_PORT" -- \
      --system-id "$(system_ids "$SESSIONS")" --password pw --sessions "$SESSIONS" --window "$WINDOW" \
      --messages "$MSG_S3" --registered-delivery --destination-variants 10 --timeout 30
    REPEAT=$REPEAT_SAVED; RECEIVED_FACTOR=1
    [ -f "$RES/S3.$r.1.json" ] && mv "$RES/S3.$r.1.json" "$RES/S3.$r.json"
    stop_pid "$sink_pid"
    check "S3 run $r: submit_sm received by the sink" "$(jget "$sink_report" submits)" "$MSG_S3"
    check "S3 run $r: receipts sent by the sink and acknowledged" "$(jget "$sink_report" receipt_resps)" "$MSG_S3"
    [ -f "$RES/S3.$r.json" ] && check "S3 run $r: receipts returned to the ESME" "$(jget "$RES/S3.$r.json" ids.receipts_matched)" "$MSG_S3"
  done
}

# ---- S4: idle binds ------------------------------------------------------------------------------
s4() {
  local partners=$(( (IDLE_BINDS + 999) / 1000 ))
  echo "==> S4: $IDLE_BINDS idle binds ($partners partners), RSS per bind and idle CPU over ${IDLE_SECONDS}s"
  local d
  d=$(run_dir S4)
  gw_config "$d/gw.toml" partners="$partners" max_sessions=1000 cache=off || return
  gw_start "$d/gw.toml" "$d/gw.log" || { fail "S4: the gateway did not start"; return; }
  CHILDREN+=("$GW_PID")
  sleep 2
  local rss0 rss1 c0 c1 t0 t1 pid
  rss0=$(rss_kib "$GW_PID")
  "$LOAD" idle --addr "127.0.0.1:$GW_SMPP" --binds "$IDLE_BINDS" --system-id "$(system_ids "$partners")" --password pw \
    --ready-file "$d/idle.json" >"$d/idle.out" 2>"$d/idle.err" &
  pid=$!
  CHILDREN+=("$pid")
  local i
  for ((i = 0; i < 1200; i++)); do [ -f "$d/idle.json" ] && break; sleep 0.1; done
  [ -f "$d/idle.json" ] || { fail "S4: the idle binds did not finish binding"; stop_pid "$pid"; stop_pid "$GW_PID"; return; }
  check "S4: idle binds bound" "$(jget "$d/idle.json" bound)" "$IDLE_BINDS"
  sleep 2
  rss1=$(rss_kib "$GW_PID")
  c0=$(cpu_ticks "$GW_PID"); t0=$(date +%s.%N)
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$GW_PID"); t1=$(date +%s.%N)
  check "S4: sessions still bound at the gateway (smpp_bind_success_total)" "$(metric_sum "$GW_METRICS" smpp_bind_success_total)" "$IDLE_BINDS"
  stop_pid "$pid"
  check "S4: idle binds closed by the gateway while idle" "$(jget "$d/idle.json" closed)" 0
  stop_pid "$GW_PID"
  python3 - "$RES/S4.json" "$IDLE_BINDS" "$rss0" "$rss1" "$c0" "$c1" "$t0" "$t1" "$CLK_TCK" <<'PY'
import json, sys
out = sys.argv[1]
binds, rss0, rss1, c0, c1, t0, t1, hz = map(float, sys.argv[2:])
json.dump({"binds": int(binds), "rss_before_kib": rss0, "rss_after_kib": rss1,
           "rss_per_bind_kib": (rss1 - rss0) / binds,
           "idle_cpu_pct": 100 * (c1 - c0) / hz / (t1 - t0), "idle_seconds": t1 - t0}, open(out, "w"))
PY
  printf '   %s binds: %.1f KiB RSS per bind, idle CPU %.2f %%\n' "$IDLE_BINDS" "$(jget "$RES/S4.json" rss_per_bind_kib)" "$(jget "$RES/S4.json" idle_cpu_pct)"
}

# ---- S5: 1 000 active binds at 10 TPS each ----------------------------------------------------
s5() {
  local partners=$(( (S5_SESSIONS + 99) / 100 ))
  local tps=$((S5_SESSIONS * 10)) n=$((S5_SESSIONS * 10 * S5_SECONDS))
  echo "==> S5: $S5_SESSIONS binds at 10 TPS each ($tps msg/s, $n messages, $partners partners)"
  REPEAT_SAVED=$REPEAT; REPEAT=1
  gw_run S5 S5 partners="$partners" max_sessions=1000 cache=off parked=1 -- \
    --system-id "$(system_ids "$partners")" --password pw --sessions "$S5_SESSIONS" --window 10 --messages "$n" --tps "$tps"
  REPEAT=$REPEAT_SAVED
}

for s in $SCENARIOS; do
  case $s in
    S0) s0 ;; S1) s1 ;; S2) s2 ;; S3) s3 ;; S4) s4 ;; S5) s5 ;;
    *) fail "unknown scenario $s" ;;
  esac
done

if [ "$SMOKE" = 0 ]; then
  python3 "$ROOT/benches/report.py" table "$RES" "$ROOT/docs/performance.md" \
    --conditions "$(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), Linux $(uname -r), $(rustc --version | cut -d' ' -f1-2), release build; load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $REPEAT runs per scenario (median); $SESSIONS sessions, window $WINDOW; S0 $MSG_S0, S1/S2 $MSG, S3 $MSG_S3 messages; S4 $IDLE_BINDS binds; S5 $S5_SESSIONS binds × 10 TPS for ${S5_SECONDS}s" ||
    fail "writing the table"
else
  python3 "$ROOT/benches/report.py" table "$RES" /dev/null --conditions smoke >/dev/null || fail "the table of the smoke run"
fi

if [ "$FAILURES" -gt 0 ]; then
  echo "benches/run.sh: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "benches/run.sh: every scenario ran, no message lost or duplicated"
