// Inhibition over real MQTT: a site whose network is down gets one ticket, not one per device.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';

const IDS = ['INH0', 'INH1', 'INH2', 'INH3'];
const status = (seq: number) => JSON.stringify({ v: 1, ts: Date.now(), seq, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 100 + seq, network: { link: 'up' } });

describe('inhibition: a site network outage', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const events: string[] = [];

  beforeAll(async () => {
    world = makeWorld(IDS.map((id) => ({ id })));
    // No hold-down: a device back online resolves at once (the hold-down has its own test, offline.test.ts).
    world.config.alertRules = join(world.dir, 'rules.json');
    writeFileSync(world.config.alertRules, JSON.stringify({ rules: [{ name: 'device_offline', clearFor: '0s' }] }));
    service = await startInProcess(world);
    service.alerting.events.on('alert.firing', (e) => events.push(`firing ${e.alert.fingerprint}`));
    service.alerting.events.on('ticket.created', (e) => events.push(`ticket ${e.ticket.dedupKey}`));
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('opens one site ticket when half the devices go down, merges the earlier device ticket, inhibits the rest', async () => {
    const devices = await Promise.all(
      IDS.map((id) => mqtt.connectAsync(testMqttUrl(), { clientId: id, will: { topic: `poly/v1/devices/${id}/presence`, payload: Buffer.from(JSON.stringify({ state: 'offline', ts: Date.now() })), qos: 1, retain: false } })),
    );
    for (const [i, d] of devices.entries()) await d.publishAsync(`poly/v1/devices/${IDS[i]}/status`, status(0), { qos: 1 });
    await waitFor(async () => IDS.every((id) => service.liveState.get(id)?.presence === 'online'), (x) => x, 5000, 20);

    devices[0]!.stream.destroy(); // one device down: its own ticket
    const own = await waitFor(async () => service.alerting.tickets.openFor('device_offline/INH0'), (t) => t !== undefined, 5000, 20);
    devices[1]!.stream.destroy(); // two of four: the site is down
    devices[2]!.stream.destroy();
    const site = await waitFor(async () => service.alerting.tickets.openFor('site_network_down/site:s-test'), (t) => t !== undefined, 5000, 20);
    await waitFor(async () => service.alerting.alerts.get('device_offline/INH2')?.state, (s) => s === 'firing', 5000, 20);
    await new Promise((r) => setTimeout(r, 200));

    expect(site).toMatchObject({ priority: 'P1', siteId: 's-test', deviceId: null });
    expect(service.alerting.tickets.get(own!.id)?.status).toBe('resolved');
    expect(service.alerting.tickets.history(own!.id).at(-1)?.body).toBe(`Merged into site ticket #${site!.id}`);
    expect(service.alerting.tickets.list({ status: 'open' }).map((t) => t.dedupKey)).toEqual(['site_network_down/site:s-test']);
    expect(events).toEqual(['firing device_offline/INH0', 'ticket device_offline/INH0', 'firing site_network_down/site:s-test', 'ticket site_network_down/site:s-test']);
    for (const id of ['INH1', 'INH2']) expect(service.alerting.alerts.get(`device_offline/${id}`)).toMatchObject({ state: 'firing', notifiedState: null, incidentId: site!.id });
  });

  it('resolves the site when it recovers, and a device still down gets its own ticket again', async () => {
    await pub.publishAsync('poly/v1/devices/INH1/status', status(1), { qos: 1 });
    await pub.publishAsync('poly/v1/devices/INH2/status', status(1), { qos: 1 });
    await waitFor(async () => service.alerting.tickets.openFor('site_network_down/site:s-test'), (t) => t === undefined, 5000, 20);
    const back = await waitFor(async () => service.alerting.tickets.openFor('device_offline/INH0'), (t) => t !== undefined, 5000, 50);
    expect(back).toMatchObject({ status: 'open', reopened: 1 });
  });
});
