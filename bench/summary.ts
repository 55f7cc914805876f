// The headline table `npm run bench` ends with: the figures each bench wrote to
// .data/bench/results/<bench>.json (bench/results.ts), side by side with their baselines, and PASS or
// FAIL where there is a goal. scripts/bench.sh runs it after the benches:
//
//   node dist/bench/summary.js [--ran ingest,latency,memory,storm] [--since EPOCH_MS]
//
// --ran: the benches this invocation ran (a missing result of one of them means it failed);
// --since: when this invocation started: results of benches that did not run now are shown as from an
// earlier run, with their date. Goals: ingest ratio >= 0.8x (collector / bare subscriber, everything
// stored), fault-to-ticket p99 < 250 ms under load (every fault opening its ticket); the memory
// bench's own check: per-device state grows less than 5 % over 10 more snapshots per device; mass
// offline: the longest event-loop stall during the storm < 1,000 ms, every device alerted, the MQTT
// connection kept.
// A FAIL is reported, not an exit code (it depends on the machine); the exit code is 0.
import { pathToFileURL } from 'node:url';
import {
  BENCHES,
  INGEST_GOAL_RATIO,
  LATENCY_GOAL_P99_MS,
  MEMORY_MAX_GROWTH,
  readHeadline,
  RESULTS_DIR,
  STORM_GOAL_STALL_MS,
  type BenchName,
  type IngestHeadline,
  type LatencyHeadline,
  type MemoryHeadline,
  type StormHeadline,
} from './results.js';

export interface SummaryInput {
  ingest?: IngestHeadline | undefined;
  latency?: LatencyHeadline | undefined;
  memory?: MemoryHeadline | undefined;
  storm?: StormHeadline | undefined;
}

export interface SummaryOptions {
  /** Benches this invocation ran; default: all of them. */
  ran?: readonly BenchName[];
  /** Epoch ms this invocation started; results older than that are from an earlier run. */
  since?: number;
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (n: number) => (Number.isFinite(n) ? fmt(n, 1) : '–');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}x` : '');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const secs = (msValue: number) => (Number.isFinite(msValue) ? `${fmt(msValue / 1000, 1)} s` : '– s');

type Row = [headline: string, baseline: string, fleetwatch: string, ratio: string, goal: string, result: string];

/** The markdown table (header included), one row or more per bench. */
export function summaryTable(r: SummaryInput, o: SummaryOptions = {}): string[] {
  const ran = new Set(o.ran ?? BENCHES);
  const rows: Row[] = [];
  const earlier = (when: string) => (o.since !== undefined && Date.parse(when) < o.since ? ` (earlier run, ${when.slice(0, 16).replace('T', ' ')} UTC)` : '');
  const absent = (bench: BenchName, label: string, goal = '') => rows.push([label, '', ran.has(bench) ? 'no result: the bench failed' : 'not run', '', goal, '']);

  const i = r.ingest;
  if (!i) absent('ingest', 'ingest, msg/s stored', `≥ ${INGEST_GOAL_RATIO}x`);
  else {
    const ok = i.allStored && i.ratio >= INGEST_GOAL_RATIO;
    rows.push([
      `ingest, msg/s (best of ${i.settings.rounds} round(s) of ${fmt(i.settings.messages)} QoS 1 messages)${earlier(i.when)}`,
      `${fmt(i.bareMsgPerS)} bare mqtt.js subscriber`,
      `${fmt(i.collectorMsgPerS)} collector, stored in InfluxDB${i.allStored ? '' : ' (some MISSING)'}`,
      `${i.ratio.toFixed(2)}x`,
      `≥ ${INGEST_GOAL_RATIO}x, all stored`,
      verdict(ok),
    ]);
  }

  const l = r.latency;
  if (!l) absent('latency', 'fault-to-ticket latency p99, ms', `p99 < ${LATENCY_GOAL_P99_MS} ms under load`);
  else {
    const loadLabel = l.loaded ? `under ${fmt(l.settings.load)} msg/s` : 'not run (--load 0)';
    const loaded = (f: (p: NonNullable<LatencyHeadline['loaded']>) => string) => (l.loaded ? f(l.loaded) : loadLabel);
    const all = [l.idle, ...(l.loaded ? [l.loaded] : [])].every((p) => p.tickets === p.faults);
    rows.push([
      `fault-to-ticket latency p50, ms (${fmt(l.settings.faults)} faults a pass)${earlier(l.when)}`,
      `${ms(l.idle.p50)} idle`,
      loaded((p) => `${ms(p.p50)} ${loadLabel}`),
      l.loaded ? ratio(l.loaded.p50, l.idle.p50) : '',
      '',
      '',
    ]);
    rows.push([
      `fault-to-ticket latency p99, ms${earlier(l.when)}`,
      `${ms(l.idle.p99)} idle`,
      loaded((p) => `${ms(p.p99)} ${loadLabel}${all ? '' : ` (tickets opened: ${p.tickets}/${p.faults})`}`),
      l.loaded ? ratio(l.loaded.p99, l.idle.p99) : '',
      `p99 < ${LATENCY_GOAL_P99_MS} ms under load, every ticket opened`,
      l.loaded ? verdict(all && l.loaded.p99 < LATENCY_GOAL_P99_MS) : 'not measured',
    ]);
  }

  const m = r.memory;
  if (!m) absent('memory', 'memory per device, heap bytes');
  else {
    const n = fmt(m.settings.devices);
    const grown = (m.service.more.heapBytesPerDevice - m.service.first.heapBytesPerDevice) / m.service.first.heapBytesPerDevice;
    rows.push([
      `memory per device, heap bytes, ${n} devices after 1 snapshot each${earlier(m.when)}`,
      `${fmt(m.baseline.first.heapBytesPerDevice)} last message JSON.parse'd, in a Map`,
      `${fmt(m.service.first.heapBytesPerDevice)} the service's per-device state`,
      ratio(m.service.first.heapBytesPerDevice, m.baseline.first.heapBytesPerDevice),
      '',
      '',
    ]);
    rows.push([
      `memory per device, heap bytes, after ${m.settings.more} more snapshots each${earlier(m.when)}`,
      fmt(m.baseline.more.heapBytesPerDevice),
      `${fmt(m.service.more.heapBytesPerDevice)} (${grown >= 0 ? '+' : ''}${fmt(grown * 100, 1)} %)`,
      ratio(m.service.more.heapBytesPerDevice, m.baseline.more.heapBytesPerDevice),
      `grows < ${fmt(MEMORY_MAX_GROWTH * 100)} %`,
      verdict(grown < MEMORY_MAX_GROWTH),
    ]);
  }

  const st = r.storm;
  const stormGoal = `< ${fmt(STORM_GOAL_STALL_MS)} ms, every device alerted, MQTT connection kept`;
  if (!st) absent('storm', 'mass offline, µs CPU per device', stormGoal);
  else {
    const n = st.settings.devices;
    const missing = st.storm.firing < n ? ` (alerts firing: ${fmt(st.storm.firing)}/${fmt(n)})` : '';
    const dropped = st.storm.reconnects > 0 ? ` (MQTT connection dropped: ${st.storm.reconnects} reconnect(s))` : '';
    rows.push([
      `mass offline, ${fmt(n)} devices at sites of ${st.settings.perSite}: µs CPU per device${earlier(st.when)}`,
      `${fmt(st.baseline.cpuUsPerDevice)} status burst, one status each (${secs(st.baseline.ms)})`,
      `${fmt(st.storm.cpuUsPerDevice)} offline storm, one offline presence each: alerts, site outages (${secs(st.storm.ms)}); then idle ${fmt(st.idle.cpuPct, 1)} % of a core`,
      ratio(st.storm.cpuUsPerDevice, st.baseline.cpuUsPerDevice),
      '',
      '',
    ]);
    rows.push([
      `longest event-loop stall during the storm, ms${earlier(st.when)}`,
      `${fmt(st.baseline.stallMs)} status burst`,
      `${fmt(st.storm.stallMs)} offline storm${missing}${dropped}`,
      ratio(st.storm.stallMs, st.baseline.stallMs),
      stormGoal,
      verdict(st.storm.stallMs < STORM_GOAL_STALL_MS && st.storm.firing >= n && st.storm.reconnects === 0),
    ]);
  }

  return ['| headline | baseline | fleetwatch | ratio | goal | result |', '|---|---|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

function parseRan(v: string | undefined): BenchName[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').filter(Boolean);
  for (const n of names) if (!(BENCHES as readonly string[]).includes(n)) throw new Error(`--ran: unknown bench "${n}" (${BENCHES.join(', ')})`);
  return names as BenchName[];
}

function main(argv: string[]): number {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '');
    if ((name !== 'ran' && name !== 'since') || argv[i + 1] === undefined) {
      console.error(`usage: summary.js [--ran ingest,latency,memory,storm] [--since EPOCH_MS]  (got "${argv[i]}")`);
      return 2;
    }
    args.set(name, argv[i + 1]!);
  }
  const since = args.has('since') ? Number(args.get('since')) : undefined;
  let ran: BenchName[] | undefined;
  try {
    ran = parseRan(args.get('ran'));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const lines = summaryTable(
    { ingest: readHeadline('ingest'), latency: readHeadline('latency'), memory: readHeadline('memory'), storm: readHeadline('storm') },
    { ran, since: Number.isFinite(since) ? since : undefined },
  );
  console.log(`fleetwatch bench headline figures (from ${RESULTS_DIR.replace(/.*(\.data\/)/, '$1')}):`);
  console.log('');
  for (const line of lines) console.log(line);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main(process.argv.slice(2)));
}
