#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, then runs the two benchmarks one after the
# other, each on its own mosquitto and influxd that it starts and stops (data under .data/bench):
#   bench/ingest.ts           ingest throughput, collector vs. a bare subscriber (ports 21883/28086)
#   bench/fault-to-ticket.ts  fault-to-ticket latency, idle and under a background load (ports 21884/28087)
# Each prints a markdown table. Exit code: non-zero when either bench failed (both still run).
#
# --only ingest|latency runs just one of them. Other options go to the bench that runs; when both
# run they go to the ingest bench (as before), and the latency bench runs with its defaults:
#   npm run bench                                        both, defaults
#   npm run bench -- --messages 20000 --rounds 3         ingest options, latency bench with defaults
#   npm run bench -- --only latency --load 10000 --faults 500
# Options of each: bench/README.md and docs/operations.md#benchmarking.
set -euo pipefail
cd "$(dirname "$0")/.."

only=""
args=()
while (($# > 0)); do
  case "$1" in
    --only)
      (($# >= 2)) || { echo "bench.sh: --only needs ingest or latency" >&2; exit 2; }
      only="$2"
      shift 2
      ;;
    --only=*) only="${1#--only=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$only" in
  "" | ingest | latency) ;;
  *) echo "bench.sh: --only takes ingest or latency, got '$only'" >&2; exit 2 ;;
esac

bash scripts/ensure-node-modules.sh
rc=0
if [[ "$only" != latency ]]; then
  node dist/bench/ingest.js ${args[@]+"${args[@]}"} || rc=$?
fi
if [[ "$only" == latency ]]; then
  node dist/bench/fault-to-ticket.js ${args[@]+"${args[@]}"} || rc=$?
elif [[ -z "$only" ]]; then
  echo
  node dist/bench/fault-to-ticket.js || rc=$?
fi
exit "$rc"
