// One notion of "reachable", end to end: a device that misses its reports is offline for the rule,
// the API, the stream and InfluxDB alike; after a restart, registered devices that stay silent go
// offline on time; a device that flaps gets one alert that counts the flaps, not a ticket each time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { testMqttUrl } from '../support/services.js';
import { connectStream } from '../support/stream-client.js';

const NOC = 'offline-noc-token-0000000';
const A = 'offline-a-user-token-0000';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reachability: missed intervals, restarts and flapping', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const sockets: Socket[] = [];
  const alertEvents: string[] = [];

  const start = async () => {
    service = await startInProcess(world);
    for (const type of ['alert.firing', 'alert.resolved'] as const) service.alerting.events.on(type, (e) => alertEvents.push(`${type} ${e.alert.fingerprint}`));
    service.alerting.events.on('ticket.created', (e) => alertEvents.push(`ticket.created ${e.ticket.dedupKey}`));
    service.alerting.events.on('ticket.updated', (e) => alertEvents.push(`ticket.updated ${e.ticket.dedupKey} ${e.change}`));
  };
  const get = async (path: string, token = A) => {
    const res = await fetch(`${service.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, {
      devicesA: ['QUIET1', 'RST1', 'RST2', 'RST3'],
      // At a site of its own: partner A's site is down by now (QUIET1 and RST1), which would inhibit it.
      devicesB: ['FLAP1'],
      users: [
        { name: 'noc', role: 'noc', token: NOC },
        { name: 'a', role: 'partner_user', partnerId: 'p-a', token: A },
      ],
    });
    // The shipped offline rule (hold-down and flap window as shipped), with a short default interval.
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'device_offline', missedIntervals: 2, defaultInterval: '1s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json'), API_RATE_PER_SECOND: '1000', API_RATE_BURST: '1000' });
    await start();
    pub = await publisher();
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('a device that misses its reports is offline in the rule, the API, the stream and InfluxDB', async () => {
    const socket = await connectStream(service.httpUrl, A, sockets);
    const presence: any[] = [];
    socket.on('device.presence', (e) => presence.push(e));
    for (let seq = 1; seq <= 3; seq++) {
      await pub.publishAsync('poly/v1/devices/QUIET1/status', statusPayload(seq, Date.now()), { qos: 1 });
      await sleep(300);
    }
    expect((await get('/devices/QUIET1')).status).toMatchObject({ online: 'online', offlineReason: null });
    // It reported every 300 ms; two missed reports of at least 1 s each, and it is offline.
    const off = await waitFor(async () => presence.find((e) => e.deviceId === 'QUIET1' && e.online === false), (e) => e !== undefined, 6000, 50);
    expect(off).toMatchObject({ deviceId: 'QUIET1', partnerId: 'p-a', online: false, reason: 'missed_intervals' });
    expect((await get('/devices/QUIET1')).status).toMatchObject({ online: 'offline', offlineReason: 'missed_intervals' });
    const row = (await get('/fleet/devices?q=QUIET1')).items.find((d: any) => d.id === 'QUIET1');
    expect(row).toMatchObject({ online: 'offline', offlineReason: 'missed_intervals', health: 'critical' });
    expect((await get('/fleet/health')).totals.offline).toBeGreaterThanOrEqual(1);
    expect(await waitFor(async () => service.alerting.alerts.get('device_offline/QUIET1')?.state, (s) => s === 'firing', 3000, 50)).toBe('firing');
    expect(service.alerting.alerts.get('device_offline/QUIET1')?.summary).toBe('Device offline: no reports within the expected interval');
    const points = await waitFor(
      () => world.influx.query<{ online: boolean; reason: string | null }>(`SELECT "online", "reason" FROM "device_presence" WHERE "device" = 'QUIET1'`),
      (rows) => rows.length >= 1,
      5000,
      100,
    );
    expect(points.map((p) => [p.online, p.reason])).toEqual([[false, 'missed_intervals']]);
    // It speaks again: online everywhere at once.
    await pub.publishAsync('poly/v1/devices/QUIET1/status', statusPayload(4, Date.now()), { qos: 1 });
    await waitFor(async () => presence.filter((e) => e.deviceId === 'QUIET1').length, (n) => n >= 2, 3000, 20);
    expect(presence.filter((e) => e.deviceId === 'QUIET1').map((e) => e.online)).toEqual([false, true]);
    expect((await get('/devices/QUIET1')).status).toMatchObject({ online: 'online', offlineReason: null });
  });

  it('after a restart, a registered device that never reports again goes offline on time; one that never reported is shown so, without an alert', async () => {
    for (let seq = 1; seq <= 3; seq++) {
      for (const id of ['RST1', 'RST3']) await pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(seq, Date.now()), { qos: 1 });
      await sleep(300);
    }
    // Its reports are in InfluxDB before the restart (the journal writes them through).
    await waitFor(async () => (await world.influx.query(`SELECT "seq" FROM "device_status" WHERE "device" = 'RST1'`)).length, (n) => n >= 3, 5000, 50);
    await service.stop();
    alertEvents.length = 0;
    // RST3 goes on reporting across the restart; RST1 is never heard again.
    let seq = 4;
    const keepReporting = setInterval(() => void pub.publishAsync('poly/v1/devices/RST3/status', statusPayload(seq++, Date.now()), { qos: 1 }), 300);
    try {
      await start();
      const restartedAt = Date.now();
      // (Announced or merged into the site's outage ticket, as partner A's site may be down by now.)
      const fired = await waitFor(async () => service.alerting.alerts.get('device_offline/RST1')?.state, (x) => x === 'firing', 8000, 50);
      expect(fired).toBe('firing');
      // RST1's last report was before the restart: two missed intervals of 1 s count from then.
      expect(Date.now() - restartedAt).toBeLessThan(5000);
      expect((await get('/devices/RST1')).status).toMatchObject({ online: 'offline', offlineReason: 'missed_intervals' });
      expect((await get('/devices/RST2')).status).toMatchObject({ online: 'offline', offlineReason: 'never_reported' });
      expect((await get('/devices/RST3')).status).toMatchObject({ online: 'online' });
      await sleep(2500);
      expect(alertEvents.filter((e) => e.includes('RST2') || e.includes('RST3'))).toEqual([]);
      expect(service.alerting.alerts.get('device_offline/RST2')).toBeUndefined();
      expect(service.alerting.alerts.get('device_offline/RST3')).toBeUndefined();
      const row = (await get('/fleet/devices?q=RST2')).items[0];
      expect(row).toMatchObject({ id: 'RST2', online: 'offline', offlineReason: 'never_reported', health: 'unknown' });
    } finally {
      clearInterval(keepReporting);
    }
  });

  it('a device that flaps ten times gets one alert that counts the flaps, and one ticket', async () => {
    const will = { topic: 'poly/v1/devices/FLAP1/presence', payload: Buffer.from(JSON.stringify({ state: 'offline', ts: Date.now() })), qos: 1 as const, retain: false };
    for (let i = 0; i < 10; i++) {
      const device = await mqtt.connectAsync(testMqttUrl(), { clientId: `flap-${process.pid}`, will });
      await device.publishAsync('poly/v1/devices/FLAP1/status', statusPayload(i + 1, Date.now()), { qos: 1 });
      await waitFor(async () => service.liveState.get('FLAP1')?.presence, (p) => p === 'online', 3000, 10);
      device.stream.destroy(); // a pulled cable: the broker sends the Last Will
      await waitFor(async () => service.liveState.get('FLAP1')?.presence, (p) => p === 'offline', 3000, 10);
    }
    await sleep(300);
    const mine = alertEvents.filter((e) => e.includes('FLAP1'));
    expect(mine.filter((e) => e.startsWith('alert.firing'))).toEqual(['alert.firing device_offline/FLAP1']);
    expect(mine.filter((e) => e.startsWith('ticket.created'))).toEqual(['ticket.created device_offline/FLAP1']);
    expect(mine.filter((e) => e.startsWith('alert.resolved') || e.includes('reopened'))).toEqual([]);
    expect(service.alerting.tickets.list({ deviceId: 'FLAP1' })).toHaveLength(1);
    const alert = service.alerting.alerts.get('device_offline/FLAP1')!;
    expect(alert).toMatchObject({ state: 'firing', value: 10 });
    expect(alert.summary).toBe('Device offline: connection lost (Last Will); flapping, offline 10 times in 10 min');
    // The NOC sees the count through the API.
    const listed = (await get('/alerts?state=firing', NOC)).items.find((a: any) => a.fingerprint === 'device_offline/FLAP1');
    expect(listed.summary).toContain('offline 10 times');
  });
});
