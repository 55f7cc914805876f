// The stream hub alone: ids, payload shape, the replay buffer (retention, cap), tenant-scoped since().
import { describe, expect, it } from 'vitest';
import { StreamHub, matchesFilter, type StreamEvent } from '../../src/streams/stream-hub.js';
import { ADMIN_A, NOC, USER_B } from './helpers.js';

const A = { partnerId: 'pA', customerId: 'cA', deviceId: 'A1' };
const A2 = { partnerId: 'pA', customerId: 'cA2', deviceId: 'A3' };
const B = { partnerId: 'pB', customerId: 'cB', deviceId: 'B1' };
const NONE = { partnerId: null, customerId: null, deviceId: 'UNREG1' };

function clockedHub(opts: { retentionMs?: number; maxEvents?: number } = {}) {
  let now = 1_000_000;
  const hub = new StreamHub({ ...opts, now: () => now });
  return { hub, advance: (ms: number) => (now += ms) };
}

describe('StreamHub', () => {
  it('gives every event an increasing decimal id and a ts, and keeps the payload shape', () => {
    const { hub } = clockedHub();
    const seen: Array<[string, StreamEvent]> = [];
    hub.onEvent((name, e) => seen.push([name, e]));
    const a = hub.publish('alert.firing', { ...A, id: 'bus-1', ts: 42, alert: { rule: 'overheating' } });
    const b = hub.publish('device.status', { ...B, summary: { health: 'ok' } });
    expect(a.id).toMatch(/^\d+$/);
    expect(Number(b.id)).toBeGreaterThan(Number(a.id));
    expect(a).toEqual({ id: a.id, ts: 42, partnerId: 'pA', customerId: 'cA', deviceId: 'A1', sourceId: 'bus-1', alert: { rule: 'overheating' } });
    expect(Object.keys(a).slice(0, 5)).toEqual(['id', 'ts', 'partnerId', 'customerId', 'deviceId']);
    expect(b.ts).toBe(1_000_000); // the hub's clock when the publisher gives none
    expect(seen.map(([n]) => n)).toEqual(['alert.firing', 'device.status']);
    // A second hub in the same process never reuses an id.
    const other = new StreamHub().publish('alert.firing', A);
    expect(Number(other.id)).toBeGreaterThan(Number(b.id));
  });

  it('replays what a client missed, in order, its tenant only, never device.status/presence', () => {
    const { hub } = clockedHub();
    const first = hub.publish('alert.firing', A);
    hub.publish('alert.firing', B);
    hub.publish('device.status', A);
    hub.publish('device.presence', A);
    const t1 = hub.publish('ticket.created', A2);
    hub.publish('ticket.created', NONE);
    const d1 = hub.publish('diagnostics.result', A);
    const ids = (r: ReturnType<StreamHub['since']>) => r.events.map((e) => e.event.id);

    const forA = hub.since(first.id, ADMIN_A);
    expect(forA.complete).toBe(true);
    expect(ids(forA)).toEqual([t1.id, d1.id]);
    expect(forA.events.map((e) => e.name)).toEqual(['ticket.created', 'diagnostics.result']);

    const forB = hub.since(first.id, USER_B);
    expect(forB.events.map((e) => e.event.partnerId)).toEqual(['pB']);

    // noc: everything replayable, including the partner-less ticket.
    expect(hub.since(first.id, NOC).events.map((e) => e.name)).toEqual(['alert.firing', 'ticket.created', 'ticket.created', 'diagnostics.result']);

    // Narrowed.
    expect(ids(hub.since(first.id, ADMIN_A, { customerId: 'cA2' }))).toEqual([t1.id]);
    expect(ids(hub.since(first.id, ADMIN_A, { deviceId: 'A1' }))).toEqual([d1.id]);

    // Up to date, or no id at all: nothing.
    expect(hub.since(d1.id, ADMIN_A)).toEqual({ events: [], complete: true });
    expect(hub.since(undefined, ADMIN_A)).toEqual({ events: [], complete: true });
  });

  it('forgets events past the retention window and says the replay is incomplete', () => {
    const { hub, advance } = clockedHub({ retentionMs: 60_000 });
    const old = hub.publish('alert.firing', A);
    const mid = hub.publish('alert.firing', A);
    advance(30_000);
    const recent = hub.publish('alert.resolved', A);
    advance(31_000); // `old` and `mid` are now 61 s old
    expect(hub.size).toBe(1);
    const r = hub.since(old.id, ADMIN_A);
    expect(r.complete).toBe(false);
    expect(r.events.map((e) => e.event.id)).toEqual([recent.id]);
    // A client that had seen `mid` missed nothing that was dropped.
    expect(hub.since(mid.id, ADMIN_A).complete).toBe(true);
  });

  it('keeps at most maxEvents', () => {
    const { hub } = clockedHub({ maxEvents: 100 });
    const first = hub.publish('alert.firing', A);
    let last = first;
    for (let i = 0; i < 2_000; i++) last = hub.publish('alert.firing', i % 2 ? A : B);
    expect(hub.size).toBe(100);
    const r = hub.since(first.id, NOC);
    expect(r.complete).toBe(false);
    expect(r.events).toHaveLength(100);
    expect(r.events.at(-1)?.event.id).toBe(last.id);
    const ids = r.events.map((e) => Number(e.event.id));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  });

  it('treats unknown, future and malformed ids as a gap and replays all it has', () => {
    const { hub } = clockedHub();
    const a = hub.publish('alert.firing', A);
    for (const id of ['not-an-id', String(Number(a.id) + 1_000), '1']) {
      const r = hub.since(id, ADMIN_A);
      expect(r.complete, id).toBe(false);
      expect(r.events.map((e) => e.event.id), id).toEqual([a.id]);
    }
  });

  it('never lets a failing listener break the publisher', () => {
    const errors: string[] = [];
    const hub = new StreamHub({ onListenerError: (_err, name) => errors.push(name) });
    const got: string[] = [];
    hub.onEvent(() => {
      throw new Error('boom');
    });
    const off = hub.onEvent((name) => got.push(name));
    expect(() => hub.publish('alert.firing', A)).not.toThrow();
    off();
    hub.publish('alert.resolved', A);
    expect(errors).toEqual(['alert.firing', 'alert.resolved']);
    expect(got).toEqual(['alert.firing']);
  });

  it('matches filters', () => {
    const e = { id: '1', ts: 0, ...A };
    expect(matchesFilter(null, e)).toBe(true);
    expect(matchesFilter({}, e)).toBe(true);
    expect(matchesFilter({ customerId: 'cA' }, e)).toBe(true);
    expect(matchesFilter({ customerId: 'cB' }, e)).toBe(false);
    expect(matchesFilter({ deviceId: 'A1' }, e)).toBe(true);
    expect(matchesFilter({ deviceId: 'A2' }, e)).toBe(false);
  });
});
