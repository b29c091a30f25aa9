#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server: creates a cluster in a temporary
# directory with the newest PostgreSQL installed (Debian: apt-get install postgresql; a default
# cluster or service the package set up is neither used nor touched), starts it on a free port
# of 127.0.0.1 with trust authentication, runs the command with ANJIAN_TEST_POSTGRES set to a
# URL where it may create databases, then stops the server and removes the directory, also
# when the command fails or is interrupted. Exits with the command's status.
#
#   scripts/with-postgres.sh cargo test -p anjian-server --test integration
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGUMENT...]" >&2
  exit 2
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then
  bindir=$(dirname "$(command -v pg_ctl)")
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "PostgreSQL is needed for the store tests: apt-get install postgresql" >&2
  exit 1
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user (and
# lives under /tmp, which that user can reach).
if [ "$(id -u)" -eq 0 ]; then
  tmp=$(mktemp -d /tmp/anjian-pg.XXXXXX)
  chown postgres: "$tmp"
  as_owner() { (cd "$tmp" && runuser -u postgres -- "$@"); }
else
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/anjian-pg.XXXXXX")
  as_owner() { (cd "$tmp" && "$@"); }
fi
data=$tmp/data
log=$tmp/postgres.log

cleanup() {
  local status=$?
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -s stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A collation that does not sort by bytes where the server supports choosing one (ICU,
# PostgreSQL 15 and later), so the tests show the store's order does not depend on it.
locale_options=(--locale=C.UTF-8)
if "$bindir/initdb" --help | grep -q -- '--locale-provider'; then
  locale_options+=(--locale-provider=icu --icu-locale=en-US)
fi
if ! as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 "${locale_options[@]}" \
  >"$tmp/initdb.log" 2>&1; then
  echo "initdb failed:" >&2
  tail -n 30 "$tmp/initdb.log" >&2
  exit 1
fi

free_port() {
  local port
  if port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null) && [ -n "$port" ]; then
    echo "$port"
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

started=false
for _ in 1 2 3 4 5; do
  port=$(free_port)
  if as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c fsync=on -c log_min_messages=warning"; then
    started=true
    break
  fi
  # Another process took the port in the meantime: try another; any other failure is final.
  grep -q -e 'could not bind' -e 'Address already in use' "$log" 2>/dev/null || break
done
if ! $started; then
  echo "PostgreSQL did not start; the end of its log ($log):" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
fi

export ANJIAN_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$port/postgres"
set +e
"$@"
status=$?
set -e
exit "$status"
