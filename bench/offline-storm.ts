// Mass offline (the fourth bench of `npm run bench`): N registered devices at sites of 50 report once,
// then all go offline at once, as their Last Wills would after a broker or network failure. What the
// service pays for the storm (a device_offline alert per device, a site outage per site: one site
// alert and ticket, the device alerts under it inhibited and their device tickets merged into the
// site's) against what it pays for the same devices' burst of one status each.
//
//   node dist/bench/offline-storm.js [--devices N] [--idle S]
//
// Own mosquitto (21885) and influxd (28090; its RPC port is 28092, clear of the other benches')
// via scripts/services.sh, data under .data/bench/storm-services. The service runs IN this process
// (startService) with the shipped rules, on a fresh SQLite file and journal under .data/bench/storm,
// with a registry seed of the fleet: devices STORM000000…, 50 a site, 10 sites a customer, 20
// customers a partner; plus one warm-up site of 50 (WARM000000…) that goes through both bursts
// first, so the measured ones do not pay for compiling the code paths.
//
// The messages come from bench/burst-publisher.ts, a child process on a connection of its own, as
// fast as mosquitto takes them (QoS 1): first one healthy status per device (the baseline), then,
// after --idle seconds of quiet, one retained offline presence per device (the storm). For each burst:
// the time from the first message published until the service had handled the last one (a listener
// on the collector's `status` / `presence` event, added after the evaluator's: the rules have run, so
// for the storm the device_offline alert is in the store; checked afterwards with allFiring()), the
// CPU of this process (process.cpuUsage: the service, nothing else runs here) in all and per device,
// the longest event-loop stall (perf_hooks.monitorEventLoopDelay, 10 ms resolution, read after its
// timer ran once more: a stall that ends the window would be lost otherwise; a 10 ms JS interval
// timer cross-checks it in the raw figures) and the CPU of mosquitto and influxd. Whether the
// service's MQTT connection held: its log lines "connected to the broker" are counted after the
// warm-up (none = never dropped), and the publisher child asks /readyz (which checks the broker
// connection) every 250 ms from outside this process, which also says how long the API took to
// answer during a stall. Then --idle seconds with every alert firing (the evaluator's 1 s sweep
// over all devices): CPU % of a core and the stall, next to the same quiet time before the storm.
//
// Raw figures: .data/bench/offline-storm.json; the headline goes to .data/bench/results/storm.json for
// bench/summary.ts. Goal: the longest stall during the storm under 1,000 ms (the MQTT keepalive and
// the API stay responsive), every device alerted, no reconnect. Exit code 1 when a device's alert is
// missing or on an error; a missed goal is reported, not an exit code. `npm run bench` runs it after
// bench/memory.ts (scripts/bench.sh; `--only storm` runs it alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startService, type Service } from '../src/service.js';
import { BenchServices, benchArgs, ChildLines, Cleanups, cpuMs, DIST, numberArg, WORK } from './bench-kit.js';
import { STORM_GOAL_STALL_MS, writeHeadline } from './results.js';

// ---------------------------------------------------------------- options

const OPTIONS = ['devices', 'idle'] as const;
const args = benchArgs(OPTIONS, `offline-storm.js [--devices N] [--idle S]`);
const num = (name: (typeof OPTIONS)[number], fallback: number, min: number, max: number): number => numberArg(args, name, fallback, min, max);
const DEVICES = Math.floor(num('devices', 10_000, 100, 1_000_000));
/** Seconds of quiet measured before the storm and after it (every alert firing). */
const IDLE_S = num('idle', 10, 1, 600);
const PER_SITE = 50;
const SITES_PER_CUSTOMER = 10;
const CUSTOMERS_PER_PARTNER = 20;
const PREFIX = 'STORM';
const WARM_PREFIX = 'WARM';
const WARM_SITE = 's-warm';
/** A burst whose last message the service has not handled this long after it was acknowledged is missing. */
const HANDLED_TIMEOUT_MS = Math.max(60_000, DEVICES * 3);
const READYZ_EVERY_MS = 250;
const ELD_RESOLUTION_MS = 10;

const SERVICES = new BenchServices(21885, 28090, 'storm-services');
const MQTT_URL = SERVICES.mqttUrl;
const INFLUX_URL = SERVICES.influxUrl;
const DIR = join(WORK, 'storm');

const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');

// ---------------------------------------------------------------- cleanup, even on errors and Ctrl-C

const cleanups = new Cleanups('offline-storm');

// ---------------------------------------------------------------- the fleet

function writeSeed(path: string): { sites: number; customers: number; partners: number } {
  const seed = {
    partners: [{ id: 'p-warm', name: 'Warm-up AV', timezone: 'Europe/Berlin', country: 'DE' }] as Array<{ id: string; name: string; timezone: string; country: string }>,
    customers: [{ id: 'c-warm', partnerId: 'p-warm', name: 'Warm-up customer', country: 'DE' }] as Array<{ id: string; partnerId: string; name: string; country: string }>,
    sites: [{ id: WARM_SITE, customerId: 'c-warm', name: 'Warm-up site', country: 'DE', timezone: 'Europe/Berlin' }] as Array<{
      id: string;
      customerId: string;
      name: string;
      country: string;
      timezone: string;
    }>,
    devices: [] as Array<{ id: string; model: string; siteId: string; coverage: { plan: string; until: string; onsite: boolean } }>,
    users: [],
  };
  const coverage = { plan: 'poly-plus', until: '2030-12-31', onsite: false };
  for (let i = 0; i < PER_SITE; i++) seed.devices.push({ id: id(WARM_PREFIX, i), model: 'Studio X50', siteId: WARM_SITE, coverage });
  let sites = 0;
  let customers = 0;
  let partners = 0;
  for (let i = 0; i < DEVICES; i++) {
    const site = Math.floor(i / PER_SITE);
    const customer = Math.floor(site / SITES_PER_CUSTOMER);
    const partner = Math.floor(customer / CUSTOMERS_PER_PARTNER);
    const pid = `p-${String(partner).padStart(3, '0')}`;
    const cid = `c-${String(customer).padStart(5, '0')}`;
    const sid = `s-${String(site).padStart(6, '0')}`;
    if (partners === partner) seed.partners.push({ id: pid, name: `Partner ${partners++} AV`, timezone: 'Europe/Berlin', country: 'DE' });
    if (customers === customer) seed.customers.push({ id: cid, partnerId: pid, name: `Customer ${customers++}`, country: 'DE' });
    if (sites === site) seed.sites.push({ id: sid, customerId: cid, name: `Site ${sites++}`, country: 'DE', timezone: 'Europe/Berlin' });
    seed.devices.push({ id: id(PREFIX, i), model: 'Studio X50', siteId: sid, coverage });
  }
  writeFileSync(path, JSON.stringify(seed));
  return { sites, customers, partners };
}

// ---------------------------------------------------------------- the publisher (a child process)

interface BurstReport {
  what: 'status' | 'offline';
  count: number;
  /** Epoch ms just before the first publish. */
  firstMs: number;
  /** After the last publish() call. */
  sentMs: number;
  /** When the last acknowledgement came. */
  ackedMs: number;
  acked: number;
  errors: number;
  cpuMs: number;
  error?: string;
}

interface Publisher {
  proc: ChildProcess;
  ready: Promise<void>;
  burst(what: 'status' | 'offline', prefix: string, count: number): Promise<BurstReport>;
  /** Starts asking the service's /readyz from the child, every READYZ_EVERY_MS. */
  probe(url: string): Promise<void>;
  probeStop(): Promise<ReadyzStats>;
  stop(): Promise<void>;
}

function startPublisher(): Publisher {
  const proc = spawn(process.execPath, [join(DIST, 'bench', 'burst-publisher.js'), MQTT_URL], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = new ChildLines(proc, 'burst publisher');
  const next = (what: string): Promise<string> => out.next(what);
  return {
    proc,
    ready: next('it was ready').then(() => undefined),
    async burst(what, prefix, count) {
      proc.stdin!.write(`${what} ${prefix} ${count}\n`);
      const report = JSON.parse(await next(`its ${what} burst was acknowledged`)) as BurstReport;
      if (report.error) throw new Error(`burst publisher: ${report.error}`);
      return report;
    },
    async probe(url) {
      proc.stdin!.write(`probe ${url}/readyz ${READYZ_EVERY_MS}\n`);
      const line = await next('it started probing');
      if (line !== 'probing') throw new Error(`burst publisher: ${line}`);
    },
    async probeStop() {
      proc.stdin!.write('probe-stop\n');
      return JSON.parse(await next('its probe figures')) as ReadyzStats;
    },
    async stop() {
      if (!out.hasExited) proc.stdin!.end();
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await out.exited;
      clearTimeout(killer);
    },
  };
}

// ---------------------------------------------------------------- what the service does

/** Counts what the service handled, per device set; listeners added after the evaluator's. */
class Handled {
  status = 0;
  lastStatusMs = 0;
  offline = 0;
  lastOfflineMs = 0;
  warmStatus = 0;
  warmOffline = 0;
  /** During the storm: tickets created for device alerts / for sites, device tickets merged into a site's. */
  deviceTickets = 0;
  siteTickets = 0;
  merged = 0;
  counting = false;

  constructor(service: Service) {
    service.events.on('status', (deviceId) => {
      if (deviceId.startsWith(PREFIX)) {
        this.status++;
        this.lastStatusMs = Date.now();
      } else if (deviceId.startsWith(WARM_PREFIX)) this.warmStatus++;
    });
    service.events.on('presence', (deviceId, _a, online) => {
      if (online) return;
      if (deviceId.startsWith(PREFIX)) {
        this.offline++;
        this.lastOfflineMs = Date.now();
      } else if (deviceId.startsWith(WARM_PREFIX)) this.warmOffline++;
    });
    service.alerting.events.on('ticket.created', (e) => {
      if (!this.counting) return;
      if (e.ticket.dedupKey?.startsWith('site_network_down/')) this.siteTickets++;
      else if (e.ticket.dedupKey?.startsWith('device_offline/')) this.deviceTickets++;
    });
    service.alerting.events.on('ticket.updated', (e) => {
      if (this.counting && e.change === 'merged') this.merged++;
    });
  }
}

/** The service's log: warnings and errors to stderr; its connections to the broker counted. */
class ServiceLog {
  connects = 0;
  unreachable = 0;
  write(line: string): void {
    if (line.includes('"msg":"connected to the broker"')) this.connects++;
    if (line.includes('"msg":"broker unreachable')) this.unreachable++;
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    if (level >= 40) process.stderr.write(line.endsWith('\n') ? line : line + '\n');
  }
}

interface ReadyzStats {
  polls: number;
  /** Answers other than 200 (the broker connection, InfluxDB or the database down), or none. */
  notReady: number;
  slowestMs: number;
  /** Epoch ms the slowest request was sent. */
  slowestAtMs: number;
}

// ---------------------------------------------------------------- measuring

interface Window {
  wallMs: number;
  cpuMs: number;
  /** Longest event-loop stall (monitorEventLoopDelay's max minus its resolution), and the p99, ms. */
  stallMs: number;
  stallP99Ms: number;
  /** Cross-check: the longest gap between two runs of a 10 ms JS interval timer (and from its last run to the end), minus 10 ms. */
  timerGapMs: number;
  mosquittoCpuMs: number;
  influxdCpuMs: number;
}

/**
 * Starts measuring this process (CPU, event loop) and mosquitto's and influxd's CPU. end() reads the
 * CPU at once, then lets the histogram's timer run once more before reading it: a stall that ends
 * just before end() (the whole storm can be one) would otherwise never be recorded, when the timer
 * that calls end() runs before the histogram's in the same turn of the loop.
 */
function measure(): { end(): Promise<Window> } {
  const eld: IntervalHistogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  let lastTick = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - lastTick);
    lastTick = t;
  }, ELD_RESOLUTION_MS);
  const mosquittoPid = SERVICES.pid('mosquitto');
  const influxdPid = SERVICES.pid('influxd');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const m0 = cpuMs(mosquittoPid);
  const i0 = cpuMs(influxdPid);
  return {
    async end() {
      const c = process.cpuUsage(cpu0);
      const t1 = performance.now();
      const mosquittoCpuMs = cpuMs(mosquittoPid) - m0;
      const influxdCpuMs = cpuMs(influxdPid) - i0;
      maxGap = Math.max(maxGap, t1 - lastTick);
      clearInterval(ticker);
      await sleep(3 * ELD_RESOLUTION_MS);
      eld.disable();
      // The histogram holds the time between the sampling timer's runs: the resolution itself is no stall.
      const lag = (ns: number) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
      return {
        wallMs: t1 - t0,
        cpuMs: (c.user + c.system) / 1000,
        stallMs: lag(eld.max),
        stallP99Ms: lag(eld.percentile(99)),
        timerGapMs: Math.max(0, maxGap - ELD_RESOLUTION_MS),
        mosquittoCpuMs,
        influxdCpuMs,
      };
    },
  };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100, poke?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await poke?.();
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

interface BurstResult {
  publisher: BurstReport;
  handled: number;
  /** From the first message published until the service had handled the last one, ms. */
  ms: number;
  window: Window;
  cpuUsPerDevice: number;
  readyz: ReadyzStats;
  connectsDuring: number;
}

/** One burst of the measured devices; waits (polling a counter every 20 ms) until the service handled all. */
async function burst(service: Service, pub: Publisher, handled: Handled, log: ServiceLog, what: 'status' | 'offline'): Promise<BurstResult> {
  const count = () => (what === 'status' ? handled.status : handled.offline);
  await pub.probe(service.httpUrl);
  const connects0 = log.connects;
  const m = measure();
  const report = await pub.burst(what, PREFIX, DEVICES);
  const deadline = Date.now() + HANDLED_TIMEOUT_MS;
  while (count() < DEVICES && Date.now() < deadline) await sleep(20);
  const window = await m.end();
  const lastMs = what === 'status' ? handled.lastStatusMs : handled.lastOfflineMs;
  return {
    publisher: report,
    handled: count(),
    ms: count() > 0 ? lastMs - report.firstMs : NaN,
    window,
    cpuUsPerDevice: (window.cpuMs * 1000) / DEVICES,
    readyz: await pub.probeStop(),
    connectsDuring: log.connects - connects0,
  };
}

interface IdleResult {
  window: Window;
  cpuPct: number;
  readyz: ReadyzStats;
}

async function idle(service: Service, pub: Publisher): Promise<IdleResult> {
  await pub.probe(service.httpUrl);
  const m = measure();
  await sleep(IDLE_S * 1000);
  const window = await m.end();
  return { window, cpuPct: (window.cpuMs / window.wallMs) * 100, readyz: await pub.probeStop() };
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const started = Date.now();
  const sites = Math.ceil(DEVICES / PER_SITE);
  console.log(
    `fleetwatch offline-storm bench: ${fmt(DEVICES)} registered devices at ${fmt(sites)} sites of ${PER_SITE}; one status each, then one offline presence each ` +
      `(retained, QoS 1, as their Last Wills), from a child process as fast as mosquitto takes them; shipped rules; ${IDLE_S} s quiet before and after the storm; ` +
      `service in-process, mosquitto :${SERVICES.mqttPort} + influxd :${SERVICES.influxPort} on loopback, ${cpus().length} cores`,
  );

  // Fresh data: services, SQLite, journal.
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  SERVICES.run('install');
  cleanups.add('services.sh stop all', () => SERVICES.run('stop', 'all'));
  SERVICES.run('reset', 'all');
  SERVICES.run('start', 'influxd');
  SERVICES.run('start', 'mosquitto');

  const fleet = writeSeed(join(DIR, 'seed.json'));
  const log = new ServiceLog();
  const config = loadConfig({
    MQTT_URL,
    MQTT_CLIENT_ID: 'bench-storm-collector',
    INFLUX_URL,
    INFLUX_DB: 'storm',
    DATABASE_URL: `sqlite:${join(DIR, 'fleetwatch.db')}`,
    JOURNAL_DIR: join(DIR, 'journal'),
    FLEET_SEED: join(DIR, 'seed.json'),
    PORT: '0',
    LOG_LEVEL: 'info',
  });
  // Info level, so the connections to the broker can be counted; only warnings and errors are shown.
  const service = await startService(config, pino({ level: 'info' }, log));
  cleanups.add('service.stop()', () => service.stop());
  const handled = new Handled(service);
  await waitUntil('the service ready (/readyz 200)', async () => (await fetch(`${service.httpUrl}/readyz`)).status === 200, 30_000);

  const pub = startPublisher();
  cleanups.add('burst publisher', () => pub.stop());
  await pub.ready;

  // The collector subscribes right after CONNACK: probe until a status comes through.
  await waitUntil('the collector subscribed', () => handled.warmStatus > 0, 15_000, 100, () => pub.burst('status', WARM_PREFIX, 1));
  // Warm-up (not counted): the warm-up site's status burst and storm, alerts, site outage, tickets.
  await pub.burst('status', WARM_PREFIX, PER_SITE);
  await waitUntil('the warm-up statuses handled', () => handled.warmStatus >= PER_SITE, 15_000, 20);
  await pub.burst('offline', WARM_PREFIX, PER_SITE);
  await waitUntil('the warm-up offline presences handled', () => handled.warmOffline >= PER_SITE, 15_000, 20);
  await sleep(1000);
  const connects0 = log.connects;

  // ---- the baseline: one status each
  const online = await burst(service, pub, handled, log, 'status');
  console.log(`  status burst: ${fmt(online.handled)}/${fmt(DEVICES)} handled in ${fmt(online.ms)} ms, ${fmt(online.window.cpuMs)} ms CPU, longest stall ${fmt(online.window.stallMs)} ms`);
  if (online.handled < DEVICES) throw new Error(`the status burst: only ${online.handled} of ${DEVICES} statuses reached the service`);
  const idleBefore = await idle(service, pub);
  console.log(`  quiet, all online: ${fmt(idleBefore.cpuPct, 1)} % of a core, longest stall ${fmt(idleBefore.window.stallMs)} ms`);

  // ---- the storm: one offline presence each
  handled.counting = true;
  const storm = await burst(service, pub, handled, log, 'offline');
  handled.counting = false;
  const firingAt = (all: ReturnType<Service['alerting']['alerts']['allFiring']>) => {
    const offline = all.filter((a) => a.rule === 'device_offline' && a.deviceId?.startsWith(PREFIX));
    return {
      deviceOffline: offline.length,
      announced: offline.filter((a) => a.notifiedState === 'firing').length,
      inhibited: offline.filter((a) => a.notifiedState !== 'firing').length,
      siteAlerts: all.filter((a) => a.rule === 'site_network_down' && a.siteId !== WARM_SITE).length,
      allFiring: all.length,
    };
  };
  let alerts = firingAt(service.alerting.alerts.allFiring());
  // Every offline presence was handled after the evaluator's listener: each alert should be there.
  // If not, give the store a moment before calling it missing.
  for (let i = 0; i < 20 && alerts.deviceOffline < DEVICES; i++) {
    await sleep(500);
    alerts = firingAt(service.alerting.alerts.allFiring());
  }
  console.log(
    `  offline storm: ${fmt(alerts.deviceOffline)}/${fmt(DEVICES)} device_offline firing ${fmt(storm.ms)} ms after the first presence, ${fmt(storm.window.cpuMs)} ms CPU, ` +
      `longest stall ${fmt(storm.window.stallMs)} ms; ${fmt(alerts.siteAlerts)} site outages`,
  );
  const idleAfter = await idle(service, pub);
  console.log(`  quiet, ${fmt(alerts.allFiring)} alerts firing: ${fmt(idleAfter.cpuPct, 1)} % of a core, longest stall ${fmt(idleAfter.window.stallMs)} ms`);
  const reconnects = log.connects - connects0;
  const mqttKept = reconnects === 0 && log.unreachable === 0;
  const allAlerted = alerts.deviceOffline === DEVICES;
  const goalMet = allAlerted && mqttKept && storm.window.stallMs < STORM_GOAL_STALL_MS;

  // ---- the table
  const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : '');
  const rate = (r: BurstResult) => (r.ms > 0 ? (r.handled * 1000) / r.ms : NaN);
  const readyz = (r: ReadyzStats) => `${r.polls} polls, ${r.notReady === 0 ? 'all 200' : `${r.notReady} not ready`}, slowest ${fmt(r.slowestMs)} ms`;
  const rows: Array<[string, string, string, string]> = [
    [`messages published (one per device), acknowledged by mosquitto after, ms`, `${fmt(online.publisher.acked)}, ${fmt(online.publisher.ackedMs - online.publisher.firstMs)}`, `${fmt(storm.publisher.acked)}, ${fmt(storm.publisher.ackedMs - storm.publisher.firstMs)}`, ''],
    [
      `time from the first message published until the service handled the last, ms (status: journaled, rules run; storm: every device_offline alert firing)`,
      fmt(online.ms),
      `${fmt(storm.ms)}${allAlerted ? '' : ` (alerts firing: ${fmt(alerts.deviceOffline)}/${fmt(DEVICES)})`}`,
      ratio(storm.ms, online.ms),
    ],
    [`messages per second through the service`, fmt(rate(online)), fmt(rate(storm)), ratio(rate(storm), rate(online))],
    [`CPU of the service process during it, ms`, fmt(online.window.cpuMs), fmt(storm.window.cpuMs), ratio(storm.window.cpuMs, online.window.cpuMs)],
    [`CPU per device, µs`, fmt(online.cpuUsPerDevice), fmt(storm.cpuUsPerDevice), ratio(storm.cpuUsPerDevice, online.cpuUsPerDevice)],
    [
      `longest event-loop stall, ms (the loop did not turn for so long: no timer, no other socket, no HTTP request)`,
      fmt(online.window.stallMs),
      fmt(storm.window.stallMs),
      ratio(storm.window.stallMs, online.window.stallMs),
    ],
    [`CPU of mosquitto / influxd during it, ms`, `${fmt(online.window.mosquittoCpuMs)} / ${fmt(online.window.influxdCpuMs)}`, `${fmt(storm.window.mosquittoCpuMs)} / ${fmt(storm.window.influxdCpuMs)}`, ''],
    [`/readyz asked from outside the process (every ${READYZ_EVERY_MS} ms; checks the MQTT connection): slowest answer`, readyz(online.readyz), readyz(storm.readyz), ''],
    [
      `what the storm left`,
      '',
      `device_offline firing ${fmt(alerts.deviceOffline)}/${fmt(DEVICES)} (announced ${fmt(alerts.announced)}, inhibited by their site's outage ${fmt(alerts.inhibited)}); ` +
        `site_network_down firing ${fmt(alerts.siteAlerts)}/${fmt(sites)}; tickets opened: ${fmt(handled.deviceTickets)} device (${fmt(handled.merged)} merged into their site's), ${fmt(handled.siteTickets)} site`,
      '',
    ],
    [
      `quiet for ${IDLE_S} s afterwards: CPU % of a core, longest stall ms (1 s sweep over every device)`,
      `${fmt(idleBefore.cpuPct, 1)} %, ${fmt(idleBefore.window.stallMs)} (all online)`,
      `${fmt(idleAfter.cpuPct, 1)} %, ${fmt(idleAfter.window.stallMs)} (${fmt(alerts.allFiring)} alerts firing)`,
      ratio(idleAfter.cpuPct, idleBefore.cpuPct),
    ],
    [`the service's MQTT connection`, '', mqttKept ? 'kept: no reconnect' : `DROPPED: ${reconnects} reconnect(s), ${log.unreachable} "broker unreachable"`, ''],
    [
      `goal: longest stall during the storm < ${fmt(STORM_GOAL_STALL_MS)} ms (MQTT keepalive and API stay responsive), every device alerted, no reconnect`,
      '',
      `${fmt(storm.window.stallMs)} ms: ${goalMet ? 'PASS' : 'MISS'}`,
      '',
    ],
  ];
  console.log('');
  console.log(`| figure (${fmt(DEVICES)} devices, ${fmt(sites)} sites of ${PER_SITE}) | baseline: status burst, one status each | offline storm, one offline presence each | ratio |`);
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);

  const when = new Date().toISOString();
  const withRate = (r: BurstResult) => ({ ...r, ratePerS: rate(r) });
  const out = {
    when,
    settings: { devices: DEVICES, perSite: PER_SITE, ...fleet, warmupDevices: PER_SITE, idleS: IDLE_S, eldResolutionMs: ELD_RESOLUTION_MS, goalStallMs: STORM_GOAL_STALL_MS, cores: cpus().length },
    status: withRate(online),
    idleBefore,
    storm: withRate(storm),
    alerts,
    tickets: { device: handled.deviceTickets, site: handled.siteTickets, merged: handled.merged },
    idleAfter,
    mqtt: { connectsSinceWarmup: reconnects, unreachable: log.unreachable, kept: mqttKept },
    goal: { stallMs: storm.window.stallMs, met: goalMet },
    runS: (Date.now() - started) / 1000,
  };
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, 'offline-storm.json'), JSON.stringify(out, null, 2));
  writeHeadline({
    bench: 'storm',
    when,
    settings: { devices: DEVICES, perSite: PER_SITE, idleS: IDLE_S },
    baseline: { ms: online.ms, cpuUsPerDevice: online.cpuUsPerDevice, stallMs: online.window.stallMs },
    storm: { ms: storm.ms, cpuUsPerDevice: storm.cpuUsPerDevice, stallMs: storm.window.stallMs, firing: alerts.deviceOffline, reconnects: mqttKept ? 0 : Math.max(1, reconnects) },
    idle: { cpuPct: idleAfter.cpuPct, stallMs: idleAfter.window.stallMs },
  });
  console.log('\nraw figures: .data/bench/offline-storm.json');

  if (!allAlerted) {
    console.error(`offline-storm: ${DEVICES} devices went offline but ${alerts.deviceOffline} device_offline alerts are firing`);
    return 1;
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`offline-storm: ${(err as Error).stack ?? err}`);
  code = 1;
} finally {
  await cleanups.run();
}
process.exit(code);
