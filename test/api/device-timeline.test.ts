// The timeline's merge and paging on its own, with sources in memory: pages in any size give the
// same entries in the same order, none twice, also where many entries share one millisecond
// across and within sources; InfluxDB failing leaves the rest (and says so).
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../alerting/alerts/alert-store.js';
import type { Replacement } from '../../alerting/replacement/replacement-service.js';
import type { TicketEvent } from '../../alerting/tickets/ticket-store.js';
import { decodeCursor, deviceTimeline, encodeCursor, type TimelineSources } from '../../src/api/device-timeline.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostics-service.js';
import type { AlertTransitionPoint, DeviceEventPoint } from '../../src/telemetry/device-history.js';

const DAY = 86_400_000;
const T = 1_800_000_000_000;

/** Newest first within [f, t], at most n, in a deliberately scrambled order among equal timestamps. */
const pick = <X extends { ts: number }>(all: X[], f: number, t: number, n: number) =>
  all
    .filter((x) => x.ts >= f && x.ts <= t)
    .sort((a, b) => b.ts - a.ts || (all.indexOf(a) % 3) - (all.indexOf(b) % 3))
    .slice(0, n);

function sources(o: { influxDown?: boolean } = {}): TimelineSources {
  const down = () => Promise.reject(new Error('connect ECONNREFUSED'));
  // 40 events, 10 of them in one millisecond; 12 ticket events, 6 in that same millisecond.
  const events: DeviceEventPoint[] = Array.from({ length: 40 }, (_, i) => ({ ts: i < 10 ? T - 5000 : T - 10_000 - i * 1000, type: `t${i}`, severity: 'info', code: null, component: null }));
  const ticketEvents: Array<TicketEvent & { title: string }> = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, ticketId: 7, tsMs: i < 6 ? T - 5000 : T - 3000 - i, actor: 'system', type: i === 0 ? 'opened' : 'comment', body: `b${i}`, data: null, title: 'Fan' }));
  const points: AlertTransitionPoint[] = [
    { ts: T - 60_000, rule: 'fan_stopped', severity: 'critical', firing: true, summary: 'Fan at 0 rpm', value: 0 },
    { ts: T - 50_000, rule: 'fan_stopped', severity: 'critical', firing: false, summary: 'Resolved: Fan at 0 rpm', value: null },
    { ts: T - 40_000, rule: 'fan_stopped', severity: 'critical', firing: true, summary: 'Fan at 0 rpm', value: 0 },
  ];
  const table: AlertRecord[] = [
    // The latest firing, as the alerts table has it (with its ticket); a second rule not yet in InfluxDB.
    { fingerprint: 'fan_stopped/D1', rule: 'fan_stopped', deviceId: 'D1', partnerId: 'p', customerId: 'c', siteId: 's', severity: 'critical', state: 'firing', summary: 'Fan at 0 rpm', value: 0, startedMs: T - 40_000, resolvedMs: null, updatedMs: T - 40_000, notifiedState: 'firing', ticketId: 7, incidentId: null },
    { fingerprint: 'overheating/D1', rule: 'overheating', deviceId: 'D1', partnerId: 'p', customerId: 'c', siteId: 's', severity: 'warning', state: 'resolved', summary: 'Resolved: 90 °C', value: 90, startedMs: T - 5000, resolvedMs: T - 1000, updatedMs: T - 1000, notifiedState: 'resolved', ticketId: null, incidentId: null },
  ];
  const run = (id: string, createdMs: number, finishedMs: number | null): Diagnostic => ({ id, deviceId: 'D1', partnerId: 'p', customerId: 'c', tool: 'ping', target: 'example.com', params: { tool: 'ping', target: 'example.com' }, status: finishedMs === null ? 'running' : 'ok', steps: [], result: finishedMs === null ? null : { sent: 4 }, requestedBy: 'ops', createdMs, finishedMs, ticketId: null, deadlineMs: createdMs + 20_000 });
  const runs = [run('r1', T - 5000, T - 4000), run('r2', T - 5000, null), run('r3', T - 30_000, T - 5000)];
  const replacement = { id: 3, ticketId: 7, deviceId: 'D1', fault: 'fan', status: 'shipped', shipment: { status: 'shipped', freight: 'prepaid', history: [{ status: 'requested', at: new Date(T - 5000), by: 'system' }, { status: 'shipped', at: new Date(T - 2000), by: 'ops' }] } } as unknown as Replacement;
  return {
    telemetry: { deviceSummary: o.influxDown ? down : async (_d, since) => ({ sinceMs: since, snapshots: 3, tempC: { mean: 40, max: 41 }, cpuPct: { mean: 10 }, lossPct: { max: 0 }, rttMs: { max: 20 }, mos: { min: 4.1 }, lastFirmware: '4.2.0.7', lastSeenMs: T - 1000, events: [] }) },
    history: {
      events: o.influxDown ? down : async (_d, f, t, n) => pick(events, f, t, n),
      alerts: o.influxDown ? down : async (_d, f, t, n) => pick(points, f, t, n),
      firmwareChanges: o.influxDown ? down : async () => [{ ts: T - 20_000, from: '3.9.0', to: '4.2.0.7' }],
    },
    alerts: { list: () => table },
    tickets: { deviceHistory: (_d, f, t, n) => pick(ticketEvents.map((e) => ({ ...e, ts: e.tsMs })), f, t, n) },
    replacements: { forDevice: () => [replacement] },
    diagnostics: { history: (_d, by, f, t, n) => pick(runs.map((r) => ({ ...r, ts: by === 'created' ? r.createdMs : (r.finishedMs ?? -1) })), f, t, n) },
  };
}

const query = { deviceId: 'D1', minimumFirmware: '4.0.0', fromMs: T - DAY, toMs: T, limit: 500 };

describe('device timeline', () => {
  it('merges every source into one list, newest first, each entry once', async () => {
    const page = await deviceTimeline(sources(), query);
    const { entries } = page;
    expect(page.nextCursor).toBeNull();
    expect(page.telemetryAvailable).toBe(true);
    expect(entries.map((e) => e.ts)).toEqual([...entries.map((e) => e.ts)].sort((a, b) => b - a));
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    const count = (k: string) => entries.filter((e) => e.kind === k).length;
    expect([count('telemetry_summary'), count('device_event'), count('firmware_changed'), count('ticket_opened'), count('ticket_updated'), count('command_sent'), count('command_result'), count('replacement')]).toEqual([1, 40, 1, 1, 11, 3, 2, 2]);
    expect(entries[0]).toMatchObject({ kind: 'telemetry_summary', ts: T, fromMs: T - DAY, snapshots: 3 });
    // Every firing of the alert (InfluxDB), the ticket from the table, and what InfluxDB does not have yet.
    expect(entries.filter((e) => e.kind.startsWith('alert_')).map((e) => [e.kind, e.ts, (e as { ticketId: number | null }).ticketId])).toEqual([
      ['alert_resolved', T - 1000, null],
      ['alert_firing', T - 5000, null],
      ['alert_firing', T - 40_000, 7],
      ['alert_resolved', T - 50_000, null],
      ['alert_firing', T - 60_000, null],
    ]);
    expect(entries.find((e) => e.kind === 'alert_firing' && e.ts === T - 5000)).toMatchObject({ rule: 'overheating', summary: '90 °C' });
    expect(entries.find((e) => e.kind === 'firmware_changed')).toMatchObject({ from: '3.9.0', to: '4.2.0.7', minimum: '4.0.0', belowMinimum: false });
  });

  it('pages in any size to the same list: nothing skipped or repeated where many entries share a millisecond', async () => {
    const all = (await deviceTimeline(sources(), query)).entries.map((e) => e.id);
    for (const limit of [1, 2, 3, 7, 10, 11, 50]) {
      const seen: string[] = [];
      let cursor: ReturnType<typeof decodeCursor>;
      for (let i = 0; i < 200; i++) {
        const page = await deviceTimeline(sources(), { ...query, limit, cursor });
        expect(page.entries.length).toBeLessThanOrEqual(limit);
        seen.push(...page.entries.map((e) => e.id));
        if (!page.nextCursor) break;
        cursor = decodeCursor(page.nextCursor);
        expect(cursor).toBeDefined();
      }
      expect([limit, seen]).toEqual([limit, all]);
    }
  });

  it('keeps the window: from and to bound every source', async () => {
    const page = await deviceTimeline(sources(), { ...query, fromMs: T - 6000, toMs: T - 4500 });
    expect(page.entries.every((e) => e.ts >= T - 6000 && e.ts <= T - 4500)).toBe(true);
    expect(page.entries[0]).toMatchObject({ kind: 'telemetry_summary', ts: T - 4500 });
    expect(page.entries.filter((e) => e.ts === T - 5000)).toHaveLength(10 + 6 + 2 + 1 + 1 + 1); // events, ticket events, runs started, a result, an alert, a replacement step
  });

  it('without InfluxDB: the relational sources still answer, and the page says InfluxDB is missing', async () => {
    const page = await deviceTimeline(sources({ influxDown: true }), query);
    expect(page.telemetryAvailable).toBe(false);
    expect(page.entries.some((e) => e.kind === 'device_event' || e.kind === 'telemetry_summary' || e.kind === 'firmware_changed')).toBe(false);
    expect(page.entries.filter((e) => e.kind.startsWith('alert_')).map((e) => e.ts)).toEqual([T - 1000, T - 5000, T - 40_000]);
    expect(page.entries.some((e) => e.kind === 'ticket_opened')).toBe(true);
  });

  it('cursors are opaque and checked', () => {
    expect(decodeCursor(encodeCursor({ ts: T, id: 'ticket_event:9' }))).toEqual({ ts: T, id: 'ticket_event:9' });
    for (const bad of ['', 'x', Buffer.from('{"ts":1}').toString('base64url'), Buffer.from('[1.5,"a"]').toString('base64url'), Buffer.from('[1,2]').toString('base64url')]) expect(decodeCursor(bad)).toBeUndefined();
  });
});
