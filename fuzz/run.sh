#!/usr/bin/env bash
# Runs fuzz targets for a fixed time or number of executions each and prints one line per target
# (executions, seconds, result), the table docs/fuzzing.md records.
# Usage: bash fuzz/run.sh [SECONDS] [TARGET...]   (default 600 s, every target; 5,000,000
# executions end a run early). Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable with
# RUSTC_BOOTSTRAP=1 (the sanitizer flags are nightly-only). Two targets run at a time.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(slmgr code_spelling payload event_xml event_json event_tabular evtx analyze)
[ -d corpus ] || bash seed.sh >/dev/null
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O >/dev/null
mkdir -p logs
run_one() {
  local t="$1" max_len=65536
  [ "$t" = evtx ] && max_len=300000
  [ "$t" = analyze ] && max_len=200000
  cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -runs=5000000 -timeout=10 \
    -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 > "logs/$t.log" 2>&1 || true
  local runs time result
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  time=$(grep -o 'Done [0-9]* runs in [0-9]* second' "logs/$t.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "$secs")
  if grep -q 'ERROR: libFuzzer\|panicked\|SUMMARY: AddressSanitizer\|ERROR: AddressSanitizer' "logs/$t.log"; then
    result="FAILED: see fuzz/logs/$t.log and fuzz/artifacts/$t/"
  else
    result="no crash, no hang"
  fi
  printf '%s\t%s\t%s\t%s\n' "$t" "$runs" "$time" "$result"
}
printf 'target\texecutions\tseconds\tresult\n'
i=0
for t in "${targets[@]}"; do
  run_one "$t" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
