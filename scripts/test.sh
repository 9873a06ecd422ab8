#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs the
# structure check, formatting, lints, every test, the docs, the firmware builds, every
# feature of every library crate alone, and the `ffc` tool's Windows build.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain pieces"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
for target in thumbv7em-none-eabihf x86_64-pc-windows-gnu; do
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
# cargo-hack runs one `cargo check` per feature; built from crates.io on first use.
command -v cargo-hack >/dev/null 2>&1 || cargo install cargo-hack --locked

if [ -x scripts/services.sh ]; then
    step "services and peers for the integration tests"
    # Installs Debian packages and a Python venv for the real peers, starts them on
    # loopback and exports their addresses into the environment of the tests.
    # shellcheck disable=SC1091
    source scripts/services.sh
    # The Windows check's build scripts (ring) compile C for the target: Debian's MinGW-w64
    # cross compiler, through the same apt helper as the peers.
    ffc_apt_install gcc-mingw-w64-x86-64
fi

step "structure (file and function length, import cycles, no binaries in libraries, names)"
python3 scripts/check-structure.py

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

step "ffc-protocols' codecs without std for thumbv7em-none-eabihf"
cargo build -p ffc-protocols --locked --target thumbv7em-none-eabihf --no-default-features --features alloc

step "default builds compile no aws-lc-sys (a BI app's dependency set)"
# reqwest's own `rustls` feature would bring aws-lc (a C and CMake build); ffc uses ring.
if cargo tree --locked -p ffc-core -p ffc-device -p ffc-client -p ffc-sales -p ffc-protocols \
    -e normal,build --prefix none | grep -q '^aws-lc-sys '; then
    echo "aws-lc-sys is in a default build" >&2
    exit 1
fi

step "firmware on an emulated Cortex-M4"
# examples/firmware in QEMU's mps2-an386 against the same scenario on the host.
bash scripts/firmware.sh

step "the ffc tool for Windows (x86_64-pc-windows-gnu)"
cargo check -p ffc-cli --locked --target x86_64-pc-windows-gnu

step "every library crate with no features, each feature alone, and its defaults"
# `check`, not `build`: it proves each combination compiles, at a fraction of the time.
# --no-dev-deps keeps the tests' dev-dependencies from switching features on; it edits
# the manifests while it runs (restoring them after), so it cannot run with --locked.
# Every feature together is already built by clippy and the tests above.
cargo hack check --each-feature --exclude-all-features --no-dev-deps \
    -p ffc-core -p ffc-device -p ffc-client -p ffc-protocols -p ffc-sales

# The toolchain the workspace declares (Cargo.toml, workspace.package), installed on first
# use; every crate, every feature, with the lockfile as it is.
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
step "MSRV $msrv (the declared rust-version, locked dependencies)"
rustup run "$msrv" rustc --version >/dev/null 2>&1 || rustup toolchain install "$msrv" --profile minimal
cargo +"$msrv" check --workspace --all-features --locked

step "the library crates package for crates.io (cargo package --no-verify)"
# Each library crate packs: metadata, README, versions on path dependencies, the manifest
# crates.io would get (about 30 s). --no-verify: verifying rebuilds every crate and its
# dependencies from the packed sources in a fresh directory (over 8 min on 2 cores), and
# proves nothing the build above does not, since no crate has a build script or includes a
# file from outside its own directory (its README is packed). Examples, benches, the ffc
# tool and fuzz are `publish = false`. --allow-dirty: a run on uncommitted edits checks them.
cargo package --locked --no-verify --allow-dirty \
    -p ffc-core -p ffc-device -p ffc-client -p ffc-protocols -p ffc-sales

step "all passed"
