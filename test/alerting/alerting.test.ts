// Alerting end to end: device messages over real mosquitto, through the collector, into the rules;
// alerts, tickets and audit entries checked in the database, events on the bus.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEventMap } from '../../alerting/events.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, range, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';

// The shipped rules with short timings, so each fires and resolves in well under a second
// (hardware faults confirmed at once: test/alerting/triage.test.ts covers the confirmation window).
const FAST = {
  rules: [
    { name: 'overheating', for: '0s', clearFor: '0s', confirmFor: '0s' },
    { name: 'fan_stopped', for: '0s', clearFor: '0s', confirmFor: '0s' },
    { name: 'peripheral_failed', clearFor: '0s', confirmFor: '0s' },
    { name: 'packet_loss', for: '0s', clearFor: '0s' },
    { name: 'jitter_high', for: '0s', clearFor: '0s' },
    { name: 'latency_high', for: '0s', clearFor: '0s' },
    { name: 'poor_call_quality', for: '0s', clearFor: '0s' },
    { name: 'network_link_down', for: '0s', clearFor: '0s' },
    { name: 'cloud_registration_lost', for: '0s', clearFor: '0s' },
    { name: 'reboot_loop', window: '3s' },
    { name: 'seq_gap', window: '1500ms' },
    { name: 'device_offline', missedIntervals: 3, defaultInterval: '1s', clearFor: '300ms' },
  ],
};

const DEVICE = 'ALRT0001';
const good = (seq: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1, ts: Date.now(), seq, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 1000 + seq, cpuPct: 10, memPct: 30, tempC: 45, fanRpm: 3000,
    network: { link: 'up', rttMs: 20, jitterMs: 3, lossPct: 0 }, call: { active: true, platform: 'teams', mos: 4.3 }, cloud: { provider: 'teams', registered: true },
    peripherals: [{ kind: 'camera', state: 'ok' }],
    ...extra,
  });

describe('alerting on the live stream', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const seen: Array<{ type: keyof AlertEventMap; rule?: string | undefined; deviceId: string | null }> = [];
  let seq = 0;

  const listen = (s: Service) => {
    for (const type of ['alert.firing', 'alert.resolved'] as const) s.alerting.events.on(type, (e) => seen.push({ type, rule: e.alert.rule, deviceId: e.deviceId }));
    s.alerting.events.on('ticket.created', (e) => seen.push({ type: 'ticket.created', rule: e.ticket.dedupKey?.split('/')[0], deviceId: e.deviceId }));
    s.alerting.events.on('ticket.updated', (e) => seen.push({ type: 'ticket.updated', rule: e.ticket.dedupKey?.split('/')[0], deviceId: e.deviceId }));
  };
  const send = (payload: string, device = DEVICE) => pub.publishAsync(`poly/v1/devices/${device}/status`, payload, { qos: 1 });
  const firingEvents = (rule: string, device = DEVICE) => seen.filter((e) => e.type === 'alert.firing' && e.rule === rule && e.deviceId === device).length;
  const resolvedEvents = (rule: string, device = DEVICE) => seen.filter((e) => e.type === 'alert.resolved' && e.rule === rule && e.deviceId === device).length;

  beforeAll(async () => {
    world = makeWorld([{ id: DEVICE }, { id: 'FLAP0001' }, { id: 'LOOP0001' }, ...range(1000).map((i) => ({ id: `FLEET${String(i).padStart(4, '0')}` }))]);
    const rulesPath = join(world.dir, 'rules.json');
    writeFileSync(rulesPath, JSON.stringify(FAST));
    world.env.ALERT_RULES = rulesPath;
    world.config.alertRules = rulesPath;
    service = await startInProcess(world);
    listen(service);
    pub = await publisher();
    await send(good(seq++));
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const faults: Array<[string, Record<string, unknown>]> = [
    ['overheating', { tempC: 82 }],
    ['fan_stopped', { fanRpm: 0 }],
    ['peripheral_failed', { peripherals: [{ kind: 'camera', state: 'failed' }] }],
    ['packet_loss', { network: { link: 'up', rttMs: 20, jitterMs: 3, lossPct: 12 } }],
    ['jitter_high', { network: { link: 'up', rttMs: 20, jitterMs: 60, lossPct: 0 } }],
    ['latency_high', { network: { link: 'up', rttMs: 450, jitterMs: 3, lossPct: 0 } }],
    ['poor_call_quality', { call: { active: true, platform: 'teams', mos: 2.9 } }],
    ['network_link_down', { network: { link: 'down' } }],
    ['cloud_registration_lost', { cloud: { provider: 'teams', registered: false } }],
  ];

  it.each(faults)('%s fires on the decisive message, opens one ticket, and resolves it when the value recovers', async (rule, fault) => {
    await send(good(seq++, fault));
    await send(good(seq++, fault)); // repeating the fault changes nothing
    expect(await waitFor(async () => firingEvents(rule), (n) => n >= 1, 5000, 20)).toBe(1);
    const fingerprint = `${rule}/${DEVICE}`;
    const open = service.alerting.tickets.openFor(fingerprint);
    expect(open).toMatchObject({ deviceId: DEVICE, partnerId: 'p-test', status: 'open', queue: 'partner_l1', coverage: 'covered' });
    await send(good(seq++));
    expect(await waitFor(async () => resolvedEvents(rule), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.alerts.get(fingerprint)?.state).toBe('resolved');
    expect(service.alerting.tickets.get(open!.id)?.status).toBe('resolved');
    const history = service.alerting.tickets.history(open!.id).map((h) => h.type);
    expect(history.filter((h) => !h.startsWith('replacement_') && !h.startsWith('onsite_'))).toEqual(['opened', 'resolved']);
    // hardware faults on a covered device also request an advance replacement (test/alerting/follow-up.test.ts)
    expect(history.includes('replacement_requested')).toBe(['overheating', 'fan_stopped', 'peripheral_failed'].includes(rule));
    expect(firingEvents(rule)).toBe(1);
  });

  it('firmware below the catalog minimum raises a low-priority ticket until the device is updated', async () => {
    await send(good(seq++, { firmware: '3.14.2.330012' }));
    expect(await waitFor(async () => firingEvents('firmware_below_minimum'), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.alerts.get(`firmware_below_minimum/${DEVICE}`)?.summary).toBe('Firmware 3.14.2.330012 below the catalog minimum 4.0.0');
    expect(service.alerting.tickets.openFor(`firmware_below_minimum/${DEVICE}`)).toMatchObject({ priority: 'P4' });
    await send(good(seq++, { firmware: '4.2.0.360102' }));
    expect(await waitFor(async () => resolvedEvents('firmware_below_minimum'), (n) => n >= 1, 5000, 20)).toBe(1);
  });

  it('seq gaps raise an info alert without a ticket, resolved after the window', async () => {
    seq += 5; // five messages lost on the way
    await send(good(seq++));
    expect(await waitFor(async () => firingEvents('seq_gap'), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.alerts.get(`seq_gap/${DEVICE}`)?.summary).toContain('5 missing');
    expect(service.alerting.tickets.openFor(`seq_gap/${DEVICE}`)).toBeUndefined();
    expect(await waitFor(async () => resolvedEvents('seq_gap'), (n) => n >= 1, 5000, 100)).toBe(1);
  });

  it('three reboots within the window are a reboot loop', async () => {
    for (let boot = 0; boot < 4; boot++) { // the first boot is not a reboot: three restarts follow
      for (let s = 0; s < 3; s++) await pub.publishAsync('poly/v1/devices/LOOP0001/status', good(s, { uptimeS: 10 + s }), { qos: 1 });
    }
    expect(await waitFor(async () => firingEvents('reboot_loop', 'LOOP0001'), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.alerts.get('reboot_loop/LOOP0001')?.summary).toBe('3 reboots in 30 minutes');
  });

  it('a device that stops sending is offline after three missed intervals, and back when it speaks', async () => {
    const quiet = 'FLEET0999';
    for (let s = 0; s < 3; s++) {
      await pub.publishAsync(`poly/v1/devices/${quiet}/status`, good(s), { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
    }
    const t0 = Date.now();
    expect(await waitFor(async () => firingEvents('device_offline', quiet), (n) => n >= 1, 8000, 50)).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
    await pub.publishAsync(`poly/v1/devices/${quiet}/status`, good(3), { qos: 1 });
    expect(await waitFor(async () => resolvedEvents('device_offline', quiet), (n) => n >= 1, 5000, 20)).toBe(1);
  });

  it('the Last Will makes a device offline at once', async () => {
    const id = 'FLEET0998';
    const device = await mqtt.connectAsync(testMqttUrl(), { clientId: id, will: { topic: `poly/v1/devices/${id}/presence`, payload: Buffer.from(JSON.stringify({ state: 'offline', ts: Date.now() })), qos: 1, retain: false } });
    await device.publishAsync(`poly/v1/devices/${id}/status`, good(0), { qos: 1 });
    await waitFor(async () => service.liveState.get(id)?.presence, (p) => p === 'online', 5000, 20);
    device.stream.destroy();
    expect(await waitFor(async () => firingEvents('device_offline', id), (n) => n >= 1, 5000, 20)).toBe(1);
  });

  it('a flapping value opens one alert and one ticket', async () => {
    const flap = 'FLAP0001';
    // fire above 75, clear at or below 70: a value swinging between 72 and 78 never clears
    for (let i = 0; i < 20; i++) {
      await pub.publishAsync(`poly/v1/devices/${flap}/status`, good(i, { tempC: i % 2 ? 78 : 72 }), { qos: 1 });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(firingEvents('overheating', flap)).toBe(1);
    expect(resolvedEvents('overheating', flap)).toBe(0);
    expect(service.alerting.tickets.list({ deviceId: flap })).toHaveLength(1);
  });

  it('1,000 devices repeating a fault open 1,000 tickets, each once', async () => {
    const ids = range(1000).map((i) => `FLEET${String(i).padStart(4, '0')}`);
    const sends: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round++) {
      for (const id of ids) sends.push(pub.publishAsync(`poly/v1/devices/${id}/status`, good(100 + round, { fanRpm: 0 }), { qos: 1 }));
    }
    await Promise.all(sends);
    // By dedup key, not a newest-first page: once they go quiet the 1,000 devices also go offline
    // (their learnt interval is milliseconds), and those newer tickets would crowd a page out.
    const count = () => Promise.resolve(ids.filter((id) => service.alerting.tickets.openFor(`fan_stopped/${id}`)).length);
    expect(await waitFor(count, (n) => n >= 1000, 20_000, 200)).toBe(1000);
    const created = seen.filter((e) => e.type === 'ticket.created' && e.rule === 'fan_stopped' && e.deviceId?.startsWith('FLEET'));
    expect(created).toHaveLength(1000);
    expect(new Set(created.map((e) => e.deviceId)).size).toBe(1000);
    expect(seen.filter((e) => e.type === 'alert.firing' && e.rule === 'fan_stopped' && e.deviceId?.startsWith('FLEET'))).toHaveLength(1000);
    // grouped, they are one line: same partner, customer, site and rule
    const group = service.alerting.alerts.groups({ partnerId: 'p-test' }).find((g) => g.rule === 'fan_stopped');
    expect(group).toMatchObject({ key: 'p-test/c-test/s-test/fan_stopped', firing: 1000, severity: 'critical' });
    expect(group!.devices).toHaveLength(20);
    expect(service.alerting.alerts.groups({ partnerId: 'p-other' })).toEqual([]);
  });

  it('an unregistered device raises a coverage alert for the NOC', async () => {
    await pub.publishAsync('poly/v1/devices/NOBODY0001/status', good(0), { qos: 1 });
    expect(await waitFor(async () => firingEvents('unregistered_device', 'NOBODY0001'), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.tickets.openFor('unregistered_device/NOBODY0001')).toMatchObject({ queue: 'noc', partnerId: null, coverage: 'unknown' });
  });

  it('records every automatic action in the audit log, and the chain verifies', async () => {
    const entries = service.alerting.audit.query({ subject: `alert:overheating/${DEVICE}` });
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['alert.firing', 'alert.resolved']));
    expect(service.alerting.audit.verify()).toMatchObject({ ok: true });
  });

  it('after a restart, what was firing is still firing and is not announced again', async () => {
    expect(service.alerting.alerts.get('fan_stopped/FLEET0001')?.state).toBe('firing');
    const firingBefore = new Set(service.alerting.alerts.allFiring().map((a) => `${a.rule}/${a.deviceId}`));
    await service.stop();
    service = await startInProcess(world);
    seen.length = 0;
    listen(service);
    await pub.publishAsync('poly/v1/devices/FLEET0001/status', good(10, { fanRpm: 0 }), { qos: 1 }); // still broken
    await new Promise((r) => setTimeout(r, 500));
    // Devices that went quiet just before the restart may go offline now (that is news); nothing
    // that was firing before is announced again.
    const announced = seen.filter((e) => e.type === 'alert.firing' || e.type === 'ticket.created');
    expect(announced.filter((e) => firingBefore.has(`${e.rule}/${e.deviceId}`))).toEqual([]);
    expect(announced.filter((e) => e.rule !== 'device_offline' && e.rule !== 'site_network_down')).toEqual([]);
    expect(service.alerting.alerts.get('fan_stopped/FLEET0001')?.state).toBe('firing');
    expect(service.alerting.evaluator.firingRules('FLEET0001')).toContain('fan_stopped');
    await pub.publishAsync('poly/v1/devices/FLEET0001/status', good(11), { qos: 1 }); // repaired
    expect(await waitFor(async () => resolvedEvents('fan_stopped', 'FLEET0001'), (n) => n >= 1, 5000, 20)).toBe(1);
    expect(service.alerting.tickets.openFor('fan_stopped/FLEET0001')).toBeUndefined();
  });
});
