// Silences and maintenance windows over real MQTT: muted alerts are recorded, not announced, open
// no ticket, and are announced when the window ends if they still fire.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

const status = (seq: number, tempC: number) => JSON.stringify({ v: 1, ts: Date.now(), seq, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 100 + seq, tempC });

describe('silences and maintenance windows', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const fired: string[] = [];
  const resolved: string[] = [];

  beforeAll(async () => {
    world = makeWorld([{ id: 'SIL0001' }, { id: 'SIL0002' }, { id: 'SIL0003' }]);
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'overheating', for: '0s', clearFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    service = await startInProcess(world);
    service.alerting.events.on('alert.firing', (e) => fired.push(e.alert.fingerprint));
    service.alerting.events.on('alert.resolved', (e) => resolved.push(e.alert.fingerprint));
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const send = (id: string, seq: number, tempC: number) => pub.publishAsync(`poly/v1/devices/${id}/status`, status(seq, tempC), { qos: 1 });

  it('a silence mutes the alert until its end time, then the alert is announced if it still fires', async () => {
    const now = Date.now();
    const silence = service.alerting.silences.add({ kind: 'silence', deviceId: 'SIL0001', rule: 'overheating', startsMs: now - 1000, endsMs: now + 2000, createdBy: 'ops@acme', comment: 'fan replaced this afternoon' });
    await send('SIL0001', 0, 90);
    const alert = await waitFor(async () => service.alerting.alerts.get('overheating/SIL0001'), (x) => x?.state === 'firing', 5000, 20);
    expect(alert?.notifiedState).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(fired).not.toContain('overheating/SIL0001');
    expect(service.alerting.tickets.openFor('overheating/SIL0001')).toBeUndefined();
    expect(service.alerting.audit.query({ subject: 'alert:overheating/SIL0001', action: 'alert.muted' })[0]?.data).toMatchObject({ silence: silence.id });

    await waitFor(async () => fired.includes('overheating/SIL0001'), (x) => x, 5000, 50);
    expect(Date.now()).toBeGreaterThanOrEqual(silence.endsMs);
    expect(service.alerting.tickets.openFor('overheating/SIL0001')).toMatchObject({ status: 'open' });
  });

  it('a maintenance window on a site mutes every rule of its devices; what recovers inside it is never announced', async () => {
    const now = Date.now();
    service.alerting.silences.add({ kind: 'maintenance', siteId: 's-test', startsMs: now - 1000, endsMs: now + 60_000, createdBy: 'ops@acme', comment: 'network work on site' });
    await send('SIL0002', 0, 90);
    await waitFor(async () => service.alerting.alerts.get('overheating/SIL0002'), (x) => x?.state === 'firing', 5000, 20);
    await send('SIL0002', 1, 40);
    await waitFor(async () => service.alerting.alerts.get('overheating/SIL0002'), (x) => x?.state === 'resolved', 5000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(fired).not.toContain('overheating/SIL0002');
    expect(resolved).not.toContain('overheating/SIL0002');
    expect(service.alerting.tickets.list({ deviceId: 'SIL0002' })).toEqual([]);
  });

  it('refuses a silence without an end after its start, or without any matcher', () => {
    const now = Date.now();
    expect(() => service.alerting.silences.add({ kind: 'silence', deviceId: 'SIL0003', startsMs: now, endsMs: now, createdBy: 'x', comment: '' })).toThrow(/end time/);
    expect(() => service.alerting.silences.add({ kind: 'silence', startsMs: now, endsMs: now + 1, createdBy: 'x', comment: '' })).toThrow(/matcher/);
  });
});
