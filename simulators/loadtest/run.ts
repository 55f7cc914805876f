/**
 * One load test: plays a fleet at the target rate (runFleet, shared connections) plus the probe
 * devices, records what was sent, then counts what InfluxDB stored, and gathers latency and CPU.
 * Returns the figures; printing and the report are the CLI's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planDevices, runFleet, type SimStats, type SimulateOptions } from '../fleet.js';
import { cpuRows, findTargets, readCpu } from './cpu-usage.js';
import { InfluxLatencyPoller, type InfluxLatencyResult } from './influx-latency.js';
import { InfluxQuery } from './influx-query.js';
import { SentLedger } from './ledger.js';
import { MAX_PROBE_DEVICES, probeDeviceCount, type LoadtestOptions } from './options.js';
import { distribution, histogram } from './percentiles.js';
import { generatedProbeIds, PROBE_PREFIX, ProbePublisher, type ProbeDevice } from './probes.js';
import type { ProgressBar } from './progress.js';
import type { LatencyFigures, LoadtestResult, Point } from './result.js';
import { scrapeMetrics, serviceState, waitForMetrics, type ServiceMetrics } from './service-metrics.js';
import { compareDelivery, settleStored, type Settled } from './stored.js';
import { StreamLatency, type StreamLatencyResult } from './stream-latency.js';
import { judge } from './verdict.js';
import { waitForWarmup, type WarmupResult } from './warmup.js';

/** The run could not be done (InfluxDB or the broker unreachable, …): exit code 1. */
export class LoadtestRunError extends Error {}

export interface RunHooks {
  progress?: ProgressBar;
  /** Notes for the operator (stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const DEVICES_PER_CONNECTION = 500;
const INFLUX_POLL_MS = 100;
/** Ids the load test generates (also in a --write-seed registry): a query can select exactly them. */
const GENERATED_ID = new RegExp(`^(SIM\\d+|${PROBE_PREFIX}\\d+)$`);

interface Plan {
  tag: number;
  /** Registry file of the fleet's devices (probe ids left out), when playing a registry. */
  fleetRegistry?: string;
  fleetIds: string[];
  probeDevices: ProbeDevice[];
  intervalS: number;
  connections: number;
  ledger: SentLedger;
}

/** The devices of the run and their rates. */
async function planRun(o: LoadtestOptions, tmp: string): Promise<Plan> {
  let fleetRegistry: string | undefined;
  if (o.fleetDevices) {
    fleetRegistry = join(tmp, 'fleet.json');
    writeFileSync(fleetRegistry, JSON.stringify({ devices: o.fleetDevices.map((d) => ({ id: d.id, model: d.model })) }));
  }
  const planned = await planDevices({ devices: o.devices, seed: o.seed, ...(fleetRegistry ? { registry: fleetRegistry } : {}) });
  const fleetIds = planned.map((d) => d.id);
  const nProbes = probeDeviceCount(o.probeRate, o.registryProbes?.length || MAX_PROBE_DEVICES);
  const probeDevices: ProbeDevice[] = o.registryProbes?.length
    ? o.registryProbes.slice(0, nProbes).map((d) => ({ id: d.id, model: d.model }))
    : generatedProbeIds(nProbes).map((id) => ({ id, model: 'Studio X50' }));
  return {
    tag: Math.floor(Date.now() / 1000) % 1_000_000,
    ...(fleetRegistry ? { fleetRegistry } : {}),
    fleetIds,
    probeDevices,
    intervalS: o.devices / (o.rate - o.probeRate),
    connections: Math.ceil(fleetIds.length / DEVICES_PER_CONNECTION),
    ledger: new SentLedger([...fleetIds, ...probeDevices.map((d) => d.id)], o.durationS),
  };
}

async function openInflux(o: LoadtestOptions): Promise<InfluxQuery> {
  const influx = new InfluxQuery(o.influxUrl, o.influxDb);
  let hasDb: boolean;
  try {
    hasDb = await influx.hasDatabase();
  } catch (err) {
    throw new LoadtestRunError(`cannot query InfluxDB at ${redact(o.influxUrl)}: ${(err as Error).message}`);
  }
  if (!hasDb) throw new LoadtestRunError(`InfluxDB at ${redact(o.influxUrl)} has no database ${o.influxDb}: is the service writing there (INFLUX_DB)?`);
  return influx;
}

export async function runLoadtest(o: LoadtestOptions, hooks: RunHooks = {}): Promise<LoadtestResult> {
  const log = hooks.log ?? (() => undefined);
  const progress = hooks.progress;
  const startedAt = new Date().toISOString();
  const tmp = mkdtempSync(join(tmpdir(), 'fwlt-'));
  let poller: InfluxLatencyPoller | undefined;
  let stream: StreamLatency | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const plan = await planRun(o, tmp);
    const { ledger, probeDevices } = plan;
    const influx = await openInflux(o);
    const waitNote = (why: string) => progress?.status(why, true);
    const hasMetrics = (await waitForMetrics(o.apiUrl, Math.max(10_000, o.warmupMaxS * 1000), waitNote)) !== undefined;
    if (!hasMetrics) log(`no /metrics at ${o.apiUrl}: no warm-up, the service's CPU comes from /proc only, and its write rate is not charted`);
    const targets = findTargets({ mqttUrl: o.mqttUrl, influxUrl: o.influxUrl, apiUrl: o.apiUrl, pids: o.pids });

    // ---- probes and their observers ----
    const influxPoller = new InfluxLatencyPoller(influx, probeDevices.map((d) => d.id), INFLUX_POLL_MS);
    poller = influxPoller;
    const probes = new ProbePublisher({
      url: o.mqttUrl,
      devices: probeDevices,
      ratePerS: o.probeRate,
      durationS: o.durationS,
      qos: o.qos,
      tag: plan.tag,
      onStatusPublished: ledger.record,
      onProbe: influxPoller.add,
    });
    try {
      await probes.connect();
    } catch (err) {
      await probes.close();
      throw new LoadtestRunError((err as Error).message);
    }
    let streamUnavailable: string | undefined;
    if (probeDevices.length === 0) streamUnavailable = 'no probes (--probes 0)';
    else if (o.token === undefined) streamUnavailable = "no --token given (a NOC token, or a token of the probe devices' partner)";
    else {
      try {
        stream = await StreamLatency.connect({
          apiUrl: o.apiUrl,
          token: o.token,
          probeIds: probeDevices.map((d) => d.id),
          tag: plan.tag,
          publishedAt: (p, s) => probes.publishedAt(p, s),
        });
      } catch (err) {
        streamUnavailable = (err as Error).message;
        log(`publish -> socket.io not measured: ${streamUnavailable}`);
      }
    }
    // The presence count before the fleet connects (the probes' presence acknowledged by now).
    const baseline = hasMetrics ? await waitForMetrics(o.apiUrl, Math.max(10_000, o.warmupMaxS * 1000), waitNote) : undefined;
    progress?.done();

    // ---- the run: warm-up (onReady), publishing (the fleet's schedule), settle (onDrained) ----
    let warmup: WarmupResult = { presence: plan.fleetIds.length, tookMs: 0, absorbed: false, note: 'not reached' };
    let startPerf = Number.NaN;
    let abortedAt = Number.NaN;
    let cpuBefore: Array<number | undefined> = [];
    let metricsAtStart: ServiceMetrics | undefined;
    let probesDone: Promise<void> = Promise.resolve();
    const acked: Point[] = [];
    const written: Point[] = [];
    let last = { t: 0, acked: 0, written: Number.NaN };
    let publishing = false;
    let sampling = false;
    let end: EndFigures | undefined;
    let settleError: Error | undefined;
    const onAbort = () => {
      if (Number.isNaN(abortedAt)) abortedAt = performance.now();
      probes.stop();
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const sampleService = (): void => {
      if (sampling) return;
      sampling = true;
      void scrapeMetrics(o.apiUrl, 900)
        .then((m) => {
          if (m?.written === undefined) return;
          if (!Number.isNaN(last.written)) written.push([(performance.now() - startPerf) / 1000, m.written - last.written]);
          last.written = m.written;
        })
        .finally(() => (sampling = false));
    };

    const fleetOpts: SimulateOptions = {
      url: o.mqttUrl,
      devices: o.devices,
      intervalS: plan.intervalS,
      durationS: o.durationS,
      seed: o.seed,
      qos: o.qos,
      connections: 'shared',
      devicesPerConnection: DEVICES_PER_CONNECTION,
      answerCommands: false,
      progressIntervalS: 1,
      onStatusPublished: ledger.record,
      onReady: async () => {
        if (baseline && o.warmupMaxS > 0) progress?.status(`warming up: waiting for the service to take ${plan.fleetIds.length} presence messages`, true);
        warmup = await waitForWarmup({
          apiUrl: o.apiUrl,
          baseline,
          presence: plan.fleetIds.length,
          maxMs: o.warmupMaxS * 1000,
          onStatus: (text) => progress?.status(text),
          ...(hooks.signal ? { signal: hooks.signal } : {}),
        });
        progress?.done();
        if (hooks.signal?.aborted) return;
        metricsAtStart = await scrapeMetrics(o.apiUrl);
        if (metricsAtStart?.written !== undefined) last.written = metricsAtStart.written;
        cpuBefore = readCpu(targets);
        startPerf = performance.now();
        ledger.start(Date.now());
        publishing = true;
        probesDone = probes.run();
        influxPoller.start();
        sampler = setInterval(sampleService, 1000);
      },
      onProgress: (s) => {
        if (!publishing) return;
        const t = (performance.now() - startPerf) / 1000;
        const a = s.sent + probes.acked;
        const rate = t > last.t ? (a - last.acked) / (t - last.t) : 0;
        acked.push([t, rate]);
        last = { ...last, t, acked: a };
        progress?.update({ elapsedS: Math.min(t, o.durationS), totalS: o.durationS, published: ledger.total, acked: a, rate, targetRate: o.rate });
      },
      onDrained: async (s) => {
        if (!publishing) return;
        publishing = false;
        if (sampler) clearInterval(sampler);
        probes.stop();
        await probesDone;
        await probes.drain();
        progress?.done();
        try {
          end = await settle(s.sent + probes.acked);
        } catch (err) {
          settleError = err as Error;
        }
      },
    };
    if (plan.fleetRegistry) fleetOpts.registry = plan.fleetRegistry;

    /** Once every message is acknowledged: what InfluxDB has, the latency observers' figures, CPU after. */
    const settle = async (totalAcked: number): Promise<EndFigures> => {
      const settled = await settleStored(influx, ledger, totalAcked, ledger.minTs, ledger.maxTs, {
        maxMs: o.settleMaxS * 1000,
        // Without /metrics the count alone tells: give it longer to stop growing.
        ...(metricsAtStart ? { busy: () => serviceBusy(o.apiUrl, metricsAtStart?.statusReceived, totalAcked) } : { quietMs: 10_000 }),
        onCount: (c) => progress?.status(`waiting for InfluxDB: ${c.distinct} of ${totalAcked} acknowledged messages stored`),
      });
      // What is stored is stored by now: a probe not seen within one more second is missing.
      const [influxLat, streamLat] = await Promise.all([influxPoller.finish(1000), stream ? stream.finish(probes.acked, 1000) : Promise.resolve(undefined)]);
      const cpuAfter = readCpu(targets);
      const settleEnd = performance.now();
      const metricsAfter = await scrapeMetrics(o.apiUrl);
      progress?.done();
      return { totalAcked, probesAcked: probes.acked, settled, influxLat, streamLat, cpuAfter, settleEnd, metricsAfter };
    };

    let fleet: SimStats;
    try {
      fleet = await runFleet(fleetOpts, hooks.signal);
    } catch (err) {
      throw new LoadtestRunError((err as Error).message);
    } finally {
      if (sampler) clearInterval(sampler);
      hooks.signal?.removeEventListener('abort', onAbort);
      probes.stop();
      await probesDone;
      await probes.close();
    }
    if (settleError) throw new LoadtestRunError(`counting what InfluxDB stored failed: ${settleError.message}`);
    if (!end) throw new LoadtestRunError(hooks.signal?.aborted ? 'stopped before the first status message' : 'the fleet ended before publishing');
    const e: EndFigures = end;
    const windowS = Number.isNaN(abortedAt) ? o.durationS : Math.max(0, Math.min(o.durationS, (abortedAt - startPerf) / 1000));
    const metricsCpuMs =
      metricsAtStart?.cpuSeconds !== undefined && e.metricsAfter?.cpuSeconds !== undefined ? (e.metricsAfter.cpuSeconds - metricsAtStart.cpuSeconds) * 1000 : undefined;
    const perSecond = await storedPerSecond(influx, ledger, windowS, ledger.ids.every((id) => GENERATED_ID.test(id)));
    const delivery = compareDelivery(ledger, e.totalAcked, e.settled.counts, ledger.minTs, ledger.maxTs);
    const achievedRate = windowS > 0 ? ledger.total / windowS : 0;
    const lastError = fleet.lastError ?? probes.lastError;
    return {
      startedAt,
      settings: {
        mqttUrl: redact(o.mqttUrl),
        influxUrl: redact(o.influxUrl),
        influxDb: o.influxDb,
        apiUrl: o.apiUrl,
        targetRate: o.rate,
        durationS: o.durationS,
        devices: o.devices,
        connections: plan.connections,
        intervalS: plan.intervalS,
        probeDevices: probeDevices.length,
        probeRate: o.probeRate,
        qos: o.qos,
        seed: o.seed,
        ...(o.registry ? { registry: o.registry } : {}),
      },
      warmup,
      windowS,
      achievedRate,
      timeline: {
        published: perSecondRates(ledger.perSecond, windowS),
        acked,
        ...(written.length > 0 ? { serviceWritten: written } : {}),
        ...perSecond,
      },
      delivery,
      settleMs: Math.max(0, e.settleEnd - (startPerf + windowS * 1000)),
      settleEnded: e.settled.ended,
      influxLatency: influxFigures(e.influxLat, e.probesAcked, probeDevices.length, startPerf),
      streamLatency: streamFigures(e.streamLat, streamUnavailable, e.probesAcked, startPerf),
      cpu: cpuRows(targets, cpuBefore, e.cpuAfter, e.totalAcked, metricsCpuMs),
      cpuMessages: e.totalAcked,
      cpuWindowS: (e.settleEnd - startPerf) / 1000,
      publishErrors: fleet.errors + probes.errors,
      ...(lastError !== undefined ? { lastError } : {}),
      verdict: judge(delivery, achievedRate, o.rate, e.settled.ended),
    };
  } finally {
    if (sampler) clearInterval(sampler);
    poller?.stop();
    stream?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface EndFigures {
  totalAcked: number;
  probesAcked: number;
  settled: Settled;
  influxLat: InfluxLatencyResult;
  streamLat: StreamLatencyResult | undefined;
  cpuAfter: Array<number | undefined>;
  settleEnd: number;
  metricsAfter: ServiceMetrics | undefined;
}

/**
 * Whether the service still has our messages in hand: it has not received as many status messages
 * as were acknowledged since the start (they wait in the broker or its socket), its journal holds
 * points not yet written, or its event loop is too busy to answer /metrics promptly.
 */
async function serviceBusy(apiUrl: string, statusAtStart: number | undefined, acked: number): Promise<boolean> {
  const s = await serviceState(apiUrl, 1000);
  if (!s.atRest) return true;
  const now = s.metrics?.statusReceived;
  return statusAtStart !== undefined && now !== undefined && now - statusAtStart < acked;
}

/** Counts per second to rates, the last (partial) second scaled to its length; x at the middle of each second. */
export function perSecondRates(counts: ArrayLike<number>, windowS: number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < counts.length && i < windowS; i++) out.push([i + 0.5, counts[i]! / Math.min(1, windowS - i)]);
  return out;
}

/**
 * Points in InfluxDB per second of their time over the run. Generated ids (SIM…, LTPROBE…) can be
 * selected by a regular expression; other registries' cannot, so then every device in the database counts.
 */
async function storedPerSecond(influx: InfluxQuery, ledger: SentLedger, windowS: number, generatedIds: boolean): Promise<{ stored?: Point[]; storedNote?: string }> {
  const start = ledger.startedAtMs;
  const filter = generatedIds ? ` AND "device" =~ /${GENERATED_ID.source}/` : '';
  try {
    const series = await influx.query(
      `SELECT count("seq") AS "n" FROM "device_status" WHERE time >= ${start}ms AND time < ${start + Math.ceil(windowS) * 1000}ms${filter} ` +
        `GROUP BY time(1s, ${start % 1000}ms) fill(0)`,
    );
    const counts = new Array<number>(Math.ceil(windowS)).fill(0);
    for (const v of series[0]?.values ?? []) {
      const i = Math.round((Number(v[0]) - start) / 1000);
      if (i >= 0 && i < counts.length) counts[i] = Number(v[1]);
    }
    return {
      stored: perSecondRates(counts, windowS),
      ...(generatedIds
        ? {}
        : { storedNote: "The per-second stored series counts every device of the database in that time (a registry's ids cannot be told apart in a query); the totals count only the run's devices." }),
    };
  } catch (err) {
    return { storedNote: `Stored per second not available: ${(err as Error).message}` };
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

function fmt(v: number): string {
  return v < 10 ? v.toFixed(1) : v.toFixed(0);
}

export function influxFigures(r: InfluxLatencyResult, probes: number, probeDevices: number, startPerf: number): LatencyFigures {
  if (probeDevices === 0) return { unavailable: 'no probes (--probes 0)', probes: 0, samples: 0, missing: 0, resolution: '', raw: [], overTime: [] };
  const d = distribution(r.upperMs);
  const widths = distribution(r.upperMs.map((u, i) => u - r.lowerMs[i]!));
  const lower = distribution(r.lowerMs);
  const q = distribution(r.queryMs);
  const polls = `${r.polls} polls${r.pollErrors ? `, ${r.pollErrors} failed (${r.lastPollError})` : ''}`;
  const resolution =
    `A poller asks InfluxDB for the probe points every ${r.pollMs} ms; each figure is the arrival of the first answer holding the point minus the publish time: an upper bound. ` +
    (widths && lower && q
      ? `The point was not readable at the start of the poll before, so the true figure is lower by at most the resolution: here p50 ${fmt(widths.p50)} ms, max ${fmt(widths.max)} ms ` +
        `(lower bounds: p50 ${fmt(lower.p50)} ms, p99 ${fmt(lower.p99)} ms). A query took p50 ${fmt(q.p50)} ms, max ${fmt(q.max)} ms (${polls}).`
      : `${polls}.`);
  return {
    probes,
    samples: r.upperMs.length,
    missing: r.missed,
    ...(d ? { distribution: d, histogram: histogram(r.upperMs) } : {}),
    resolution,
    raw: r.upperMs.map(round1),
    overTime: r.upperMs.map((v, i) => [round3((r.publishedAt[i]! - startPerf) / 1000), round1(v)]),
  };
}

export function streamFigures(r: StreamLatencyResult | undefined, unavailable: string | undefined, probes: number, startPerf: number): LatencyFigures {
  if (!r) return { unavailable: unavailable ?? 'not measured', probes, samples: 0, missing: 0, resolution: '', raw: [], overTime: [] };
  const d = distribution(r.latencyMs);
  return {
    probes,
    samples: r.latencyMs.length,
    missing: Math.max(0, probes - r.latencyMs.length),
    ...(d ? { distribution: d, histogram: histogram(r.latencyMs) } : {}),
    resolution:
      'One socket.io client per probe device (narrowed to it) receives device.status; every probe message changes the firmware in the summary, so each gives one event, matched by that firmware. ' +
      "Latency = arrival in the listener - publish, on this process's monotonic clock (µs), so the load tester's own event-loop delay is included. " +
      `${r.events} probe events on ${r.sockets} sockets, ${r.repeats} repeats, ${r.unmatched} unmatched, ${r.disconnects} disconnects.`,
    raw: r.latencyMs.map(round1),
    overTime: r.latencyMs.map((v, i) => [round3((r.publishedAt[i]! - startPerf) / 1000), round1(v)]),
  };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
const round3 = (v: number): number => Math.round(v * 1000) / 1000;
