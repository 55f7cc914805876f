// The ingest path end to end: real mosquitto, the real collector (in-process), real influxd, SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { testMqttUrl } from '../support/services.js';
import type { Service } from '../../src/service.js';
import { countStatus, makeWorld, publisher, range, startInProcess, statusPayload, storedSeqs, waitFor, type TestWorld } from '../support/harness.js';

const DEVICES = range(20).map((i) => `ITDEV${String(i).padStart(4, '0')}`);
const PER_DEVICE = 50;

describe('ingest: device -> mosquitto -> collector -> InfluxDB', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;

  beforeAll(async () => {
    world = makeWorld(DEVICES.map((id) => ({ id, model: 'Studio X30' })));
    service = await startInProcess(world);
    await waitFor(async () => (await fetch(`${service.httpUrl}/readyz`)).status, (s) => s === 200, 15_000);
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('stores every (device, seq) published exactly once, attributed to its tenant', async () => {
    const t0 = Date.now() - 60_000;
    const sends: Promise<unknown>[] = [];
    for (let seq = 0; seq < PER_DEVICE; seq++) {
      for (const [i, id] of DEVICES.entries()) {
        sends.push(pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(seq, t0 + seq * 1000 + i), { qos: 1 }));
      }
    }
    await Promise.all(sends);
    const total = DEVICES.length * PER_DEVICE;
    expect(await waitFor(() => countStatus(world), (n) => n >= total, 20_000)).toBe(total);
    const seqs = await storedSeqs(world);
    expect([...seqs.keys()].sort()).toEqual(DEVICES);
    for (const id of DEVICES) expect(seqs.get(id)).toEqual(range(PER_DEVICE));

    const tagged = await world.influx.query<{ count: number }>(
      `SELECT count("seq") AS "count" FROM "device_status" WHERE "partner"='p-test' AND "customer"='c-test' AND "site"='s-test' AND "model"='Studio X30'`,
    );
    expect(tagged[0]?.count).toBe(total);
    const live = service.liveState.get(DEVICES[3]!);
    expect(live?.lastStatus?.seq).toBe(PER_DEVICE - 1);
    expect(live?.presence).toBe('online');
  });

  it('a redelivered message overwrites itself instead of counting twice', async () => {
    const before = await countStatus(world);
    const payload = statusPayload(7, Date.now() - 30_000);
    for (let i = 0; i < 3; i++) await pub.publishAsync(`poly/v1/devices/${DEVICES[0]}/status`, payload, { qos: 1 });
    expect(await waitFor(() => countStatus(world), (n) => n > before, 10_000)).toBe(before + 1);
  });

  it('sets each kind of bad input aside with its reason and counts it, while valid traffic goes on', async () => {
    const id = DEVICES[1]!;
    const now = Date.now();
    const bad: Array<[string, string | Buffer, string]> = [
      [`poly/v1/devices/${id}/status`, '{"v":1,"ts":', 'not_json'],
      [`poly/v1/devices/${id}/status`, '[1,2,3]', 'not_object'],
      [`poly/v1/devices/${id}/status`, Buffer.alloc(70 * 1024, 0x7b), 'too_large'],
      [`poly/v1/devices/${id}/status`, JSON.stringify({ v: 1, ts: now, seq: 1, model: 'Studio X30' }), 'missing_field'],
      [`poly/v1/devices/${id}/status`, JSON.stringify({ v: 9, ts: now, seq: 1, model: 'm', firmware: 'f' }), 'unsupported_version'],
      [`poly/v1/devices/${id}/firmware`, '{}', 'unknown_topic'],
      ['poly/v1/devices/bad%id/status', statusPayload(1, now), 'bad_device_id'],
      [`poly/v1/devices/${id}/events`, JSON.stringify({ v: 1, ts: now, type: 'explode', severity: 'info' }), 'bad_field'],
    ];
    const before = await countStatus(world);
    for (const [k, [topic, payload]] of bad.entries()) {
      await pub.publishAsync(topic, payload, { qos: 1 });
      // valid traffic interleaved with the bad
      await pub.publishAsync(`poly/v1/devices/${DEVICES[2]}/status`, statusPayload(1000 + k, now - 20_000 + k), { qos: 1 });
    }
    const letters = await waitFor(async () => service.deadLetterStore.list({ limit: 100 }), (l) => l.length >= bad.length, 10_000);
    const codes = letters.map((l) => l.reasonCode).sort();
    expect(codes).toEqual(bad.map((b) => b[2]).sort());
    const tooLarge = letters.find((l) => l.reasonCode === 'too_large')!;
    expect(tooLarge.reason).toMatch(/over the 65536-byte limit/);
    expect(tooLarge.size).toBe(70 * 1024);
    const missing = letters.find((l) => l.reasonCode === 'missing_field')!;
    expect(missing.reason).toContain('firmware');
    expect(missing.deviceId).toBe(id);
    expect(missing.payload.toString()).toContain('"seq":1');

    expect(await waitFor(() => countStatus(world), (n) => n >= before + bad.length, 10_000)).toBe(before + bad.length);
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/fleetwatch_messages_invalid_total\{reason="not_json"\} 1/);
    expect(metrics).toMatch(/fleetwatch_messages_invalid_total\{reason="too_large"\} 1/);
    expect(metrics).toMatch(/fleetwatch_points_written_total \d+/);
    expect(metrics).toMatch(/fleetwatch_journal_pending_bytes \d+/);
    expect(metrics).toMatch(/fleetwatch_write_duration_seconds_bucket/);
    expect(metrics).toMatch(/fleetwatch_batch_points_bucket/);
  });

  it('keeps the data of an unregistered device, tagged unknown, and records it for a coverage alert', async () => {
    const seen: string[] = [];
    service.events.on('unknown-device', (id) => seen.push(id));
    for (let seq = 0; seq < 3; seq++) {
      await pub.publishAsync('poly/v1/devices/STRANGER01/status', statusPayload(seq, Date.now() - 10_000 + seq, { model: 'Studio X70' }), { qos: 1 });
    }
    const rows = await waitFor(
      () => world.influx.query<{ seq: number; partner: string; customer: string; site: string; model: string }>(`SELECT "seq", "partner", "customer", "site", "model" FROM "device_status" WHERE "device"='STRANGER01'`),
      (r) => r.length >= 3,
      10_000,
    );
    expect(rows.map((r) => [r.partner, r.customer, r.site, r.model])).toEqual(Array(3).fill(['unknown', 'unknown', 'unknown', 'Studio X70']));
    expect(seen).toEqual(['STRANGER01']);
    service.unknownDevices.flush();
    expect(service.unknownDevices.list().find((u) => u.deviceId === 'STRANGER01')).toMatchObject({ model: 'Studio X70', messages: 3 });
  });

  it('answers /healthz and /readyz with every dependency reachable', async () => {
    expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { broker: 'ok', influxdb: 'ok', database: 'ok' } });
  });

  it('creates the database with its retention policies and the 5-minute rollup', async () => {
    const policies = await world.influx.showRetentionPolicies(world.name);
    expect(policies.find((p) => p.name === 'raw')).toMatchObject({ duration: '720h0m0s', default: true });
    expect(policies.find((p) => p.name === 'rollup')).toMatchObject({ duration: '9600h0m0s', default: false });
    const cqs = await world.influx.showContinousQueries(world.name);
    const cq = cqs.find((c) => c.name === 'cq_device_status_5m');
    expect(cq?.query).toContain('RESAMPLE EVERY 5m FOR 2h');
  });
});

describe('presence: retained state and the Last Will', () => {
  it('marks a device offline when its connection dies, stores both transitions, and does not store a retained replay again', async () => {
    const world = makeWorld([{ id: 'PRES0001' }]);
    let service = await startInProcess(world);
    try {
      const topic = 'poly/v1/devices/PRES0001/presence';
      const device = await mqtt.connectAsync(testMqttUrl(), {
        clientId: 'PRES0001',
        will: { topic, payload: Buffer.from(JSON.stringify({ state: 'offline', ts: Date.now() })), qos: 1, retain: true },
      });
      await device.publishAsync(topic, JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1, retain: true });
      await waitFor(async () => service.liveState.get('PRES0001')?.presence, (p) => p === 'online', 5000, 50);
      device.stream.destroy(); // the device loses power: no DISCONNECT, so the broker sends the Will
      expect(await waitFor(async () => service.liveState.get('PRES0001')?.presence, (p) => p === 'offline', 10_000, 50)).toBe('offline');
      const query = () => world.influx.query<{ online: boolean }>(`SELECT "online" FROM "device_presence" WHERE "device"='PRES0001'`);
      expect((await waitFor(query, (r) => r.length >= 2, 5000)).map((r) => r.online)).toEqual([true, false]);

      // A restarted collector learns the state from the retained message without storing it again.
      await service.stop();
      service = await startInProcess(world);
      expect(await waitFor(async () => service.liveState.get('PRES0001')?.presence, (p) => p === 'offline', 5000, 50)).toBe('offline');
      await new Promise((r) => setTimeout(r, 500));
      expect((await query()).length).toBe(2);
    } finally {
      await service.stop();
      const cleaner = await mqtt.connectAsync(testMqttUrl(), { clientId: 'presence-cleaner' });
      await cleaner.publishAsync('poly/v1/devices/PRES0001/presence', '', { qos: 1, retain: true }); // clear the retained message
      await cleaner.endAsync();
      await world.cleanup();
    }
  });
});
