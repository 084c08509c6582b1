#!/usr/bin/env bash
# Instructions per codec operation (smppgw, rusmpp, rusmpp-core borrowed, smpp34) counted with
# valgrind's callgrind on crates/smpp-codec/benches/instructions.rs: deterministic counts that
# do not depend on what else the machine runs. Prints a Markdown table; see docs/performance.md.
# Usage: scripts/codec-instructions.sh [N]   (N operations per measurement, default 20000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N="${1:-20000}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo bench -p smpp-codec --bench instructions --no-run >/dev/null 2>&1
BIN="$(ls -t target/release/deps/instructions-* | grep -v '\.d$' | head -1)"
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 | awk '/Collected/ {print $4}'; }
per_op() { local a b; a=$(count "$1" 0); b=$(count "$1" "$N"); echo $(( (b - a) / N )); }
echo "| PDU | op | smppgw | rusmpp | rusmpp-core (borrowed) | smpp34 |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for f in submit_sm_160_gsm deliver_sm_receipt data_sm_tlvs bind_transceiver enquire_link; do
  ours=$(per_op "decode/$f/smppgw")
  rus=$(( $(per_op "decode/$f/rusmpp") - $(per_op "decode/$f/rusmpp-input") ))
  bor=$(per_op "decode/$f/rusmpp-core_borrowed")
  s34=$(per_op "decode/$f/smpp34")
  echo "| $f | decode | $ours | $rus | $bor | $s34 |"
  ours=$(per_op "encode/$f/smppgw")
  rus=$(per_op "encode/$f/rusmpp")
  s34=$(( $(per_op "encode/$f/smpp34") - $(per_op "encode/$f/smpp34-decode") ))
  echo "| $f | encode (new buffer) | $ours | $rus | – | $s34 |"
  ours=$(per_op "encode_buf/$f/smppgw")
  rus=$(per_op "encode_buf/$f/rusmpp")
  s34=$(( $(per_op "encode_buf/$f/smpp34") - $(per_op "encode_buf/$f/smpp34-decode") ))
  echo "| $f | encode (write buffer) | $ours | $rus | – | $s34 |"
done
