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

# apt-get with the lock waited for, never failed on. Another apt (a second test run,
# unattended upgrades) may hold it: `DPkg::Lock::Timeout` waits for dpkg's own lock, but
# apt 2.6 does not apply it to the package lists' lock (`apt-get update`) or the download
# cache's, so a run that finds one of those held waits and tries again, for up to ten
# minutes in all; any other failure fails at once.
ffc_apt_get() {
    local deadline=$((SECONDS + 600)) err
    err="$(mktemp)"
    until DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" 2>"$err"; do
        if ! grep -q 'Could not get lock' "$err" || [ "$SECONDS" -ge "$deadline" ]; then
            cat "$err" >&2
            rm -f "$err"
            return 1
        fi
        echo "apt-get: $(grep -m1 'Could not get lock' "$err"); waiting" >&2
        sleep 5
    done
    rm -f "$err"
}

# apt-get update at most once per run, and only when a fragment needs a package.
FFC_APT_UPDATED=""
ffc_apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ -z "$FFC_APT_UPDATED" ]; then
        ffc_apt_get update -qq
        FFC_APT_UPDATED=1
    fi
    ffc_apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A free TCP/UDP port on 127.0.0.1, chosen by the kernel.
ffc_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

for fragment in "$FFC_ROOT"/scripts/services.d/*.sh; do
    [ -e "$fragment" ] || continue
    # shellcheck disable=SC1090
    source "$fragment"
done
