// What the NOC sees must be true, through the whole product: a device's one timeline built from
// what it really sent over MQTT (status, events, a firmware change, an alert that fired twice),
// its ticket and the network tool runs answered by a device (played by an mqtt.js client), read
// back page by page; and a run as the evidence of a ticket, started for it or attached later, whose
// result lands in the ticket's history and on the owner's stream as ticket.updated.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { connectStream } from '../support/stream-client.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';

const A = 'hist-a-user-token-0000000';
const B = 'hist-b-user-token-0000000';
const NOC = 'hist-noc-token-00000000000';

type Entry = { ts: number; kind: string; id: string } & Record<string, unknown>;
type Timeline = { entries: Entry[]; nextCursor: string | null; telemetryAvailable: boolean; fromMs: number; toMs: number };

describe('device history and ticket evidence end to end', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  let device: MqttClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, {
      devicesA: ['HISTA1', 'HISTA2', 'HISTA3'],
      devicesB: ['HISTB1'],
      users: [
        { name: 'a', role: 'partner_user', partnerId: 'p-a', token: A },
        { name: 'b', role: 'partner_user', partnerId: 'p-b', token: B },
        { name: 'noc', role: 'noc', token: NOC },
      ],
    });
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'fan_stopped', for: '0s', clearFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json'), API_RATE_PER_SECOND: '1000', API_RATE_BURST: '1000' });
    service = await startInProcess(world);
    pub = await publisher();
    // The devices' network tools: a ping answers with one reply per echo, then the summary; a
    // target starting with "slow." takes a second and a half before the summary.
    device = await publisher();
    device.on('message', (topic, payload) => {
      const id = topic.split('/')[3]!;
      const cmd = JSON.parse(payload.toString()) as { id: string; params: { target: string; count?: number } };
      const n = cmd.params.count ?? 2;
      void (async () => {
        for (let seq = 0; seq < n; seq++) {
          await new Promise((r) => setTimeout(r, 20));
          await device.publishAsync(`poly/v1/devices/${id}/replies`, JSON.stringify({ commandId: cmd.id, seq, final: false, status: 'running', data: { seq, rttMs: 10 + seq } }), { qos: 1 });
        }
        if (cmd.params.target.startsWith('slow.')) await new Promise((r) => setTimeout(r, 1500));
        await device.publishAsync(`poly/v1/devices/${id}/replies`, JSON.stringify({ commandId: cmd.id, seq: n, final: true, status: 'ok', data: { sent: n, received: n, lossPct: 0, rttAvg: 10.5 } }), { qos: 1 });
      })();
    });
    await device.subscribeAsync('poly/v1/devices/+/commands', { qos: 1 });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pub?.endAsync();
    await device?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${service.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
  };
  const timeline = async (token: string, deviceId: string, query: string) => {
    const r = await call(token, 'GET', `/devices/${deviceId}/timeline?${query}`);
    return { status: r.status, json: r.json as unknown as Timeline & { error?: { code: string } } };
  };
  const status = (id: string, seq: number, ts: number, extra: Record<string, unknown>) => pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(seq, ts, extra), { qos: 1 });
  const waitAlert = (fp: string, state: 'firing' | 'resolved', startedAfter = 0) =>
    waitFor(async () => service.alerting.alerts.get(fp), (a) => a?.state === state && a.startedMs > startedAfter, 5000, 20);
  const openTicket = async (deviceId: string, token = A) => {
    const r = await call(token, 'POST', '/tickets', { deviceId, title: `Check ${deviceId}` });
    expect(r.status).toBe(201);
    return r.json.id as number;
  };
  const waitRun = (id: string) => waitFor(async () => service.diagnostics.get(id), (r) => r?.status === 'ok', 10_000, 20);

  it('gives one ordered history of a device, paged without gaps or repeats, to its owner only', async () => {
    const t0 = Date.now() - 60_000;
    await status('HISTA1', 1, t0, { fanRpm: 3000 });
    const fp = 'fan_stopped/HISTA1';
    await status('HISTA1', 2, t0 + 10_000, { fanRpm: 0 });
    const first = await waitAlert(fp, 'firing');
    await pub.publishAsync('poly/v1/devices/HISTA1/events', JSON.stringify({ v: 1, ts: t0 + 15_000, type: 'reboot', severity: 'warning', data: { reason: 'watchdog' } }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 5));
    await status('HISTA1', 3, t0 + 20_000, { fanRpm: 3000, firmware: '4.2.0.7' });
    await waitAlert(fp, 'resolved');
    await new Promise((r) => setTimeout(r, 5));
    await status('HISTA1', 4, t0 + 30_000, { fanRpm: 0, firmware: '4.2.0.7' });
    const second = await waitAlert(fp, 'firing', first!.startedMs);
    const ticketId = second!.ticketId!;
    expect((await call(A, 'POST', `/tickets/${ticketId}/comments`, { body: 'Fan replaced? checking' })).status).toBe(201);
    const run = await call(A, 'POST', '/devices/HISTA1/diagnostics', { tool: 'ping', target: 'teams.microsoft.com', count: 2 });
    expect(run.status).toBe(202);
    await waitRun(run.json.id as string);

    // The alert fired twice: the table keeps only its latest firing, the history both.
    const to = Date.now() + 1000;
    const full = await waitFor(
      () => timeline(A, 'HISTA1', `hours=2&to=${to}&limit=500`),
      (r) => r.json.entries?.filter((e) => e.kind === 'alert_firing').length === 2 && r.json.entries.some((e) => e.kind === 'firmware_changed') && r.json.entries.some((e) => e.kind === 'device_event'),
      10_000,
      200,
    );
    expect(full.status).toBe(200);
    const { entries } = full.json;
    expect(full.json.telemetryAvailable).toBe(true);
    expect(full.json.nextCursor).toBeNull();
    expect(entries.map((e) => e.ts)).toEqual([...entries.map((e) => e.ts)].sort((a, b) => b - a));
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    const of = (kind: string) => entries.filter((e) => e.kind === kind);
    expect(entries[0]).toMatchObject({ kind: 'telemetry_summary', ts: to, snapshots: 4, lastFirmware: '4.2.0.7' });
    expect(of('device_event')).toEqual([expect.objectContaining({ ts: t0 + 15_000, type: 'reboot', severity: 'warning' })]);
    expect(of('firmware_changed')).toEqual([expect.objectContaining({ ts: t0 + 20_000, from: '4.1.0.123', to: '4.2.0.7', belowMinimum: false })]);
    expect(of('alert_firing')).toEqual([
      expect.objectContaining({ ts: second!.startedMs, rule: 'fan_stopped', severity: 'critical', ticketId }),
      expect.objectContaining({ ts: first!.startedMs, rule: 'fan_stopped', summary: expect.stringContaining('0 rpm') }),
    ]);
    expect(of('alert_resolved')).toHaveLength(1);
    expect(of('ticket_opened')).toEqual([expect.objectContaining({ ticketId, actor: 'system' })]);
    expect(of('ticket_updated')).toEqual(expect.arrayContaining([expect.objectContaining({ ticketId, change: 'comment', actor: 'a', body: 'Fan replaced? checking' })]));
    expect(of('command_sent')).toEqual([expect.objectContaining({ runId: run.json.id, command: 'diagnostics', tool: 'ping', target: 'teams.microsoft.com', requestedBy: 'a', ticketId: null })]);
    expect(of('command_result')).toEqual([expect.objectContaining({ runId: run.json.id, status: 'ok', summary: { sent: 2, received: 2, lossPct: 0, rttAvg: 10.5 } })]);
    const idx = (id: unknown) => entries.findIndex((e) => e.id === id || e.runId === id);
    expect(idx(of('command_result')[0]!.id)).toBeLessThan(idx(of('command_sent')[0]!.id));

    // Page by page: the same entries, in the same order, none twice.
    const paged: Entry[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page: { status: number; json: Timeline } = await timeline(A, 'HISTA1', `hours=2&to=${to}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.json.entries.length).toBeLessThanOrEqual(3);
      paged.push(...page.json.entries);
      cursor = page.json.nextCursor;
      if (!cursor) break;
    }
    expect(paged.map((e) => e.id)).toEqual(entries.map((e) => e.id));

    // from/to: only what happened in the window.
    const window = await timeline(A, 'HISTA1', `from=${t0 + 5_000}&to=${new Date(t0 + 25_000).toISOString()}`);
    expect(window.json.entries.map((e) => e.kind).sort()).toEqual(['device_event', 'firmware_changed', 'telemetry_summary']);
    expect(window.json.entries[0]).toMatchObject({ kind: 'telemetry_summary', ts: t0 + 25_000, snapshots: 2 });

    // Another partner learns nothing, with or without a cursor; the NOC sees it all.
    expect((await timeline(B, 'HISTA1', 'hours=2')).status).toBe(404);
    const page1 = await timeline(A, 'HISTA1', `hours=2&to=${to}&limit=2`);
    expect((await timeline(B, 'HISTA1', `hours=2&limit=2&cursor=${page1.json.nextCursor}`)).status).toBe(404);
    expect((await timeline(NOC, 'HISTA1', `hours=2&to=${to}&limit=500`)).json.entries.map((e) => e.id)).toEqual(entries.map((e) => e.id));
    // Bad paging input is a 400 with the field named.
    for (const q of ['cursor=bm90LWEtY3Vyc29y', 'limit=501', 'from=2', 'from=yesterday', `from=${to - 40 * 86_400_000}&to=${to}`]) {
      const r = await timeline(A, 'HISTA1', q);
      expect([q, r.status, r.json.error?.code]).toEqual([q, 400, 'bad_request']);
    }
  });

  it('runs a network tool for a ticket: the ticket shows the run and its result, announced to the owner only', async () => {
    const ticketId = await openTicket('HISTA2');
    const a = await connectStream(service.httpUrl, A, sockets);
    const b = await connectStream(service.httpUrl, B, sockets);
    const gotA: Array<{ change: string; ticket: { id: number } }> = [];
    const gotB: unknown[] = [];
    a.on('ticket.updated', (e: { change: string; ticket: { id: number } }) => gotA.push(e));
    b.on('ticket.updated', (e: unknown) => gotB.push(e));

    const res = await call(A, 'POST', '/devices/HISTA2/diagnostics', { tool: 'ping', target: 'teams.microsoft.com', count: 3, ticketId });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ ticketId, status: 'pending' });
    const runId = res.json.id as string;
    await waitFor(async () => gotA.filter((e) => e.change === 'diagnostics_result').length, (n) => n >= 1, 10_000, 20);
    expect(gotA.filter((e) => e.ticket.id === ticketId).map((e) => e.change)).toEqual(['diagnostics_attached', 'diagnostics_result']);

    const t = await call(A, 'GET', `/tickets/${ticketId}`);
    expect(t.json.diagnostics).toEqual([{ runId, deviceId: 'HISTA2', tool: 'ping', target: 'teams.microsoft.com', state: 'ok', summary: { sent: 3, received: 3, lossPct: 0, rttAvg: 10.5 }, requestedBy: 'a', createdMs: expect.any(Number), finishedMs: expect.any(Number) }]);
    const history = t.json.history as Array<{ type: string; actor: string; body: string; data: Record<string, unknown> | null }>;
    expect(history.filter((h) => h.type.startsWith('diagnostics_'))).toEqual([
      expect.objectContaining({ type: 'diagnostics_attached', actor: 'a', data: expect.objectContaining({ runId, tool: 'ping' }) }),
      expect.objectContaining({ type: 'diagnostics_result', actor: 'system', body: expect.stringContaining('ping teams.microsoft.com: ok'), data: expect.objectContaining({ runId, status: 'ok', summary: { sent: 3, received: 3, lossPct: 0, rttAvg: 10.5 } }) }),
    ]);
    const audit = service.alerting.audit.query({ subject: `ticket:${ticketId}` }).map((e) => [e.action, e.actor]);
    expect(audit).toEqual(expect.arrayContaining([['ticket.diagnostics_attached', 'a'], ['ticket.diagnostics_result', 'system']]));
    // The device's timeline shows the run as the ticket's.
    const tl = await waitFor(() => timeline(A, 'HISTA2', 'hours=1'), (r) => r.json.entries.some((e) => e.kind === 'command_result'), 5000, 100);
    expect(tl.json.entries.filter((e) => e.kind.startsWith('command_'))).toEqual([expect.objectContaining({ kind: 'command_result', runId, ticketId }), expect.objectContaining({ kind: 'command_sent', runId, ticketId })]);
    expect(gotB).toEqual([]);
    expect((await call(B, 'GET', `/tickets/${ticketId}`)).status).toBe(404);
  });

  it('attaches a run to a ticket afterwards, once; its result lands in the ticket when it comes', async () => {
    const ticketId = await openTicket('HISTA3');
    const started = await call(A, 'POST', '/devices/HISTA3/diagnostics', { tool: 'ping', target: 'slow.example.com', count: 1 });
    expect(started.json).toMatchObject({ ticketId: null });
    const runId = started.json.id as string;
    const attach = () => call(A, 'POST', `/tickets/${ticketId}/diagnostics`, { runId });
    const first = await attach();
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ runId, deviceId: 'HISTA3', tool: 'ping', target: 'slow.example.com' });
    expect(['pending', 'running']).toContain(first.json.state);
    expect((await attach()).status).toBe(200); // idempotent
    expect((await call(A, 'GET', `/diagnostics/${runId}`)).json).toMatchObject({ ticketId });
    await waitRun(runId);
    const t = await waitFor(
      () => call(A, 'GET', `/tickets/${ticketId}`),
      (r) => (r.json.history as Array<{ type: string }>).some((h) => h.type === 'diagnostics_result'),
      5000,
      50,
    );
    expect((t.json.history as Array<{ type: string }>).filter((h) => h.type.startsWith('diagnostics_')).map((h) => h.type)).toEqual(['diagnostics_attached', 'diagnostics_result']);
    expect(t.json.diagnostics).toEqual([expect.objectContaining({ runId, state: 'ok', summary: { sent: 1, received: 1, lossPct: 0, rttAvg: 10.5 } })]);

    // A finished run attached later: the attach entry carries its summary.
    const other = await openTicket('HISTA3');
    const done = await call(A, 'POST', '/devices/HISTA3/diagnostics', { tool: 'dns', target: 'example.com' });
    await waitRun(done.json.id as string);
    expect((await call(A, 'POST', `/tickets/${other}/diagnostics`, { runId: done.json.id })).json).toMatchObject({ state: 'ok', summary: { sent: 2 } });
    const h = (await call(A, 'GET', `/tickets/${other}`)).json.history as Array<{ type: string; data: Record<string, unknown> | null }>;
    expect(h.filter((x) => x.type.startsWith('diagnostics_'))).toEqual([expect.objectContaining({ type: 'diagnostics_attached', data: expect.objectContaining({ status: 'ok', summary: expect.objectContaining({ sent: 2 }) }) })]);
  });

  it('refuses a ticket that is not the caller’s, not about the device, resolved, or a run that is another ticket’s', async () => {
    const ticketA2 = await openTicket('HISTA2');
    const ticketB = await openTicket('HISTB1', B);
    const ping = { tool: 'ping', target: 'example.com', count: 1 };
    const expectError = (r: { status: number; json: { error?: { code: string } } }, status: number, code: string) => expect([r.status, r.json.error?.code]).toEqual([status, code]);
    // B's ticket is as unknown to A as a ticket that does not exist.
    expectError(await call(A, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: ticketB }), 404, 'not_found');
    expectError(await call(A, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: 999_999 }), 404, 'not_found');
    // A ticket about another device (of the same partner).
    expectError(await call(A, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: ticketA2 }), 400, 'ticket_mismatch');
    expectError(await call(NOC, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: ticketB }), 400, 'ticket_mismatch');
    expectError(await call(A, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: 'x' }), 400, 'bad_request');
    expect(service.diagnostics.list({ deviceId: 'HISTA1' }).filter((r) => r.target === 'example.com')).toEqual([]); // nothing was started

    const run = await call(A, 'POST', '/devices/HISTA1/diagnostics', ping);
    const runId = run.json.id as string;
    await waitRun(runId);
    expectError(await call(A, 'POST', `/tickets/${ticketA2}/diagnostics`, { runId }), 400, 'ticket_mismatch');
    expectError(await call(B, 'POST', `/tickets/${ticketB}/diagnostics`, { runId }), 404, 'not_found'); // A's run
    expectError(await call(B, 'POST', `/tickets/${ticketA2}/diagnostics`, { runId }), 404, 'not_found'); // A's ticket
    expectError(await call(A, 'POST', `/tickets/${ticketA2}/diagnostics`, { runId: 'no-such-run' }), 404, 'not_found');
    const ticketA1 = await openTicket('HISTA1');
    expect((await call(A, 'POST', `/tickets/${ticketA1}/diagnostics`, { runId })).status).toBe(200);
    const ticketA1b = await openTicket('HISTA1');
    expectError(await call(A, 'POST', `/tickets/${ticketA1b}/diagnostics`, { runId }), 409, 'conflict');
    expect((await call(A, 'POST', `/tickets/${ticketA1b}/resolve`, { comment: 'done' })).status).toBe(200);
    expectError(await call(A, 'POST', '/devices/HISTA1/diagnostics', { ...ping, ticketId: ticketA1b }), 409, 'ticket_resolved');
    // Nothing of this reached the tickets' histories.
    for (const id of [ticketA2, ticketB, ticketA1b]) {
      expect(service.alerting.tickets.history(id).filter((h) => h.type.startsWith('diagnostics_'))).toEqual([]);
    }
  });
});
