#!/usr/bin/env bash
# `npm run bench`: installs what is missing, then runs bench/ingest.ts (compiled) on its own
# mosquitto and influxd (ports 21883 and 28086, data under .data/bench), and stops them after.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-node-modules.sh
node dist/bench/ingest.js "$@"
