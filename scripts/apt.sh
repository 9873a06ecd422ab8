# Sourced by scripts/services.sh and scripts/firmware.sh: installs Debian packages that are
# missing, waiting for the apt lock instead of failing when another apt run holds it.

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

# apt-get update at most once per run, and only when something needs a package.
ffc_apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ -z "${FFC_APT_UPDATED:-}" ]; then
        ffc_apt_get update -qq
        FFC_APT_UPDATED=1
    fi
    ffc_apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
