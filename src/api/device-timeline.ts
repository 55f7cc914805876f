// One history per device (GET /devices/{id}/timeline): what InfluxDB and the relational store know
// about the device, as one list of entries `{ts, kind, id, ...}`, newest first, paged.
//
// Each source answers "your newest entries in [from, to], at most n" (sources below). A page merges
// them by (ts, id), both descending, and its cursor is the last entry's (ts, id). That is exact
// whatever each source's order among entries of the same millisecond, because a source cut at
// `n` is completed with everything it has at the millisecond where it was cut, and the entries at
// the cursor's millisecond are read in full on the next page: nothing is skipped or repeated.
//
// InfluxDB down must not take the rest of the timeline with it: its sources then give nothing and
// the answer says `telemetryAvailable: false`; alerts still come from the relational store then.
import { z } from 'zod';
import type { AlertStore } from '../../alerting/alerts/alert-store.js';
import { compareVersions } from '../../alerting/rules/firmware-catalog.js';
import type { ReplacementService } from '../../alerting/replacement/replacement-service.js';
import type { TicketStore } from '../../alerting/tickets/ticket-store.js';
import type { DiagnosticsService } from '../diagnostics/diagnostics-service.js';
import type { DeviceHistory } from '../telemetry/device-history.js';
import type { Influx1Store } from '../telemetry/influx1.js';

/** Entry kinds. Stable: clients switch on them; a new kind may be added, none is renamed. */
export const TIMELINE_KINDS = [
  'telemetry_summary',
  'device_event',
  'firmware_changed',
  'alert_firing',
  'alert_resolved',
  'ticket_opened',
  'ticket_updated',
  'command_sent',
  'command_result',
  'replacement',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

const base = {
  /** When it happened (epoch ms). */
  ts: z.number(),
  /** Unique within the device's timeline, stable between calls. */
  id: z.string(),
};
const Run = { runId: z.string(), command: z.literal('diagnostics'), tool: z.string(), target: z.string(), ticketId: z.number().nullable() };

export const TimelineEntry = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('telemetry_summary'),
    /** The window summarized, [fromMs, ts]. */
    fromMs: z.number(),
    snapshots: z.number(),
    tempC: z.object({ mean: z.number().nullable(), max: z.number().nullable() }),
    cpuPct: z.object({ mean: z.number().nullable() }),
    lossPct: z.object({ max: z.number().nullable() }),
    rttMs: z.object({ max: z.number().nullable() }),
    mos: z.object({ min: z.number().nullable() }),
    lastFirmware: z.string().nullable(),
    lastSeenMs: z.number().nullable(),
  }),
  z.object({ ...base, kind: z.literal('device_event'), type: z.string(), severity: z.string(), code: z.string().nullable(), component: z.string().nullable() }),
  z.object({ ...base, kind: z.literal('firmware_changed'), from: z.string(), to: z.string(), minimum: z.string().nullable(), belowMinimum: z.boolean() }),
  z.object({ ...base, kind: z.literal('alert_firing'), rule: z.string(), severity: z.string(), summary: z.string(), value: z.number().nullable(), ticketId: z.number().nullable() }),
  z.object({ ...base, kind: z.literal('alert_resolved'), rule: z.string(), severity: z.string(), summary: z.string(), ticketId: z.number().nullable() }),
  z.object({ ...base, kind: z.literal('ticket_opened'), ticketId: z.number(), title: z.string(), actor: z.string(), body: z.string() }),
  z.object({
    ...base,
    kind: z.literal('ticket_updated'),
    ticketId: z.number(),
    title: z.string(),
    /** The ticket history's type: acknowledged, comment, escalated, assigned, resolved, reopened, diagnostics_attached, diagnostics_result, replacement_shipped, … */
    change: z.string(),
    actor: z.string(),
    body: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
  }),
  z.object({ ...base, kind: z.literal('command_sent'), ...Run, requestedBy: z.string() }),
  z.object({
    ...base,
    kind: z.literal('command_result'),
    ...Run,
    status: z.enum(['ok', 'error', 'timeout']),
    /** The device's final reply; null on timeout or when the command could not be sent. */
    summary: z.record(z.string(), z.unknown()).nullable(),
  }),
  z.object({ ...base, kind: z.literal('replacement'), ticketId: z.number(), replacementId: z.number(), fault: z.string(), status: z.string(), by: z.string() }),
]);
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** Where a page ends: the last entry's ts and id. Opaque to clients (base64url JSON). */
export interface TimelineCursor {
  ts: number;
  id: string;
}

export function encodeCursor(c: TimelineCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.id])).toString('base64url');
}

export function decodeCursor(text: string): TimelineCursor | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 300) return { ts: v[0] as number, id: v[1] };
  } catch {
    // not ours
  }
  return undefined;
}

export interface TimelineSources {
  telemetry: Pick<Influx1Store, 'deviceSummary'>;
  history: Pick<DeviceHistory, 'events' | 'alerts' | 'firmwareChanges'>;
  alerts: Pick<AlertStore, 'list'>;
  tickets: Pick<TicketStore, 'deviceHistory'>;
  replacements: Pick<ReplacementService, 'forDevice'>;
  /** Network tool runs; absent where the service runs without them. */
  diagnostics?: Pick<DiagnosticsService, 'history'> | undefined;
}

export interface TimelineQuery {
  deviceId: string;
  /** The catalog minimum of the device's model, for firmware changes. */
  minimumFirmware: string | null;
  fromMs: number;
  toMs: number;
  limit: number;
  cursor?: TimelineCursor | undefined;
}

export interface TimelinePage {
  entries: TimelineEntry[];
  nextCursor: string | null;
  telemetryAvailable: boolean;
}

/** Entries a source has at one millisecond; more than this at the same ms of one device does not happen. */
const MAX_SAME_MS = 1000;

/** A source: its newest entries in [fromMs, toMs] (inclusive), at most n. Any order. */
type Source = (fromMs: number, toMs: number, n: number) => Promise<TimelineEntry[]>;

const newerFirst = (a: { ts: number; id: string }, b: { ts: number; id: string }) => b.ts - a.ts || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export async function deviceTimeline(src: TimelineSources, q: TimelineQuery): Promise<TimelinePage> {
  let influxOk = true;
  /** InfluxDB sources give nothing when it cannot be read (and the answer says so). */
  const fromInflux =
    <T>(read: () => Promise<T[]>) =>
    async (): Promise<T[]> => {
      try {
        return await read();
      } catch {
        influxOk = false;
        return [];
      }
    };
  const dev = q.deviceId;
  const sources = [
    telemetrySummary(src, q, fromInflux),
    (f: number, t: number, n: number) => fromInflux(() => src.history.events(dev, f, t, n))().then((rows) => rows.map((e): TimelineEntry => ({ ts: e.ts, id: `device_event:${e.type}:${e.severity}:${e.ts}`, kind: 'device_event', type: e.type, severity: e.severity, code: e.code, component: e.component }))),
    firmwareChanges(src, q, fromInflux),
    alerts(src, dev, fromInflux),
    (f: number, t: number, n: number) => Promise.resolve(ticketEntries(src, dev, f, t, n)),
    (f: number, t: number, n: number) => Promise.resolve(commandEntries(src, dev, 'created', f, t, n)),
    (f: number, t: number, n: number) => Promise.resolve(commandEntries(src, dev, 'finished', f, t, n)),
    inWindow(() => replacementEntries(src, dev)),
  ];

  const want = q.limit + 1;
  const c = q.cursor;
  const pages = await Promise.all(
    sources.map(async (source) => {
      const out: TimelineEntry[] = [];
      if (c && c.ts >= q.fromMs && c.ts <= q.toMs) {
        // The rest of the cursor's millisecond.
        out.push(...(await source(c.ts, c.ts, MAX_SAME_MS)).filter((e) => e.id < c.id));
      }
      const upper = c ? Math.min(q.toMs, c.ts - 1) : q.toMs;
      if (upper < q.fromMs) return out;
      let older = await source(q.fromMs, upper, want);
      if (older.length >= want) {
        // Cut at n: the source's order among entries of its last millisecond is its own, so that
        // millisecond is read in full.
        const edge = Math.min(...older.map((e) => e.ts));
        older = [...older.filter((e) => e.ts > edge), ...(await source(edge, edge, MAX_SAME_MS))];
      }
      out.push(...older);
      return out;
    }),
  );
  const all = pages.flat().sort(newerFirst);
  const entries = all.slice(0, q.limit);
  const last = entries[entries.length - 1];
  return { entries, nextCursor: all.length > q.limit && last ? encodeCursor({ ts: last.ts, id: last.id }) : null, telemetryAvailable: influxOk };
}

type FromInflux = <T>(read: () => Promise<T[]>) => () => Promise<T[]>;

/** A source that has all its entries at hand (few per device): filtered and cut here. */
function inWindow(all: () => TimelineEntry[]): Source {
  return (f, t, n) => Promise.resolve(all().filter((e) => e.ts >= f && e.ts <= t).sort(newerFirst).slice(0, n));
}

/** InfluxDB's summary of the whole window, as one entry at the window's end. */
function telemetrySummary(src: TimelineSources, q: TimelineQuery, fromInflux: FromInflux): Source {
  let summary: Promise<TimelineEntry[]> | undefined;
  return (f, t) => {
    if (q.toMs < f || q.toMs > t) return Promise.resolve([]);
    summary ??= fromInflux(async () => {
      const s = await src.telemetry.deviceSummary(q.deviceId, q.fromMs, q.toMs);
      const entry: TimelineEntry = { ts: q.toMs, id: 'telemetry_summary', kind: 'telemetry_summary', fromMs: q.fromMs, snapshots: s.snapshots, tempC: s.tempC, cpuPct: s.cpuPct, lossPct: s.lossPct, rttMs: s.rttMs, mos: s.mos, lastFirmware: s.lastFirmware, lastSeenMs: s.lastSeenMs };
      return [entry];
    })();
    return summary;
  };
}

/** The firmware changes of the window, read once per page. */
function firmwareChanges(src: TimelineSources, q: TimelineQuery, fromInflux: FromInflux): Source {
  let changes: Promise<TimelineEntry[]> | undefined;
  return async (f, t, n) => {
    changes ??= fromInflux(async () =>
      (await src.history.firmwareChanges(q.deviceId, q.fromMs, q.toMs)).map(
        (x): TimelineEntry => ({ ts: x.ts, id: `firmware_changed:${x.ts}`, kind: 'firmware_changed', from: x.from, to: x.to, minimum: q.minimumFirmware, belowMinimum: q.minimumFirmware !== null && compareVersions(x.to, q.minimumFirmware) < 0 }),
      ),
    )();
    return (await changes).filter((e) => e.ts >= f && e.ts <= t).sort(newerFirst).slice(0, n);
  };
}

type AlertEntry = Extract<TimelineEntry, { kind: 'alert_firing' | 'alert_resolved' }>;

function alertEntry(firing: boolean, ts: number, a: { rule: string; severity: string; summary: string; value: number | null; ticketId: number | null }): AlertEntry {
  return firing
    ? { ts, id: `alert_firing:${a.rule}:${ts}`, kind: 'alert_firing', rule: a.rule, severity: a.severity, summary: a.summary, value: a.value, ticketId: a.ticketId }
    : { ts, id: `alert_resolved:${a.rule}:${ts}`, kind: 'alert_resolved', rule: a.rule, severity: a.severity, summary: a.summary, ticketId: a.ticketId };
}

/**
 * Alert transitions. InfluxDB's `alert` points are every transition; the alerts table only the
 * latest of each alert, but it has the ticket and is there when InfluxDB is not (and before the
 * point's batch is written). Both carry the same millisecond, so one entry id merges them.
 */
function alerts(src: TimelineSources, deviceId: string, fromInflux: FromInflux): Source {
  let table: AlertEntry[] | undefined;
  const fromTable = () =>
    (table ??= src.alerts.list({ deviceId, limit: 1000 }).flatMap((a) => {
      // A resolved alert's summary is "Resolved: <what it said when firing>" (alert-manager.ts).
      const out = [alertEntry(true, a.startedMs, { ...a, summary: a.state === 'resolved' ? a.summary.replace(/^Resolved: /, '') : a.summary })];
      if (a.resolvedMs !== null) out.push(alertEntry(false, a.resolvedMs, a));
      return out;
    }));
  return async (f, t, n) => {
    const points = await fromInflux(() => src.history.alerts(deviceId, f, t, n))();
    const byId = new Map<string, AlertEntry>(points.map((p) => [`alert_${p.firing ? 'firing' : 'resolved'}:${p.rule}:${p.ts}`, alertEntry(p.firing, p.ts, { ...p, ticketId: null })]));
    for (const e of fromTable()) {
      if (e.ts < f || e.ts > t) continue;
      const seen = byId.get(e.id);
      // The point's own text, the table's ticket.
      byId.set(e.id, seen ? { ...seen, ticketId: e.ticketId } : e);
    }
    return [...byId.values()].sort(newerFirst).slice(0, n);
  };
}

function ticketEntries(src: TimelineSources, deviceId: string, f: number, t: number, n: number): TimelineEntry[] {
  return src.tickets.deviceHistory(deviceId, f, t, n).map((e): TimelineEntry => {
    const id = `ticket_event:${e.id}`;
    if (e.type === 'opened') return { ts: e.tsMs, id, kind: 'ticket_opened', ticketId: e.ticketId, title: e.title, actor: e.actor, body: e.body };
    return { ts: e.tsMs, id, kind: 'ticket_updated', ticketId: e.ticketId, title: e.title, change: e.type, actor: e.actor, body: e.body, data: e.data };
  });
}

function commandEntries(src: TimelineSources, deviceId: string, by: 'created' | 'finished', f: number, t: number, n: number): TimelineEntry[] {
  if (!src.diagnostics) return [];
  return src.diagnostics.history(deviceId, by, f, t, n).flatMap((r): TimelineEntry[] => {
    const run = { runId: r.id, command: 'diagnostics' as const, tool: r.tool, target: r.target, ticketId: r.ticketId };
    if (by === 'created') return [{ ts: r.createdMs, id: `command_sent:${r.id}`, kind: 'command_sent', ...run, requestedBy: r.requestedBy }];
    if (r.finishedMs === null || r.status === 'pending' || r.status === 'running') return [];
    return [{ ts: r.finishedMs, id: `command_result:${r.id}`, kind: 'command_result', ...run, status: r.status, summary: r.result }];
  });
}

function replacementEntries(src: TimelineSources, deviceId: string): TimelineEntry[] {
  return src.replacements.forDevice(deviceId).flatMap((r) =>
    r.shipment.history.map((h, i): TimelineEntry => ({ ts: new Date(h.at).getTime(), id: `replacement:${r.id}:${i}`, kind: 'replacement', ticketId: r.ticketId, replacementId: r.id, fault: r.fault, status: h.status, by: h.by })),
  );
}
