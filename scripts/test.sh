#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs
# formatting, lints, every test, the docs and the firmware builds of ffc-core.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain pieces"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf

if [ -x scripts/services.sh ]; then
    step "services and peers for the integration tests"
    # Installs Debian packages and a Python venv for the real peers, starts them on
    # loopback and exports their addresses into the environment of the tests.
    # shellcheck disable=SC1091
    source scripts/services.sh
fi

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings denied)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests"
# Every feature on, so simulators, transports and database code are all exercised.
cargo test --workspace --all-features --locked

step "rustdoc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked

step "ffc-core for thumbv7em-none-eabihf"
cargo build -p ffc-core --locked --target thumbv7em-none-eabihf --no-default-features
cargo build -p ffc-core --locked --target thumbv7em-none-eabihf --no-default-features --features alloc,serde

step "all passed"
