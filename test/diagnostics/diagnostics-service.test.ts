// DiagnosticsService on its own: an in-memory database, replies emitted straight on IngestEvents, a
// fake publish and a hand-driven clock. The end-to-end test over mosquitto is diagnostics.test.ts.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IngestEvents } from '../../collector/ingest-events.js';
import type { CommandReply } from '../../collector/messages.js';
import { DiagnosticsEvents, type DiagnosticsEventPayload } from '../../src/diagnostics/diagnostics-events.js';
import {
  DiagnosticsError,
  DiagnosticsService,
  isValidTarget,
  validateRequest,
  type DiagnosticsServiceDeps,
} from '../../src/diagnostics/diagnostics-service.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import type { DeviceTenant } from '../../src/storage/registry.js';

const tenant = (deviceId: string, partnerId = 'p-a'): DeviceTenant => ({
  deviceId,
  partnerId,
  customerId: `c-${partnerId.slice(2)}`,
  siteId: `s-${partnerId.slice(2)}`,
  model: 'Studio X50',
  coverage: { plan: 'poly-plus', until: null, onsite: false },
});
const DEVICES = new Map<string, DeviceTenant>([
  ['A1', tenant('A1')],
  ['A2', tenant('A2')],
  ['A3', tenant('A3')],
  ['B1', tenant('B1', 'p-b')],
]);
const OPS = { name: 'ops@a', partnerId: 'p-a' };
const NOC = { name: 'noc', partnerId: null };

interface Rig {
  db: Database;
  ingest: IngestEvents;
  events: DiagnosticsEvents;
  svc: DiagnosticsService;
  published: Array<{ topic: string; payload: Record<string, unknown> }>;
  audit: Array<Record<string, unknown>>;
  progress: DiagnosticsEventPayload[];
  results: DiagnosticsEventPayload[];
  now: { ms: number };
  reply(deviceId: string, r: Partial<CommandReply> & { commandId: string; seq: number }): void;
  make(extra?: Partial<DiagnosticsServiceDeps>): DiagnosticsService;
}

const rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) {
    r.svc.close();
    r.db.close();
  }
  vi.useRealTimers();
});

function rig(extra: Partial<DiagnosticsServiceDeps> = {}, db: Database = openDatabase('sqlite::memory:')): Rig {
  const ingest = new IngestEvents();
  const events = new DiagnosticsEvents();
  const now = { ms: 1_800_000_000_000 };
  const published: Rig['published'] = [];
  const audit: Rig['audit'] = [];
  const progress: DiagnosticsEventPayload[] = [];
  const results: DiagnosticsEventPayload[] = [];
  events.on('progress', (p) => progress.push(p));
  events.on('result', (p) => results.push(p));
  const make = (more: Partial<DiagnosticsServiceDeps> = {}) =>
    new DiagnosticsService({
      db,
      ingest,
      events,
      publish: async (topic, payload) => {
        published.push({ topic, payload: JSON.parse(payload) });
      },
      resolveTenant: (id) => DEVICES.get(id),
      audit: { append: (e) => audit.push(e) },
      log: pino({ level: 'silent' }),
      clock: () => now.ms,
      ...extra,
      ...more,
    });
  const r: Rig = {
    db,
    ingest,
    events,
    svc: make(),
    published,
    audit,
    progress,
    results,
    now,
    make,
    reply(deviceId, rep) {
      ingest.emit('reply', deviceId, { tenant: DEVICES.get(deviceId), tagSet: '', model: 'Studio X50' }, { final: false, status: 'running', data: {}, ...rep }, now.ms);
    },
  };
  rigs.push(r);
  return r;
}

function expectError(fn: () => unknown, code: string, status: number, message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DiagnosticsError);
  expect(err).toMatchObject({ code, status });
  if (message) expect((err as Error).message).toMatch(message);
}

describe('request validation', () => {
  it.each([
    [{ tool: 'nmap', target: 'example.com' }, /tool must be one of ping, traceroute, dns, bandwidth, port/],
    [{ tool: 'ping', target: '' }, /target is required/],
    [{ tool: 'ping', target: 'example.com;reboot' }, /target must be/],
    [{ tool: 'ping', target: 'example.com && ls' }, /target must be/],
    [{ tool: 'ping', target: '$(id)' }, /target must be/],
    [{ tool: 'ping', target: 'a b' }, /target must be/],
    [{ tool: 'ping', target: 'x'.repeat(254) }, /at most 253/],
    [{ tool: 'ping', target: '999.1.1.1' }, /target must be/],
    [{ tool: 'ping', target: '-bad.example.com' }, /target must be/],
    [{ tool: 'ping', target: 'fe80::1%eth0' }, /target must be/],
    [{ tool: 'port', target: 'example.com' }, /port is required/],
    [{ tool: 'port', target: 'example.com', port: 0 }, /port must be an integer from 1 to 65535/],
    [{ tool: 'port', target: 'example.com', port: 65536 }, /port must be/],
    [{ tool: 'port', target: 'example.com', port: 80.5 }, /port must be/],
    [{ tool: 'ping', target: 'example.com', port: 80 }, /port is only for the port tool/],
    [{ tool: 'dns', target: 'example.com', count: 3 }, /count is only for the ping tool/],
    [{ tool: 'ping', target: 'example.com', count: 0 }, /count must be/],
  ])('refuses %o', (req, message) => {
    expectError(() => validateRequest(req as never), 'bad_request', 400, message);
  });

  it('accepts host names and IPv4/IPv6 literals', () => {
    for (const t of ['example.com', 'teams.microsoft.com.', 'localhost', '_sip._tls.example.com', '10.1.2.3', '2001:db8::1', '::1', 'a-b.c-d.example']) {
      expect(isValidTarget(t)).toBe(true);
    }
    expect(validateRequest({ tool: 'port', target: 'sip.example.com', port: 5061 })).toEqual({ tool: 'port', target: 'sip.example.com', port: 5061 });
    expect(validateRequest({ tool: 'ping', target: '10.0.0.1', count: 10 })).toEqual({ tool: 'ping', target: '10.0.0.1', count: 10 });
  });
});

describe('DiagnosticsService', () => {
  it('starts a run: stored pending, command published, audited', () => {
    const r = rig();
    const run = r.svc.start('A1', { tool: 'port', target: 'sip.example.com', port: 5061 }, OPS);
    expect(run).toMatchObject({ deviceId: 'A1', partnerId: 'p-a', customerId: 'c-a', tool: 'port', status: 'pending', steps: [], result: null, requestedBy: 'ops@a', createdMs: r.now.ms, finishedMs: null });
    expect(r.published).toEqual([{ topic: 'poly/v1/devices/A1/commands', payload: { id: run.id, type: 'diagnostics', params: { tool: 'port', target: 'sip.example.com', port: 5061 } } }]);
    expect(r.audit).toEqual([{ actor: 'ops@a', action: 'diagnostics.started', subject: 'device:A1', partnerId: 'p-a', data: { diagnosticsId: run.id, tool: 'port', target: 'sip.example.com', port: 5061 } }]);
    expect(r.svc.get(run.id)).toMatchObject({ status: 'pending' });
    expect(r.db.prepare('SELECT status, params FROM diagnostics WHERE id = ?').get(run.id)).toEqual({ status: 'pending', params: JSON.stringify({ tool: 'port', target: 'sip.example.com', port: 5061 }) });
  });

  it('follows the replies: steps in seq order, duplicates ignored, progress per step, result at the final reply', () => {
    const r = rig();
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com', count: 3 }, OPS);
    r.reply('A1', { commandId: run.id, seq: 0, data: { seq: 0, rttMs: 10 } });
    r.reply('A1', { commandId: run.id, seq: 2, data: { seq: 2, rttMs: 12 } });
    r.reply('A1', { commandId: run.id, seq: 1, data: { seq: 1, rttMs: 11 } }); // late (redelivered)
    r.reply('A1', { commandId: run.id, seq: 1, data: { seq: 1, rttMs: 99 } }); // duplicate
    expect(r.svc.get(run.id)!.status).toBe('running');
    expect(r.svc.get(run.id)!.steps.map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(r.progress.map((p) => p.step!.seq)).toEqual([0, 2, 1]);
    expect(r.progress[0]).toEqual({ partnerId: 'p-a', customerId: 'c-a', deviceId: 'A1', diagnosticsId: run.id, tool: 'ping', target: 'example.com', ts: r.now.ms, step: { seq: 0, status: 'running', data: { seq: 0, rttMs: 10 } }, status: 'running' });
    r.now.ms += 3000;
    r.reply('A1', { commandId: run.id, seq: 3, final: true, status: 'ok', data: { sent: 3, received: 3 } });
    r.reply('A1', { commandId: run.id, seq: 3, final: true, status: 'ok', data: { sent: 3, received: 3 } }); // redelivered final
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ diagnosticsId: run.id, status: 'ok', result: { sent: 3, received: 3 }, ts: r.now.ms });
    const stored = r.svc.get(run.id)!;
    expect(stored).toMatchObject({ status: 'ok', result: { sent: 3, received: 3 }, finishedMs: r.now.ms });
    expect(stored.steps.map((s) => s.data.rttMs)).toEqual([10, 11, 12]);
    // the device is free again
    expect(r.svc.start('A1', { tool: 'dns', target: 'example.com' }, OPS).status).toBe('pending');
  });

  it('a final reply with status error ends the run as error', () => {
    const r = rig();
    const run = r.svc.start('A1', { tool: 'ping', target: 'nothing.invalid' }, OPS);
    r.reply('A1', { commandId: run.id, seq: 0, final: true, status: 'error', data: { error: 'unknown_host' } });
    expect(r.svc.get(run.id)).toMatchObject({ status: 'error', result: { error: 'unknown_host' } });
    expect(r.results[0]).toMatchObject({ status: 'error' });
  });

  it('ignores unknown command ids and replies from another device (spoofing)', () => {
    const r = rig();
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    r.reply('A1', { commandId: 'not-ours', seq: 0, final: true, status: 'ok' });
    r.reply('A2', { commandId: run.id, seq: 0, data: { evil: true } });
    r.reply('B1', { commandId: run.id, seq: 1, final: true, status: 'ok', data: { evil: true } });
    expect(r.svc.get(run.id)).toMatchObject({ status: 'pending', steps: [], result: null });
    expect(r.progress).toEqual([]);
    expect(r.results).toEqual([]);
  });

  it('times out: status timeout, result event, device free again', async () => {
    vi.useFakeTimers();
    const r = rig({ timeoutMs: 5000 });
    const run = r.svc.start('A1', { tool: 'traceroute', target: 'example.com' }, OPS);
    expect(run.deadlineMs).toBe(run.createdMs + 5000);
    r.reply('A1', { commandId: run.id, seq: 0, data: { hop: 1 } });
    r.now.ms += 5000;
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.svc.get(run.id)).toMatchObject({ status: 'timeout', result: null, finishedMs: r.now.ms, steps: [{ seq: 0, status: 'running', data: { hop: 1 } }] });
    expect(r.results).toEqual([expect.objectContaining({ diagnosticsId: run.id, status: 'timeout', result: null })]);
    r.reply('A1', { commandId: run.id, seq: 1, final: true, status: 'ok' }); // too late
    expect(r.svc.get(run.id)!.status).toBe('timeout');
    expect(r.svc.activeCount).toBe(0);
  });

  it('uses per-tool timeouts by default (ping grows with count)', () => {
    const r = rig();
    const at = r.now.ms;
    expect(r.svc.start('A1', { tool: 'dns', target: 'example.com' }, OPS).deadlineMs - at).toBe(15_000);
    expect(r.svc.start('A2', { tool: 'ping', target: 'example.com' }, OPS).deadlineMs - at).toBe(20_000);
    expect(r.svc.start('A3', { tool: 'ping', target: 'example.com', count: 20 }, OPS).deadlineMs - at).toBe(30_000);
    expect(r.make({ timeoutMs: { dns: 1234 } }).start('B1', { tool: 'dns', target: 'example.com' }, NOC).deadlineMs - at).toBe(1234);
  });

  it('one run at a time per device: busy (409)', () => {
    const r = rig();
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    expectError(() => r.svc.start('A1', { tool: 'dns', target: 'example.com' }, NOC), 'busy', 409, new RegExp(run.id));
    expect(r.published).toHaveLength(1);
  });

  it('unknown devices and other partners\' devices are not found (404)', () => {
    const r = rig();
    expectError(() => r.svc.start('NOPE', { tool: 'ping', target: 'example.com' }, NOC), 'not_found', 404);
    expectError(() => r.svc.start('B1', { tool: 'ping', target: 'example.com' }, OPS), 'not_found', 404);
    expectError(() => r.svc.start('../#', { tool: 'ping', target: 'example.com' }, NOC), 'not_found', 404);
    expect(r.svc.start('B1', { tool: 'ping', target: 'example.com' }, NOC).partnerId).toBe('p-b');
  });

  it('rate-limits per partner and minute (429); other partners and the NOC have their own budget', () => {
    const r = rig({ maxRunsPerPartnerPerMinute: 2, timeoutMs: 1 });
    const finish = (id: string, device: string) => r.reply(device, { commandId: id, seq: 0, final: true, status: 'ok' });
    finish(r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS).id, 'A1');
    r.now.ms += 10_000;
    finish(r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS).id, 'A1');
    expectError(() => r.svc.start('A2', { tool: 'ping', target: 'example.com' }, OPS), 'rate_limited', 429, /at most 2 diagnostics per minute; try again in 50 s/);
    expect(r.svc.start('B1', { tool: 'ping', target: 'example.com' }, NOC).status).toBe('pending');
    r.now.ms += 50_001; // the first run leaves the window
    expect(r.svc.start('A2', { tool: 'ping', target: 'example.com' }, OPS).status).toBe('pending');
  });

  it('a command that cannot be sent ends the run as error', async () => {
    const r = rig({ publish: async () => Promise.reject(new Error('broker down')) });
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    await new Promise((res) => setImmediate(res));
    expect(r.svc.get(run.id)).toMatchObject({ status: 'error', result: { error: 'command_not_sent' } });
    expect(r.results).toEqual([expect.objectContaining({ status: 'error' })]);
  });

  it('an audit failure stores nothing, sends nothing and leaves the device free', () => {
    let fail = true;
    const r = rig({ audit: { append: () => {
      if (fail) throw new Error('disk full');
    } } });
    expect(() => r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS)).toThrow('disk full');
    expect(r.db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM diagnostics').get()!.n).toBe(0);
    expect(r.published).toEqual([]);
    fail = false;
    expect(r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS).status).toBe('pending');
  });

  it('a listener that throws does not stop the run', () => {
    const r = rig();
    r.events.prependListener('progress', () => {
      throw new Error('listener bug');
    });
    const run = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    r.reply('A1', { commandId: run.id, seq: 0, data: { seq: 0 } });
    r.reply('A1', { commandId: run.id, seq: 1, final: true, status: 'ok', data: { sent: 1 } });
    expect(r.svc.get(run.id)).toMatchObject({ status: 'ok', steps: [{ seq: 0 }] });
    expect(r.results).toHaveLength(1);
  });

  it('lists runs newest first, by device and partner', () => {
    const r = rig();
    const finish = (id: string, device: string) => r.reply(device, { commandId: id, seq: 0, final: true, status: 'ok' });
    const a = r.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    finish(a.id, 'A1');
    r.now.ms += 1;
    const b = r.svc.start('A1', { tool: 'dns', target: 'example.com' }, OPS);
    r.now.ms += 1;
    const c = r.svc.start('B1', { tool: 'dns', target: 'example.com' }, NOC);
    expect(r.svc.list({ deviceId: 'A1' }).map((d) => d.id)).toEqual([b.id, a.id]);
    expect(r.svc.list({ partnerId: 'p-b' }).map((d) => d.id)).toEqual([c.id]);
    expect(r.svc.list({ limit: 1 }).map((d) => d.id)).toEqual([c.id]);
    expect(r.svc.list({ deviceId: 'A1', partnerId: 'p-b' })).toEqual([]);
    expect(r.svc.list({ deviceId: 'A1' })[1]).toMatchObject({ status: 'ok', steps: [] });
    expect(r.svc.get('nope')).toBeUndefined();
  });

  it('after a restart: runs past their timeout end as timeout, younger ones are followed again', () => {
    const db = openDatabase('sqlite::memory:');
    const first = rig({ timeoutMs: 10_000 }, db);
    const old = first.svc.start('A1', { tool: 'ping', target: 'example.com' }, OPS);
    first.now.ms += 8000;
    const young = first.svc.start('A2', { tool: 'ping', target: 'example.com' }, OPS);
    first.reply('A2', { commandId: young.id, seq: 0, data: { seq: 0 } });
    first.svc.close(); // the process goes away

    first.now.ms += 3000; // old is 11 s old (past 10 s), young 3 s
    const second = first.make({ timeoutMs: 10_000 });
    rigs.push({ ...first, svc: second });
    expect(second.get(old.id)).toMatchObject({ status: 'timeout', finishedMs: first.now.ms });
    expect(second.get(young.id)).toMatchObject({ status: 'running', steps: [{ seq: 0 }] });
    expectError(() => second.start('A2', { tool: 'dns', target: 'example.com' }, OPS), 'busy', 409);
    first.reply('A2', { commandId: young.id, seq: 0, data: { seq: 0 } }); // already seen before the restart
    first.reply('A2', { commandId: young.id, seq: 1, final: true, status: 'ok', data: { sent: 1 } });
    expect(second.get(young.id)).toMatchObject({ status: 'ok', steps: [{ seq: 0 }], result: { sent: 1 } });
  });
});
