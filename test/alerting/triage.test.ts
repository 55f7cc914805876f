// Triage before a part ships, over real MQTT: an advance replacement is proposed only for a hardware
// fault that lasts its confirmation window; a disconnected peripheral (a cable) never ships a part;
// tickets of unregistered devices stay in the NOC queue, never in a partner's L1 queue.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONFIRM_MS = 2000;

describe('triage before a part ships', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  const seqs = new Map<string, number>();

  const camera = (id: string, state: string) => {
    const seq = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, seq);
    return pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(seq, Date.now(), { peripherals: [{ kind: 'camera', state }] }), { qos: 1 });
  };
  const ticketOf = (id: string) => service.alerting.tickets.openFor(`peripheral_failed/${id}`);
  const historyTypes = (ticketId: number) => service.alerting.tickets.history(ticketId).map((h) => h.type);

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, { devicesA: ['TRI1', 'TRI2', 'TRI3', 'TRI4', 'TRI5', 'TRI6'], devicesB: [] });
    // The shipped peripheral rule with a shorter confirmation window (shipped: 2m).
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'peripheral_failed', confirmFor: `${CONFIRM_MS}ms`, clearFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    service = await startInProcess(world);
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('a camera that is only disconnected raises the alert and ticket, and never ships a part', async () => {
    await camera('TRI1', 'disconnected');
    const ticket = await waitFor(async () => ticketOf('TRI1'), (t) => t !== undefined, 5000, 20);
    expect(ticket).toBeDefined();
    await sleep(CONFIRM_MS + 1500);
    await camera('TRI1', 'disconnected'); // still disconnected, well past the window
    await sleep(300);
    expect(service.alerting.replacements.get(ticket!.id)).toBeUndefined();
    expect(historyTypes(ticket!.id)).toContain('replacement_not_needed');
    expect(historyTypes(ticket!.id)).not.toContain('replacement_requested');
  });

  it('a camera failure shorter than the confirmation window ships nothing', async () => {
    await camera('TRI2', 'failed');
    const ticket = await waitFor(async () => ticketOf('TRI2'), (t) => t !== undefined, 5000, 20);
    await sleep(CONFIRM_MS / 2);
    await camera('TRI2', 'ok'); // reseated
    await sleep(CONFIRM_MS + 1000);
    expect(service.alerting.replacements.get(ticket!.id)).toBeUndefined();
    expect(historyTypes(ticket!.id)).not.toContain('replacement_requested');
  });

  it('a camera failure that persists gets its advance replacement once the window has passed', async () => {
    const t0 = Date.now();
    await camera('TRI3', 'failed');
    const ticket = await waitFor(async () => ticketOf('TRI3'), (t) => t !== undefined, 5000, 20);
    expect(service.alerting.replacements.get(ticket!.id)).toBeUndefined(); // not at once
    const r = await waitFor(async () => service.alerting.replacements.get(ticket!.id), (x) => x !== undefined, CONFIRM_MS + 4000, 50);
    expect(r).toMatchObject({ fault: 'camera', status: 'requested', deviceId: 'TRI3' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CONFIRM_MS);
    // Decided once: more reports of the same fault change nothing.
    await camera('TRI3', 'failed');
    await sleep(1200);
    expect(historyTypes(ticket!.id).filter((t) => t === 'replacement_requested')).toHaveLength(1);
  });

  it('a ticket of an unregistered device stays in the NOC queue when its escalation steps come due', async () => {
    await pub.publishAsync('poly/v1/devices/STRANGER1/status', statusPayload(1, Date.now()), { qos: 1 });
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('unregistered_device/STRANGER1'), (t) => t !== undefined, 5000, 20);
    expect(ticket).toMatchObject({ queue: 'noc', partnerId: null });
    // The first step of every policy (partner L1) is due at once; the scheduler ticks every second.
    await sleep(2500);
    expect(service.alerting.tickets.get(ticket!.id)).toMatchObject({ queue: 'noc', partnerId: null });
    expect(service.alerting.tickets.history(ticket!.id).filter((h) => h.type === 'escalated')).toEqual([]);
  });
});
