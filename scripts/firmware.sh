#!/usr/bin/env bash
# The firmware example (examples/firmware) on an emulated Cortex-M4: builds it for
# thumbv7em-none-eabihf, runs it in QEMU's mps2-an386 with semihosting, runs the same
# scenario on the host, and fails unless both print the same
# `in=<n> out=<n> uturns=<n> checksum=<hex>`. Also fails when `.data` exceeds 4 KiB (a
# static outbox must land in `.bss`). Prints `host: …`, `qemu: …`, `elf: <path>` and the
# section sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET=thumbv7em-none-eabihf
TARGET_DIR="$ROOT/target/firmware"
ELF="$TARGET_DIR/$TARGET/release/ffc-firmware"

# shellcheck disable=SC1091
source "$ROOT/scripts/apt.sh"
command -v qemu-system-arm >/dev/null 2>&1 || ffc_apt_install qemu-system-arm
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"

cd "$ROOT/examples/firmware"
cargo build --locked --release --target "$TARGET" --target-dir "$TARGET_DIR"
host=$(cargo run --locked --quiet -p ffc-firmware-scenario --bin host --target-dir "$TARGET_DIR")

# Semihosting prints to our stdout and its exit call ends QEMU with the firmware's status.
qemu_status=0
qemu=$(timeout 300 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none \
    -serial none -semihosting-config enable=on,target=native -kernel "$ELF") || qemu_status=$?

echo "host: $host"
echo "qemu: $qemu"
echo "elf: $ELF"

# Section sizes in bytes (GNU size, or LLVM's).
SIZE=$(command -v size || command -v llvm-size)
section() { "$SIZE" -A "$ELF" | awk -v s="$1" '$1 == s { print $2 }'; }
text=$(section .text); rodata=$(section .rodata); data=$(section .data); bss=$(section .bss)
vectors=$(section .vector_table)
echo "sections: .text=$text .rodata=$rodata .data=$data .bss=$bss (.vector_table=$vectors)"
echo "flash: $((vectors + text + rodata + data)) bytes; RAM: $((data + bss)) bytes"

if [ "$qemu_status" -ne 0 ]; then
    echo "firmware: QEMU exited with status $qemu_status" >&2
    exit 1
fi
if [ -z "$host" ] || [ "$host" != "$qemu" ]; then
    echo "firmware: the host and QEMU disagree" >&2
    exit 1
fi
if [ "${data:-0}" -gt 4096 ]; then
    echo "firmware: .data is $data bytes; a static outbox should be in .bss" >&2
    exit 1
fi
echo "firmware: host and QEMU agree"
