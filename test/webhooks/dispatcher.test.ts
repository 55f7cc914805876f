// The dispatcher against a real HTTP endpoint (node:http), a real SQLite file and a real AlertEvents bus.
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/webhooks/dispatcher.js';
import { verify } from '../../src/webhooks/signature.js';
import { WebhookStore, type WebhookDelivery } from '../../src/webhooks/webhook-store.js';
import { AlertEvents, alertRecord, fireAlert, Receiver, silentLog, sleep, tempDatabases, ticket, until } from './helpers.js';

const newDb = tempDatabases();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface World {
  db: Database;
  dbUrl: string;
  events: AlertEvents;
  store: WebhookStore;
  receiver: Receiver;
  dispatcher(o?: Partial<WebhookDispatcherOptions>): WebhookDispatcher;
  log(webhookId: number): WebhookDelivery[];
}

async function world(defaults: Partial<WebhookDispatcherOptions> = {}): Promise<World> {
  const { db, url: dbUrl } = newDb();
  const events = new AlertEvents();
  const store = new WebhookStore(db);
  const receiver = await Receiver.start();
  cleanups.push(() => db.close());
  cleanups.push(() => receiver.close());
  return {
    db,
    dbUrl,
    events,
    store,
    receiver,
    dispatcher(o = {}) {
      const d = new WebhookDispatcher({ db, store, events, log: silentLog, baseDelayMs: 20, pollMs: 50, ...defaults, ...o });
      cleanups.push(() => d.stop());
      return d;
    },
    log: (webhookId) => store.deliveries({ webhookId, limit: 200 }),
  };
}

const settled = (w: World, webhookId: number, n = 1) => () => {
  const log = w.log(webhookId);
  return log.length >= n && log.every((d) => d.status !== 'pending');
};

describe('WebhookDispatcher', () => {
  it('POSTs the event as JSON with headers and a signature that verifies with the secret', async () => {
    const w = await world();
    const { webhook, secret } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing', 'ticket.updated'] });
    w.dispatcher().start();

    const before = Date.now();
    const alertId = fireAlert(w.events, 'p-a', 'DEV-A1');
    const t = ticket('p-a', 'DEV-A1');
    w.events.emit('ticket.updated', { ...w.events.meta(Date.now(), t), ticket: t, change: 'acknowledged' });
    await until(settled(w, webhook.id, 2), 5000, 'two deliveries');

    const log = w.log(webhook.id);
    expect(log.map((d) => [d.event, d.status, d.attempts, d.lastStatus, d.lastError, d.nextTryMs])).toEqual([
      ['ticket.updated', 'delivered', 1, 200, null, null],
      ['alert.firing', 'delivered', 1, 200, null, null],
    ]);
    expect(w.receiver.requests).toHaveLength(2);
    const [req, second] = w.receiver.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/hooks/fleetwatch' });
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Fleetwatch-Webhooks/1',
      'x-fleetwatch-event': 'alert.firing',
      'x-fleetwatch-delivery': String(log[1]!.id),
    });
    const ts = Number(req!.headers['x-fleetwatch-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
    // What a partner does: verify the raw body with the secret and its own clock.
    expect(verify(secret, req!.headers['x-fleetwatch-timestamp'], req!.body, req!.headers['x-fleetwatch-signature'])).toBe(true);
    expect(verify('0'.repeat(64), req!.headers['x-fleetwatch-timestamp'], req!.body, req!.headers['x-fleetwatch-signature'])).toBe(false);
    expect(verify(secret, req!.headers['x-fleetwatch-timestamp'], req!.body, req!.headers['x-fleetwatch-signature'], { now: ts + 5 * 60_000 + 1 })).toBe(false);
    expect(req!.body).toBe(log[1]!.payload);

    expect(JSON.parse(req!.body)).toEqual({
      event: 'alert.firing',
      id: alertId,
      ts: expect.any(Number),
      partnerId: 'p-a',
      customerId: 'p-a-c1',
      deviceId: 'DEV-A1',
      data: alertRecord('p-a', 'DEV-A1'),
    });
    expect(JSON.parse(second!.body)).toMatchObject({ event: 'ticket.updated', partnerId: 'p-a', change: 'acknowledged', data: t });
    expect(verify(secret, second!.headers['x-fleetwatch-timestamp'], second!.body, second!.headers['x-fleetwatch-signature'])).toBe(true);
  });

  it('retries a failing endpoint with growing delays until it is delivered', async () => {
    const w = await world({ baseDelayMs: 20, random: () => 0.5 });
    const { webhook, secret } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.failNext(3, 503);
    w.dispatcher().start();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(settled(w, webhook.id), 5000, 'delivered');

    expect(w.log(webhook.id)).toMatchObject([{ status: 'delivered', attempts: 4, lastStatus: 200, lastError: null }]);
    const reqs = w.receiver.requests;
    expect(reqs).toHaveLength(4);
    // One delivery, four attempts: the same delivery id, each attempt signed afresh.
    expect(new Set(reqs.map((r) => r.headers['x-fleetwatch-delivery'])).size).toBe(1);
    for (const r of reqs) expect(verify(secret, r.headers['x-fleetwatch-timestamp'], r.body, r.headers['x-fleetwatch-signature'])).toBe(true);
    const gaps = reqs.slice(1).map((r, i) => r.at - reqs[i]!.at);
    // 20, 40, 80 ms (jitter pinned to the middle), plus the time of a request each.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]).toBeGreaterThan(gaps[1]!);
    // Woken by the retry's own timer, not the poll.
    expect(gaps[2]).toBeLessThan(500);
  });

  it('does not retry a 400: failed at once, with the status in the log', async () => {
    const w = await world();
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.failNext(1, 400);
    w.dispatcher().start();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(settled(w, webhook.id), 5000, 'failed');
    await sleep(200);

    expect(w.receiver.requests).toHaveLength(1);
    expect(w.log(webhook.id)).toMatchObject([{ status: 'failed', attempts: 1, lastStatus: 400, lastError: 'HTTP 400: nope 400', nextTryMs: null }]);
  });

  it.each([408, 429])('retries a %i', async (status) => {
    const w = await world();
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.failNext(1, status);
    w.dispatcher().start();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(settled(w, webhook.id), 5000, 'delivered');
    expect(w.log(webhook.id)).toMatchObject([{ status: 'delivered', attempts: 2, lastStatus: 200 }]);
  });

  it('marks a delivery failed after maxAttempts; the log shows the attempts and the last status', async () => {
    const w = await world({ maxAttempts: 4 });
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.status = 500;
    w.dispatcher().start();
    fireAlert(w.events, 'p-a', 'DEV-A1');

    // In between, the log shows the pending delivery with what went wrong so far.
    await until(() => w.log(webhook.id)[0]?.attempts === 1, 5000, 'first attempt');
    expect(w.log(webhook.id)[0]).toMatchObject({ status: 'pending', lastStatus: 500, lastError: 'HTTP 500: nope 500' });

    await until(settled(w, webhook.id), 5000, 'failed');
    await sleep(200);
    expect(w.receiver.requests).toHaveLength(4);
    expect(w.log(webhook.id)).toMatchObject([{ status: 'failed', attempts: 4, lastStatus: 500, lastError: 'HTTP 500: nope 500', nextTryMs: null }]);
  });

  it('retries network errors and timeouts, with no status in the log', async () => {
    const w = await world({ maxAttempts: 2 });
    const down = await Receiver.start();
    await down.close();
    const refused = w.store.create({ partnerId: 'p-a', url: down.url, events: ['alert.firing'] }).webhook;
    const slow = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] }).webhook;
    w.receiver.delayMs = 500;
    w.dispatcher({ timeoutMs: 50 }).start();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(() => settled(w, refused.id)() && settled(w, slow.id)(), 5000, 'both failed');

    expect(w.log(refused.id)).toMatchObject([{ status: 'failed', attempts: 2, lastStatus: null, lastError: expect.stringMatching(/^ECONNREFUSED/) }]);
    expect(w.log(slow.id)).toMatchObject([{ status: 'failed', attempts: 2, lastStatus: null, lastError: 'no answer within 50 ms' }]);
    expect(w.receiver.requests).toHaveLength(2);
  });

  it("sends a partner only its own events, only those subscribed, and NOC-only events nowhere", async () => {
    const w = await world();
    const rb = await Receiver.start();
    const ra2 = await Receiver.start();
    const ra3 = await Receiver.start();
    cleanups.push(() => rb.close(), () => ra2.close(), () => ra3.close());
    const all = ['alert.firing', 'alert.resolved', 'ticket.created', 'ticket.updated'];
    const a1 = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: all }).webhook;
    const b1 = w.store.create({ partnerId: 'p-b', url: rb.url, events: all }).webhook;
    const a2 = w.store.create({ partnerId: 'p-a', url: ra2.url, events: ['ticket.created'] }).webhook;
    const a3 = w.store.create({ partnerId: 'p-a', url: ra3.url, events: all }).webhook;
    w.store.setEnabled(a3.id, 'p-a', false);
    w.dispatcher().start();

    fireAlert(w.events, 'p-a', 'DEV-A1');
    fireAlert(w.events, 'p-b', 'DEV-B1');
    const incident = ticket(null, null, 99);
    w.events.emit('ticket.created', { ...w.events.meta(Date.now(), incident), ticket: incident });
    fireAlert(w.events, null, 'UNREGISTERED-1');
    const ta = ticket('p-a', 'DEV-A1', 8);
    w.events.emit('ticket.created', { ...w.events.meta(Date.now(), ta), ticket: ta });
    const rec = alertRecord('p-b', 'DEV-B1', 'resolved');
    w.events.emit('alert.resolved', { ...w.events.meta(Date.now(), { partnerId: 'p-b', customerId: rec.customerId, deviceId: 'DEV-B1' }), alert: rec });

    await until(() => settled(w, a1.id, 2)() && settled(w, b1.id, 2)() && settled(w, a2.id, 1)(), 5000, 'deliveries');
    await sleep(150);

    expect(w.receiver.bodies().map((b) => [b.event, b.partnerId])).toEqual([
      ['alert.firing', 'p-a'],
      ['ticket.created', 'p-a'],
    ]);
    expect(rb.bodies().map((b) => [b.event, b.partnerId])).toEqual([
      ['alert.firing', 'p-b'],
      ['alert.resolved', 'p-b'],
    ]);
    expect(ra2.bodies().map((b) => [b.event, b.partnerId, (b.data as { id: number }).id])).toEqual([['ticket.created', 'p-a', 8]]);
    expect(ra3.requests).toEqual([]);
    expect(w.log(a3.id)).toEqual([]);
    expect(w.db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_deliveries').get()?.n).toBe(5);
  });

  it('holds the pending deliveries of a disabled webhook and sends them when it is enabled again', async () => {
    const w = await world({ baseDelayMs: 30 });
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.status = 500;
    w.dispatcher().start();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(() => w.receiver.requests.length === 1, 5000, 'first attempt');
    w.store.setEnabled(webhook.id, 'p-a', false);
    w.receiver.status = 200;
    fireAlert(w.events, 'p-a', 'DEV-A2');
    await sleep(300);
    expect(w.receiver.requests).toHaveLength(1);
    expect(w.log(webhook.id)).toMatchObject([{ status: 'pending', attempts: 1 }]);

    w.store.setEnabled(webhook.id, 'p-a', true);
    await until(settled(w, webhook.id), 5000, 'delivered');
    expect(w.log(webhook.id)).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });

  it('delivers after a restart what was pending: retries in progress and events not yet attempted', async () => {
    const w = await world({ baseDelayMs: 100 });
    const { webhook, secret } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.status = 503;
    const first = w.dispatcher();
    first.start();
    const retried = [1, 2, 3].map((i) => fireAlert(w.events, 'p-a', `DEV-A${i}`));
    await until(() => w.log(webhook.id).length === 3 && w.log(webhook.id).every((d) => d.attempts === 1), 5000, 'first attempts');
    // Received, but stopped before the next turn of the event loop: queued, never attempted.
    const queued = [4, 5].map((i) => fireAlert(w.events, 'p-a', `DEV-A${i}`));
    await first.stop();
    w.db.close();
    expect(w.receiver.requests).toHaveLength(3);

    // The process comes back: a new database connection, bus and dispatcher.
    w.receiver.status = 200;
    const db = openDatabase(w.dbUrl);
    cleanups.push(() => db.close());
    const store = new WebhookStore(db);
    const restarted = new WebhookDispatcher({ db, store, events: new AlertEvents(), log: silentLog, baseDelayMs: 100, pollMs: 50 });
    cleanups.push(() => restarted.stop());
    expect(store.deliveries({ webhookId: webhook.id }).map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 1],
      ['pending', 1],
      ['pending', 1],
    ]);
    restarted.start();
    await until(() => store.deliveries({ webhookId: webhook.id }).every((d) => d.status === 'delivered'), 5000, 'all delivered');

    const log = store.deliveries({ webhookId: webhook.id });
    expect(log.map((d) => [d.eventId, d.attempts, d.lastStatus])).toEqual([
      [queued[1], 1, 200],
      [queued[0], 1, 200],
      [retried[2], 2, 200],
      [retried[1], 2, 200],
      [retried[0], 2, 200],
    ]);
    const after = w.receiver.requests.slice(3);
    expect(after.map((r) => (JSON.parse(r.body) as { id: string }).id).sort()).toEqual([...retried, ...queued].sort());
    for (const r of after) expect(verify(secret, r.headers['x-fleetwatch-timestamp'], r.body, r.headers['x-fleetwatch-signature'])).toBe(true);
  });

  it('sends again, once its lease ran out, a delivery whose attempt was cut off by a crash', async () => {
    let now = 1_700_000_000_000;
    const w = await world({ clock: () => now, timeoutMs: 1000 });
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    // The crashed process had claimed it: lease of timeoutMs + 30 s from its attempt.
    const queue = new DeliveryQueue(w.db);
    const id = queue.enqueue(webhook.id, 'e-1', 'alert.firing', '{"event":"alert.firing"}', now);
    expect(queue.claim({ id, webhookId: webhook.id, event: 'alert.firing', payload: '', attempts: 0 }, now, now + 31_000)).toBe(true);

    w.dispatcher().start();
    await sleep(200);
    expect(w.receiver.requests).toEqual([]);
    now += 31_000;
    await until(settled(w, webhook.id), 5000, 'delivered after the lease');
    expect(w.receiver.requests).toHaveLength(1);
    expect(w.log(webhook.id)).toMatchObject([{ id, status: 'delivered', attempts: 1 }]);
  });

  it('sends each delivery once with two dispatchers on one database file (as two processes would)', async () => {
    const w = await world();
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.delayMs = 20;
    const otherBus = new AlertEvents();
    const db2 = openDatabase(w.dbUrl);
    cleanups.push(() => db2.close());
    w.dispatcher().start();
    const second = new WebhookDispatcher({ db: db2, store: new WebhookStore(db2), events: otherBus, log: silentLog, pollMs: 10 });
    cleanups.push(() => second.stop());
    second.start();
    for (let i = 0; i < 50; i++) fireAlert(i % 2 ? w.events : otherBus, 'p-a', `DEV-${i}`);
    await until(settled(w, webhook.id, 50), 10_000, '50 delivered');
    await sleep(100);
    const deliveryIds = w.receiver.requests.map((r) => r.headers['x-fleetwatch-delivery']);
    expect(deliveryIds).toHaveLength(50);
    expect(new Set(deliveryIds).size).toBe(50);
  });

  it('never blocks the emitter: 1,000 events to a slow endpoint are emitted in < 200 ms, 4 in flight', async () => {
    const w = await world();
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.receiver.delayMs = 200;
    const d = w.dispatcher();
    d.start();

    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(fireAlert(w.events, 'p-a', `DEV-${i}`));
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(200);

    await until(() => w.receiver.requests.length >= 8, 5000, 'two rounds of requests');
    expect(w.receiver.maxInFlight).toBe(4);
    expect(d.inFlightCount).toBe(4);
    // Oldest first: the first requests are the first events.
    expect(
      w.receiver
        .bodies()
        .slice(0, 8)
        .map((b) => b.id)
        .sort(),
    ).toEqual(ids.slice(0, 8).sort());
    await d.stop();
    const log = w.log(webhook.id);
    expect(w.db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_deliveries').get()?.n).toBe(1000);
    expect(log.filter((x) => x.status === 'failed')).toEqual([]);
  });

  it('sends one webhook its events in order with concurrency 1', async () => {
    const w = await world();
    w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.dispatcher({ concurrencyPerWebhook: 1 }).start();
    const ids = Array.from({ length: 20 }, (_, i) => fireAlert(w.events, 'p-a', `DEV-${i}`));
    await until(() => w.receiver.requests.length === 20, 5000, '20 requests');
    expect(w.receiver.bodies().map((b) => b.id)).toEqual(ids);
    expect(w.receiver.maxInFlight).toBe(1);
  });

  it('never throws into the emitter, even for an event it cannot serialize or with the database gone', async () => {
    const errors: string[] = [];
    const log = { debug() {}, info() {}, warn() {}, error: (_o: unknown, msg?: string) => void errors.push(msg ?? '') };
    const w = await world({ log });
    const { webhook } = w.store.create({ partnerId: 'p-a', url: w.receiver.url, events: ['alert.firing'] });
    w.dispatcher().start();

    const bad = { ...alertRecord('p-a', 'DEV-X'), value: 1n as unknown as number };
    expect(() => w.events.emit('alert.firing', { ...w.events.meta(Date.now(), { partnerId: 'p-a', customerId: null, deviceId: 'DEV-X' }), alert: bad })).not.toThrow();
    fireAlert(w.events, 'p-a', 'DEV-A1');
    await until(settled(w, webhook.id), 5000, 'the good event delivered');
    expect(w.receiver.bodies().map((b) => b.deviceId)).toEqual(['DEV-A1']);
    expect(errors).toEqual(['webhooks: event could not be queued']);

    w.db.close();
    expect(() => fireAlert(w.events, 'p-a', 'DEV-A2')).not.toThrow();
    await until(() => errors.includes('webhooks: deliveries could not be queued; these events are not sent'), 2000, 'the failure logged');
  });
});
