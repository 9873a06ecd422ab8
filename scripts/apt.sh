# Sourced by scripts/services.sh and scripts/firmware.sh: installs Debian packages that are
# missing, waiting for the apt lock instead of failing when another apt run holds it.
ffc_apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    # Another apt (a second test run, unattended upgrades) may hold the lock: wait for it
    # for up to ten minutes rather than fail.
    local wait=(-o DPkg::Lock::Timeout=600)
    if [ -z "${FFC_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" update -qq
        FFC_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
