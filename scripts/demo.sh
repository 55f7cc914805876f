#!/usr/bin/env bash
# `npm run demo`: the whole system with a simulated demo fleet, on a fresh Debian machine with Node 20.
# Installs what is missing (npm packages; influxdb and mosquitto from Debian when root), starts
# influxd under .data/services, `fleetwatch serve` with the embedded MQTT broker and the demo
# registry (seed/demo.json), and the simulator playing that fleet. Ctrl-C stops what it started.
# Arguments go to the simulator, e.g. a fault scenario:
#   npm run demo -- --scenario simulators/scenarios/overheating.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
export INFLUX_PORT="${INFLUX_PORT:-8086}"
export MQTT_PORT="${MQTT_PORT:-1883}"
export PORT="${PORT:-3000}"
export FLEET_SEED="${FLEET_SEED:-seed/demo.json}"
export INFLUX_URL="http://127.0.0.1:${INFLUX_PORT}"
export INFLUX_DB="${INFLUX_DB:-fleet}"
unset MQTT_URL # the demo runs the embedded broker, which the simulator publishes to
export DATABASE_URL="${DATABASE_URL:-sqlite:.data/demo/fleetwatch.db}"
export JOURNAL_DIR="${JOURNAL_DIR:-.data/demo/journal}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
DEMO_INTERVAL="${DEMO_INTERVAL:-5}"

bash scripts/ensure-node-modules.sh
bash scripts/services.sh install

pids=()
started_influxd=no
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$started_influxd" = yes ]; then bash scripts/services.sh stop influxd; fi
}
trap cleanup EXIT INT TERM

if ! bash scripts/services.sh status influxd >/dev/null 2>&1; then
  bash scripts/services.sh start influxd
  started_influxd=yes
fi

mkdir -p .data/demo
node bin/fleetwatch.js serve >.data/demo/serve.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:${PORT}/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "demo: fleetwatch serve exited:"; tail -20 .data/demo/serve.log; exit 1; fi
  sleep 0.2
done

node bin/fleetwatch.js simulate --url "mqtt://127.0.0.1:${MQTT_PORT}" --registry "$FLEET_SEED" \
  --interval "$DEMO_INTERVAL" --unregistered 2 "$@" >.data/demo/simulate.log 2>&1 &
pids+=($!)

# The NOC page's sign-in token: the seed's first noc user.
NOC_TOKEN="$(node --input-type=module -e '
  const { readSeedFile } = await import("./dist/src/storage/seed.js");
  console.log(readSeedFile(process.argv[1]).users.find((u) => u.role === "noc")?.token ?? "(a token from the list below)");
' "$FLEET_SEED")"

cat <<INFO

Fleetwatch demo is running (fleet: ${FLEET_SEED}, one status per device every ${DEMO_INTERVAL} s).

  NOC page        http://127.0.0.1:${PORT}/   (token ${NOC_TOKEN}; a partner token shows that partner only; docs/noc-page.md)
  Health          http://127.0.0.1:${PORT}/healthz    readiness: http://127.0.0.1:${PORT}/readyz
  Metrics         http://127.0.0.1:${PORT}/metrics
  Partner API     http://127.0.0.1:${PORT}/api/v1/tickets   (description: http://127.0.0.1:${PORT}/openapi.json; docs/api.md)
                  curl -s -H 'Authorization: Bearer demo-acme-user-token-0000000000' http://127.0.0.1:${PORT}/api/v1/alerts/groups
  Live stream     socket.io on http://127.0.0.1:${PORT} with auth: { token }   (docs/streams.md)
  MQTT broker     mqtt://127.0.0.1:${MQTT_PORT}   (embedded; topics poly/v1/devices/+/+)
  InfluxDB        ${INFLUX_URL}   database "${INFLUX_DB}", e.g.:
                  curl -sG ${INFLUX_URL}/query --data-urlencode db=${INFLUX_DB} \\
                    --data-urlencode 'q=SELECT count(seq) FROM device_status WHERE time > now() - 5m GROUP BY partner'
  Logs            .data/demo/serve.log, .data/demo/simulate.log

  Demo API tokens (for the NOC page, the partner API and live streams):
$(node --input-type=module -e '
  const { readSeedFile } = await import("./dist/src/storage/seed.js");
  for (const u of readSeedFile(process.argv[1]).users) console.log(`    ${u.role.padEnd(14)} ${(u.partnerId ?? "all partners").padEnd(13)} ${u.token}`);
' "$FLEET_SEED")

Ctrl-C stops everything the demo started.
INFO
wait "${pids[0]}"
