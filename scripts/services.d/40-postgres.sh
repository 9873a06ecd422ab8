# Peer for the PostgreSQL tests (ffc-client, issue 8): Debian's PostgreSQL server, a
# private throw-away cluster in $FFC_RUN_DIR/pg on a free loopback port.
# Exports:
#   FFC_PG_URL   postgresql://ffc@127.0.0.1:PORT/postgres (trust auth, loopback only)
#   FFC_PG_PORT  the port
# The cluster's unix socket lives in $FFC_RUN_DIR/pg-sock, its log in $FFC_RUN_DIR/pg.log
# (under /tmp/ffc-pg-0 instead when, as root, the postgres user cannot reach $FFC_RUN_DIR).

# initdb/pg_ctl live under /usr/lib/postgresql/<major>/bin on Debian (not on PATH);
# /usr/local/bin may hold links to them.
_ffc_pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
        if [ -x "$d/$1" ]; then
            echo "$d/$1"
            return 0
        fi
    done
    return 1
}
if ! _ffc_pg_bin initdb >/dev/null || ! _ffc_pg_bin postgres >/dev/null || ! _ffc_pg_bin pg_ctl >/dev/null; then
    ffc_apt_install postgresql
fi
_ffc_pg_initdb="$(_ffc_pg_bin initdb)"
_ffc_pg_ctl="$(_ffc_pg_bin pg_ctl)"

# PostgreSQL refuses to run as root: as root, run the cluster as the `postgres` user the
# Debian package creates (or a system user made here when it is missing).
_ffc_pg_as() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    _ffc_pg_as() { runuser -u postgres -- "$@"; }
fi

_ffc_pg_base="$FFC_RUN_DIR"
if [ "$(id -u)" = 0 ]; then
    chmod o+x "$FFC_RUN_DIR"
    # The cluster user must reach the run directory; a checkout under a private home
    # (mode 700) does not let it, so fall back to a directory of its own under /tmp.
    if ! runuser -u postgres -- test -x "$FFC_RUN_DIR"; then
        _ffc_pg_base="${TMPDIR:-/tmp}/ffc-pg-$(id -u)"
        mkdir -p "$_ffc_pg_base"
        chmod 755 "$_ffc_pg_base"
    fi
fi
_ffc_pg_dir="$_ffc_pg_base/pg"
_ffc_pg_sock="$_ffc_pg_base/pg-sock"
_ffc_pg_log="$_ffc_pg_base/pg.log"
# A cluster left by an earlier run: stop it and start afresh.
if [ -f "$_ffc_pg_dir/postmaster.pid" ]; then
    _ffc_pg_as "$_ffc_pg_ctl" -D "$_ffc_pg_dir" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$_ffc_pg_dir" "$_ffc_pg_sock"
mkdir -p "$_ffc_pg_dir" "$_ffc_pg_sock"
: >"$_ffc_pg_log"
if [ "$(id -u)" = 0 ]; then
    chown postgres "$_ffc_pg_dir" "$_ffc_pg_sock" "$_ffc_pg_log"
fi
chmod 700 "$_ffc_pg_dir"

export FFC_PG_PORT="$(ffc_free_port)"
if _ffc_pg_as "$_ffc_pg_initdb" -D "$_ffc_pg_dir" -U ffc --auth=trust -E UTF8 --no-locale >>"$_ffc_pg_log" 2>&1 &&
    _ffc_pg_as "$_ffc_pg_ctl" -D "$_ffc_pg_dir" -l "$_ffc_pg_log" -w -t 60 \
        -o "-p $FFC_PG_PORT -k $_ffc_pg_sock -c listen_addresses=127.0.0.1 -F" start >/dev/null 2>&1; then
    _ffc_pg_ready=""
    for _ in $(seq 1 100); do
        if "$(_ffc_pg_bin pg_isready)" -h 127.0.0.1 -p "$FFC_PG_PORT" -U ffc -q; then
            _ffc_pg_ready=1
            break
        fi
        sleep 0.1
    done
    if [ -n "$_ffc_pg_ready" ]; then
        export FFC_PG_URL="postgresql://ffc@127.0.0.1:$FFC_PG_PORT/postgres"
    else
        echo "services.d/40-postgres: PostgreSQL did not become ready; see $_ffc_pg_log" >&2
        unset FFC_PG_PORT
    fi
else
    echo "services.d/40-postgres: PostgreSQL did not start; see $_ffc_pg_log" >&2
    unset FFC_PG_PORT
fi
unset _ffc_pg_base _ffc_pg_dir _ffc_pg_sock _ffc_pg_log _ffc_pg_initdb _ffc_pg_ctl _ffc_pg_ready
unset -f _ffc_pg_bin _ffc_pg_as
