#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, then runs the four benchmarks one after the
# other and ends with one headline table:
#   bench/ingest.ts           ingest throughput, collector vs. a bare subscriber (own mosquitto and influxd, ports 21883/28086)
#   bench/fault-to-ticket.ts  fault-to-ticket latency, idle and under a background load (ports 21884/28087)
#   bench/memory.ts           memory per device with 100,000 devices' state vs. keeping the last message (no services)
#   bench/offline-storm.ts    mass offline: 10,000 devices go offline at once vs. their burst of one status each;
#                             time, CPU per device, event-loop stall, MQTT connection kept, idle CPU after (ports 21885/28090)
#   bench/summary.ts          the headline table, from what each bench wrote to .data/bench/results/<bench>.json
# Each bench prints its own markdown table. Exit code: non-zero when a bench failed (all still run);
# a goal missed is reported in the tables, not in the exit code.
#
# --only ingest|latency|memory|storm runs just one of them (the summary then shows the others' figures
# from their last run, dated). Other options go to the bench that runs; when all run they go to the
# ingest bench (as before), and the other three run with their defaults:
#   npm run bench                                        all four, defaults
#   npm run bench -- --messages 20000 --rounds 3         ingest options, the others with defaults
#   npm run bench -- --only latency --load 10000 --faults 500
#   npm run bench -- --only memory --devices 20000
#   npm run bench -- --only storm --devices 2000
# Options of each: bench/README.md and docs/operations.md#benchmarking.
set -euo pipefail
cd "$(dirname "$0")/.."

only=""
args=()
while (($# > 0)); do
  case "$1" in
    --only)
      (($# >= 2)) || { echo "bench.sh: --only needs ingest, latency, memory or storm" >&2; exit 2; }
      only="$2"
      shift 2
      ;;
    --only=*) only="${1#--only=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$only" in
  "" | ingest | latency | memory | storm) ;;
  *) echo "bench.sh: --only takes ingest, latency, memory or storm, got '$only'" >&2; exit 2 ;;
esac

bash scripts/ensure-node-modules.sh
started=$(node -e 'console.log(Date.now())')
results=.data/bench/results
mkdir -p "$results"
rc=0
ran=()

# run NAME SCRIPT [ARGS...]: one bench; its old headline goes first, so a failed run leaves none.
run() {
  local name="$1" script="$2"
  shift 2
  ((${#ran[@]} == 0)) || echo
  ran+=("$name")
  rm -f "$results/$name.json"
  node "$script" "$@" || rc=$?
}

if [[ -z "$only" ]]; then
  run ingest dist/bench/ingest.js ${args[@]+"${args[@]}"}
  run latency dist/bench/fault-to-ticket.js
  run memory dist/bench/memory.js
  run storm dist/bench/offline-storm.js
else
  case "$only" in
    ingest) script=dist/bench/ingest.js ;;
    latency) script=dist/bench/fault-to-ticket.js ;;
    memory) script=dist/bench/memory.js ;;
    storm) script=dist/bench/offline-storm.js ;;
  esac
  run "$only" "$script" ${args[@]+"${args[@]}"}
fi

echo
node dist/bench/summary.js --ran "$(IFS=,; echo "${ran[*]}")" --since "$started" || rc=$?
exit "$rc"
