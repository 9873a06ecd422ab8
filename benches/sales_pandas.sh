#!/usr/bin/env bash
# pandas read_csv plus the same checks as ffc-sales, on the same file as the criterion
# benchmark benches/benches/sales.rs, in a venv this script creates under the target dir.
# Prints the pandas MB/s and, when criterion has run, the Rust MB/s from its estimates.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
VENV="$TARGET/sales-pandas-venv"
FILE="$TARGET/ffc-bench/sales.csv"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
fi
"$VENV/bin/python" -c 'import pandas' 2>/dev/null || "$VENV/bin/pip" install --quiet "pandas==3.1.1"

if [ ! -f "$FILE" ]; then
    # One quick pass of the benchmark writes the file.
    cargo bench -p ffc-benches --bench sales -- --test >/dev/null
fi

"$VENV/bin/python" benches/sales_pandas.py "$FILE" "${RUNS:-5}"

size=$(stat -c %s "$FILE")
for name in csv_byte_record_baseline ffc_sales_validate ffc_sales_validate_no_duplicate_check; do
    est="$TARGET/criterion/sales_csv_sorted/$name/new/estimates.json"
    [ -f "$est" ] || continue
    "$VENV/bin/python" - "$est" "$size" "$name" <<'PY'
import json, sys
est, size, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ns = json.load(open(est))["mean"]["point_estimate"]
print(f"criterion {name}: {size / ns * 1e3:.1f} MB/s")
PY
done
