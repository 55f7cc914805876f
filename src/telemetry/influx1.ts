// InfluxDB 1.x adapter on node-influx (the `influx` package), which speaks the 1.x HTTP API
// that the Debian influxdb 1.6 serves. Schema of CONTRACT section 3, documented in docs/influxdb.md.
import { escape, InfluxDB, type ISingleHostConfig } from 'influx';
// node-influx's writePoints wants point objects; the journal already holds line protocol, so writes
// go through its connection pool (the same one writePoints uses) with the lines as the body.
import { Pool } from 'influx/lib/src/pool.js';
import { RejectedWriteError, type TelemetryStore } from './telemetry-store.js';

export interface Influx1Options {
  url: string;
  database: string;
  rawRetention: string;
  rollupRetention: string;
  requestTimeoutMs?: number;
}

export interface DeviceTelemetrySummary {
  sinceMs: number;
  snapshots: number;
  tempC: { mean: number | null; max: number | null };
  cpuPct: { mean: number | null };
  lossPct: { max: number | null };
  rttMs: { max: number | null };
  mos: { min: number | null };
  lastFirmware: string | null;
  lastSeenMs: number | null;
  events: Array<{ ts: number; type: string; severity: string; code: string | null; component: string | null }>;
}

/** One status snapshot as stored, for a device's recent-telemetry chart (null: not reported). */
export interface DeviceStatusPoint {
  ts: number;
  cpuPct: number | null;
  memPct: number | null;
  tempC: number | null;
  rttMs: number | null;
  jitterMs: number | null;
  lossPct: number | null;
  mos: number | null;
  linkUp: boolean | null;
  inCall: boolean | null;
  peripheralsFailed: number | null;
}

export const RAW_POLICY = 'raw';
export const ROLLUP_POLICY = 'rollup';

const CQ_NAME = 'cq_device_status_5m';

/** Numeric fields of device_status that the 5-minute rollup keeps a mean of. */
const ROLLUP_MEANS = ['cpu_pct', 'mem_pct', 'temp_c', 'fan_rpm', 'rtt_ms', 'jitter_ms', 'loss_pct', 'mos', 'peripherals_failed'];

export class Influx1Store implements TelemetryStore {
  readonly influx: InfluxDB;
  private readonly pool: Pool;
  private readonly writePath: string;
  private readonly auth: string | undefined;

  constructor(private readonly options: Influx1Options) {
    const u = new URL(options.url);
    const timeout = options.requestTimeoutMs ?? 10_000;
    this.influx = new InfluxDB({
      host: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      protocol: u.protocol === 'https:' ? 'https' : 'http',
      ...(u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {}),
      database: options.database,
      pool: { maxRetries: 0, requestTimeout: timeout },
    } satisfies ISingleHostConfig);
    // Retries are the writer's job (it knows about the journal); the pool must not retry behind it.
    this.pool = new Pool({ maxRetries: 0, requestTimeout: timeout });
    this.pool.addHost(`${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`);
    this.writePath = '/write';
    this.auth = u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined;
  }

  get database(): string {
    return this.options.database;
  }

  async ensureSchema(): Promise<void> {
    const { database, rawRetention, rollupRetention } = this.options;
    await this.influx.createDatabase(database); // CREATE DATABASE is a no-op when it exists
    const existing = await this.influx.showRetentionPolicies(database);
    const ensurePolicy = async (name: string, duration: string, isDefault: boolean) => {
      const found = existing.find((p) => p.name === name);
      if (!found) await this.influx.createRetentionPolicy(name, { database, duration, replication: 1, isDefault });
      else await this.influx.alterRetentionPolicy(name, { database, duration, replication: 1, isDefault });
    };
    await ensurePolicy(RAW_POLICY, rawRetention, true);
    await ensurePolicy(ROLLUP_POLICY, rollupRetention, false);
    // RESAMPLE FOR 2h: points that arrive late (a journal drained after an outage) are rolled up too.
    const cqs = await this.influx.showContinousQueries(database);
    const existing5m = cqs.find((q) => q.name === CQ_NAME);
    if (existing5m && !existing5m.query.includes('RESAMPLE')) await this.influx.dropContinuousQuery(CQ_NAME, database);
    if (!existing5m || !existing5m.query.includes('RESAMPLE')) {
      const means = ROLLUP_MEANS.map((f) => `mean("${f}") AS "${f}"`).join(', ');
      await this.influx.createContinuousQuery(
        CQ_NAME,
        `SELECT ${means}, count("seq") AS "snapshots" INTO "${database}"."${ROLLUP_POLICY}"."device_status_5m" FROM "${database}"."${RAW_POLICY}"."device_status" GROUP BY time(5m), *`,
        database,
        'RESAMPLE EVERY 5m FOR 2h',
      );
    }
  }

  async write(body: string): Promise<void> {
    try {
      await this.pool.discard({ method: 'POST', path: this.writePath, query: { db: this.options.database, precision: 'ms' }, body, auth: this.auth });
    } catch (err) {
      const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
      // 400: points InfluxDB will never accept (a field type conflict, a partial write). The valid
      // points of the batch were written; retrying cannot help.
      if (status === 400) throw new RejectedWriteError((err as Error).message);
      throw err;
    }
  }

  /** A device's telemetry over a window, for its timeline: counts, means and extremes, firmware seen. `untilMs`: up to now when not given. */
  async deviceSummary(deviceId: string, sinceMs: number, untilMs?: number): Promise<DeviceTelemetrySummary> {
    const dev = escape.stringLit(deviceId);
    const window = `time >= ${Math.trunc(sinceMs)}ms${untilMs !== undefined ? ` AND time <= ${Math.trunc(untilMs)}ms` : ''}`;
    const [agg] = await this.influx.query<Record<string, number | null>>(
      `SELECT count("seq") AS snapshots, mean("temp_c") AS temp_mean, max("temp_c") AS temp_max, mean("cpu_pct") AS cpu_mean, max("loss_pct") AS loss_max, max("rtt_ms") AS rtt_max, min("mos") AS mos_min
       FROM "device_status" WHERE "device" = ${dev} AND ${window}`,
    );
    const firmware = await this.influx.query<{ time: { getTime(): number }; firmware: string }>(
      `SELECT "firmware" FROM "device_status" WHERE "device" = ${dev} AND ${window} ORDER BY time DESC LIMIT 1`,
    );
    const events = await this.influx.query<{ time: { getTime(): number }; type: string; severity: string; code: string | null; component: string | null }>(
      `SELECT "type", "severity", "code", "component" FROM "device_event" WHERE "device" = ${dev} AND ${window} ORDER BY time DESC LIMIT 50`,
    );
    const round = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);
    return {
      sinceMs,
      snapshots: agg?.snapshots ?? 0,
      tempC: { mean: round(agg?.temp_mean), max: round(agg?.temp_max) },
      cpuPct: { mean: round(agg?.cpu_mean) },
      lossPct: { max: round(agg?.loss_max) },
      rttMs: { max: round(agg?.rtt_max) },
      mos: { min: round(agg?.mos_min) },
      lastFirmware: firmware[0]?.firmware ?? null,
      lastSeenMs: firmware[0] ? firmware[0].time.getTime() : null,
      events: events.map((e) => ({ ts: e.time.getTime(), type: e.type, severity: e.severity, code: e.code ?? null, component: e.component ?? null })),
    };
  }

  /** The device's latest status points since `sinceMs` (at most `limit`, the newest), oldest first. */
  async recentStatus(deviceId: string, sinceMs: number, limit: number): Promise<DeviceStatusPoint[]> {
    type Row = { time: { getTime(): number } } & Record<string, number | boolean | null | undefined>;
    const rows = await this.influx.query<Row>(
      `SELECT "cpu_pct", "mem_pct", "temp_c", "rtt_ms", "jitter_ms", "loss_pct", "mos", "link_up", "in_call", "peripherals_failed"
       FROM "device_status" WHERE "device" = ${escape.stringLit(deviceId)} AND time >= ${Math.trunc(sinceMs)}ms ORDER BY time DESC LIMIT ${Math.max(1, Math.trunc(limit))}`,
    );
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);
    return rows
      .map((r) => ({
        ts: r.time.getTime(),
        cpuPct: num(r.cpu_pct),
        memPct: num(r.mem_pct),
        tempC: num(r.temp_c),
        rttMs: num(r.rtt_ms),
        jitterMs: num(r.jitter_ms),
        lossPct: num(r.loss_pct),
        mos: num(r.mos),
        linkUp: bool(r.link_up),
        inCall: bool(r.in_call),
        peripheralsFailed: num(r.peripherals_failed),
      }))
      .reverse();
  }

  /**
   * Every device's last status report and the interval before it (from its last two points), for
   * the reachability restore after a start. One query for the whole fleet.
   */
  async lastReports(): Promise<Map<string, { atMs: number; intervalMs: number | undefined }>> {
    const rows = await this.influx.query<{ time: { getTime(): number }; device: string }>(`SELECT "seq" FROM "device_status" GROUP BY "device" ORDER BY time DESC LIMIT 2`);
    const out = new Map<string, { atMs: number; intervalMs: number | undefined }>();
    for (const r of rows) {
      const at = r.time.getTime();
      const seen = out.get(r.device);
      if (!seen) out.set(r.device, { atMs: at, intervalMs: undefined });
      else if (seen.intervalMs === undefined && seen.atMs > at) seen.intervalMs = seen.atMs - at;
    }
    return out;
  }

  async ping(timeoutMs: number): Promise<boolean> {
    try {
      const hosts = await this.influx.ping(timeoutMs);
      return hosts.some((h) => h.online);
    } catch {
      return false;
    }
  }
}
