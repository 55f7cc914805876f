#!/usr/bin/env bash
# `npm test`: everything a fresh Debian machine with Node 20 needs, then every test.
# The vitest global setup installs (apt, as root) and starts influxd and mosquitto on test ports,
# with data under .data/test-services, and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-node-modules.sh   # also type-checks: the build is tsc
bash scripts/services.sh install all   # influxdb, mosquitto, and chromium for the NOC page's browser tests
mkdir -p test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=$?
# One plain closing line that any CI reader understands.
if [ -f test-results/vitest.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  '
fi
exit $status
