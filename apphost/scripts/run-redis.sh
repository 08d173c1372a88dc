#!/usr/bin/env bash
# Runs a Redis server from the locally installed binary (Debian's redis-server package) in the foreground, for the
# AppHost's "postgres" profile on machines without a container engine: loopback only, an append-only file in the
# data folder synced before each write is answered (an acknowledged publish survives a crash of the machine), and
# the password the AppHost generated (DAPRSHOP_REDIS_PASSWORD) in a config file only its owner can read, so it
# never shows on a command line. The AppHost owns the process (stopping the AppHost stops the server).
# Usage: DAPRSHOP_REDIS_PASSWORD=... run-redis.sh <data-folder> <port>
set -euo pipefail
data="$1"; port="$2"
if [[ ! -x /usr/bin/redis-server ]]; then
  echo "redis-server was not found: apt-get install -y redis-server" >&2
  exit 1
fi
: "${DAPRSHOP_REDIS_PASSWORD:?the AppHost passes the server its password}"
mkdir -p "$data"
umask 077
printf 'requirepass "%s"\n' "$DAPRSHOP_REDIS_PASSWORD" > "$data/redis.conf"
exec /usr/bin/redis-server "$data/redis.conf" --port "$port" --bind 127.0.0.1 --dir "$data" \
  --appendonly yes --appendfsync always --save "" --daemonize no --protected-mode yes
