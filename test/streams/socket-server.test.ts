// The live stream end to end: real socket.io clients against a real HTTP server on port 0, a real
// SQLite registry with two partners, events fed through real IngestEvents and AlertEvents buses.
// Absence is checked after a later marker event has arrived on the same (ordered) connection.
import { EventEmitter } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../alerting/alerts/alert-store.js';
import { AlertEvents } from '../../alerting/events.js';
import type { Ticket } from '../../alerting/tickets/ticket-store.js';
import { IngestEvents } from '../../collector/ingest-events.js';
import type { StatusSnapshot } from '../../collector/messages.js';
import type { Attribution } from '../../collector/tenant-tags.js';
import type { Registry } from '../../src/storage/registry.js';
import { attachStreams, type AttachStreamsOptions, type Streams, type SubscribeAck } from '../../src/streams/socket-server.js';
import { connect, emitWithAck, refused, snapshot, TOKENS, twoPartnerRegistry, type Received, type Recorder } from './helpers.js';

interface Rig {
  url: string;
  streams: Streams;
  ingest: IngestEvents;
  alerts: AlertEvents;
  diagnostics: EventEmitter;
  registry: Registry;
  status(deviceId: string, s: StatusSnapshot): void;
  presence(deviceId: string, online: boolean): void;
  alert(deviceId: string | null, rule: string, extra?: Partial<AlertRecord>): void;
  ticket(deviceId: string | null, title: string, change?: string): void;
  close(): Promise<void>;
}

async function startRig(extra: Partial<AttachStreamsOptions> = {}): Promise<Rig> {
  const { registry, cleanup } = twoPartnerRegistry();
  const tenants = registry.deviceTenants();
  const ingest = new IngestEvents();
  const alerts = new AlertEvents();
  const diagnostics = new EventEmitter();
  const httpServer: HttpServer = createServer();
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  const streams = attachStreams({
    httpServer,
    registry,
    ingest,
    alertEvents: alerts,
    log: pino({ level: 'silent' }),
    sources: [{ emitter: diagnostics, events: ['diagnostics.progress', 'diagnostics.result'] }],
    ...extra,
  });
  const attribution = (deviceId: string): Attribution => {
    const tenant = tenants.get(deviceId);
    return { tenant, tagSet: '', model: tenant?.model ?? 'Studio X50' };
  };
  const who = (deviceId: string | null) => {
    const t = deviceId === null ? undefined : tenants.get(deviceId);
    return { partnerId: t?.partnerId ?? null, customerId: t?.customerId ?? null, siteId: t?.siteId ?? null, deviceId };
  };
  let ticketId = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    streams,
    ingest,
    alerts,
    diagnostics,
    registry,
    status: (deviceId, s) => ingest.emit('status', deviceId, attribution(deviceId), s, undefined, Date.now()),
    presence: (deviceId, online) => ingest.emit('presence', deviceId, attribution(deviceId), online, Date.now()),
    alert: (deviceId, rule, more = {}) => {
      const w = who(deviceId);
      const now = Date.now();
      const alert: AlertRecord = {
        fingerprint: `${rule}/${deviceId}`,
        rule,
        ...w,
        severity: 'warning',
        state: 'firing',
        summary: rule,
        value: null,
        startedMs: now,
        resolvedMs: null,
        updatedMs: now,
        notifiedState: 'firing',
        ticketId: null,
        incidentId: null,
        ...more,
      };
      alerts.emit('alert.firing', { ...alerts.meta(now, w), alert });
    },
    ticket: (deviceId, title, change) => {
      const w = who(deviceId);
      const now = Date.now();
      const ticket: Ticket = {
        id: ++ticketId,
        dedupKey: null,
        kind: deviceId === null ? 'cloud_incident' : 'manual',
        ...w,
        title,
        priority: 'P3',
        status: 'open',
        queue: deviceId === null ? 'noc' : 'partner_l1',
        coverage: 'covered',
        openedMs: now,
        updatedMs: now,
        resolvedMs: null,
        reopened: 0,
        acknowledgedMs: null,
    owner: null,
      };
      if (change === undefined) alerts.emit('ticket.created', { ...alerts.meta(now, w), ticket });
      else alerts.emit('ticket.updated', { ...alerts.meta(now, w), ticket, change });
    },
    async close() {
      await streams.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      cleanup();
    },
  };
}

/** alert.rule / ticket.title / the event name: what a test recognises an event by. */
const tag = (e: Received): string => {
  const p = e.payload as { alert?: { rule: string }; ticket?: { title: string } };
  return p.alert?.rule ?? p.ticket?.title ?? e.name;
};
const isTagged = (t: string) => (e: Received) => tag(e) === t;

describe('live stream (socket.io)', () => {
  let rig: Rig;
  const open: Recorder[] = [];
  const client = async (o: Parameters<typeof connect>[1]) => {
    const c = await connect(rig.url, o);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await rig.close();
  });

  it('refuses connections without a valid token', async () => {
    const none = await refused(rig.url, {});
    expect(none.message).toBe('unauthorized');
    expect(none.data).toEqual({ code: 'unauthorized', message: 'a valid token is required' });
    expect((await refused(rig.url, { token: 'not-a-token-of-anyone-at-all' })).message).toBe('unauthorized');
    expect((await refused(rig.url, { token: '' })).message).toBe('unauthorized');
    // A handshake narrowing to another partner's device is refused too.
    expect((await refused(rig.url, { token: TOKENS.adminA, subscribe: { deviceId: 'B1' } })).message).toBe('not_found');
    const ok = await client({ token: TOKENS.adminA });
    expect(ok.socket.connected).toBe(true);
  });

  it("keeps each partner to its own events; noc gets everything, partner-less events only noc", async () => {
    const [noc, a, b] = await Promise.all([client({ token: TOKENS.noc }), client({ token: TOKENS.adminA }), client({ token: TOKENS.userB })]);
    rig.status('B1', snapshot({ tempC: 50 }));
    rig.status('A1', snapshot({ tempC: 51 }));
    rig.presence('B1', false);
    rig.alert('B1', 'iso-b-alert');
    rig.alert('A1', 'iso-a-alert');
    rig.ticket('B1', 'iso-b-ticket');
    rig.status('UNREG1', snapshot()); // unregistered: no partner
    rig.ticket(null, 'iso-cloud-incident'); // a cloud-provider incident: no partner
    rig.streams.publish('diagnostics.progress', { deviceId: 'B1', runId: 'run-b', step: 1 });
    rig.diagnostics.emit('diagnostics.result', { deviceId: 'A2', runId: 'run-a', summary: 'ok' });
    rig.alert('B1', 'iso-marker-b');
    rig.alert('A1', 'iso-marker-a');

    await a.waitFor(isTagged('iso-marker-a'));
    await b.waitFor(isTagged('iso-marker-b'));
    await noc.waitFor(isTagged('iso-marker-a'));

    expect(a.events.every((e) => e.payload.partnerId === 'pA')).toBe(true);
    expect(a.events.map(tag)).toEqual(['device.status', 'iso-a-alert', 'diagnostics.result', 'iso-marker-a']);
    expect(b.events.every((e) => e.payload.partnerId === 'pB')).toBe(true);
    expect(b.events.map(tag)).toEqual(['device.status', 'device.presence', 'device.status', 'iso-b-alert', 'iso-b-ticket', 'diagnostics.progress', 'iso-marker-b']);
    expect(noc.events.map(tag)).toEqual([
      'device.status', // B1
      'device.status', // A1
      'device.presence', // B1 offline
      'device.status', // B1 offline summary
      'iso-b-alert',
      'iso-a-alert',
      'iso-b-ticket',
      'device.status', // UNREG1
      'iso-cloud-incident',
      'diagnostics.progress',
      'diagnostics.result',
      'iso-marker-b',
      'iso-marker-a',
    ]);
    expect(noc.events.filter((e) => e.payload.partnerId === null).map(tag)).toEqual(['device.status', 'iso-cloud-incident']);

    // Payload shapes.
    const status = b.events[0]!.payload;
    expect(status).toEqual({
      id: expect.stringMatching(/^\d+$/),
      ts: expect.any(Number),
      partnerId: 'pB',
      customerId: 'cB',
      deviceId: 'B1',
      siteId: 'sB',
      model: 'Studio X50',
      summary: { health: 'ok', reasons: [], online: true, tempC: 50, linkUp: true, inCall: true, cloudRegistered: true, peripheralsFailed: 0, firmware: '4.1.0.123' },
    });
    expect(b.events[1]!.payload).toMatchObject({ partnerId: 'pB', customerId: 'cB', deviceId: 'B1', siteId: 'sB', online: false });
    const alert = b.events[3]!.payload;
    expect(Object.keys(alert)).toEqual(['id', 'ts', 'partnerId', 'customerId', 'deviceId', 'sourceId', 'alert']);
    expect(alert).toMatchObject({ partnerId: 'pB', customerId: 'cB', deviceId: 'B1', alert: { rule: 'iso-b-alert', state: 'firing' } });
    // Diagnostics published with a device id only: the tenant comes from the registry.
    expect(b.events[5]!.payload).toMatchObject({ partnerId: 'pB', customerId: 'cB', deviceId: 'B1', siteId: 'sB', runId: 'run-b', step: 1 });
    expect(a.events[2]!.payload).toMatchObject({ partnerId: 'pA', customerId: 'cA', deviceId: 'A2', runId: 'run-a', summary: 'ok' });
    // Ids increase along the connection.
    const ids = noc.events.map((e) => BigInt(e.payload.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    for (const c of [noc, a, b]) c.close();
  });

  it('narrows with subscribe, refuses other tenants, clears with {}', async () => {
    const a = await client({ token: TOKENS.adminA });
    const sub = (payload: unknown) => emitWithAck<SubscribeAck>(a.socket, 'subscribe', payload);

    expect(await sub({ deviceId: 'A1' })).toEqual({ ok: true });
    rig.alert('A2', 'sub-a2-hidden');
    rig.status('A2', snapshot({ tempC: 33 }));
    rig.alert('A1', 'sub-a1-shown');
    await a.waitFor(isTagged('sub-a1-shown'));
    expect(a.events.map(tag)).toEqual(['sub-a1-shown']);

    // Another partner's device or customer: refused, the narrowing stays.
    expect(await sub({ deviceId: 'B1' })).toEqual({ ok: false, error: { code: 'not_found', message: 'device "B1" not found' } });
    expect(await sub({ customerId: 'cB' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await sub({ deviceId: 'NO-SUCH-DEVICE' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await sub({ deviceId: 'UNREG1' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    for (const badInput of [{ deviceId: 'A1', customerId: 'cA' }, { site: 'sA' }, { deviceId: 'has space' }, { deviceId: 7 }, 'A1', [1]]) {
      expect(await sub(badInput), JSON.stringify(badInput)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    rig.alert('A2', 'sub-a2-hidden-2');
    rig.alert('A1', 'sub-a1-shown-2');
    await a.waitFor(isTagged('sub-a1-shown-2'));
    expect(a.events.map(tag)).toEqual(['sub-a1-shown', 'sub-a1-shown-2']);

    // By customer.
    expect(await sub({ customerId: 'cA2' })).toEqual({ ok: true });
    rig.alert('A1', 'sub-a1-hidden');
    rig.alert('A3', 'sub-a3-shown');
    await a.waitFor(isTagged('sub-a3-shown'));
    expect(a.events.map(tag).slice(2)).toEqual(['sub-a3-shown']);

    // {} clears the narrowing: the whole partner again (and still nothing of B).
    expect(await sub({})).toEqual({ ok: true });
    rig.alert('B1', 'sub-b1-hidden');
    rig.alert('A2', 'sub-a2-shown');
    await a.waitFor(isTagged('sub-a2-shown'));
    expect(a.events.map(tag).slice(3)).toEqual(['sub-a2-shown']);

    // noc may narrow to any device, also one the registry does not know.
    const noc = await client({ token: TOKENS.noc });
    expect(await emitWithAck<SubscribeAck>(noc.socket, 'subscribe', { deviceId: 'UNREG2' })).toEqual({ ok: true });
    rig.alert('B1', 'sub-noc-hidden');
    rig.status('UNREG2', snapshot());
    rig.alert('UNREG2', 'sub-noc-unreg');
    await noc.waitFor(isTagged('sub-noc-unreg'));
    expect(noc.events.map(tag)).toEqual(['device.status', 'sub-noc-unreg']);
    expect(await emitWithAck<SubscribeAck>(noc.socket, 'subscribe', { customerId: 'cB' })).toEqual({ ok: true });
    expect(await emitWithAck<SubscribeAck>(noc.socket, 'subscribe', { customerId: 'nope' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    a.close();
    noc.close();
  });

  it('sends device.status only when the summary changes', async () => {
    const a = await client({ token: TOKENS.adminA });
    expect(await emitWithAck<SubscribeAck>(a.socket, 'subscribe', { deviceId: 'A2' })).toEqual({ ok: true });
    rig.status('A2', snapshot({ tempC: 61.2, cpuPct: 10, seq: 1 }));
    rig.status('A2', snapshot({ tempC: 61.2, cpuPct: 10, seq: 2 }));
    rig.status('A2', snapshot({ tempC: 60.9, cpuPct: 55, seq: 3 })); // same summary: 61 °C, ok
    rig.alert('A2', 'dedup-marker-1');
    await a.waitFor(isTagged('dedup-marker-1'));
    expect(a.names()).toEqual(['device.status', 'alert.firing']);
    expect(a.events[0]!.payload).toMatchObject({ deviceId: 'A2', summary: { health: 'ok', tempC: 61 } });

    rig.status('A2', snapshot({ tempC: 80 }));
    rig.status('A2', snapshot({ tempC: 80, lossPct: 10 }));
    rig.status('A2', snapshot({ tempC: 80, lossPct: 10 }));
    rig.presence('A2', false);
    rig.presence('A2', false); // no change
    rig.status('A2', snapshot({ tempC: 80, lossPct: 10 })); // back online
    rig.alert('A2', 'dedup-marker-2');
    await a.waitFor(isTagged('dedup-marker-2'));
    const after = a.events.slice(2);
    expect(after.map((e) => e.name)).toEqual(['device.status', 'device.status', 'device.presence', 'device.status', 'device.presence', 'device.status', 'alert.firing']);
    expect(after[0]!.payload).toMatchObject({ summary: { health: 'critical', reasons: ['overheating'], tempC: 80 } });
    expect(after[1]!.payload).toMatchObject({ summary: { health: 'critical', reasons: ['overheating', 'packet_loss'] } });
    expect(after[2]!.payload).toMatchObject({ online: false });
    expect(after[3]!.payload).toMatchObject({ summary: { online: false, reasons: ['offline', 'overheating', 'packet_loss'] } });
    expect(after[4]!.payload).toMatchObject({ online: true });
    expect(after[5]!.payload).toMatchObject({ summary: { online: true, reasons: ['overheating', 'packet_loss'] } });
    a.close();
  });

  it('replays missed alerts and tickets in order after a reconnect with lastEventId, nothing of the other tenant', async () => {
    const a = await client({ token: TOKENS.adminA });
    rig.alert('A1', 'replay-seen');
    const seen = await a.waitFor(isTagged('replay-seen'));
    a.close();
    await sleep(20);

    rig.alert('A1', 'replay-1');
    rig.ticket('A2', 'replay-2');
    rig.alert('B1', 'replay-other-tenant');
    rig.status('A1', snapshot({ tempC: 22 })); // not replayable
    rig.ticket('A3', 'replay-3', 'acknowledged');
    rig.ticket(null, 'replay-cloud-incident');
    rig.streams.publish('diagnostics.result', { deviceId: 'A1', runId: 'r-1', name: 'replay-4' });
    rig.ticket('B1', 'replay-other-ticket');

    const again = await client({ token: TOKENS.adminA, lastEventId: seen.payload.id });
    rig.alert('A1', 'replay-live');
    await again.waitFor(isTagged('replay-live'));
    expect(again.events.map((e) => [e.name, tag(e)])).toEqual([
      ['alert.firing', 'replay-1'],
      ['ticket.created', 'replay-2'],
      ['ticket.updated', 'replay-3'],
      ['diagnostics.result', 'diagnostics.result'],
      ['alert.firing', 'replay-live'],
    ]);
    expect(again.events[3]!.payload).toMatchObject({ runId: 'r-1', name: 'replay-4' });
    expect(again.events[2]!.payload).toMatchObject({ change: 'acknowledged' });
    const ids = again.events.map((e) => BigInt(e.payload.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(BigInt(again.events[0]!.payload.id)).toBeGreaterThan(BigInt(seen.payload.id));

    // noc with the same id gets the other tenant's and the partner-less ones too.
    const noc = await client({ token: TOKENS.noc, lastEventId: seen.payload.id });
    await noc.waitFor(isTagged('replay-live'));
    expect(noc.events.map(tag)).toEqual(['replay-1', 'replay-2', 'replay-other-tenant', 'replay-3', 'replay-cloud-incident', 'diagnostics.result', 'replay-other-ticket', 'replay-live']);

    // Narrowed in the handshake: the replay is narrowed too.
    const narrow = await client({ token: TOKENS.adminA, lastEventId: seen.payload.id, subscribe: { deviceId: 'A1' } });
    rig.alert('A1', 'replay-live-2');
    await narrow.waitFor(isTagged('replay-live-2'));
    expect(narrow.events.map(tag)).toEqual(['replay-1', 'diagnostics.result', 'replay-live', 'replay-live-2']);

    // An id the hub cannot vouch for: stream.gap first, then all it kept of the tenant.
    const stale = await client({ token: TOKENS.userB, lastEventId: '1' });
    rig.alert('B1', 'replay-live-b');
    await stale.waitFor(isTagged('replay-live-b'));
    expect(stale.events[0]).toMatchObject({ name: 'stream.gap', payload: { lastEventId: '1' } });
    expect(stale.events.slice(1).every((e) => e.payload.partnerId === 'pB')).toBe(true);
    expect(stale.events.map(tag)).toContain('replay-other-tenant');
    for (const c of [again, noc, narrow, stale]) c.close();
  });
});

describe('live stream: a slow client', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig.close();
  });

  it('never slows the publisher; gets every alert and the latest status per device', async () => {
    const published = { lastStatus: new Map<string, string>(), alertsA: [] as string[] };
    rig.streams.hub.onEvent((name, e) => {
      if (name === 'device.status' && e.deviceId !== null) published.lastStatus.set(e.deviceId, e.id);
      if (name === 'alert.firing' && e.partnerId === 'pA') published.alertsA.push(e.id);
    });
    const noc = await connect(rig.url, { token: TOKENS.noc });
    const slow = await connect(rig.url, { token: TOKENS.adminA });
    const serverSocket = rig.streams.io.sockets.sockets.get(slow.socket.id!);
    expect(serverSocket).toBeDefined();
    const serverConn = serverSocket!.conn as unknown as { writeBuffer: unknown[] };

    // Stop reading on the client's TCP socket, then push large alerts until the kernel buffers are
    // full and engine.io can no longer write: its write buffer stays non-empty.
    const tcp = (slow.socket.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    tcp.pause();
    const pad = 'x'.repeat(64 * 1024);
    let padded = 0;
    while (padded < 4000) {
      for (let i = 0; i < 16; i++) rig.alert('A1', `pad-${padded++}`, { summary: pad });
      await sleep(20);
      if (serverConn.writeBuffer.length > 0) break;
    }
    await sleep(50);
    expect(serverConn.writeBuffer.length, 'the slow client is stalled').toBeGreaterThan(0);
    const bufferedBefore = serverConn.writeBuffer.length;

    // 10,000 status changes (3 devices, alternating temperatures) with 10 alerts among them.
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const device = ['A1', 'A2', 'B1'][i % 3]!;
      rig.status(device, snapshot({ tempC: 40 + (Math.floor(i / 3) % 2) }));
      if (i % 1000 === 999) rig.alert('A2', `burst-${i}`);
    }
    const elapsed = performance.now() - t0;
    expect(elapsed, `publishing took ${elapsed.toFixed(0)} ms`).toBeLessThan(1000);

    // The slow client's engine.io buffer grew by at most the threshold plus the alerts.
    expect(serverConn.writeBuffer.length - bufferedBefore).toBeLessThanOrEqual(1000 + 10);
    const stats = rig.streams.stats();
    expect(stats.superseded).toBeGreaterThan(5000);
    expect(stats.pending).toBeGreaterThan(0);

    rig.alert('A1', 'slow-final');
    tcp.resume();

    // Every alert of partner A, in order; the latest status of A1 and A2; nothing of B.
    await slow.waitFor(isTagged('slow-final'), 30_000);
    await slow.waitFor((e) => e.payload.id === published.lastStatus.get('A1'), 10_000, 'latest A1 status');
    await slow.waitFor((e) => e.payload.id === published.lastStatus.get('A2'), 10_000, 'latest A2 status');
    expect(slow.events.filter((e) => e.name === 'alert.firing').map((e) => e.payload.id)).toEqual(published.alertsA);
    expect(slow.events.every((e) => e.payload.partnerId === 'pA')).toBe(true);
    const statuses = slow.events.filter((e) => e.name === 'device.status');
    expect(statuses.length).toBeLessThan(2000);
    for (const d of ['A1', 'A2']) {
      const mine = statuses.filter((e) => e.payload.deviceId === d);
      expect(mine.at(-1)?.payload.id, d).toBe(published.lastStatus.get(d));
      // Never an older status after a newer one.
      const ids = mine.map((e) => BigInt(e.payload.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!), d).toBe(true);
    }

    // The fast client got the same alerts and the latest statuses of all three devices.
    await noc.waitFor(isTagged('slow-final'), 30_000);
    for (const d of ['A1', 'A2', 'B1']) await noc.waitFor((e) => e.payload.id === published.lastStatus.get(d), 10_000, `latest ${d} status`);
    expect(noc.events.filter((e) => e.name === 'alert.firing' && e.payload.partnerId === 'pA').map((e) => e.payload.id)).toEqual(published.alertsA);
    expect(rig.streams.stats().pending).toBe(0);
    noc.close();
    slow.close();
  });
});

describe('live stream: close', () => {
  it('disconnects clients and leaves the buses', async () => {
    const rig = await startRig();
    const a = await connect(rig.url, { token: TOKENS.adminA });
    const gone = new Promise<string>((resolve) => a.socket.once('disconnect', (reason) => resolve(reason)));
    await rig.close();
    expect(await gone).toBeTruthy();
    expect(rig.ingest.listenerCount('status')).toBe(0);
    expect(rig.alerts.listenerCount('alert.firing')).toBe(0);
    expect(rig.diagnostics.listenerCount('diagnostics.result')).toBe(0);
  });
});
