// The live stream of the real service: a fault published over MQTT reaches the owning partner's
// socket.io client as alert.firing and ticket.created, and never the other partner's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { connectStream } from '../support/stream-client.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

describe('live stream of the running service', () => {
  let world: TestWorld;
  let service: Service;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, {
      devicesA: ['STRA1'],
      devicesB: ['STRB1'],
      users: [
        { name: 'a', role: 'partner_user', partnerId: 'p-a', token: 'stream-a-user-token-00000' },
        { name: 'b', role: 'partner_user', partnerId: 'p-b', token: 'stream-b-user-token-00000' },
      ],
    });
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'overheating', for: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    service = await startInProcess(world);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await service?.stop();
    await world?.cleanup();
  });

  const client = (token: string) => connectStream(service.httpUrl, token, sockets);

  it('streams a partner its own alerts and tickets within a second of the MQTT message, and nothing of others', async () => {
    const a = await client('stream-a-user-token-00000');
    const b = await client('stream-b-user-token-00000');
    const gotA: Array<[string, Record<string, unknown>]> = [];
    const gotB: Array<[string, Record<string, unknown>]> = [];
    for (const name of ['alert.firing', 'ticket.created', 'device.status']) {
      a.on(name, (e: Record<string, unknown>) => gotA.push([name, e]));
      b.on(name, (e: Record<string, unknown>) => gotB.push([name, e]));
    }
    const pub = await publisher();
    const sent = Date.now();
    await pub.publishAsync('poly/v1/devices/STRA1/status', JSON.stringify({ v: 1, ts: Date.now(), seq: 1, model: 'Studio X50', firmware: '4.1.0.123', tempC: 90 }), { qos: 1 });
    await waitFor(async () => gotA.filter(([n]) => n !== 'device.status').length, (n) => n >= 2, 5000, 10);
    const elapsed = Date.now() - sent;
    await pub.publishAsync('poly/v1/devices/STRB1/status', JSON.stringify({ v: 1, ts: Date.now(), seq: 1, model: 'Studio X50', firmware: '4.1.0.123', tempC: 40 }), { qos: 1 });
    await waitFor(async () => gotB.length, (n) => n >= 1, 5000, 10); // B's own status: a marker that B's stream is live
    await pub.endAsync();

    expect(elapsed).toBeLessThan(1000);
    const firing = gotA.find(([n]) => n === 'alert.firing')![1];
    expect(firing).toMatchObject({ partnerId: 'p-a', customerId: 'c-a', deviceId: 'STRA1', alert: { rule: 'overheating' } });
    expect(typeof firing.id).toBe('string');
    expect(gotA.find(([n]) => n === 'ticket.created')![1]).toMatchObject({ deviceId: 'STRA1', ticket: { dedupKey: 'overheating/STRA1' } });
    expect(gotB.map(([, e]) => e.deviceId)).toEqual(['STRB1']);
  });

  it('refuses a connection without a valid token', async () => {
    const s = connect(service.httpUrl, { auth: { token: 'nope-nope-nope-nope' }, transports: ['websocket'], reconnection: false });
    sockets.push(s);
    const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
  });
});
