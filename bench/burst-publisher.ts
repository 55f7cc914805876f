// Bursts for bench/offline-storm.ts (a child process, so the publishing never shares an event loop or
// a CPU count with the service that is measured): one QoS 1 message per device, as fast as mosquitto
// takes them, on one connection.
//
//   node dist/bench/burst-publisher.js URL
//
// Prints "ready" once connected, then takes commands on stdin, one a line:
//   status PREFIX COUNT    one healthy status snapshot per device PREFIX000000… (seq 0, tempC 48)
//   offline PREFIX COUNT   one presence {"state":"offline","ts":…} per device, retained, QoS 1: what
//                          the broker publishes for each device's Last Will after a network or broker
//                          failure (the ts is the time of the device's connection, as a will's is)
// and answers each with one JSON line: {"what","count","firstMs","sentMs","ackedMs","acked","errors","cpuMs"}
// (epoch ms from Date.now(): just before the first publish, after the last publish() call, when the
// last acknowledgement came; cpuMs: this process during the burst). At most WINDOW messages are
// unacknowledged at a time (QoS 1 message ids are 16 bits).
//   probe URL EVERY_MS     starts asking GET URL (the service's /readyz) from here, outside the service's
//                          event loop: a request, its answer, EVERY_MS ms, the next; answers "probing"
//   probe-stop             waits for the request under way, stops, answers
//                          {"polls","notReady","slowestMs","slowestAtMs"} (not ready: not 200, or no answer)
// Ends when stdin closes.
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: burst-publisher.js URL\n');
  process.exit(2);
}
const WINDOW = 20_000;
/** The devices "connected" when this process started: their Last Wills carry this ts. */
const connectedMs = Date.now();

// Everything after ts/seq is the same for every message (the steady publisher's healthy snapshot).
const STATUS_TAIL =
  ',"uptimeS":86400,"model":"Studio X50","firmware":"4.1.0.123","cpuPct":12.5,"memPct":40.1,"tempC":48.2,"fanRpm":3100,' +
  '"network":{"link":"up","ip":"10.1.2.3","rttMs":23,"jitterMs":3.1,"lossPct":0.1},' +
  '"call":{"active":false,"platform":"teams","mos":4.2},"cloud":{"provider":"teams","registered":true},' +
  '"peripherals":[{"kind":"camera","model":"EagleEye Cube","state":"ok"},{"kind":"microphone","state":"ok"}]}';

const client = await mqtt.connectAsync(url, { clientId: `bench-storm-devices-${process.pid}`, clean: true, keepalive: 60 });
process.stdout.write('ready\n');

interface Burst {
  what: 'status' | 'offline';
  count: number;
  firstMs: number;
  sentMs: number;
  ackedMs: number;
  acked: number;
  errors: number;
  cpuMs: number;
}

function burst(what: 'status' | 'offline', prefix: string, count: number): Promise<Burst> {
  const id = (i: number) => `${prefix}${String(i).padStart(6, '0')}`;
  const ts = Date.now();
  const offline = Buffer.from(JSON.stringify({ state: 'offline', ts: connectedMs }));
  const message = (i: number): [string, string | Buffer, { qos: 1; retain: boolean }] =>
    what === 'status'
      ? [`poly/v1/devices/${id(i)}/status`, `{"v":1,"ts":${ts},"seq":0${STATUS_TAIL}`, { qos: 1, retain: false }]
      : [`poly/v1/devices/${id(i)}/presence`, offline, { qos: 1, retain: true }];
  const cpu0 = process.cpuUsage();
  return new Promise((resolve) => {
    const r: Burst = { what, count, firstMs: Date.now(), sentMs: 0, ackedMs: 0, acked: 0, errors: 0, cpuMs: 0 };
    let sent = 0;
    let pumping = false;
    const done = () => {
      r.ackedMs = Date.now();
      const c = process.cpuUsage(cpu0);
      r.cpuMs = (c.user + c.system) / 1000;
      resolve(r);
    };
    const onAck = (err?: Error) => {
      if (err) r.errors++;
      r.acked++;
      if (r.acked === count) done();
      else if (sent < count && !pumping) setImmediate(pump);
    };
    const pump = () => {
      pumping = true;
      while (sent < count && sent - r.acked < WINDOW) {
        const [topic, payload, opts] = message(sent++);
        client.publish(topic, payload, opts, onAck);
      }
      if (sent === count && r.sentMs === 0) r.sentMs = Date.now();
      pumping = false;
    };
    if (count === 0) done();
    else pump();
  });
}

interface ProbeStats {
  polls: number;
  notReady: number;
  slowestMs: number;
  /** Epoch ms the slowest request was sent. */
  slowestAtMs: number;
}

function probe(target: string, everyMs: number): () => Promise<ProbeStats> {
  const s: ProbeStats = { polls: 0, notReady: 0, slowestMs: 0, slowestAtMs: 0 };
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const t0 = performance.now();
      try {
        const res = await fetch(target, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status !== 200) s.notReady++;
      } catch {
        s.notReady++;
      }
      const ms = performance.now() - t0;
      s.polls++;
      if (ms > s.slowestMs) {
        s.slowestMs = ms;
        s.slowestAtMs = at;
      }
      if (!stopped) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, everyMs);
        });
      }
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    await loop;
    return s;
  };
}

let stopProbe: (() => Promise<ProbeStats>) | undefined;
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [what, prefix, countArg] = line.trim().split(/\s+/);
  if (what === 'probe' && prefix && Number(countArg) > 0) {
    await stopProbe?.();
    stopProbe = probe(prefix, Number(countArg));
    process.stdout.write('probing\n');
    continue;
  }
  if (what === 'probe-stop') {
    const stats = (await stopProbe?.()) ?? { polls: 0, notReady: 0, slowestMs: 0, slowestAtMs: 0 };
    stopProbe = undefined;
    process.stdout.write(JSON.stringify(stats) + '\n');
    continue;
  }
  const count = Number(countArg);
  if ((what !== 'status' && what !== 'offline') || !prefix || !Number.isInteger(count) || count < 0) {
    process.stdout.write(JSON.stringify({ error: `bad command "${line}"` }) + '\n');
    continue;
  }
  process.stdout.write(JSON.stringify(await burst(what, prefix, count)) + '\n');
}
await stopProbe?.();
await client.endAsync(true);
