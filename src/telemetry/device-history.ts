// What InfluxDB knows of one device's past, for its timeline (src/api/device-timeline.ts): its
// events, its alert transitions and the firmware changes its status reports show. Every query is
// bounded to a time window and the device tag, and returns newest first. Schema: docs/influxdb.md.
import { escape, type InfluxDB } from 'influx';

/** A `device_event` point. */
export interface DeviceEventPoint {
  ts: number;
  type: string;
  severity: string;
  code: string | null;
  component: string | null;
}

/** An `alert` point: one per transition, written by alerting when it happens. */
export interface AlertTransitionPoint {
  ts: number;
  rule: string;
  severity: string;
  firing: boolean;
  summary: string;
  value: number | null;
}

/** The firmware in the status reports changed from one report to the next. */
export interface FirmwareChange {
  ts: number;
  from: string;
  to: string;
}

type Time = { time: { getTime(): number } };

/** Buckets of the coarse firmware pass: a 30-day window is 720 one-hour buckets. */
const MAX_BUCKETS = 720;
const MIN_BUCKET_MS = 60_000;
/** Buckets looked at point by point; a device changing firmware more often than this in a window shows the newest changes. */
const MAX_CHANGE_BUCKETS = 50;
const MAX_POINTS_PER_BUCKET = 10_000;

export class DeviceHistory {
  constructor(private readonly influx: Pick<InfluxDB, 'query'>) {}

  /** The device's events in [fromMs, toMs], newest first, at most `limit`. */
  async events(deviceId: string, fromMs: number, toMs: number, limit: number): Promise<DeviceEventPoint[]> {
    const rows = await this.influx.query<Time & { type: string; severity: string; code?: string | null; component?: string | null }>(
      // "data" is the one field every event has: a SELECT of tags and absent fields returns nothing.
      `SELECT "type", "severity", "code", "component", "data" FROM "device_event" WHERE ${where(deviceId, fromMs, toMs)} ORDER BY time DESC LIMIT ${count(limit)}`,
    );
    return rows.map((r) => ({ ts: r.time.getTime(), type: r.type, severity: r.severity, code: r.code ?? null, component: r.component ?? null }));
  }

  /** The device's alert transitions in [fromMs, toMs], newest first, at most `limit`. */
  async alerts(deviceId: string, fromMs: number, toMs: number, limit: number): Promise<AlertTransitionPoint[]> {
    const rows = await this.influx.query<Time & { rule: string; severity: string; firing: boolean; summary?: string | null; value?: number | null }>(
      `SELECT "firing", "summary", "value", "rule", "severity" FROM "alert" WHERE ${where(deviceId, fromMs, toMs)} ORDER BY time DESC LIMIT ${count(limit)}`,
    );
    return rows.map((r) => ({ ts: r.time.getTime(), rule: r.rule, severity: r.severity, firing: r.firing === true, summary: r.summary ?? '', value: typeof r.value === 'number' ? r.value : null }));
  }

  /**
   * Firmware changes within [fromMs, toMs], newest first: where a status report carries another
   * firmware than the report before it (both in the window). Two passes, so a month of reports is
   * not read point by point: first and last firmware per bucket, then the points of the few buckets
   * where something changed.
   */
  async firmwareChanges(deviceId: string, fromMs: number, toMs: number): Promise<FirmwareChange[]> {
    const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil((toMs - fromMs + 1) / MAX_BUCKETS / MIN_BUCKET_MS) * MIN_BUCKET_MS);
    const buckets = await this.influx.query<Time & { first: string | null; last: string | null }>(
      `SELECT first("firmware") AS "first", last("firmware") AS "last" FROM "device_status" WHERE ${where(deviceId, fromMs, toMs)} GROUP BY time(${bucketMs}ms) fill(none)`,
    );
    const changed: Array<{ startMs: number; before: string | null }> = [];
    let before: string | null = null;
    for (const b of buckets) {
      if (b.first === null || b.first === undefined || b.last === null || b.last === undefined) continue;
      if ((before !== null && before !== b.first) || b.first !== b.last) changed.push({ startMs: b.time.getTime(), before });
      before = b.last;
    }
    const out: FirmwareChange[] = [];
    for (const c of changed.slice(-MAX_CHANGE_BUCKETS).reverse()) {
      const points = await this.influx.query<Time & { firmware: string | null }>(
        `SELECT "firmware" FROM "device_status" WHERE ${where(deviceId, Math.max(fromMs, c.startMs), Math.min(toMs, c.startMs + bucketMs - 1))} ORDER BY time ASC LIMIT ${MAX_POINTS_PER_BUCKET}`,
      );
      const inBucket: FirmwareChange[] = [];
      let prev = c.before;
      for (const p of points) {
        if (typeof p.firmware !== 'string') continue;
        if (prev !== null && p.firmware !== prev) inBucket.push({ ts: p.time.getTime(), from: prev, to: p.firmware });
        prev = p.firmware;
      }
      out.push(...inBucket.reverse());
    }
    return out;
  }
}

function where(deviceId: string, fromMs: number, toMs: number): string {
  return `"device" = ${escape.stringLit(deviceId)} AND time >= ${Math.trunc(fromMs)}ms AND time <= ${Math.trunc(toMs)}ms`;
}

function count(limit: number): number {
  return Math.max(1, Math.min(10_000, Math.trunc(limit) || 1));
}
