import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.js';
import { WebhookInputError, WebhookStore } from '../../src/webhooks/webhook-store.js';
import { tempDatabases } from './helpers.js';

const newDb = tempDatabases();

function store() {
  const { db } = newDb();
  let now = 1_700_000_000_000;
  return { db, store: new WebhookStore(db, () => now), tick: (ms: number) => (now += ms) };
}

describe('WebhookStore', () => {
  it('creates a webhook and shows its secret once', () => {
    const { store: s } = store();
    const { webhook, secret } = s.create({ partnerId: 'p-a', url: 'https://tickets.partner-a.example/hooks?src=fw', events: ['ticket.created', 'alert.firing', 'alert.firing'] });
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(webhook).toEqual({
      id: expect.any(Number),
      partnerId: 'p-a',
      url: 'https://tickets.partner-a.example/hooks?src=fw',
      events: ['alert.firing', 'ticket.created'],
      enabled: true,
      createdMs: 1_700_000_000_000,
    });
    expect(s.get(webhook.id)).toEqual(webhook);
    expect(s.list('p-a')).toEqual([webhook]);
    expect(s.list('p-b')).toEqual([]);
    // Reads never carry the secret; the dispatcher asks for it by name.
    expect(JSON.stringify([s.get(webhook.id), s.list('p-a')])).not.toContain(secret);
    expect(s.signingSecret(webhook.id)).toBe(secret);
    // Each webhook its own secret.
    expect(s.create({ partnerId: 'p-a', url: 'http://localhost:8080/x', events: ['alert.resolved'] }).secret).not.toBe(secret);
  });

  it.each([
    [{ url: 'ftp://partner.example/x' }, 'url', 'url must use http or https, not "ftp"'],
    [{ url: 'not a url' }, 'url', 'url "not a url" is not a valid URL'],
    [{ url: '' }, 'url', 'url is required (an http:// or https:// URL)'],
    [{ url: 'https://user:pw@partner.example/x' }, 'url', 'url must not contain a user name or password'],
    [{ url: `https://partner.example/${'x'.repeat(2048)}` }, 'url', 'url is longer than 2048 characters'],
    [{ events: [] }, 'events', 'events must be a list of one or more of alert.firing, alert.resolved, ticket.created, ticket.updated'],
    [{ events: 'alert.firing' }, 'events', 'events must be a list of one or more of alert.firing, alert.resolved, ticket.created, ticket.updated'],
    [{ events: ['alert.firing', 'device.status'] }, 'events', 'unknown event "device.status"; expected one or more of alert.firing, alert.resolved, ticket.created, ticket.updated'],
    [{ partnerId: 'p-nobody' }, 'partnerId', 'unknown partner "p-nobody"'],
  ])('refuses %j with a clear message', (change, field, message) => {
    const { store: s } = store();
    const input = { partnerId: 'p-a', url: 'https://partner.example/hook', events: ['alert.firing'], ...change } as Parameters<WebhookStore['create']>[0];
    let err: unknown;
    try {
      s.create(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebhookInputError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ field, message });
    expect(s.list('p-a')).toEqual([]);
  });

  it("deletes and disables only the partner's own webhooks", () => {
    const { db, store: s } = store();
    const { webhook } = s.create({ partnerId: 'p-a', url: 'https://a.example/h', events: ['alert.firing'] });
    new DeliveryQueue(db).enqueue(webhook.id, 'e-1', 'alert.firing', '{}', 1);

    expect(s.setEnabled(webhook.id, 'p-b', false)).toBe(false);
    expect(s.get(webhook.id)?.enabled).toBe(true);
    expect(s.setEnabled(webhook.id, 'p-a', false)).toBe(true);
    expect(s.get(webhook.id)?.enabled).toBe(false);
    expect(s.setEnabled(webhook.id, 'p-a', true)).toBe(true);
    expect(s.get(webhook.id)?.enabled).toBe(true);
    expect(s.setEnabled(9999, 'p-a', true)).toBe(false);

    expect(s.delete(webhook.id, 'p-b')).toBe(false);
    expect(s.get(webhook.id)).toBeDefined();
    // The delivery log goes with it (it references the webhook).
    expect(s.delete(webhook.id, 'p-a')).toBe(true);
    expect(s.get(webhook.id)).toBeUndefined();
    expect(s.deliveries({ webhookId: webhook.id })).toEqual([]);
    expect(s.delete(webhook.id, 'p-a')).toBe(false);
  });

  it('pages through the delivery log, newest first', () => {
    const { db, store: s } = store();
    const { webhook } = s.create({ partnerId: 'p-a', url: 'https://a.example/h', events: ['alert.firing'] });
    const other = s.create({ partnerId: 'p-a', url: 'https://a.example/other', events: ['alert.firing'] }).webhook;
    const q = new DeliveryQueue(db);
    const ids = Array.from({ length: 7 }, (_, i) => q.enqueue(webhook.id, `e-${i}`, 'alert.firing', `{"n":${i}}`, 1000 + i));
    q.enqueue(other.id, 'e-x', 'alert.firing', '{}', 2000);

    const first = s.deliveries({ webhookId: webhook.id, limit: 3 });
    expect(first.map((d) => d.eventId)).toEqual(['e-6', 'e-5', 'e-4']);
    expect(first[0]).toEqual({
      id: ids[6],
      webhookId: webhook.id,
      eventId: 'e-6',
      event: 'alert.firing',
      payload: '{"n":6}',
      status: 'pending',
      attempts: 0,
      nextTryMs: 1006,
      lastStatus: null,
      lastError: null,
      createdMs: 1006,
      updatedMs: 1006,
    });
    const second = s.deliveries({ webhookId: webhook.id, limit: 3, beforeId: first.at(-1)!.id });
    expect(second.map((d) => d.eventId)).toEqual(['e-3', 'e-2', 'e-1']);
    expect(s.deliveries({ webhookId: webhook.id, beforeId: second.at(-1)!.id }).map((d) => d.eventId)).toEqual(['e-0']);
    expect(s.deliveries({ webhookId: webhook.id })).toHaveLength(7);

    expect(() => s.deliveries({ webhookId: webhook.id, limit: 0 })).toThrow(WebhookInputError);
    expect(() => s.deliveries({ webhookId: webhook.id, limit: 201 })).toThrow('limit must be an integer from 1 to 200');
    expect(() => s.deliveries({ webhookId: webhook.id, beforeId: -1 })).toThrow('beforeId must be a positive integer');
  });

  it('prunes settled deliveries older than a cut-off, never pending ones', () => {
    const { db, store: s } = store();
    const { webhook } = s.create({ partnerId: 'p-a', url: 'https://a.example/h', events: ['alert.firing'] });
    const q = new DeliveryQueue(db);
    const [delivered, failed, pending, recent] = [1, 2, 3, 4].map((i) => q.enqueue(webhook.id, `e-${i}`, 'alert.firing', '{}', 1000));
    const settle = (id: number, status: 'delivered' | 'failed', now: number) => q.record(id, { status, attempts: 1, nextTryMs: null, lastStatus: 200, lastError: null }, now);
    settle(delivered!, 'delivered', 1000);
    settle(failed!, 'failed', 1000);
    settle(recent!, 'delivered', 5000);
    expect(s.pruneDeliveries(2000)).toBe(2);
    expect(s.deliveries({ webhookId: webhook.id }).map((d) => [d.id, d.status])).toEqual([
      [recent, 'delivered'],
      [pending, 'pending'],
    ]);
  });
});
