// `npm run bench` (the first of its three benches; scripts/bench.sh runs bench/fault-to-ticket.ts and
// bench/memory.ts after it, then bench/summary.ts; headline figures: .data/bench/results/ingest.json):
// ingest throughput of the real collector against a bare mqtt.js subscriber, on the
// same mosquitto in the same run, plus the decoder's cost per message against JSON.parse alone.
//
// Each round: a bare subscriber (baseline) receives N messages from the bench publisher; then
// `fleetwatch serve` (the real process, real influxd) takes the same N messages, and the clock
// stops when all N points are written to InfluxDB. Rates are N / (last event - first publish).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import { decodeStatus } from '../collector/decode-status.js';
import { statusLine, tenantTagSet } from '../collector/line-protocol.js';
import { Rejection } from '../collector/rejection.js';
import { cpuMs as procCpuMs } from '../simulators/loadtest/proc-cpu.js';
import { writeSingleSiteSeed } from '../simulators/seed-file.js';
import { writeHeadline } from './results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const MESSAGES = Number(args.get('messages') ?? 100_000);
const DEVICES = Number(args.get('devices') ?? 1000);
const ROUNDS = Number(args.get('rounds') ?? 2);
const MQTT_PORT = 21883;
const INFLUX_PORT = 28086;
const MQTT_URL = `mqtt://127.0.0.1:${MQTT_PORT}`;
const INFLUX_URL = `http://127.0.0.1:${INFLUX_PORT}`;
const WORK = join(ROOT, '.data', 'bench');
const servicesEnv = { ...process.env, MQTT_PORT: String(MQTT_PORT), INFLUX_PORT: String(INFLUX_PORT), FW_DATA_DIR: join(WORK, 'services') };

function servicePid(name: 'mosquitto' | 'influxd'): number {
  const port = name === 'mosquitto' ? MQTT_PORT : INFLUX_PORT;
  return Number(readFileSync(join(WORK, 'services', `${name}-${port}`, `${name}.pid`), 'utf8').trim());
}

function services(...a: string[]): void {
  execFileSync('bash', [join(ROOT, 'scripts', 'services.sh'), ...a], { env: servicesEnv, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone. */
function cpuMs(pid: number): number {
  return procCpuMs(pid) ?? 0;
}

function lines(proc: ChildProcess): AsyncIterableIterator<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  let ended = false;
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    wake?.();
  });
  proc.on('exit', () => {
    ended = true;
    wake?.();
  });
  return (async function* () {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
    }
  })();
}

async function nextLine(it: AsyncIterableIterator<string>, what: string): Promise<string> {
  const r = await it.next();
  if (r.done) throw new Error(`${what} ended early`);
  return r.value;
}

function startPublisher(ts0: number): { proc: ChildProcess; startMs: number; done: Promise<{ sent: number; ms: number; cpuMs: number }> } {
  const proc = spawn(process.execPath, [join(DIST, 'bench', 'publish.js'), MQTT_URL, String(MESSAGES), String(DEVICES), String(ts0)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const it = lines(proc);
  const startMs = Date.now();
  return { proc, startMs, done: nextLine(it, 'publisher').then((l) => JSON.parse(l)) };
}

interface RunResult {
  msgPerS: number;
  /** CPU µs per message of the subscriber (bare or collector). */
  cpuUsPerMsg: number;
  mosquittoUsPerMsg: number;
  influxdUsPerMsg: number;
  publisherUsPerMsg: number;
  stored?: number;
}

/** CPU of the two servers over a run, per message. */
function serverCpu(): () => { mosquittoUsPerMsg: number; influxdUsPerMsg: number } {
  const m0 = cpuMs(servicePid('mosquitto'));
  const i0 = cpuMs(servicePid('influxd'));
  return () => ({
    mosquittoUsPerMsg: ((cpuMs(servicePid('mosquitto')) - m0) * 1000) / MESSAGES,
    influxdUsPerMsg: ((cpuMs(servicePid('influxd')) - i0) * 1000) / MESSAGES,
  });
}

async function runBare(): Promise<RunResult> {
  const sub = spawn(process.execPath, [join(DIST, 'bench', 'bare-subscriber.js'), MQTT_URL, String(MESSAGES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const it = lines(sub);
  await nextLine(it, 'bare subscriber'); // "ready"
  const cpu0 = cpuMs(sub.pid!);
  const servers = serverCpu();
  const pub = startPublisher(Date.now() - 3600_000);
  const result = JSON.parse(await nextLine(it, 'bare subscriber')) as { received: number; firstMs: number; lastMs: number };
  const cpu1 = cpuMs(sub.pid!);
  const serverUse = servers();
  const published = await pub.done;
  const pubStart = pub.startMs;
  return { msgPerS: MESSAGES / ((result.lastMs - Math.min(pubStart, result.firstMs)) / 1000), cpuUsPerMsg: ((cpu1 - cpu0) * 1000) / MESSAGES, ...serverUse, publisherUsPerMsg: (published.cpuMs * 1000) / MESSAGES };
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function runCollector(round: number): Promise<RunResult> {
  const dir = join(WORK, `collector-${round}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seed = writeSingleSiteSeed(join(dir, 'seed.json'), 'bench', Array.from({ length: DEVICES }, (_, i) => ({ id: `BENCH${String(i).padStart(6, '0')}` })));
  const db = `bench_${Date.now()}_${round}`;
  const port = 23000 + round;
  // e.g. BENCH_NODE_ARGS=--cpu-prof profiles the collector under load (the profile lands in .data/bench/collector-N)
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'fleetwatch.js'), 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      MQTT_URL,
      MQTT_CLIENT_ID: `bench-collector-${round}`,
      INFLUX_URL,
      INFLUX_DB: db,
      DATABASE_URL: `sqlite:${join(dir, 'fw.db')}`,
      JOURNAL_DIR: join(dir, 'journal'),
      FLEET_SEED: seed,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const http = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${http}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('collector did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu0 = cpuMs(proc.pid!);
  const servers = serverCpu();
  const pub = startPublisher(Date.now() - 3600_000);
  let written = 0;
  while (written < MESSAGES) {
    await new Promise((r) => setTimeout(r, 20));
    written = await metricValue(http, 'fleetwatch_points_written_total');
  }
  const doneMs = Date.now();
  const cpu1 = cpuMs(proc.pid!);
  const serverUse = servers();
  const published = await pub.done;
  const influx = new InfluxDB({ host: '127.0.0.1', port: INFLUX_PORT, database: db });
  const rows = await influx.query<{ count: number }>('SELECT count("seq") AS "count" FROM "device_status"');
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  await influx.dropDatabase(db);
  return { msgPerS: MESSAGES / ((doneMs - pub.startMs) / 1000), cpuUsPerMsg: ((cpu1 - cpu0) * 1000) / MESSAGES, ...serverUse, publisherUsPerMsg: (published.cpuMs * 1000) / MESSAGES, stored: rows[0]?.count ?? 0 };
}

/** The hot path alone, in this process: decode + line building against JSON.parse of the same bytes. */
function decoderBench(): { parseNs: number; decodeNs: number } {
  const now = Date.now();
  const payloads = Array.from({ length: 1000 }, (_, i) =>
    Buffer.from(JSON.stringify({ v: 1, ts: now - i, seq: i, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 86400, cpuPct: 12.5, memPct: 40.1, tempC: 48.2, fanRpm: 3100, network: { link: 'up', ip: '10.1.2.3', rttMs: 23, jitterMs: 3.1, lossPct: 0.1 }, call: { active: true, platform: 'teams', mos: 4.2 }, cloud: { provider: 'teams', registered: true }, peripherals: [{ kind: 'camera', model: 'EagleEye Cube', state: 'ok' }] })),
  );
  const tags = tenantTagSet({ partner: 'p-acme', customer: 'c-globex', site: 's-berlin', device: '8L2129E0A1B2', model: 'Studio X50' });
  const iterations = 300_000;
  let sink = 0;
  const time = (fn: (b: Buffer) => void) => {
    for (let i = 0; i < 50_000; i++) fn(payloads[i % 1000]!); // warm up
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(payloads[i % 1000]!);
    return Number(process.hrtime.bigint() - t) / iterations;
  };
  const parseNs = time((b) => {
    sink += (JSON.parse(b.toString('utf8')) as { seq: number }).seq;
  });
  const decodeNs = time((b) => {
    const s = decodeStatus(b, now);
    if (!(s instanceof Rejection)) sink += statusLine(tags, s).length;
  });
  if (sink === 42) console.log(''); // keep the work observable
  return { parseNs, decodeNs };
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  console.log(`fleetwatch bench: ${fmt(MESSAGES)} QoS 1 status messages from ${fmt(DEVICES)} devices, ${ROUNDS} round(s), mosquitto + influxd 1.6 on loopback, ${(await import('node:os')).cpus().length} cores`);
  mkdirSync(WORK, { recursive: true });
  services('install');
  services('reset', 'all');
  services('start', 'influxd');
  services('start', 'mosquitto');
  try {
    const rows: Array<{ round: number; bare: RunResult; collector: RunResult }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const bare = await runBare();
      const collector = await runCollector(round);
      rows.push({ round, bare, collector });
      console.log(`  round ${round}: bare ${fmt(bare.msgPerS)} msg/s, collector ${fmt(collector.msgPerS)} msg/s stored (${fmt(collector.stored ?? 0)}/${fmt(MESSAGES)} in InfluxDB)`);
    }
    const best = (f: (r: (typeof rows)[number]) => number) => Math.max(...rows.map(f));
    const bareBest = best((r) => r.bare.msgPerS);
    const collBest = best((r) => r.collector.msgPerS);
    const allStored = rows.every((r) => r.collector.stored === MESSAGES);
    const dec = decoderBench();
    console.log('');
    console.log('| figure | baseline | fleetwatch | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| ingest, msg/s (best of ${ROUNDS}) | ${fmt(bareBest)} bare mqtt.js subscriber | ${fmt(collBest)} stored in InfluxDB | ${(collBest / bareBest).toFixed(2)}x |`);
    const cpuBare = rows.reduce((a, r) => a + r.bare.cpuUsPerMsg, 0) / rows.length;
    const cpuColl = rows.reduce((a, r) => a + r.collector.cpuUsPerMsg, 0) / rows.length;
    console.log(`| CPU per message, µs | ${fmt(cpuBare, 1)} bare subscriber | ${fmt(cpuColl, 1)} collector process | ${(cpuColl / cpuBare).toFixed(2)}x |`);
    const avg = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
    console.log(`| mosquitto CPU per message, µs | ${fmt(avg((r) => r.bare.mosquittoUsPerMsg), 1)} | ${fmt(avg((r) => r.collector.mosquittoUsPerMsg), 1)} | |`);
    console.log(`| publisher CPU per message, µs | ${fmt(avg((r) => r.bare.publisherUsPerMsg), 1)} | ${fmt(avg((r) => r.collector.publisherUsPerMsg), 1)} | |`);
    const total = (r: RunResult) => r.cpuUsPerMsg + r.mosquittoUsPerMsg + r.influxdUsPerMsg + r.publisherUsPerMsg;
    console.log(`| all processes, CPU µs per message | ${fmt(avg((r) => total(r.bare)), 1)} | ${fmt(avg((r) => total(r.collector)), 1)} | ${(avg((r) => total(r.bare)) / avg((r) => total(r.collector))).toFixed(2)}x (the ceiling of the ingest ratio when the cores are the limit) |`);
    console.log(`| influxd CPU per message, µs | ${fmt(avg((r) => r.bare.influxdUsPerMsg), 1)} (idle) | ${fmt(avg((r) => r.collector.influxdUsPerMsg), 1)} | |`);
    console.log(`| decode a snapshot, ns | ${fmt(dec.parseNs)} JSON.parse alone | ${fmt(dec.decodeNs)} parse + validate + line protocol | ${(dec.decodeNs / dec.parseNs).toFixed(2)}x |`);
    console.log(`| stored / sent | | ${allStored ? 'all' : 'MISSING'} (${rows.map((r) => r.collector.stored).join(', ')} of ${MESSAGES}) | |`);
    const out = { when: new Date().toISOString(), messages: MESSAGES, devices: DEVICES, rows, bareBest, collBest, ratio: collBest / bareBest, decoder: dec };
    writeFileSync(join(WORK, 'last.json'), JSON.stringify(out, null, 2));
    writeHeadline({ bench: 'ingest', when: out.when, settings: { messages: MESSAGES, devices: DEVICES, rounds: ROUNDS }, bareMsgPerS: bareBest, collectorMsgPerS: collBest, ratio: collBest / bareBest, allStored });
    console.log(`\nraw figures: .data/bench/last.json`);
    if (!allStored) process.exitCode = 1;
  } finally {
    services('stop', 'all');
  }
}

await main();
