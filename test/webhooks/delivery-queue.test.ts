import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { tempDatabases } from './helpers.js';

const newDb = tempDatabases();

describe('DeliveryQueue', () => {
  it('lets only one of two readers claim a due delivery, and hides it until the lease ends', () => {
    const { db } = newDb();
    const hook = new WebhookStore(db).create({ partnerId: 'p-a', url: 'https://a.example/h', events: ['alert.firing'] }).webhook;
    const a = new DeliveryQueue(db);
    const b = new DeliveryQueue(db);
    a.enqueue(hook.id, 'e-1', 'alert.firing', '{}', 1000);

    // Both processes read it as due before either claims it.
    const [seenByA] = a.due(hook.id, 1000, 4);
    const [seenByB] = b.due(hook.id, 1000, 4);
    expect(seenByA).toEqual(seenByB);
    expect(a.claim(seenByA!, 1000, 31_000)).toBe(true);
    expect(b.claim(seenByB!, 1000, 31_000)).toBe(false);
    expect(b.due(hook.id, 30_999, 4)).toEqual([]);
    expect(b.dueWebhooks(30_999)).toEqual([]);
    expect(b.due(hook.id, 31_000, 4)).toHaveLength(1);

    // A stale read (the attempt was recorded meanwhile) cannot claim either.
    a.record(seenByA!.id, { status: 'pending', attempts: 1, nextTryMs: 2000, lastStatus: 500, lastError: 'HTTP 500' }, 1500);
    expect(b.claim(seenByB!, 2000, 40_000)).toBe(false);
    const [fresh] = b.due(hook.id, 2000, 4);
    expect(fresh).toMatchObject({ attempts: 1 });
    expect(b.claim(fresh!, 2000, 40_000)).toBe(true);
  });

  it('finds due deliveries oldest first, only of enabled webhooks, and settles each once', () => {
    const { db } = newDb();
    const store = new WebhookStore(db);
    const on = store.create({ partnerId: 'p-a', url: 'https://a.example/h', events: ['alert.firing'] }).webhook;
    const off = store.create({ partnerId: 'p-a', url: 'https://a.example/off', events: ['alert.firing'] }).webhook;
    store.setEnabled(off.id, 'p-a', false);
    const q = new DeliveryQueue(db);
    const ids = [1, 2, 3].map((i) => q.enqueue(on.id, `e-${i}`, 'alert.firing', `{"n":${i}}`, 1000 + i));
    q.enqueue(off.id, 'e-x', 'alert.firing', '{}', 1000);

    expect(q.dueWebhooks(5000)).toEqual([on.id]);
    expect(q.dueWebhooks(1000)).toEqual([]);
    expect(q.due(on.id, 5000, 2).map((d) => d.id)).toEqual(ids.slice(0, 2));
    expect(q.due(on.id, 1002, 10).map((d) => d.id)).toEqual(ids.slice(0, 2));

    const done = { status: 'delivered' as const, attempts: 1, nextTryMs: null, lastStatus: 200, lastError: null };
    expect(q.record(ids[0]!, done, 6000)).toBe(true);
    expect(q.record(ids[0]!, { ...done, status: 'failed' }, 7000)).toBe(false);
    expect(store.deliveries({ webhookId: on.id }).at(-1)).toMatchObject({ status: 'delivered', updatedMs: 6000 });
  });
});
