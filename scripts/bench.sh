#!/usr/bin/env bash
# The quick benchmark set (issue 20): every ratio of the table in the README, each the median
# of interleaved measurement pairs, printed as
#   ratio <group>: <measured>/<baseline> = X (min A, median B, max C over N runs)
# and nothing else. Release build of the benches package only. A few minutes on 2 cores.
# Usage: scripts/bench.sh [group filter]   (FFC_BENCH_RUNS, FFC_BENCH_RUN_MS as in benches/src/ratio.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export FFC_BENCH_QUICK=1
# The quick set, one bench target per line. Not here: bacnet (needs bacpypes3) and pg_sink
# (needs PostgreSQL), both from scripts/services.sh; they print the same ratio lines.
BENCHES=(
  sales
  export_files
  device
  websocket
  binning
  counting
  mqtt
  reconcile_day
)
args=()
for b in "${BENCHES[@]}"; do args+=(--bench "$b"); done
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
if ! cargo bench -p ffc-benches "${args[@]}" --no-run >"$build_log" 2>&1; then
  cat "$build_log" >&2
  exit 1
fi
status=0
for b in "${BENCHES[@]}"; do
  cargo bench -q -p ffc-benches --bench "$b" -- "$@" 2>/dev/null | grep '^ratio ' || status=1
done
exit $status
