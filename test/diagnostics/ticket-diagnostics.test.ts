// A run as a ticket's evidence, on its own: an in-memory database, the real ticket store, audit log
// and diagnostics service, replies emitted straight on IngestEvents. The whole path over MQTT and
// the API is test/api/device-history-e2e.test.ts; here: site tickets, and what is written when.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../alerting/audit/audit-log.js';
import { AlertEvents, type AlertEventMap } from '../../alerting/events.js';
import { TicketStore } from '../../alerting/tickets/ticket-store.js';
import { IngestEvents } from '../../collector/ingest-events.js';
import { DiagnosticsEvents } from '../../src/diagnostics/diagnostics-events.js';
import { DiagnosticsService } from '../../src/diagnostics/diagnostics-service.js';
import { describeRun, fitsTicket, TicketDiagnostics, TicketDiagnosticsError } from '../../src/diagnostics/ticket-diagnostics.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import type { DeviceRecord } from '../../src/storage/registry.js';

const device = (deviceId: string, siteId: string): DeviceRecord => ({ deviceId, partnerId: 'p-a', customerId: 'c-a', siteId, model: 'Studio X50', coverage: { plan: 'poly-plus', until: null, onsite: false }, registeredAt: '2025-01-01T00:00:00Z' });
const DEVICES = new Map([
  ['A1', device('A1', 's-1')],
  ['A2', device('A2', 's-1')],
  ['A3', device('A3', 's-2')],
]);

const open: Array<{ db: Database; svc: DiagnosticsService; td: TicketDiagnostics }> = [];
afterEach(() => {
  for (const o of open.splice(0)) {
    o.td.close();
    o.svc.close();
    o.db.close();
  }
});

function rig() {
  const db = openDatabase('sqlite::memory:');
  const now = { ms: 1_800_000_000_000 };
  const ingest = new IngestEvents();
  const diagnosticsEvents = new DiagnosticsEvents();
  const audit = new AuditLog(db, () => now.ms);
  const tickets = new TicketStore(db, 3_600_000);
  const events = new AlertEvents();
  const updates: Array<AlertEventMap['ticket.updated'][0]> = [];
  events.on('ticket.updated', (e) => updates.push(e));
  const log = pino({ level: 'silent' });
  const svc = new DiagnosticsService({ db, ingest, publish: async () => undefined, resolveTenant: (id) => DEVICES.get(id), audit, events: diagnosticsEvents, log, clock: () => now.ms });
  const td = new TicketDiagnostics({ db, diagnostics: svc, diagnosticsEvents, tickets, audit, events, registry: { getDevice: (id) => DEVICES.get(id) }, log, clock: () => now.ms });
  open.push({ db, svc, td });
  const reply = (deviceId: string, commandId: string, data: Record<string, unknown>) =>
    ingest.emit('reply', deviceId, { tenant: DEVICES.get(deviceId), tagSet: '', model: 'Studio X50' }, { commandId, seq: 9, final: true, status: 'ok', data }, now.ms);
  const ticket = (t: { deviceId: string | null; siteId: string | null }) =>
    tickets.openForAlert({ dedupKey: `k/${t.deviceId ?? t.siteId}`, partnerId: 'p-a', customerId: 'c-a', title: 'down', priority: 'P2', queue: 'partner_l1', coverage: 'covered', note: 'down', ...t }, now.ms).ticket;
  return { db, now, svc, td, tickets, audit, updates, reply, ticket };
}

const OPS = { name: 'ops', partnerId: 'p-a' };

describe('network tool runs on tickets', () => {
  it('fits a run to its own device’s ticket, or to a site ticket of the device’s site', () => {
    expect(fitsTicket({ deviceId: 'A1', siteId: 's-1' }, { deviceId: 'A1', siteId: 's-1' })).toBe(true);
    expect(fitsTicket({ deviceId: 'A2', siteId: 's-1' }, { deviceId: 'A1', siteId: 's-1' })).toBe(false); // same site, another device
    expect(fitsTicket({ deviceId: null, siteId: 's-1' }, { deviceId: 'A1', siteId: 's-1' })).toBe(true);
    expect(fitsTicket({ deviceId: null, siteId: 's-2' }, { deviceId: 'A1', siteId: 's-1' })).toBe(false);
    expect(fitsTicket({ deviceId: null, siteId: null }, { deviceId: 'A1', siteId: 's-1' })).toBe(false); // a customer ticket
  });

  it('describes a run in one line for the ticket history', () => {
    expect(describeRun({ tool: 'port', target: 'sip.example.com', params: { tool: 'port', target: 'sip.example.com', port: 5061 }, status: 'ok', result: { open: true, rttMs: 12, banner: 'x'.repeat(200), nested: { a: 1 } } })).toBe('port sip.example.com:5061: ok (open true, rttMs 12)');
    expect(describeRun({ tool: 'ping', target: '10.0.0.1', params: { tool: 'ping', target: '10.0.0.1' }, status: 'timeout', result: null })).toBe('ping 10.0.0.1: timeout');
  });

  it('records a run on a site ticket: attached, then its result, each audited and announced once', () => {
    const r = rig();
    const site = r.ticket({ deviceId: null, siteId: 's-1' });
    const run = r.td.start('A2', { tool: 'ping', target: 'example.com' }, OPS, site);
    expect(run.ticketId).toBe(site.id);
    expect(r.updates.map((u) => [u.ticket.id, u.change])).toEqual([[site.id, 'diagnostics_attached']]);
    r.now.ms += 1500;
    r.reply('A2', run.id, { sent: 4, received: 3, lossPct: 25 });
    expect(r.updates.map((u) => [u.ticket.id, u.change, u.ts])).toEqual([
      [site.id, 'diagnostics_attached', run.createdMs],
      [site.id, 'diagnostics_result', r.now.ms],
    ]);
    expect(r.tickets.history(site.id).filter((h) => h.type.startsWith('diagnostics_')).map((h) => [h.type, h.actor, h.body])).toEqual([
      ['diagnostics_attached', 'ops', 'Network tool run attached: ping example.com: pending'],
      ['diagnostics_result', 'system', 'ping example.com: ok (sent 4, received 3, lossPct 25)'],
    ]);
    expect(r.audit.query({ subject: `ticket:${site.id}` }).map((e) => [e.action, e.actor])).toEqual([
      ['ticket.diagnostics_attached', 'ops'],
      ['ticket.diagnostics_result', 'system'],
    ]);
    expect(r.audit.query({ action: 'diagnostics.started' })[0]!.data).toMatchObject({ diagnosticsId: run.id, ticketId: site.id });
    expect(r.svc.list({ ticketId: site.id }).map((x) => [x.id, x.status])).toEqual([[run.id, 'ok']]);
    // a run that is on no ticket changes no ticket
    const other = r.svc.start('A1', { tool: 'dns', target: 'example.com' }, OPS);
    r.reply('A1', other.id, { answers: 1 });
    expect(r.updates).toHaveLength(2);
  });

  it('refuses a ticket of another site or device, and a resolved one, before anything is started or written', () => {
    const r = rig();
    const otherSite = r.ticket({ deviceId: null, siteId: 's-2' });
    const otherDevice = r.ticket({ deviceId: 'A2', siteId: 's-1' });
    const refused = (fn: () => unknown, code: string, status: number) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TicketDiagnosticsError);
      expect(err).toMatchObject({ code, status });
    };
    refused(() => r.td.start('A1', { tool: 'ping', target: 'example.com' }, OPS, otherSite), 'ticket_mismatch', 400);
    refused(() => r.td.start('A1', { tool: 'ping', target: 'example.com' }, OPS, otherDevice), 'ticket_mismatch', 400);
    const mine = r.ticket({ deviceId: 'A1', siteId: 's-1' });
    const resolved = r.tickets.resolveById(mine.id, r.now.ms, 'ops', 'fixed')!;
    refused(() => r.td.start('A1', { tool: 'ping', target: 'example.com' }, OPS, resolved), 'ticket_resolved', 409);
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    refused(() => r.td.attach(run.id, otherDevice, 'ops'), 'ticket_mismatch', 400);
    expect(r.svc.list({}).map((x) => x.id)).toEqual([run.id]);
    expect(r.svc.get(run.id)!.ticketId).toBeNull();
    expect(r.updates).toEqual([]);
    expect(r.audit.query({}).filter((e) => e.action.startsWith('ticket.'))).toEqual([]);
  });
});
