#!/usr/bin/env bash
# Prints the .text bytes of ffc-core's allocator-free aggregation path (Binner, CountCells,
# DedupeWindow, EventKey, zone bucketing) as linked into a thumbv7em-none-eabihf release
# image (opt-level s, LTO), by summing the sizes of code symbols in the static library.
set -euo pipefail
cd "$(dirname "$0")/text-size"
rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
cargo build --release --target thumbv7em-none-eabihf -q
bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
lib=target/thumbv7em-none-eabihf/release/libffc_text_size.a
# Keep only the object that holds our code (LTO merges the crate graph into one).
"$bin/llvm-nm" --print-size --size-sort --demangle --defined-only "$lib" 2>/dev/null \
    | awk '$3 ~ /^[Tt]$/' > target/all-symbols.txt
# compiler_builtins (soft-float, libm, 64-bit division helpers) ships in every image
# whatever the crate; what ffc adds is the rest.
grep -v -e 'compiler_builtins::' -e ' __' target/all-symbols.txt > target/symbols.txt || true
echo "code symbols (bytes, name):"
while read -r _addr size _kind name; do printf '  %6d %s\n' "$((16#$size))" "$name"; done < target/symbols.txt | sort -rn | head -20
total=0
while read -r _addr size _rest; do total=$((total + 16#$size)); done < target/symbols.txt
echo "total .text of the exported aggregation path: $total bytes"
