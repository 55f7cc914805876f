// The baseline: a bare mqtt.js subscriber with the collector's session settings (QoS 1, fixed client
// id, persistent session) that only counts. Prints "ready" once subscribed, then one JSON line
// {"received":N,"firstMs":…,"lastMs":…} (performance.timeOrigin-based epoch ms) once it has `count`.
import mqtt from 'mqtt';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
let received = 0;
let firstMs = 0;
const client = mqtt.connect(url!, { clientId: `bench-bare-${process.pid}`, clean: false, manualConnect: true });
client.handleMessage = (_packet, done) => {
  if (received++ === 0) firstMs = performance.timeOrigin + performance.now();
  if (received === count) {
    const lastMs = performance.timeOrigin + performance.now();
    process.stdout.write(JSON.stringify({ received, firstMs, lastMs }) + '\n');
    done();
    client.end(true, {}, () => process.exit(0));
    return;
  }
  done();
};
client.on('connect', () => {
  client.subscribe('poly/v1/#', { qos: 1 }, () => process.stdout.write('ready\n'));
});
client.connect();
