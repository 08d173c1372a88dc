#!/usr/bin/env bash
# Runs every DaprShop test on a fresh Debian machine: installs what the tests need when it is missing
# (the .NET SDK is expected; the PostgreSQL, Redis and RabbitMQ servers and Chromium for the browser tests come from
# Debian; the tests start their own instances, never the system services),
# builds, tests, prints a summary. Screenshots and the AppHost's resource logs land in artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
if [ ! -x /usr/bin/redis-server ]; then need_apt+=(redis-server); fi
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then need_apt+=(rabbitmq-server); fi
# Playwright drives Debian's Chromium; its own browser download is never used (no internet on CI machines).
if [ ! -x /usr/bin/chromium ]; then need_apt+=(chromium fonts-dejavu-core); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing test dependencies: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (https://dot.net); global.json pins it." >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build DaprShop.sln -c Release -nologo -clp:ErrorsOnly

results="$(mktemp -d)"
status=0
# One test project at a time (-m:1): several of them start a whole mesh of processes, and two such at once on a
# 2-core machine only make each slower.
dotnet test DaprShop.sln -c Release --no-build -nologo -m:1 --logger "trx" --results-directory "$results" \
  --logger "console;verbosity=normal" 2>&1 | tee "$results/console.log" || status=$?

# One closing line that any CI reads, summed over every test assembly's totals block.
awk '/^ *Total tests: [0-9]+/ { t += $3 } /^ +Passed: [0-9]+/ { p += $2 } /^ +Failed: [0-9]+/ { f += $2 } /^ +Skipped: [0-9]+/ { s += $2 }
     END { if (t > p + f + s) f += t - p - f - s; printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$results/console.log"
exit $status
