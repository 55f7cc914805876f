// Events the rules act on, over real MQTT: a critical `fault` event raises an alert and a ticket
// (and its `cleared` event resolves it), a `peripheral_state` event changes the device's state at
// once (no waiting for the next status), and bad `call_ended` summaries count as bad calls.
import type { MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { connectStream } from '../support/stream-client.js';

const A = 'events-a-user-token-00000';
const event = (type: string, severity: string, data: Record<string, unknown>) => JSON.stringify({ v: 1, ts: Date.now(), type, severity, data });

describe('device events the rules act on', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const sockets: Socket[] = [];
  const alerts: string[] = [];

  const get = async (path: string) => {
    const res = await fetch(`${service.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${A}` } });
    return (await res.json()) as any;
  };
  const state = (fingerprint: string) => service.alerting.alerts.get(fingerprint)?.state;

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, { devicesA: ['EVF1', 'EVF2', 'EVP1', 'EVC1', 'EVC2'], devicesB: [], users: [{ name: 'a', role: 'partner_user', partnerId: 'p-a', token: A }] });
    world.config = loadConfig({ ...world.env, API_RATE_PER_SECOND: '1000', API_RATE_BURST: '1000' });
    service = await startInProcess(world);
    for (const type of ['alert.firing', 'alert.resolved'] as const) service.alerting.events.on(type, (e) => alerts.push(`${type} ${e.alert.fingerprint}`));
    pub = await publisher();
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('a critical fault event raises an alert and a ticket; its cleared event resolves them; a warning does not', async () => {
    await pub.publishAsync('poly/v1/devices/EVF1/status', statusPayload(1, Date.now()), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/EVF2/events', event('fault', 'warning', { code: 'FAN_NOISY', component: 'fan', state: 'active' }), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/EVF1/events', event('fault', 'critical', { code: 'CAM_NO_VIDEO', component: 'camera', state: 'active', message: 'Camera fault' }), { qos: 1 });
    expect(await waitFor(async () => state('device_fault/EVF1'), (s) => s === 'firing', 5000, 20)).toBe('firing');
    const alert = (await get('/alerts?state=firing')).items.find((a: any) => a.fingerprint === 'device_fault/EVF1');
    expect(alert).toMatchObject({ rule: 'device_fault', severity: 'critical', summary: 'Device fault CAM_NO_VIDEO on camera' });
    const ticket = service.alerting.tickets.openFor('device_fault/EVF1');
    expect(ticket).toMatchObject({ priority: 'P2', queue: 'partner_l1', deviceId: 'EVF1' });
    expect((await get(`/tickets/${ticket!.id}`)).title).toContain('Device fault CAM_NO_VIDEO on camera');
    await pub.publishAsync('poly/v1/devices/EVF1/events', event('fault', 'info', { code: 'CAM_NO_VIDEO', component: 'camera', state: 'cleared' }), { qos: 1 });
    expect(await waitFor(async () => state('device_fault/EVF1'), (s) => s === 'resolved', 5000, 20)).toBe('resolved');
    expect(service.alerting.tickets.openFor('device_fault/EVF1')).toBeUndefined();
    expect(state('device_fault/EVF2')).toBeUndefined(); // a warning is below the shipped rule's minSeverity
  });

  it('a peripheral_state event changes the peripheral at once: the API, the stream and the rule see it before the next status', async () => {
    const socket = await connectStream(service.httpUrl, A, sockets);
    const statuses: any[] = [];
    socket.on('device.status', (e) => statuses.push(e));
    await pub.publishAsync('poly/v1/devices/EVP1/status', statusPayload(1, Date.now(), { peripherals: [{ kind: 'camera', model: 'EagleEye Cube', state: 'ok' }, { kind: 'microphone', state: 'ok' }] }), { qos: 1 });
    await waitFor(async () => service.liveState.get('EVP1')?.lastStatus, (s) => s !== undefined, 5000, 20);
    await pub.publishAsync('poly/v1/devices/EVP1/events', event('peripheral_state', 'critical', { kind: 'camera', from: 'ok', to: 'failed' }), { qos: 1 });
    // No further status is sent: the event alone must do it.
    expect(await waitFor(async () => state('peripheral_failed/EVP1'), (s) => s === 'firing', 5000, 20)).toBe('firing');
    const device = await get('/devices/EVP1');
    expect(device.status.snapshot.peripherals).toEqual([{ kind: 'camera', model: 'EagleEye Cube', state: 'failed' }, { kind: 'microphone', state: 'ok' }]);
    expect(device.status.snapshot.peripheralsFailed).toBe(1);
    const last = await waitFor(async () => statuses.filter((e) => e.deviceId === 'EVP1').at(-1), (e) => e?.summary?.health === 'critical' || e?.summary?.health === 'degraded', 3000, 20);
    expect(last.summary.reasons.join(' ')).toMatch(/peripheral|camera/);
    expect(await service.store.recentStatus('EVP1', 0, 10)).toHaveLength(1); // stored once: the event is no new status point
  });

  it('bad call_ended summaries count as bad calls; good ones do not', async () => {
    const call = (mos: number, lossPct: number) => event('call_ended', mos < 3.5 || lossPct > 5 ? 'warning' : 'info', { platform: 'teams', durationS: 600, mos, mosMin: mos - 0.3, lossPct, jitterMs: 12 });
    await pub.publishAsync('poly/v1/devices/EVC2/events', call(4.3, 0.1), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/EVC2/events', call(4.1, 0.2), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/EVC1/events', call(2.9, 1), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(state('bad_calls/EVC1')).toBeUndefined(); // one bad call is no pattern (the rule asks for two within an hour)
    await pub.publishAsync('poly/v1/devices/EVC1/events', call(4.0, 9), { qos: 1 }); // good MOS, but 9 % loss
    expect(await waitFor(async () => state('bad_calls/EVC1'), (s) => s === 'firing', 5000, 20)).toBe('firing');
    expect(service.alerting.alerts.get('bad_calls/EVC1')).toMatchObject({ value: 2, severity: 'warning' });
    expect(state('bad_calls/EVC2')).toBeUndefined();
  });
});
