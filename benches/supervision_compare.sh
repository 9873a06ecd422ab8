#!/usr/bin/env bash
# Issue 3: compare ffc's LineCounter with the Python `supervision` package's LineZone on
# the same tracks (64 simultaneous tracks, 2 lines; a clean and a jittered scenario).
# Creates its own venv under the cargo target dir, installs supervision from PyPI, exports
# the tracks as JSON from the counting bench, and reports both rates and whether the
# counts agree. Exits non-zero if the counts differ on the clean tracks.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"
venv="$target/supervision-venv"
supervision_version="${SUPERVISION_VERSION:-0.31.2}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import supervision, sys; sys.exit(supervision.__version__ != '$supervision_version')" 2>/dev/null; then
    "$venv/bin/pip" install -q "supervision==$supervision_version"
fi
tracks="$target/counting-tracks.json"
FFC_COUNTING_EXPORT="$tracks" cargo bench -q -p ffc-benches --bench counting
"$venv/bin/python" benches/supervision_compare.py "$tracks"
