#!/usr/bin/env bash
# Starts (once) a throwaway PostgreSQL server on loopback for phlo's tests and examples, and
# prints its connection URL. Idempotent and safe to call from many test processes at once:
# the first caller installs (Debian's `postgresql` package, when no server is on the
# machine), initialises and starts it; the others wait on a lock and get the same URL.
#
#   url="$(scripts/postgres.sh)"        # postgres://phlo@127.0.0.1:55432/phlo
#   scripts/postgres.sh --stop          # stops it
#
# PHLO_PG_DIR (default $TMPDIR/phlo-postgres, /tmp when unset: a place the server's
# unprivileged user can reach whatever the checkout's permissions) holds the cluster;
# PHLO_PG_PORT (default 55432) is its port. A server already answering on the port is used
# as it is, so every checkout on the machine shares one. It trusts loopback connections:
# it is for tests only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PHLO_PG_DIR:-${TMPDIR:-/tmp}/phlo-postgres}"
port="${PHLO_PG_PORT:-55432}"
url="postgres://phlo@127.0.0.1:$port/phlo"
data="$dir/data"
mkdir -p "$dir"

find_bin() {
    local b
    for b in /usr/lib/postgresql/*/bin; do
        if [[ -x "$b/pg_ctl" && -x "$b/initdb" ]]; then
            echo "$b"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

# Runs a command as the cluster's owner: PostgreSQL refuses to run as root.
as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

exec 9>"$dir/.lock"
flock 9

bin="$(find_bin || true)"
if [[ -z "$bin" ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "postgres.sh: installing Debian's postgresql package" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
        bin="$(find_bin)"
    else
        echo "postgres.sh: no PostgreSQL server found; install it (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
fi

if [[ "${1:-}" == "--stop" ]]; then
    # Whichever cluster answers on the port (it may have been started from another
    # checkout), else ours.
    running="$(as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U phlo -d postgres -tAc \
        "SHOW data_directory" 2>/dev/null || true)"
    target="${running:-$data}"
    if [[ -f "$target/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$target" -m fast stop >&2 9>&-
    fi
    exit 0
fi

ensure_db() {
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U phlo -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'phlo'" | grep -q 1; then
        as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U phlo phlo
    fi
}

# A server of ours already answering on the port (started from another checkout): use it.
if [[ "${1:-}" != "--stop" ]] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U phlo 2>/dev/null \
    && as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U phlo -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    ensure_db
    echo "$url"
    exit 0
fi

if [[ "$(id -u)" == "0" ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    chown postgres "$dir"
fi

if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    as_owner mkdir -p "$data"
    as_owner "$bin/initdb" -D "$data" -U phlo --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
fi

if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # The server must not inherit the lock (fd 9), or every later caller waits forever.
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null 9>&- \
        || { tail -n 30 "$dir/server.log" >&2; exit 1; }
fi

ensure_db
echo "$url"
