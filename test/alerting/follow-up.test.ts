// What a ticket sets in motion, end to end over real MQTT: escalation by policy (across a restart),
// advance replacement for covered hardware faults, none for uncovered devices, onsite proposals.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipBy } from '../../alerting/replacement/ship-by.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

const status = (seq: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, ts: Date.now(), seq, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 100 + seq, tempC: 45, fanRpm: 3000, peripherals: [{ kind: 'camera', state: 'ok' }], ...extra });

describe('ticket follow-up: escalation, advance replacement, onsite', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;

  beforeAll(async () => {
    world = makeWorld([
      { id: 'ESC0001' },
      { id: 'HW0001', model: 'Studio X70', coverage: { onsite: true } },
      { id: 'OLD0001', coverage: { until: '2020-01-31' } },
      { id: 'BASIC001', coverage: { plan: 'basic' } },
    ]);
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'fan_stopped', for: '0s', confirmFor: '0s' }, { name: 'peripheral_failed', clearFor: '0s', confirmFor: '0s' }] }));
    // P2 (critical faults) on a fast clock: acknowledge within 1 s, Poly support after 3 s, specialist 3 s later.
    writeFileSync(
      join(world.dir, 'escalation.json'),
      JSON.stringify({ defaults: { P2: { clock: '24x7', ack: '1s', steps: [{ level: 'partner_l1', after: '0s' }, { level: 'poly_support', after: '3s' }, { level: 'poly_specialist', after: '3s' }] } } }),
    );
    world.config.alertRules = join(world.dir, 'rules.json');
    world.config.escalationPolicies = join(world.dir, 'escalation.json');
    service = await startInProcess(world);
    pub = await publisher();
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const send = (device: string, payload: string) => pub.publishAsync(`poly/v1/devices/${device}/status`, payload, { qos: 1 });
  const historyOf = (id: number) => service.alerting.tickets.history(id).map((h) => `${h.type}${h.data && 'level' in h.data ? ':' + String(h.data.level) : ''}`);
  const escalationHistory = (id: number) => historyOf(id).filter((h) => /^(opened|ack_overdue|escalated|acknowledged)/.test(h));

  it('escalates an unacknowledged ticket by policy, level by level, exactly once each across a restart', async () => {
    await send('ESC0001', status(0));
    await send('ESC0001', status(1, { fanRpm: 0 }));
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/ESC0001'), (t) => t !== undefined, 5000, 20);
    expect(ticket).toMatchObject({ priority: 'P2', queue: 'partner_l1', status: 'open' });
    const id = ticket!.id;
    await waitFor(async () => service.alerting.tickets.get(id)?.queue, (q) => q === 'poly_support', 6000, 50);
    expect(escalationHistory(id)).toEqual(['opened', 'ack_overdue', 'escalated:poly_support']);
    expect(service.alerting.tickets.get(id)?.status).toBe('escalated');

    await service.stop(); // the process goes away with the specialist step still to come
    service = await startInProcess(world);
    const t = await waitFor(async () => service.alerting.tickets.get(id)?.queue, (q) => q === 'poly_specialist', 8000, 50);
    expect(t).toBe('poly_specialist');
    await new Promise((r) => setTimeout(r, 1500));
    expect(escalationHistory(id)).toEqual(['opened', 'ack_overdue', 'escalated:poly_support', 'escalated:poly_specialist']);
    const audit = service.alerting.audit.query({ subject: `ticket:${id}` }).map((e) => e.action);
    expect(audit.filter((a) => a !== 'replacement.requested')).toEqual(['ticket.opened', 'ticket.ack_overdue', 'ticket.escalated', 'ticket.escalated']);
  }, 30_000);

  it('an acknowledged ticket stops the acknowledge clock and the levels not yet due', async () => {
    await send('ESC0001', status(2)); // fan repaired: the ticket above resolves
    await send('ESC0001', status(3, { peripherals: [{ kind: 'camera', state: 'failed' }] })); // a new fault: P3 by default (warning)
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('peripheral_failed/ESC0001'), (t) => t !== undefined, 5000, 20);
    service.alerting.escalation.acknowledge(ticket!.id, 'ops@acme', 'on it', Date.now());
    expect(service.alerting.tickets.get(ticket!.id)).toMatchObject({ status: 'acknowledged' });
    expect(service.alerting.tickets.history(ticket!.id).at(-1)).toMatchObject({ type: 'acknowledged', actor: 'ops@acme', body: 'on it' });
  });

  it('requests an advance replacement for a hardware fault on a covered device, ship-by on the next business day, and proposes an onsite visit where allowed', async () => {
    await send('HW0001', status(0, { model: 'Studio X70' }));
    const before = Date.now();
    await send('HW0001', status(1, { model: 'Studio X70', peripherals: [{ kind: 'camera', state: 'failed' }] }));
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('peripheral_failed/HW0001'), (t) => t !== undefined, 5000, 20);
    const r = await waitFor(async () => service.alerting.replacements.get(ticket!.id), (x) => x !== undefined, 5000, 20);
    const expected = shipBy({ requestedAt: new Date(before), country: 'DE', timezone: 'Europe/Berlin' });
    expect(r).toMatchObject({ status: 'requested', fault: 'camera', deviceId: 'HW0001', shipBy: expected.shipByDate, deliverBy: expected.deliverByDate });
    expect(r!.shipment.freight).toBe('prepaid');
    expect(historyOf(ticket!.id)).toEqual(expect.arrayContaining(['opened', 'replacement_requested', 'onsite_proposed']));

    // The lifecycle: shipped, delivered, installed (confirmed by the partner), faulty part back.
    const at = (s: number) => new Date(Date.now() + s * 1000);
    expect(service.alerting.replacements.advance(ticket!.id, { type: 'install', at: at(1), by: 'ops@acme' }).error).toMatch(/not delivered/);
    for (const [type, by, s] of [['ship', 'depot', 1], ['deliver', 'carrier', 2], ['install', 'ops@acme', 3], ['return', 'depot', 4]] as const) {
      const res = service.alerting.replacements.advance(ticket!.id, { type, at: at(s), by });
      expect(res.error).toBeUndefined();
    }
    expect(service.alerting.replacements.get(ticket!.id)?.status).toBe('returned');
  });

  it('gives an uncovered device no replacement, and says so on the ticket', async () => {
    await send('OLD0001', status(0));
    await send('OLD0001', status(1, { fanRpm: 0 }));
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/OLD0001'), (t) => t !== undefined, 5000, 20);
    expect(ticket!.coverage).toBe('uncovered');
    await new Promise((r) => setTimeout(r, 200));
    expect(service.alerting.replacements.get(ticket!.id)).toBeUndefined();
    const note = service.alerting.tickets.history(ticket!.id).find((h) => h.type === 'replacement_not_eligible');
    expect(note?.body).toMatch(/No advance replacement: .*(expired|ended|2020-01-31)/);
  });

  it('answers on the clock of the device coverage: business hours without 24/7 coverage', async () => {
    await send('BASIC001', status(0));
    await send('BASIC001', status(1, { fanRpm: 0 }));
    const ticket = await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/BASIC001'), (t) => t !== undefined, 5000, 20);
    expect(ticket!.priority).toBe('P2'); // 24x7 by policy, but the device has business-day coverage
    const plan = JSON.parse(service.alerting.tickets.escalationOf(ticket!.id)!) as { calendar: { kind: string; timezone?: string } };
    expect(plan.calendar).toMatchObject({ kind: 'business_hours', timezone: 'Europe/Berlin' });
    const covered = service.alerting.tickets.openFor('fan_stopped/ESC0001') ?? service.alerting.tickets.list({ deviceId: 'ESC0001' }).find((t) => t.dedupKey === 'fan_stopped/ESC0001')!;
    expect((JSON.parse(service.alerting.tickets.escalationOf(covered.id)!) as { calendar: { kind: string } }).calendar.kind).toBe('24x7');
  });

  it('takes manual tickets and comments, audited and escalated like the others', () => {
    const t = service.alerting.openManualTicket(
      { partnerId: 'p-test', customerId: 'c-test', siteId: 's-test', deviceId: 'ESC0001', title: 'Echo in room 4 during Teams calls', priority: 'P3', queue: 'partner_l1', coverage: 'covered', description: 'Reported by the customer by phone' },
      'ops@acme',
    );
    expect(t).toMatchObject({ kind: 'manual', dedupKey: null, status: 'open' });
    service.alerting.escalation.comment(t.id, 'ops@acme', 'Asked for a call log', Date.now());
    expect(service.alerting.tickets.history(t.id).map((h) => [h.type, h.actor, h.body])).toEqual([
      ['opened', 'ops@acme', 'Reported by the customer by phone'],
      ['comment', 'ops@acme', 'Asked for a call log'],
    ]);
    expect(service.alerting.tickets.escalationOf(t.id)).not.toBeNull();
    expect(service.alerting.audit.query({ subject: `ticket:${t.id}` }).map((e) => e.action)).toEqual(['ticket.opened', 'ticket.comment']);
  });
});
