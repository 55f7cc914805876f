// The `collector_stats` measurement: the collector's own health, one point every 10 s, so the
// Grafana dashboards can show it next to the fleet (dashboards/collector-health.ts). Taken from the
// Prometheus metrics the collector keeps anyway (collector/metrics.ts) and written through the
// journal like every other point. Schema in docs/influxdb.md.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { escapeTag } from './line-protocol.js';
import type { CollectorMetrics } from './metrics.js';

export const SELF_STATS_INTERVAL_MS = 10_000;

/** The `instance` tag: host name and MQTT client id (one collector process). */
export function instanceName(mqttClientId: string): string {
  return `${hostname()}/${mqttClientId}`;
}

export interface SelfStatsOptions {
  metrics: CollectorMetrics;
  journal: { readonly pendingBytes: number; readonly isFull: boolean };
  instance: string;
  /** Stages the line for InfluxDB (the collector's journal). */
  writePoint: (line: string) => void;
  log: Logger;
  intervalMs?: number;
  clock?: () => number;
}

/** Cumulative counters at one moment. */
interface Totals {
  at: number;
  received: number;
  invalid: number;
  unknownDevice: number;
  written: number;
  writeFailures: number;
  batchesRejected: number;
  journalFullWaits: number;
  writeSeconds: number;
  batches: number;
  batchPoints: number;
}

export class SelfStats {
  private timer: NodeJS.Timeout | undefined;
  private previous: Totals;
  private busy = false;
  private readonly clock: () => number;

  constructor(private readonly o: SelfStatsOptions) {
    this.clock = o.clock ?? Date.now;
    // The metrics registry is the service's own: every counter starts at 0 with it.
    this.previous = { at: this.clock(), received: 0, invalid: 0, unknownDevice: 0, written: 0, writeFailures: 0, batchesRejected: 0, journalFullWaits: 0, writeSeconds: 0, batches: 0, batchPoints: 0 };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.o.intervalMs ?? SELF_STATS_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The line for now, against the totals of the previous call (or of the start). */
  async sample(): Promise<string> {
    const now = await this.totals();
    const p = this.previous;
    this.previous = now;
    const seconds = Math.max(0.001, (now.at - p.at) / 1000);
    const rate = (a: number, b: number) => Math.round(((a - b) / seconds) * 1000) / 1000;
    const batches = now.batches - p.batches;
    const mem = process.memoryUsage();
    let fields =
      `received=${now.received}i,received_rate=${rate(now.received, p.received)}` +
      `,invalid=${now.invalid}i,invalid_rate=${rate(now.invalid, p.invalid)}` +
      `,unknown_device=${now.unknownDevice}i` +
      `,written=${now.written}i,written_rate=${rate(now.written, p.written)}` +
      `,write_failures=${now.writeFailures}i,batches_rejected=${now.batchesRejected}i,journal_full_waits=${now.journalFullWaits}i` +
      `,journal_bytes=${this.o.journal.pendingBytes}i,batches=${batches}i` +
      `,rss_bytes=${mem.rss}i,heap_used_bytes=${mem.heapUsed}i,interval_s=${Math.round(seconds * 1000) / 1000}`;
    // Means over the interval; left out when no batch was written in it.
    if (batches > 0) {
      fields += `,write_ms=${Math.round(((now.writeSeconds - p.writeSeconds) / batches) * 1e6) / 1000}`;
      fields += `,batch_points=${Math.round(((now.batchPoints - p.batchPoints) / batches) * 1000) / 1000}`;
    }
    return `collector_stats,instance=${escapeTag(this.o.instance)} ${fields} ${now.at}\n`;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const line = await this.sample();
      // A full journal means InfluxDB is away and intake has stopped: the stats wait too.
      if (this.timer && !this.o.journal.isFull) this.o.writePoint(line);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'collector_stats point not written');
    } finally {
      this.busy = false;
    }
  }

  private async totals(): Promise<Totals> {
    const registry = this.o.metrics.registry;
    const values = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
    const sum = async (name: string, metricName?: string) =>
      (await values(name)).filter((v) => metricName === undefined || (v as { metricName?: string }).metricName === metricName).reduce((s, v) => s + v.value, 0);
    const at = this.clock();
    return {
      at,
      received: await sum('fleetwatch_messages_received_total'),
      invalid: await sum('fleetwatch_messages_invalid_total'),
      unknownDevice: await sum('fleetwatch_messages_unknown_device_total'),
      written: await sum('fleetwatch_points_written_total'),
      writeFailures: await sum('fleetwatch_write_failures_total'),
      batchesRejected: await sum('fleetwatch_batches_rejected_total'),
      journalFullWaits: await sum('fleetwatch_journal_full_waits_total'),
      writeSeconds: await sum('fleetwatch_write_duration_seconds', 'fleetwatch_write_duration_seconds_sum'),
      batches: await sum('fleetwatch_write_duration_seconds', 'fleetwatch_write_duration_seconds_count'),
      batchPoints: await sum('fleetwatch_batch_points', 'fleetwatch_batch_points_sum'),
    };
  }
}
