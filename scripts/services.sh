#!/usr/bin/env bash
# Sourced by scripts/test.sh: installs and starts the real peers the integration tests use,
# all on loopback. Each peer has a fragment in scripts/services.d/ that installs what it
# needs (Debian packages, PyPI packages into the shared venv), starts it, and exports the
# variables its tests read. Tests whose variable is missing skip with a message, so
# `cargo test` alone still runs everything that needs no peer.

FFC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FFC_ROOT
# Everything the peers write (configs, data directories, logs, pid files) lives here.
export FFC_RUN_DIR="${FFC_RUN_DIR:-$FFC_ROOT/target/ffc-run}"
mkdir -p "$FFC_RUN_DIR"

# One Python venv for the Python peers (websockets, bacpypes3, ...).
export FFC_VENV="${FFC_VENV:-$FFC_ROOT/target/peer-venv}"
if [ ! -x "$FFC_VENV/bin/python" ]; then
    python3 -m venv "$FFC_VENV"
    "$FFC_VENV/bin/pip" install --quiet --upgrade pip
fi
export FFC_PYTHON="$FFC_VENV/bin/python"

# apt-get update at most once per run, and only when a fragment needs a package.
FFC_APT_UPDATED=""
# shellcheck disable=SC1091
source "$FFC_ROOT/scripts/apt.sh"

# A free TCP/UDP port on 127.0.0.1, chosen by the kernel.
ffc_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

for fragment in "$FFC_ROOT"/scripts/services.d/*.sh; do
    [ -e "$fragment" ] || continue
    # shellcheck disable=SC1090
    source "$fragment"
done
