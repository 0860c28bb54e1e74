#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server:
#   scripts/with-postgres.sh COMMAND [ARGS...]
# Installs PostgreSQL from Debian when it is missing, creates a cluster in a temporary folder,
# starts it on a free loopback port, exports CHORUS_TEST_DATABASE_URL for the command, and
# stops and deletes the cluster afterwards, whatever the command's outcome.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

pgbin=$(find_bin)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL is not installed; installing it from Debian (postgresql)" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pgbin=$(find_bin)
  # The package may start its default cluster; this script leaves nothing running.
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    $sudo pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
  done
fi

workdir=$(mktemp -d -t chorus-pg.XXXXXX)
run_as=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: run the server as the 'postgres' system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$workdir"
  run_as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${run_as[@]}" "$pgbin/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$pgbin/initdb" -D "$workdir/data" -U chorus --auth=trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
"${run_as[@]}" "$pgbin/pg_ctl" -D "$workdir/data" -w -l "$workdir/server.log" \
  -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"${run_as[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U chorus chorus_test

export CHORUS_TEST_DATABASE_URL="postgresql+psycopg://chorus@127.0.0.1:$port/chorus_test"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway)" >&2
set +e
"$@"
status=$?
set -e
exit $status
