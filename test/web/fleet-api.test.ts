// What the NOC page reads, checked at the API: fleet health counted per partner, customer and site,
// the compact device list (filters, paging, totals), recent telemetry from InfluxDB, the ingest
// rate (REST and the ingest.rate stream event), ticket deadlines and shipments, all scoped to the
// caller's partner; and the page's files served with a strict Content-Security-Policy.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestEvents } from '../../collector/ingest-events.js';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { IngestRate } from '../../src/streams/ingest-rate.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { connectStream } from '../support/stream-client.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';

const NOC = 'fleet-noc-token-000000000';
const A = 'fleet-a-user-token-000000';
const B = 'fleet-b-user-token-000000';

describe('the fleet API behind the NOC page', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, {
      devicesA: ['FLA1', 'FLA2', 'FLA3', 'FLA4'],
      devicesB: ['FLB1'],
      users: [
        { name: 'noc', role: 'noc', token: NOC },
        { name: 'a', role: 'partner_user', partnerId: 'p-a', token: A },
        { name: 'b', role: 'partner_user', partnerId: 'p-b', token: B },
      ],
    });
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'fan_stopped', for: '0s', confirmFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json'), API_RATE_PER_SECOND: '1000', API_RATE_BURST: '1000' });
    service = await startInProcess(world);
    pub = await publisher();
    const now = Date.now();
    // FLA1: three status points; FLA2: a stopped fan (an alert, a ticket, a replacement); FLA3:
    // offline; FLA4: never reported (offline, once the last reports are read back). FLB1 (partner B): one status.
    for (let i = 0; i < 3; i++) await pub.publishAsync('poly/v1/devices/FLA1/status', statusPayload(i + 1, now - (3 - i) * 1000, { tempC: 40 + i }), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/FLA2/status', statusPayload(1, now, { fanRpm: 0 }), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/FLA3/presence', JSON.stringify({ state: 'offline', ts: now }), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/FLB1/status', statusPayload(1, now), { qos: 1 });
    await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/FLA2'), (t) => t !== undefined, 5000, 20);
    await waitFor(async () => service.liveState.get('FLA3')?.presence, (p) => p === 'offline', 5000, 20);
    await waitFor(async () => service.liveState.restored, (r) => r, 5000, 20);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const get = async (token: string, path: string) => {
    const res = await fetch(`${service.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('counts fleet health per partner, customer and site, scoped to the caller', async () => {
    const a = await get(A, '/fleet/health');
    expect(a.status).toBe(200);
    // FLA2's fan and FLA3's being offline are the two alerting devices; FLA4 never reported: offline, no alert.
    expect(a.json.totals).toEqual({ devices: 4, online: 2, offline: 2, unknown: 0, alerting: 2, critical: 1, degraded: 0 });
    expect(a.json.partners.map((p: { id: string }) => p.id)).toEqual(['p-a']);
    expect(a.json.partners[0].customers[0]).toMatchObject({ id: 'c-a', name: 'A customer', sites: [{ id: 's-a', name: 'A site', counts: { devices: 4, offline: 2 } }] });
    expect(JSON.stringify(a.json)).not.toMatch(/p-b|c-b|s-b|FLB/);
    const noc = await get(NOC, '/fleet/health');
    expect(noc.json.totals.devices).toBe(5);
    expect(noc.json.partners.map((p: { id: string }) => p.id).sort()).toEqual(['p-a', 'p-b']);
    expect((await get(B, '/fleet/health')).json.totals).toMatchObject({ devices: 1, online: 1 });
    expect((await get(A, '/me')).json).toEqual({ name: 'a', role: 'partner_user', partnerId: 'p-a', partnerName: 'Partner A' });
  });

  it('pages and filters the compact device list, with the total that matched', async () => {
    const all = await get(A, '/fleet/devices?limit=2');
    expect(all.json).toMatchObject({ total: 4, offset: 0, limit: 2 });
    expect(all.json.items.map((d: { id: string }) => d.id)).toEqual(['FLA1', 'FLA2']);
    expect(all.json.items[1]).toMatchObject({ online: 'online', health: 'ok', alerts: 1, customerId: 'c-a', siteId: 's-a' });
    expect((await get(A, '/fleet/devices?offset=2&limit=2')).json.items.map((d: { id: string }) => d.id)).toEqual(['FLA3', 'FLA4']);
    const ids = async (q: string) => (await get(A, `/fleet/devices?${q}`)).json.items.map((d: { id: string }) => d.id);
    expect(await ids('state=offline')).toEqual(['FLA3', 'FLA4']);
    expect(await ids('state=unknown')).toEqual([]);
    expect((await get(A, '/fleet/devices?q=FLA4')).json.items[0]).toMatchObject({ online: 'offline', offlineReason: 'never_reported', health: 'unknown' });
    expect(await ids('state=alerting')).toEqual(['FLA2', 'FLA3']);
    expect(await ids('state=problem')).toEqual(['FLA2', 'FLA3', 'FLA4']);
    expect(await ids('q=la1')).toEqual(['FLA1']);
    expect(await ids('customerId=c-b')).toEqual([]); // another partner's customer: nothing, not an error
    expect((await get(NOC, '/fleet/devices')).json.total).toBe(5);
    expect((await get(A, '/fleet/devices?state=bogus')).status).toBe(400);
  });

  it("returns a device's recent telemetry points from InfluxDB, oldest first; another partner's device is 404", async () => {
    const r = await waitFor(() => get(A, '/devices/FLA1/telemetry?minutes=10'), (x) => x.json.points?.length === 3, 10_000, 200);
    expect(r.json.available).toBe(true);
    expect(r.json.points.map((p: { tempC: number }) => p.tempC)).toEqual([40, 41, 42]);
    expect(r.json.points[0]).toMatchObject({ cpuPct: expect.any(Number), rttMs: 20, linkUp: true, mos: null });
    expect((await get(B, '/devices/FLA1/telemetry')).status).toBe(404);
  });

  it('lists tickets with their acknowledge deadline, next escalation and shipment', async () => {
    const t = (await get(A, '/tickets?deviceId=FLA2')).json.items[0];
    expect(t.ackDueMs).toBeGreaterThan(t.openedMs);
    expect(t.nextEscalation).toMatchObject({ level: expect.stringMatching(/^poly_/), dueMs: expect.any(Number) });
    expect(t.shipment).toMatchObject({ status: 'requested', shipBy: expect.stringMatching(/^\d{4}-\d\d-\d\d$/), freight: 'prepaid' });
    expect((await get(A, `/tickets/${t.id}`)).json.ackDueMs).toBe(t.ackDueMs);
  });

  it('sends ingest.rate once a second: the global rate to noc, its own to a partner', async () => {
    const noc = await connectStream(service.httpUrl, NOC, sockets);
    const b = await connectStream(service.httpUrl, B, sockets);
    const gotNoc: Array<{ partnerId: string | null; perSecond: number; scope: string }> = [];
    const gotB: Array<{ partnerId: string | null; perSecond: number }> = [];
    noc.on('ingest.rate', (e) => gotNoc.push(e));
    b.on('ingest.rate', (e) => gotB.push(e));
    const until = Date.now() + 2500;
    for (let seq = 2; Date.now() < until; seq++) {
      await pub.publishAsync('poly/v1/devices/FLB1/status', statusPayload(seq, Date.now()), { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(async () => gotB.length, (n) => n >= 2, 3000, 50);
    expect(gotB.every((e) => e.partnerId === 'p-b')).toBe(true);
    expect(gotB.some((e) => e.perSecond > 0)).toBe(true);
    expect(gotNoc.some((e) => e.partnerId === null && e.scope === 'global' && e.perSecond > 0)).toBe(true);
    const hist = await get(B, '/fleet/ingest-rate');
    expect(hist.json).toMatchObject({ scope: 'partner', partnerId: 'p-b' });
    expect(hist.json.samples.some((s: { perSecond: number }) => s.perSecond > 0)).toBe(true);
    expect((await get(NOC, '/fleet/ingest-rate')).json.scope).toBe('global');
  });

  it('documents the new endpoints in /openapi.json and serves the page with a strict CSP', async () => {
    const doc = (await (await fetch(`${service.httpUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/api/v1/me', '/api/v1/fleet/health', '/api/v1/fleet/devices', '/api/v1/fleet/ingest-rate', '/api/v1/devices/{id}/telemetry']) expect(Object.keys(doc.paths)).toContain(p);
    expect((await get('not-a-token-000000000', '/fleet/health')).status).toBe(401);
    const index = await fetch(`${service.httpUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<script type="module" src="/app.js"></script>');
    const app = await fetch(`${service.httpUrl}/app.js`);
    expect(app.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${service.httpUrl}/socket.io/socket.io.esm.min.js`)).status).toBe(200);
    const missing = await fetch(`${service.httpUrl}/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('IngestRate', () => {
  it('counts per second, in total and per partner, and keeps a bounded history', () => {
    const ingest = new IngestEvents();
    let now = 10_000;
    const rate = new IngestRate(ingest, { historySeconds: 3, idleAfterSeconds: 2, now: () => now }).start();
    const seen: Array<[string | null, number]> = [];
    rate.onSecond((p, s) => seen.push([p, s.perSecond]));
    const a = { tenant: { partnerId: 'p-a' } } as never;
    const unknown = { tenant: undefined } as never;
    ingest.emit('status', 'D1', a, {} as never, undefined, now);
    ingest.emit('presence', 'D1', a, true, now);
    ingest.emit('status', 'U1', unknown, {} as never, undefined, now);
    now += 1000;
    rate.tick();
    expect(seen).toEqual([
      [null, 3],
      ['p-a', 2],
    ]);
    // Averaged over the whole (3 s) history: the seconds before it began count as 0.
    expect(rate.history('p-a')).toEqual([{ ts: 11_000, perSecond: 2, avgPerSecond: 0.667, avgWindowS: 3, status: 1, event: 0, presence: 1, reply: 0 }]);
    for (let i = 0; i < 4; i++) (now += 1000), rate.tick();
    expect(rate.history(null)).toHaveLength(3); // bounded
    expect(rate.history('p-a')).toEqual([]); // idle for longer than idleAfterSeconds: dropped
    rate.stop();
    ingest.emit('status', 'D1', a, {} as never, undefined, now);
    expect(ingest.listenerCount('status')).toBe(0);
  });
});
