// A partner registers a webhook through the API; a fault over real MQTT reaches its HTTP endpoint
// as a signed POST; the delivery log shows it; another partner's faults never do.
import { createServer, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { verify } from '../../src/webhooks/signature.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

describe('webhooks end to end', () => {
  let world: TestWorld;
  let service: Service;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, { devicesA: ['WHA1'], devicesB: ['WHB1'], users: [{ name: 'a-admin', role: 'partner_admin', partnerId: 'p-a', token: 'webhook-a-admin-token-0000' }] });
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'fan_stopped', for: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    service = await startInProcess(world);
  });

  afterAll(async () => {
    await service?.stop();
    await world?.cleanup();
    server.close();
  });

  it('delivers the partner own ticket events, signed, and logs the delivery', async () => {
    const port = (server.address() as { port: number }).port;
    const auth = { authorization: 'Bearer webhook-a-admin-token-0000', 'content-type': 'application/json' };
    const created = await fetch(`${service.httpUrl}/api/v1/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: `http://127.0.0.1:${port}/fleetwatch`, events: ['ticket.created'] }) });
    expect(created.status).toBe(201);
    const { webhook, secret } = (await created.json()) as { webhook: { id: number }; secret: string };
    const bad = await fetch(`${service.httpUrl}/api/v1/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: 'ftp://x', events: ['ticket.created'] }) });
    expect(bad.status).toBe(400);

    const pub = await publisher();
    for (const id of ['WHB1', 'WHA1']) {
      await pub.publishAsync(`poly/v1/devices/${id}/status`, JSON.stringify({ v: 1, ts: Date.now(), seq: 1, model: 'Studio X50', firmware: '4.1.0.123', fanRpm: 0 }), { qos: 1 });
    }
    await pub.endAsync();
    await waitFor(async () => received.length, (n) => n >= 1, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(1); // partner B's fault is not A's business
    const [req] = received;
    expect(req!.headers['x-fleetwatch-event']).toBe('ticket.created');
    expect(verify(secret, req!.headers['x-fleetwatch-timestamp'], req!.body, req!.headers['x-fleetwatch-signature'])).toBe(true);
    expect(JSON.parse(req!.body)).toMatchObject({ event: 'ticket.created', partnerId: 'p-a', deviceId: 'WHA1', data: { dedupKey: 'fan_stopped/WHA1' } });

    const log = await waitFor(
      async () => ((await (await fetch(`${service.httpUrl}/api/v1/webhooks/${webhook.id}/deliveries`, { headers: auth })).json()) as { items: Array<{ status: string; lastStatus: number }> }).items,
      (items) => items[0]?.status === 'delivered',
      5000,
      50,
    );
    expect(log[0]).toMatchObject({ status: 'delivered', lastStatus: 204 });
  });
});
