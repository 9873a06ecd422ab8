#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/fuzz_targets for N seconds each (first argument,
# default 60), one after another, and prints one line per target:
#   fuzz <target>: <runs> runs, <result>
# Exits non-zero if any target crashed, timed out, ran out of memory or did not build; the
# input that did it is in fuzz/artifacts/<target>/ (`cargo +nightly fuzz tmin` shrinks it).
# Needs the nightly toolchain; installs it and cargo-fuzz on first use. Not part of
# scripts/test.sh: a fuzzing run is open-ended, the test suite is not.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*)
        echo "usage: scripts/fuzz.sh [seconds per target, default 60]" >&2
        exit 2
        ;;
esac

rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=0
for source in fuzz_targets/*.rs; do
    target="$(basename "$source" .rs)"
    log="$logs/$target.log"
    # libFuzzer's status lines read `#<runs> <event> ... exec/s: <n> ...`; the last one
    # holds the totals, also when the run stopped on a crash.
    status=0
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
        >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^#[0-9].*exec\/s: \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)"
    if [ "$status" -eq 0 ]; then
        result="no crash (${rate:-?} exec/s)"
    else
        failed=1
        # libFuzzer's own summary (deadly signal, timeout, out-of-memory, leak), else a
        # build failure; then the saved input.
        summary="$(sed -n 's/^SUMMARY: libFuzzer: //p' "$log" | tail -n 1)"
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        if [ -n "$summary" ]; then
            result="FAILED: $summary${artifact:+, input in $artifact}"
        elif [ -z "$runs" ]; then
            result="FAILED: did not build or start (exit $status)"
        else
            result="FAILED: exit $status"
        fi
        echo "--- fuzz $target: last lines of its output" >&2
        tail -n 30 "$log" >&2
    fi
    echo "fuzz $target: ${runs:-0} runs, $result"
done
exit "$failed"
