#!/usr/bin/env bash
# Runs a PostgreSQL server from the locally installed binaries (Debian's postgresql package) in the foreground, for
# the AppHost's "postgres" profile on machines without a container engine: creates the cluster on first use, then
# execs postgres so the AppHost owns the process (stopping the AppHost stops the server).
# Usage: run-postgres.sh <data-folder> <port>
set -euo pipefail
data="$1"; port="$2"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$bin" || ! -x "$bin/postgres" ]]; then
  echo "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin: apt-get install -y postgresql" >&2
  exit 1
fi
as_owner=()
if [[ $(id -u) == 0 ]]; then
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres OS user.
  as_owner=(runuser -u postgres --)
fi
mkdir -p "$data"
if [[ ! -s "$data/PG_VERSION" ]]; then
  [[ ${#as_owner[@]} -gt 0 ]] && chown -R postgres:postgres "$data"
  "${as_owner[@]}" "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
fi
[[ ${#as_owner[@]} -gt 0 ]] && chown -R postgres:postgres "$data"
exec "${as_owner[@]}" "$bin/postgres" -D "$data" -p "$port" -c listen_addresses=127.0.0.1 -k "$data"
