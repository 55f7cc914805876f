// ECPS: a Teams outage across three customers opens one cloud-partner incident, over real MQTT.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

const CUSTOMERS = ['c-globex', 'c-initech', 'c-umbrella', 'c-hooli'];
const device = (c: number, n: number) => `ECPS${c}${n}`;

function threeCustomerSeed(path: string): void {
  writeFileSync(
    path,
    JSON.stringify({
      partners: [{ id: 'p-acme', name: 'Acme AV', timezone: 'Europe/Berlin', country: 'DE' }, { id: 'p-blue', name: 'Bluewave', timezone: 'America/New_York', country: 'US' }],
      customers: CUSTOMERS.map((id, i) => ({ id, partnerId: i % 2 ? 'p-blue' : 'p-acme', name: id, country: i % 2 ? 'US' : 'DE' })),
      sites: CUSTOMERS.map((c, i) => ({ id: `s-${i}`, customerId: c, name: `site ${i}`, country: i % 2 ? 'US' : 'DE', timezone: i % 2 ? 'America/New_York' : 'Europe/Berlin' })),
      devices: CUSTOMERS.flatMap((_, c) => [0, 1].map((n) => ({ id: device(c, n), model: 'Studio X50', siteId: `s-${c}`, coverage: { plan: 'poly-plus', until: '2030-12-31', onsite: false } }))),
    }),
  );
}

const status = (seq: number, registered: boolean, provider = 'teams') =>
  JSON.stringify({ v: 1, ts: Date.now(), seq, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 100 + seq, cloud: { provider, registered } });

describe('cloud-partner incidents (ECPS)', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;

  beforeAll(async () => {
    world = makeWorld([]);
    threeCustomerSeed(world.env.FLEET_SEED!);
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'cloud_registration_lost', for: '0s', clearFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    service = await startInProcess(world);
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const send = (id: string, seq: number, registered: boolean, provider?: string) => pub.publishAsync(`poly/v1/devices/${id}/status`, status(seq, registered, provider), { qos: 1 });

  it('opens one incident for the cloud partner when three customers lose Teams, and links every device alert to it', async () => {
    for (let c = 0; c < 4; c++) for (let n = 0; n < 2; n++) await send(device(c, n), 0, true);
    // customer 0 loses Teams: one device ticket each, as usual
    await send(device(0, 0), 1, false);
    await send(device(0, 1), 1, false);
    await waitFor(async () => service.alerting.tickets.openFor(`cloud_registration_lost/${device(0, 1)}`), (t) => t !== undefined, 5000, 20);
    // customer 1 too; then customer 2: three customers, so it is Teams' fault
    await send(device(1, 0), 1, false);
    await send(device(2, 0), 1, false);
    const incident = await waitFor(async () => service.alerting.tickets.openFor('cloud_incident/teams'), (t) => t !== undefined, 5000, 20);
    expect(incident).toMatchObject({ kind: 'cloud_incident', queue: 'cloud_partner', priority: 'P1', partnerId: null });
    expect(incident!.title).toContain('across 3 customers');
    // more devices join the incident instead of opening tickets
    await send(device(3, 0), 1, false);
    await send(device(2, 1), 1, false);
    await new Promise((r) => setTimeout(r, 300));
    const lost = [device(0, 0), device(0, 1), device(1, 0), device(2, 0), device(3, 0), device(2, 1)];
    for (const id of lost) {
      expect(service.alerting.alerts.get(`cloud_registration_lost/${id}`), id).toMatchObject({ state: 'firing', incidentId: incident!.id });
      expect(service.alerting.tickets.openFor(`cloud_registration_lost/${id}`), id).toBeUndefined();
    }
    const open = service.alerting.tickets.list({ status: 'open', limit: 100 });
    expect(open.map((t) => t.dedupKey)).toEqual(['cloud_incident/teams']);
    const merged = service.alerting.tickets.list({ limit: 100 }).filter((t) => t.kind === 'alert');
    expect(merged).toHaveLength(3); // the tickets opened before it was clear, now merged
    for (const t of merged) expect(service.alerting.tickets.history(t.id).at(-1)?.body).toBe(`Merged into cloud-partner incident #${incident!.id}`);
  });

  it('resolves the incident when the last device is registered again', async () => {
    const lost = [device(0, 0), device(0, 1), device(1, 0), device(2, 0), device(3, 0), device(2, 1)];
    for (const [i, id] of lost.entries()) {
      await send(id, 2, true);
      if (i < lost.length - 1) {
        await new Promise((r) => setTimeout(r, 50));
        expect(service.alerting.tickets.openFor('cloud_incident/teams')).toBeDefined();
      }
    }
    await waitFor(async () => service.alerting.tickets.openFor('cloud_incident/teams'), (t) => t === undefined, 5000, 20);
    const incident = service.alerting.tickets.list({ limit: 100 }).find((t) => t.kind === 'cloud_incident')!;
    expect(incident.status).toBe('resolved');
    expect(service.alerting.tickets.history(incident.id).at(-1)?.body).toBe('Every device is registered again');
  });

  it('a loss at one customer stays a per-device ticket', async () => {
    await send(device(1, 1), 3, true, 'zoom');
    await send(device(1, 1), 4, false, 'zoom');
    const t = await waitFor(async () => service.alerting.tickets.openFor(`cloud_registration_lost/${device(1, 1)}`), (x) => x !== undefined, 5000, 20);
    expect(t).toMatchObject({ kind: 'alert', partnerId: 'p-blue', customerId: 'c-initech' });
    expect(service.alerting.tickets.openFor('cloud_incident/zoom')).toBeUndefined();
  });
});
