// The collector on the embedded aedes broker (MQTT_URL unset), and several collectors sharing one
// stream through an MQTT 5 shared subscription on mosquitto.
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { countStatus, makeWorld, publisher, range, startInProcess, statusPayload, storedSeqs, waitFor, type TestWorld } from '../support/harness.js';
import { loadConfig } from '../../src/config.js';
import { startService } from '../../src/service.js';
import { pino } from 'pino';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('broker modes', () => {
  const worlds: TestWorld[] = [];
  const services: Service[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    for (const w of worlds.splice(0)) await w.cleanup();
  });

  it('starts the embedded broker when MQTT_URL is not set, and stores what devices publish to it', async () => {
    const port = await freePort();
    const world = makeWorld([{ id: 'EMB0001' }], { MQTT_URL: '', MQTT_PORT: String(port) });
    worlds.push(world);
    const service = await startInProcess(world);
    services.push(service);
    expect(service.mqttUrl).toBe(`mqtt://127.0.0.1:${port}`);
    const device = await mqtt.connectAsync(service.mqttUrl, { clientId: 'EMB0001' });
    for (let seq = 0; seq < 20; seq++) await device.publishAsync('poly/v1/devices/EMB0001/status', statusPayload(seq, Date.now() - 20_000 + seq), { qos: 1 });
    await device.endAsync();
    expect(await waitFor(() => countStatus(world), (n) => n >= 20, 10_000)).toBe(20);
    expect((await storedSeqs(world)).get('EMB0001')).toEqual(range(20));
  });

  it('splits one stream over collectors in an MQTT 5 shared subscription group, each message stored once', async () => {
    const devices = range(10).map((i) => ({ id: `SHR${String(i).padStart(4, '0')}` }));
    const a = makeWorld(devices, { MQTT_SHARED_GROUP: 'collectors', MQTT_PROTOCOL_VERSION: '5' });
    worlds.push(a);
    // The second collector writes to the same InfluxDB database, with its own id, journal and SQLite.
    const bEnv = { ...a.env, MQTT_CLIENT_ID: `${a.env.MQTT_CLIENT_ID}-b`, JOURNAL_DIR: `${a.env.JOURNAL_DIR}-b`, DATABASE_URL: `${a.env.DATABASE_URL}-b` };
    const sa = await startInProcess(a);
    services.push(sa);
    const sb = await startService(loadConfig(bEnv), pino({ level: 'error' }));
    services.push(sb);
    for (const s of [sa, sb]) await waitFor(async () => (await fetch(`${s.httpUrl}/readyz`)).status, (st) => st === 200, 10_000);
    const pub = await publisher();
    const sends: Promise<unknown>[] = [];
    for (let seq = 0; seq < 100; seq++) {
      for (const [i, d] of devices.entries()) sends.push(pub.publishAsync(`poly/v1/devices/${d.id}/status`, statusPayload(seq, Date.now() - 60_000 + seq * 10 + i), { qos: 1 }));
    }
    await Promise.all(sends);
    await pub.endAsync();
    expect(await waitFor(() => countStatus(a), (n) => n >= 1000, 15_000)).toBe(1000);
    const received = async (s: Service) => Number(/fleetwatch_messages_received_total\{kind="status"\} (\d+)/.exec(await s.metrics.metrics())?.[1] ?? 0);
    const [ra, rb] = [await received(sa), await received(sb)];
    expect(ra + rb).toBe(1000); // each message went to exactly one collector of the group
    expect(ra).toBeGreaterThan(100);
    expect(rb).toBeGreaterThan(100);
    const seqs = await storedSeqs(a);
    for (const d of devices) expect(seqs.get(d.id)).toEqual(range(100));
    // clean up the second session too
    const c = await mqtt.connectAsync(a.env.MQTT_URL!, { clientId: bEnv.MQTT_CLIENT_ID, clean: true });
    await c.endAsync();
  });
});
