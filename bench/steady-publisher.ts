// Steady background load for bench/fault-to-ticket.ts (a child process, so it never shares an event
// loop with what is measured): healthy QoS 1 status snapshots from DEVICES devices (ids
// PREFIX000000…), round robin, at RATE messages per second, for at most MAX_SECONDS.
//
//   node dist/bench/steady-publisher.js URL RATE DEVICES MAX_SECONDS [PREFIX]
//
// Paced open loop: every TICK_MS it sends what is due by the clock (rate x elapsed), so a late tick
// is made up at the next one, with at most WINDOW messages unacknowledged by the broker. Each device
// counts its own seq up by one (no seq gaps, no reboots) and sends healthy values (tempC 48), so the
// load opens no alert. Prints "ready" once connected, then, when MAX_SECONDS pass, on SIGTERM or when
// stdin closes (the parent went away), one JSON line:
// {"sent":N,"acked":N,"startMs":…,"ms":…,"cpuMs":…,"maxBehind":N} (startMs is epoch ms,
// performance.timeOrigin-based; maxBehind: the most messages that were due but not yet sent).
import mqtt from 'mqtt';

const [url, rateArg, devicesArg, maxSArg, prefixArg] = process.argv.slice(2);
const rate = Number(rateArg);
const devices = Number(devicesArg);
const maxMs = Number(maxSArg) * 1000;
const prefix = prefixArg ?? 'LOAD';
if (!url || !(rate > 0) || !(devices > 0) || !(maxMs > 0)) {
  process.stderr.write('usage: steady-publisher.js URL RATE DEVICES MAX_SECONDS [PREFIX]\n');
  process.exit(2);
}
const TICK_MS = 5;
const WINDOW = 5000;

const topics = Array.from({ length: devices }, (_, i) => `poly/v1/devices/${prefix}${String(i).padStart(6, '0')}/status`);
const seqs = new Array<number>(devices).fill(0);
// Everything after ts/seq/uptime is the same for every message: built once.
const tail =
  ',"model":"Studio X50","firmware":"4.1.0.123","cpuPct":12.5,"memPct":40.1,"tempC":48.2,"fanRpm":3100,' +
  '"network":{"link":"up","ip":"10.1.2.3","rttMs":23,"jitterMs":3.1,"lossPct":0.1},' +
  '"call":{"active":false,"platform":"teams","mos":4.2},"cloud":{"provider":"teams","registered":true},' +
  '"peripherals":[{"kind":"camera","model":"EagleEye Cube","state":"ok"},{"kind":"microphone","state":"ok"}]}';

const client = await mqtt.connectAsync(url, { clientId: `bench-steady-${process.pid}`, clean: true });
process.stdout.write('ready\n');

let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.stdin.on('end', () => (stopping = true));
process.stdin.on('close', () => (stopping = true));
process.stdin.resume();

const t0 = performance.now();
const startMs = performance.timeOrigin + t0;
const cpu0 = process.cpuUsage();
let sent = 0;
let acked = 0;
let maxBehind = 0;
let failed: Error | undefined;
const onAck = (err?: Error) => {
  if (err) failed ??= err;
  acked++;
};

await new Promise<void>((resolve) => {
  const tick = () => {
    const elapsed = performance.now() - t0;
    if (stopping || failed || elapsed >= maxMs) return resolve();
    const due = Math.floor((rate * elapsed) / 1000);
    const now = Date.now();
    while (sent < due && sent - acked < WINDOW) {
      const d = sent % devices;
      const seq = seqs[d]!++;
      client.publish(topics[d]!, `{"v":1,"ts":${now},"seq":${seq},"uptimeS":${86400 + seq}${tail}`, { qos: 1 }, onAck);
      sent++;
    }
    if (due - sent > maxBehind) maxBehind = due - sent;
    setTimeout(tick, TICK_MS);
  };
  tick();
});
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// The last acknowledgements, briefly.
for (let i = 0; i < 100 && acked < sent; i++) await new Promise((r) => setTimeout(r, 20));
process.stdout.write(JSON.stringify({ sent, acked, startMs, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxBehind, error: failed?.message }) + '\n');
await client.endAsync(true);
process.exit(failed ? 1 : 0);
