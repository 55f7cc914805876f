// Memory per device (the third bench of `npm run bench`): the state the running service keeps in
// memory for every device of a 100,000-device fleet, against a baseline that keeps just the last
// message of every device, JSON.parse'd, in a Map (the naive "keep the last message").
//
//   node dist/bench/memory.js [--devices N] [--more N] [--interval S] [--breakdown on|off]
//
// The parent spawns one child per side (`node --expose-gc dist/bench/memory.js --child baseline|service
// ...`), so each side starts from a fresh heap and its RSS is its own, then prints a markdown table and
// writes .data/bench/memory.json (raw) and .data/bench/results/memory.json (headline, for the summary).
// `--breakdown on` runs two more service children (the collector alone, then with the alerting) and
// prints where the bytes go; off by default, it adds about 40 % to the run.
//
// A side: the fleet is planned (partners, customers, sites, 25 devices a site, models drawn with the
// simulator's catalog weights), one simulators/device.ts SimDevice per device generates the snapshots
// (warmed with one discarded snapshot each, so the generators hold what they will hold before the
// first reading), gc twice, reading 0. Service side: the registry is a real SQLite file under
// .data/bench/memory seeded with the fleet (loadSeed) before reading 0; then the per-device parts of
// src/service.ts are wired the way it wires them (TenantResolver over registry.deviceTenants(),
// LiveState, IngestEvents, Collector, startAlerting with the shipped rules, attachStreams on an HTTP
// server that never listens), gc, reading "wired". Every device then sends one snapshot (JSON bytes
// through Collector.handle: topic parsing, decoder, attribution, line protocol, live state, the
// alert evaluator and the stream's device summaries; the simulated clock advances --interval seconds
// per round, spread over the devices, and the evaluator's sweep runs at the end of each round), gc,
// reading "first"; then --more further snapshots each, gc, reading "more". The journal is replaced
// by a sink that counts the lines (it holds nothing per device, only bytes on their way to InfluxDB).
// Baseline side: the same devices and snapshots, `map.set(topic.split('/')[3], JSON.parse(payload))`.
// Per device = (heapUsed or RSS at the reading - at reading 0) / devices.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { startAlerting } from '../alerting/index.js';
import { parseDuration } from '../alerting/rules/rule-schema.js';
import { RuleSet } from '../alerting/rules/rule-set.js';
import { Collector } from '../collector/collector.js';
import { DeadLetters } from '../collector/dead-letters.js';
import { LiveState } from '../collector/device-state.js';
import { IngestEvents } from '../collector/ingest-events.js';
import type { Journal } from '../collector/journal.js';
import { CollectorMetrics } from '../collector/metrics.js';
import { TenantResolver } from '../collector/tenant-tags.js';
import { SimDevice } from '../simulators/device.js';
import { pickModel } from '../simulators/models.js';
import { hashString, Prng } from '../simulators/prng.js';
import { deviceTopic } from '../simulators/protocol.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/storage/database.js';
import { DeadLetterStore } from '../src/storage/dead-letters.js';
import { Registry } from '../src/storage/registry.js';
import { loadSeed, parseSeed } from '../src/storage/seed.js';
import { UnknownDeviceLog } from '../src/storage/unknown-devices.js';
import { attachStreams } from '../src/streams/socket-server.js';
import { MEMORY_MAX_GROWTH, writeHeadline, type MemoryHeadline } from './results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = join(ROOT, '.data', 'bench');

// ---------------------------------------------------------------- the fleet

const ZONES = [
  { timezone: 'Europe/Berlin', country: 'DE' },
  { timezone: 'America/New_York', country: 'US' },
  { timezone: 'Europe/London', country: 'GB' },
  { timezone: 'Asia/Tokyo', country: 'JP' },
  { timezone: 'Australia/Sydney', country: 'AU' },
] as const;
export const DEVICES_PER_SITE = 25;
const SITES_PER_CUSTOMER = 10;
const CUSTOMERS_PER_PARTNER = 20;

export interface FleetPlan {
  ids: string[];
  models: string[];
  /** A registry seed (CONTRACT section 4) with every device, covered to 2030. */
  seed: {
    partners: Array<{ id: string; name: string; timezone: string; country: string }>;
    customers: Array<{ id: string; partnerId: string; name: string; country: string }>;
    sites: Array<{ id: string; customerId: string; name: string; country: string; timezone: string }>;
    devices: Array<{ id: string; model: string; siteId: string; coverage: { plan: string; until: string; onsite: boolean } }>;
    users: never[];
  };
}

/** Serial-like ids (12 characters, as Poly's), sites of 25 devices, 10 sites a customer, 20 customers a partner. */
export function planFleet(devices: number, seed = 1): FleetPlan {
  const rng = new Prng(hashString('models', seed));
  const ids: string[] = [];
  const models: string[] = [];
  const plan: FleetPlan['seed'] = { partners: [], customers: [], sites: [], devices: [], users: [] };
  for (let i = 0; i < devices; i++) {
    const site = Math.floor(i / DEVICES_PER_SITE);
    const customer = Math.floor(site / SITES_PER_CUSTOMER);
    const partner = Math.floor(customer / CUSTOMERS_PER_PARTNER);
    const zone = ZONES[partner % ZONES.length]!;
    const pid = `p-${String(partner).padStart(3, '0')}`;
    const cid = `c-${String(customer).padStart(5, '0')}`;
    const sid = `s-${String(site).padStart(6, '0')}`;
    if (plan.partners.length === partner) plan.partners.push({ id: pid, name: `Partner ${partner} AV`, ...zone });
    if (plan.customers.length === customer) plan.customers.push({ id: cid, partnerId: pid, name: `Customer ${customer}`, country: zone.country });
    if (plan.sites.length === site) plan.sites.push({ id: sid, customerId: cid, name: `Site ${site}`, ...zone });
    const id = `8L21${i.toString(16).toUpperCase().padStart(8, '0')}`;
    const model = pickModel(rng).name;
    ids.push(id);
    models.push(model);
    plan.devices.push({ id, model, siteId: sid, coverage: { plan: 'poly-plus', until: '2030-12-31', onsite: false } });
  }
  return { ids, models, seed: plan };
}

// ---------------------------------------------------------------- measuring

export type Side = 'baseline' | 'service';
/**
 * Service side: which parts listen to the collector. `all` is the service; the other two are for the
 * breakdown (--breakdown on): the collector alone (attribution, live state), then with the alerting.
 */
export type Parts = 'collector' | 'alerting' | 'all';

/** The gc of --expose-gc, or the same function obtained at run time (vitest, a plain `node`). */
export function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

export interface Reading {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

export interface Stage extends Reading {
  /** Since reading 0. */
  heapDelta: number;
  rssDelta: number;
  heapBytesPerDevice: number;
  rssBytesPerDevice: number;
  /** Snapshots sent per device so far. */
  snapshots: number;
}

export interface MemoryRun {
  side: Side;
  parts?: Parts;
  devices: number;
  more: number;
  intervalS: number;
  /** Status messages handled in all. */
  messages: number;
  /** Reading 0: the fleet's generators (and, service side, the seeded registry) exist, nothing else. */
  before: Reading;
  /** Service side: wired, nothing received yet (the registry's tenant map in the resolver, fixed costs). */
  wired?: Stage;
  first: Stage;
  last: Stage;
  /** Time spent feeding messages, ms. */
  feedMs: number;
  /** Service side: what the alerting did with the realistic snapshots. */
  alertsFiring?: number;
  /** Firing alerts by rule name. */
  alertsByRule?: Record<string, number>;
  ticketsOpened?: number;
  /** Service side: lines the collector and alerting staged for InfluxDB (the sink counts them). */
  linesStaged?: number;
}

export interface MeasureOptions {
  side: Side;
  devices: number;
  /** Further snapshots per device after the first (default 10). */
  more?: number;
  /** Simulated seconds between two snapshots of a device (default 30). */
  intervalS?: number;
  /** Service side: the parts wired (default all). */
  parts?: Parts;
  /** Service side: a fresh folder for the SQLite file (deleted and recreated). */
  dir?: string;
  seed?: number;
  /** Called after each round (e.g. to print progress). */
  onRound?: (round: number, rounds: number) => void;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

async function read(gc: () => void): Promise<Reading> {
  await yieldToLoop();
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

function stage(r: Reading, before: Reading, devices: number, snapshots: number): Stage {
  const heapDelta = r.heapUsed - before.heapUsed;
  const rssDelta = r.rss - before.rss;
  return { ...r, heapDelta, rssDelta, heapBytesPerDevice: heapDelta / devices, rssBytesPerDevice: rssDelta / devices, snapshots };
}

interface Sink {
  /** Handles one status message as it would come off MQTT. */
  handle(topic: string, payload: Buffer, nowMs: number): void;
  /** End of a round: the simulated clock is at nowMs. */
  endRound(nowMs: number): void;
  close(): Promise<void>;
  stats(): Pick<MemoryRun, 'alertsFiring' | 'alertsByRule' | 'ticketsOpened' | 'linesStaged'>;
}

/** The naive service: the last message of every device, parsed, in a Map. */
function baselineSink(): Sink {
  const last = new Map<string, unknown>();
  return {
    handle(topic, payload) {
      last.set(topic.split('/')[3]!, JSON.parse(payload.toString('utf8')));
    },
    endRound() {},
    async close() {
      last.clear();
    },
    stats: () => ({}),
  };
}

/**
 * The per-device parts of src/service.ts, wired as it wires them, on a registry that holds the fleet.
 * Left out: MQTT (messages go to Collector.handle directly), the journal and InfluxDB (a sink counts
 * the lines), HTTP API routes, webhooks, diagnostics: none keeps state per device.
 */
function serviceSink(registry: Registry, db: ReturnType<typeof openDatabase>, clock: { now: number }, parts: Parts): Sink {
  const log = pino({ level: 'silent' });
  const config = loadConfig({});
  const staged = { lines: 0 };
  // The collector only stages lines; the real journal would write them to disk for the BatchWriter.
  const journal = {
    stage: (_line: string) => void staged.lines++,
  } as unknown as Journal;
  const metrics = new CollectorMetrics(new MetricsRegistry(), () => 0);
  const unknownDevices = new UnknownDeviceLog(db);
  unknownDevices.start();
  const deadLetters = new DeadLetters(new DeadLetterStore(db), metrics, log);
  const resolver = new TenantResolver(registry.deviceTenants());
  registry.onDevicesChanged(() => resolver.replace(registry.deviceTenants()));
  const liveState = new LiveState();
  const events = new IngestEvents();
  const collector = new Collector({ journal, resolver, deadLetters, unknownDevices, liveState, events, metrics, log });
  if (parts === 'collector') {
    return {
      handle: (topic, payload, nowMs) => collector.handle(topic, payload, false, nowMs),
      endRound() {},
      async close() {
        unknownDevices.stop();
      },
      stats: () => ({ linesStaged: staged.lines }),
    };
  }
  const alerting = startAlerting({
    db,
    registry,
    ingest: events,
    rules: RuleSet.fromFile(config.alertRules),
    resolve: (deviceId) => resolver.resolve(deviceId, undefined),
    writePoint: (line) => journal.stage(line),
    reopenWindowMs: parseDuration(config.ticketReopenWindow),
    cloudIncidents: { minCustomers: config.cloudIncidentMinCustomers, windowMs: parseDuration(config.cloudIncidentWindow) },
    log,
    clock: () => clock.now,
    // The bench runs the sweep itself at the end of each round, on the simulated clock.
    sweepEveryMs: 2 ** 30,
  });
  let tickets = 0;
  alerting.events.on('ticket.created', () => void tickets++);
  const httpServer = parts === 'all' ? createServer() : undefined;
  const streams = httpServer && attachStreams({ httpServer, registry, ingest: events, alertEvents: alerting.events, log });
  return {
    handle(topic, payload, nowMs) {
      collector.handle(topic, payload, false, nowMs);
    },
    endRound(nowMs) {
      alerting.evaluator.sweep(nowMs);
    },
    async close() {
      alerting.stop();
      await streams?.close();
      httpServer?.close();
      unknownDevices.stop();
    },
    stats: () => {
      const firing = alerting.alerts.allFiring();
      const byRule: Record<string, number> = {};
      for (const a of firing) byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
      return { alertsFiring: firing.length, alertsByRule: byRule, ticketsOpened: tickets, linesStaged: staged.lines };
    },
  };
}

/** What must stay reachable until the last reading (V8 frees locals an async function no longer uses). */
let held: unknown;

/** One side, in this process. The figures are only as clean as the heap: run it in a fresh process. */
export async function measureMemory(o: MeasureOptions): Promise<MemoryRun> {
  const gc = getGc();
  const more = o.more ?? 10;
  const parts = o.parts ?? 'all';
  const intervalMs = (o.intervalS ?? 30) * 1000;
  const n = o.devices;
  const fleet = planFleet(n, o.seed);
  const start = Date.now();
  const clock = { now: start - intervalMs };

  let db: ReturnType<typeof openDatabase> | undefined;
  let registry: Registry | undefined;
  if (o.side === 'service') {
    if (!o.dir) throw new Error('measureMemory: the service side needs a dir for its SQLite file');
    rmSync(o.dir, { recursive: true, force: true });
    mkdirSync(o.dir, { recursive: true });
    db = openDatabase(`sqlite:${join(o.dir, 'fleetwatch.db')}`);
    registry = new Registry(db);
    loadSeed(registry, parseSeed(fleet.seed, { source: 'memory bench fleet' }));
  }
  const topics = fleet.ids.map((id) => deviceTopic(id, 'status'));
  const sims = fleet.ids.map((id, i) => new SimDevice({ id, model: fleet.models[i]!, seed: o.seed ?? 1 }));
  for (const s of sims) s.nextStatus(clock.now); // warm-up snapshot, discarded
  // What the parts of this function hold that is not per-device state stays out of the delta.
  const fleetSeed = fleet.seed as { devices: unknown[] };
  fleetSeed.devices = [];
  // The generators (and the topics) stay until the last reading: in every reading, in no delta.
  held = { fleet, sims, topics };

  const before = await read(gc);
  const sink = o.side === 'service' ? serviceSink(registry!, db!, clock, parts) : baselineSink();
  const wired = o.side === 'service' ? stage(await read(gc), before, n, 0) : undefined;

  let feedMs = 0;
  let messages = 0;
  const rounds = 1 + more;
  let first: Stage | undefined;
  for (let round = 0; round < rounds; round++) {
    const t0 = start + round * intervalMs;
    const began = performance.now();
    for (let i = 0; i < n; i++) {
      // Devices spread evenly over the interval, each `intervalMs` after its previous snapshot.
      const now = t0 + Math.floor((i * intervalMs) / n);
      clock.now = now;
      const payload = Buffer.from(JSON.stringify(sims[i]!.nextStatus(now)));
      sink.handle(topics[i]!, payload, now);
      messages++;
    }
    clock.now = t0 + intervalMs;
    sink.endRound(clock.now);
    feedMs += performance.now() - began;
    o.onRound?.(round + 1, rounds);
    if (round === 0) first = stage(await read(gc), before, n, 1);
    else await yieldToLoop();
  }
  const last = stage(await read(gc), before, n, rounds);
  held = undefined;
  const stats = sink.stats();
  await sink.close();
  db?.close();
  return { side: o.side, ...(o.side === 'service' ? { parts } : {}), devices: n, more, intervalS: intervalMs / 1000, messages, before, ...(wired ? { wired } : {}), first: first!, last, feedMs, ...stats };
}

// ---------------------------------------------------------------- the table

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 1);
const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100, 1)} %`;

export function growth(run: MemoryRun): number {
  return (run.last.heapBytesPerDevice - run.first.heapBytesPerDevice) / run.first.heapBytesPerDevice;
}

function byRule(run: MemoryRun): string {
  const rules = Object.entries(run.alertsByRule ?? {}).sort((a, b) => b[1] - a[1]);
  return rules.length ? ` (${rules.map(([r, k]) => `${r} ${fmt(k)}`).join(', ')})` : '';
}

export function memoryTable(baseline: MemoryRun, service: MemoryRun): string[] {
  const n = service.devices;
  const ratio = (s: number, b: number) => (b > 0 ? `${(s / b).toFixed(2)}x` : '');
  const grown = growth(service);
  const lines = [
    `| figure | baseline: the last message of each device, JSON.parse'd, in a Map | fleetwatch: the service's per-device state | ratio |`,
    '|---|---|---|---|',
  ];
  if (service.wired) {
    lines.push(`| heap bytes per device, registered, nothing received yet | 0 (nothing) | ${fmt(service.wired.heapBytesPerDevice)} (the registry's tenant map in the resolver, plus the wiring's fixed cost) | |`);
  }
  lines.push(
    `| heap bytes per device after 1 snapshot each | ${fmt(baseline.first.heapBytesPerDevice)} | ${fmt(service.first.heapBytesPerDevice)} | ${ratio(service.first.heapBytesPerDevice, baseline.first.heapBytesPerDevice)} |`,
    `| heap bytes per device after ${service.more} more each (${service.more + 1} in all) | ${fmt(baseline.last.heapBytesPerDevice)} | ${fmt(service.last.heapBytesPerDevice)} | ${ratio(service.last.heapBytesPerDevice, baseline.last.heapBytesPerDevice)} |`,
    `| growth over the ${service.more} more snapshots | ${pct(baseline.last.heapBytesPerDevice, baseline.first.heapBytesPerDevice)} | ${pct(service.last.heapBytesPerDevice, service.first.heapBytesPerDevice)} | |`,
    `| heap for ${fmt(n)} devices, MB (after ${service.more + 1} snapshots each) | ${mb(baseline.last.heapDelta)} | ${mb(service.last.heapDelta)} | ${ratio(service.last.heapDelta, baseline.last.heapDelta)} |`,
    `| RSS bytes per device, after 1 / after ${service.more + 1} snapshots (resident memory after gc: the state, plus what V8 and malloc keep after the work) | ${fmt(baseline.first.rssBytesPerDevice)} / ${fmt(baseline.last.rssBytesPerDevice)} | ${fmt(service.first.rssBytesPerDevice)} / ${fmt(service.last.rssBytesPerDevice)} | ${ratio(service.last.rssBytesPerDevice, baseline.last.rssBytesPerDevice)} |`,
    `| RSS growth for ${fmt(n)} devices, MB, after ${service.more + 1} snapshots; of which V8 heap committed (heapTotal) | ${mb(baseline.last.rssDelta)}; ${mb(baseline.last.heapTotal - baseline.before.heapTotal)} | ${mb(service.last.rssDelta)}; ${mb(service.last.heapTotal - service.before.heapTotal)} | |`,
    `| messages fed per second (simulator, JSON bytes, handling; no MQTT: not an ingest figure) | ${fmt(baseline.messages / (baseline.feedMs / 1000))} | ${fmt(service.messages / (service.feedMs / 1000))} | |`,
    `| alerts firing / tickets opened at the end (realistic snapshots, shipped rules) | | ${fmt(service.alertsFiring ?? 0)} / ${fmt(service.ticketsOpened ?? 0)}${byRule(service)} | |`,
    `| check: the service's state does not grow with more snapshots (< ${fmt(MEMORY_MAX_GROWTH * 100)} %) | | ${pct(service.last.heapBytesPerDevice, service.first.heapBytesPerDevice)}: ${grown < MEMORY_MAX_GROWTH ? 'PASS' : 'FAIL'} | |`,
  );
  return lines;
}

// ---------------------------------------------------------------- the driver

const OPTIONS = ['devices', 'more', 'interval', 'breakdown', 'child', 'parts', 'dir'] as const;
const USAGE = 'usage: memory.js [--devices N] [--more N] [--interval S] [--breakdown on|off]';

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '');
    if (!(OPTIONS as readonly string[]).includes(name) || argv[i + 1] === undefined) {
      console.error(`${USAGE}  (got "${argv[i]}")`);
      process.exit(2);
    }
    args.set(name, argv[i + 1]!);
  }
  return args;
}

function num(args: Map<string, string>, name: string, fallback: number, min: number): number {
  const v = Number(args.get(name) ?? fallback);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name} must be a number >= ${min}, got "${args.get(name)}"`);
    process.exit(2);
  }
  return v;
}

/** Runs one side in a child process with --expose-gc; its last stdout line is the MemoryRun. */
function runChild(side: Side, parts: Parts, devices: number, more: number, intervalS: number): Promise<MemoryRun> {
  const script = fileURLToPath(import.meta.url);
  const dir = join(WORK, 'memory');
  const child = spawn(
    process.execPath,
    ['--expose-gc', script, '--child', side, '--parts', parts, '--devices', String(devices), '--more', String(more), '--interval', String(intervalS), '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const what = side === 'baseline' ? 'baseline' : parts === 'all' ? 'service' : `service (${parts} only)`;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`the ${what} side exited with ${signal ?? code}`));
      try {
        resolve(JSON.parse(line) as MemoryRun);
      } catch {
        reject(new Error(`the ${what} side printed no result`));
      }
    });
  });
}

/** Where the service's bytes go after one snapshot each, from the three service runs (each part adds to the one before). */
export function breakdownTable(collector: MemoryRun, alerting: MemoryRun, service: MemoryRun): string[] {
  const per = (n: number) => fmt(n);
  const share = (n: number) => `${fmt((n / service.first.heapBytesPerDevice) * 100)} %`;
  const rows: Array<[string, number]> = [
    ["registry: every registered device's tenant (DeviceTenant) in the resolver's map, plus the wiring's fixed cost; before any message", collector.wired?.heapBytesPerDevice ?? 0],
    ['collector: attribution cache (tag set), live state with the last decoded snapshot', collector.first.heapBytesPerDevice - (collector.wired?.heapBytesPerDevice ?? 0)],
    ["alert evaluator: its entry (the same snapshot, not a copy), DeviceTrack, a condition state per rule; and the alerts' own state", alerting.first.heapBytesPerDevice - collector.first.heapBytesPerDevice],
    ['stream: the last device.status summary and presence sent per device', service.first.heapBytesPerDevice - alerting.first.heapBytesPerDevice],
  ];
  return [
    `| where the service's bytes go, after 1 snapshot each (one run per row, each adding a part) | heap bytes per device | share |`,
    '|---|---|---|',
    ...rows.map(([what, b]) => `| ${what} | ${per(b)} | ${share(b)} |`),
    `| all (the service run above) | ${per(service.first.heapBytesPerDevice)} | 100 % |`,
  ];
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const child = args.get('child');
  const devices = Math.floor(num(args, 'devices', 100_000, 1));
  const more = Math.floor(num(args, 'more', 10, child === undefined ? 1 : 0));
  const intervalS = num(args, 'interval', 30, 1);
  if (child !== undefined) {
    const parts = args.get('parts') ?? 'all';
    if (child !== 'baseline' && child !== 'service') throw new Error(`--child takes baseline or service, got "${child}"`);
    if (parts !== 'collector' && parts !== 'alerting' && parts !== 'all') throw new Error(`--parts takes collector, alerting or all, got "${parts}"`);
    const run = await measureMemory({ side: child, parts, devices, more, intervalS, dir: args.get('dir') ?? join(WORK, 'memory') });
    console.log(JSON.stringify(run));
    return 0;
  }
  const breakdown = args.get('breakdown') ?? 'off';
  if (breakdown !== 'on' && breakdown !== 'off') {
    console.error(`--breakdown takes on or off, got "${breakdown}"`);
    return 2;
  }

  const sites = Math.ceil(devices / DEVICES_PER_SITE);
  console.log(
    `fleetwatch memory bench: ${fmt(devices)} registered devices (${fmt(sites)} sites, ${fmt(Math.ceil(sites / SITES_PER_CUSTOMER))} customers, ` +
      `${fmt(Math.ceil(sites / SITES_PER_CUSTOMER / CUSTOMERS_PER_PARTNER))} partners), snapshots from simulators/device.ts every ${fmt(intervalS)} s of simulated time, ` +
      `1 + ${more} per device; each side in its own node --expose-gc process, heap after gc; Node ${process.version}, ${cpus().length} cores`,
  );
  const began = Date.now();
  const baseline = await runChild('baseline', 'all', devices, more, intervalS);
  console.log(`  baseline: ${fmt(baseline.first.heapBytesPerDevice)} heap bytes per device after 1 snapshot, ${fmt(baseline.last.heapBytesPerDevice)} after ${more + 1}`);
  const service = await runChild('service', 'all', devices, more, intervalS);
  console.log(`  service: ${fmt(service.first.heapBytesPerDevice)} heap bytes per device after 1 snapshot, ${fmt(service.last.heapBytesPerDevice)} after ${more + 1}`);
  let parts: { collector: MemoryRun; alerting: MemoryRun } | undefined;
  if (breakdown === 'on') {
    const collector = await runChild('service', 'collector', devices, 0, intervalS);
    const alerting = await runChild('service', 'alerting', devices, 0, intervalS);
    parts = { collector, alerting };
    console.log(`  breakdown: collector only ${fmt(collector.first.heapBytesPerDevice)}, with alerting ${fmt(alerting.first.heapBytesPerDevice)} heap bytes per device after 1 snapshot`);
  }
  console.log(`  ${fmt((Date.now() - began) / 1000, 1)} s in all`);
  console.log('');
  for (const l of memoryTable(baseline, service)) console.log(l);
  if (parts) {
    console.log('');
    for (const l of breakdownTable(parts.collector, parts.alerting, service)) console.log(l);
  }

  mkdirSync(WORK, { recursive: true });
  const when = new Date().toISOString();
  writeFileSync(join(WORK, 'memory.json'), JSON.stringify({ when, settings: { devices, more, intervalS }, baseline, service, ...(parts ? { breakdown: parts } : {}) }, null, 2));
  const side = (r: MemoryRun) => ({
    first: { heapBytesPerDevice: r.first.heapBytesPerDevice, rssBytesPerDevice: r.first.rssBytesPerDevice },
    more: { heapBytesPerDevice: r.last.heapBytesPerDevice, rssBytesPerDevice: r.last.rssBytesPerDevice },
  });
  const headline: MemoryHeadline = { bench: 'memory', when, settings: { devices, more, intervalS }, baseline: side(baseline), service: side(service) };
  writeHeadline(headline);
  console.log('\nraw figures: .data/bench/memory.json');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let code = 1;
  try {
    code = await main(process.argv.slice(2));
  } catch (err) {
    console.error(`memory bench: ${(err as Error).stack ?? err}`);
  }
  process.exit(code);
}
