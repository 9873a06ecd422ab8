"""pandas read_csv plus the checks ffc-sales makes, on the file the Rust benchmark wrote.

Prints MB/s (best and median of several runs) so the figure sits beside the criterion
figures of benches/benches/sales.rs for the same bytes. The checks mirror ffc-sales: header
mapping by case-insensitive name, StoreCode among the known codes, DateTime as
DD-MM-YYYY hh:mm and a real date, TotalTransactionQty a whole number, TotalTransactionValue
numeric with at most 2 decimals, duplicates, and hourly sums per store in integer cents.
"""

import os
import statistics
import sys
import time

import pandas as pd

REQUIRED = ["StoreCode", "DateTime", "TotalTransactionQty", "TotalTransactionValue"]
KNOWN = {f"S{i:04}" for i in range(200)}


def validate(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    by_lower = {c.strip().lower(): c for c in df.columns}
    missing = [f for f in REQUIRED if f.lower() not in by_lower]
    if missing:
        return {"missing": missing}
    df = df.rename(columns={by_lower[f.lower()]: f for f in REQUIRED})[REQUIRED]
    store, dt, qty, value = (df[f] for f in REQUIRED)

    store_ok = store.isin(KNOWN)
    when = pd.to_datetime(dt, format="%d-%m-%Y %H:%M", errors="coerce")
    dt_ok = dt.str.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}") & when.notna()
    qty_ok = qty.str.fullmatch(r"\d{1,12}")
    value_ok = value.str.fullmatch(r"\d{1,13}(?:\.\d{1,2})?")

    # A reason per bad value, as ffc-sales gives (only the refused values are classified).
    bad_value = value[~value_ok]
    reasons = pd.Series("special_character", index=bad_value.index)
    reasons[bad_value.str.fullmatch(r"\d+\.\d{3,}")] = "too_many_decimals"
    reasons[bad_value.str.contains("-", regex=False)] = "negative"
    reasons[bad_value.str.contains(",", regex=False)] = "thousands_separator"
    reasons[~bad_value.str.contains(r"\d")] = "no_digits"
    reasons[bad_value.str.contains(r"[$£€¥]")] = "currency_symbol"

    valid = store_ok & dt_ok & qty_ok & value_ok
    good = df[valid]
    split = good["TotalTransactionValue"].str.split(".", n=1)
    whole = split.str[0].astype("int64")
    frac = split.str[1].fillna("").str.ljust(2, "0").astype("int64")
    cents = whole * 100 + frac
    quantity = good["TotalTransactionQty"].astype("int64")
    keyed = pd.DataFrame(
        {
            "store": good["StoreCode"],
            "minute": when[valid],
            "qty": quantity,
            "cents": cents,
        }
    )
    duplicates = keyed.duplicated()
    keyed = keyed[~duplicates]
    keyed["hour"] = keyed["minute"].dt.floor("h")
    hourly = keyed.groupby(["store", "hour"], sort=True)[["qty", "cents"]].sum()
    errors = [
        (int(i) + 2, f, df.at[i, f])
        for f, ok in zip(REQUIRED, (store_ok, dt_ok, qty_ok, value_ok))
        for i in df.index[~ok]
    ]
    return {
        "rows": len(df),
        "valid": int(valid.sum()) - int(duplicates.sum()),
        "errors": errors,
        "reasons": reasons.value_counts().to_dict(),
        "hours": len(hourly),
        "cents": int(hourly["cents"].sum()),
    }


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    size = os.path.getsize(path)
    result = validate(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        validate(path)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    parse_only = []
    for _ in range(runs):
        start = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        parse_only.append(time.perf_counter() - start)
    print(
        f"pandas {pd.__version__}: {size / 1e6:.1f} MB, rows {result['rows']}, "
        f"valid {result['valid']}, hours {result['hours']}, cents {result['cents']}, "
        f"errors {len(result['errors'])}"
    )
    print(f"pandas read_csv + checks: best {size / best / 1e6:.1f} MB/s, median {size / median / 1e6:.1f} MB/s")
    print(f"pandas read_csv alone (for context): best {size / min(parse_only) / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main()
