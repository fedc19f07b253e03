#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's server binaries, run as the `postgres`
# user, listening on a Unix socket only (no TCP), in a temporary folder removed by `stop`.
#   scripts/postgresql-jetable.sh start DIR   → prints the superuser URL to export as
#                                               CERTIDOCS_TEST_POSTGRESQL
#   scripts/postgresql-jetable.sh stop DIR
set -euo pipefail
action=${1:?start ou stop}; dir=${2:?dossier}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL introuvable (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=200" start >/dev/null
    echo "postgresql://postgres@/postgres?host=$dir"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
esac
