// Bench publisher (a child process, so it never shares an event loop with what is measured):
// publishes a fixed set of QoS 1 status messages as fast as the broker acknowledges them, keeping a
// window of messages in flight. Prints one JSON line: {"sent":N,"ms":…,"cpuMs":…} (CPU used while publishing).
import mqtt from 'mqtt';

const [url, countArg, devicesArg, ts0Arg, windowArg] = process.argv.slice(2);
const count = Number(countArg);
const devices = Number(devicesArg);
const ts0 = Number(ts0Arg);
const windowSize = Number(windowArg ?? 2000);

// Pre-built payloads: the publisher must not be the bottleneck.
const topics = Array.from({ length: devices }, (_, i) => `poly/v1/devices/BENCH${String(i).padStart(6, '0')}/status`);
const payloads: Buffer[] = [];
for (let n = 0; n < count; n++) {
  const seq = Math.floor(n / devices);
  payloads.push(
    Buffer.from(
      JSON.stringify({
        v: 1, ts: ts0 + seq * 1000 + (n % devices), seq, model: 'Studio X50', firmware: '4.1.0.123',
        uptimeS: 86400 + seq, cpuPct: 12.5, memPct: 40.1, tempC: 48.2, fanRpm: 3100,
        network: { link: 'up', ip: '10.1.2.3', rttMs: 23, jitterMs: 3.1, lossPct: 0.1 },
        call: { active: n % 3 === 0, platform: 'teams', mos: 4.2 },
        cloud: { provider: 'teams', registered: true },
        peripherals: [{ kind: 'camera', model: 'EagleEye Cube', state: 'ok' }, { kind: 'microphone', state: 'ok' }],
      }),
    ),
  );
}

const client = await mqtt.connectAsync(url!, { clientId: `bench-pub-${process.pid}`, clean: true });
const started = performance.now();
const cpu0 = process.cpuUsage();
let next = 0;
let acked = 0;
await new Promise<void>((resolve, reject) => {
  const send = () => {
    while (next < count && next - acked < windowSize) {
      const n = next++;
      client.publish(topics[n % devices]!, payloads[n]!, { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++acked === count) resolve();
        else send();
      });
    }
  };
  send();
});
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
await client.endAsync();
process.stdout.write(JSON.stringify({ sent: count, ms, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
