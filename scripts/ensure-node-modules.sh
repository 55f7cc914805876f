#!/usr/bin/env bash
# Installs the npm packages when they are missing or older than the lock file, and builds dist/
# (npm ci runs the `prepare` script, which compiles). Sourced by demo.sh, test.sh and bench.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "fleetwatch: installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi
