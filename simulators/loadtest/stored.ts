/**
 * What InfluxDB stored for the run, compared with what was sent: points and distinct `seq` per
 * device of the run, in the run's time range. InfluxDB keeps one point per series and timestamp,
 * so a message stored twice at the same `ts` is one point (invisible by design, and harmless); a
 * duplicate here is a second point with the same `seq` at another `ts`.
 */
import type { InfluxQuery } from './influx-query.js';
import type { SentLedger } from './ledger.js';

export interface StoredCounts {
  /** Points of the run's devices in the run's time range. */
  points: number;
  /** Distinct `seq` values, summed over the devices. */
  distinct: number;
  /** Per device (index of the ledger's ids): points and distinct seq. */
  perDevicePoints: Uint32Array;
  perDeviceDistinct: Uint32Array;
}

export interface DeliveryReport {
  /** Status messages handed to mqtt.js. */
  published: number;
  /** Acknowledged by the broker (QoS 1) or written to the socket (QoS 0). */
  acked: number;
  /** Published but never acknowledged (the run ended first, or the connection broke). */
  unacked: number;
  storedPoints: number;
  storedDistinct: number;
  /** Points beyond the first with the same device and seq. */
  duplicates: number;
  /** Acknowledged messages InfluxDB does not have: max(0, acked - stored distinct). */
  lost: number;
  /** Devices with fewer distinct seq stored than messages published. */
  devicesMissing: number;
  devicesWithDuplicates: number;
  /** The range queried (epoch ms, inclusive). */
  fromTs: number;
  toTs: number;
}

/** Counts what InfluxDB holds for the ledger's devices between fromTs and toTs (epoch ms, inclusive). */
export async function countStored(q: InfluxQuery, ledger: SentLedger, fromTs: number, toTs: number): Promise<StoredCounts> {
  const out: StoredCounts = {
    points: 0,
    distinct: 0,
    perDevicePoints: new Uint32Array(ledger.ids.length),
    perDeviceDistinct: new Uint32Array(ledger.ids.length),
  };
  if (!(toTs >= fromTs)) return out;
  const series = await q.query(
    `SELECT count("seq") AS "n", count(distinct("seq")) AS "d" FROM "device_status" ` +
      `WHERE time >= ${Math.floor(fromTs)}ms AND time <= ${Math.ceil(toTs)}ms GROUP BY "device"`,
  );
  for (const s of series) {
    const i = s.tags?.device === undefined ? undefined : ledger.indexOf(s.tags.device);
    if (i === undefined) continue; // another device writing to the same database
    const row = s.values[0] ?? [];
    const n = Number(row[s.columns.indexOf('n')] ?? 0);
    const d = Number(row[s.columns.indexOf('d')] ?? 0);
    out.perDevicePoints[i] = n;
    out.perDeviceDistinct[i] = d;
    out.points += n;
    out.distinct += d;
  }
  return out;
}

export function compareDelivery(ledger: SentLedger, acked: number, stored: StoredCounts, fromTs: number, toTs: number): DeliveryReport {
  let devicesMissing = 0;
  let devicesWithDuplicates = 0;
  for (let i = 0; i < ledger.ids.length; i++) {
    if (stored.perDeviceDistinct[i]! < ledger.perDevice[i]!) devicesMissing++;
    if (stored.perDevicePoints[i]! > stored.perDeviceDistinct[i]!) devicesWithDuplicates++;
  }
  return {
    published: ledger.total,
    acked,
    unacked: Math.max(0, ledger.total - acked),
    storedPoints: stored.points,
    storedDistinct: stored.distinct,
    duplicates: Math.max(0, stored.points - stored.distinct),
    lost: Math.max(0, acked - stored.distinct),
    devicesMissing,
    devicesWithDuplicates,
    fromTs,
    toTs,
  };
}

export interface Settled {
  counts: StoredCounts;
  settleMs: number;
  /** Why counting stopped: everything acknowledged is there; the count stayed put with the service at rest; or maxMs passed. */
  ended: 'all stored' | 'quiet' | 'timeout';
}

export interface SettleOptions {
  /** Give up after this long (default 30 s). */
  maxMs?: number;
  /** Stop when the count has not grown for this long (default 3 s) while the service is at rest. */
  quietMs?: number;
  /**
   * Whether the service still has work in hand (its journal not yet written, its event loop busy):
   * a count that stops growing then is not final. Without it, only the count is watched.
   */
  busy?: () => Promise<boolean>;
  everyMs?: number;
  /** Called after each count, e.g. for a progress line. */
  onCount?: (c: StoredCounts, elapsedMs: number) => void;
  signal?: AbortSignal;
}

/**
 * Counts until every acknowledged message is there, or the count stops growing for `quietMs` while
 * the service is at rest (its journal has drained what it will), or `maxMs` passes. Returns the
 * last count.
 */
export async function settleStored(
  q: InfluxQuery,
  ledger: SentLedger,
  acked: number,
  fromTs: number,
  toTs: number,
  o: SettleOptions = {},
): Promise<Settled> {
  const maxMs = o.maxMs ?? 30_000;
  const quietMs = o.quietMs ?? 3000;
  const everyMs = o.everyMs ?? 250;
  const t0 = performance.now();
  let last = -1;
  let lastGrowth = t0;
  for (;;) {
    let counts: StoredCounts | undefined;
    try {
      counts = await countStored(q, ledger, fromTs, toTs);
    } catch {
      // InfluxDB busy or briefly away: try again until maxMs
    }
    const now = performance.now();
    if (counts) {
      o.onCount?.(counts, now - t0);
      if (counts.distinct !== last || (counts.distinct < acked && o.busy && (await o.busy()))) {
        last = counts.distinct;
        lastGrowth = now;
      }
      // Fewer points than distinct seq cannot be: InfluxDB 1.6 answered while writing the last
      // points (seen once in CI: 997 points, 1,000 distinct). Count again before believing it.
      const consistent = counts.points >= counts.distinct;
      if (counts.distinct >= acked && consistent) return { counts, settleMs: now - t0, ended: 'all stored' };
      if (now - lastGrowth >= quietMs) return { counts, settleMs: now - t0, ended: 'quiet' };
      if (now - t0 >= maxMs || o.signal?.aborted) return { counts, settleMs: now - t0, ended: 'timeout' };
    } else if (now - t0 >= maxMs || o.signal?.aborted) {
      return { counts: await countStored(q, ledger, fromTs, toTs), settleMs: now - t0, ended: 'timeout' };
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
