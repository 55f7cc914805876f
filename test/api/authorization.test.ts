// The partner API against the real service (real HTTP, real SQLite, alerts from real MQTT traffic):
// an authorization matrix over every endpoint, and bad input that gets a 4xx, never a 500.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';

const TOKENS = {
  noc: 'test-noc-token-000000000000',
  aAdmin: 'test-a-admin-token-00000000',
  aUser: 'test-a-user-token-000000000',
  bAdmin: 'test-b-admin-token-00000000',
};

function twoPartnerSeed(path: string): void {
  writeTwoPartnerSeed(path, {
    devicesA: ['DEVA1'],
    devicesB: ['DEVB1'],
    users: [
      { name: 'noc', role: 'noc', token: TOKENS.noc },
      { name: 'a-admin', role: 'partner_admin', partnerId: 'p-a', token: TOKENS.aAdmin },
      { name: 'a-user', role: 'partner_user', partnerId: 'p-a', token: TOKENS.aUser },
      { name: 'b-admin', role: 'partner_admin', partnerId: 'p-b', token: TOKENS.bAdmin },
    ],
  });
}

describe('partner API: who may see and do what', () => {
  let world: TestWorld;
  let service: Service;
  let pub: MqttClient;
  let ticketA: number;
  let ticketB: number;

  const call = async (token: string | undefined, method: string, path: string, body?: unknown, raw?: string) => {
    const res = await fetch(`${service.httpUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json: json as Record<string, unknown> & { items?: Array<Record<string, unknown>>; error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    world = makeWorld([]);
    twoPartnerSeed(world.env.FLEET_SEED!);
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'fan_stopped', for: '0s', confirmFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json'), API_RATE_PER_SECOND: '1000', API_RATE_BURST: '1000' });
    service = await startInProcess(world);
    pub = await publisher();
    for (const id of ['DEVA1', 'DEVB1']) {
      await pub.publishAsync(`poly/v1/devices/${id}/status`, JSON.stringify({ v: 1, ts: Date.now(), seq: 1, model: 'Studio X50', firmware: '4.1.0.123', fanRpm: 0 }), { qos: 1 });
    }
    ticketA = (await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/DEVA1'), (t) => t !== undefined, 5000, 20))!.id;
    ticketB = (await waitFor(async () => service.alerting.tickets.openFor('fan_stopped/DEVB1'), (t) => t !== undefined, 5000, 20))!.id;
  });

  afterAll(async () => {
    await pub?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  it('refuses calls without a token or with an unknown one, on every endpoint', async () => {
    const paths = ['/api/v1/devices', '/api/v1/devices/DEVA1', '/api/v1/devices/DEVA1/timeline', '/api/v1/tickets', `/api/v1/tickets/${ticketA}`, '/api/v1/alerts', '/api/v1/audit', '/api/v1/dead-letters', '/api/v1/silences', '/api/v1/customers'];
    for (const p of paths) {
      for (const token of [undefined, 'not-a-real-token-000000']) {
        const r = await call(token, 'GET', p);
        expect([p, r.status, r.json.error?.code]).toEqual([p, 401, 'unauthorized']);
      }
    }
  });

  // [method, path, body, status for partner A admin, partner A user, partner B admin, noc]; a body
  // given as a function is made when its row runs (it needs what the rows before it created).
  const single = (): Array<[string, string, unknown, number, number, number, number]> => [
    ['GET', '/api/v1/devices/DEVA1', undefined, 200, 200, 404, 200],
    ['GET', '/api/v1/devices/DEVA1/coverage', undefined, 200, 200, 404, 200],
    ['GET', `/api/v1/tickets/${ticketA}`, undefined, 200, 200, 404, 200],
    ['GET', `/api/v1/tickets/${ticketA}/replacement`, undefined, 200, 200, 404, 200],
    ['POST', `/api/v1/tickets/${ticketA}/comments`, { body: 'looking' }, 201, 201, 404, 201],
    ['POST', '/api/v1/tickets', { deviceId: 'DEVA1', title: 'Echo in the room' }, 201, 201, 404, 201],
    ['POST', '/api/v1/silences', { deviceId: 'DEVA1', endsAt: new Date(Date.now() + 3600_000).toISOString(), comment: 'work' }, 201, 201, 404, 201],
    ['POST', '/api/v1/devices', { id: 'DEVA2', model: 'CCX 600', siteId: 's-a', coverage: { plan: 'poly-plus', until: null, onsite: false } }, 201, 403, 404, 201],
    ['GET', '/api/v1/dead-letters', undefined, 403, 403, 403, 200],
    ['GET', '/api/v1/software/catalog', undefined, 200, 200, 200, 200],
    ['GET', '/api/v1/documents?model=Studio%20X50', undefined, 200, 200, 200, 200],
    ['GET', '/api/v1/devices/DEVA1/timeline', undefined, 200, 200, 404, 200],
    ['GET', '/api/v1/devices/DEVA1/timeline?limit=1&hours=2', undefined, 200, 200, 404, 200],
    ['GET', '/api/v1/devices/DEVB1/timeline?limit=1', undefined, 404, 404, 200, 200],
    ['POST', `/api/v1/tickets/${ticketA}/assign`, { owner: 'alice' }, 200, 200, 404, 200],
    ['GET', `/api/v1/tickets/${ticketA}/onsite`, undefined, 404, 404, 404, 404], // no onsite option on this device
    ['GET', '/api/v1/devices/DEVA1/diagnostics', undefined, 200, 200, 404, 200],
    // the body is checked before the device: B learns nothing about DEVA1 from a 400 on its own bad body
    ['POST', '/api/v1/devices/DEVA1/diagnostics', { tool: 'nmap', target: 'x' }, 400, 400, 400, 400],
    ['POST', '/api/v1/devices/DEVA1/diagnostics', { tool: 'ping', target: 'example.com', count: 1 }, 202, 409, 404, 409], // one run at a time per device
    // a run for a ticket: the ticket is checked (visible, same device) before the device's one run at a time
    ['POST', '/api/v1/devices/DEVA1/diagnostics', { tool: 'ping', target: 'example.com', ticketId: ticketA }, 409, 409, 404, 409],
    ['POST', '/api/v1/devices/DEVA1/diagnostics', { tool: 'ping', target: 'example.com', ticketId: ticketB }, 404, 404, 404, 400],
    ['POST', `/api/v1/tickets/${ticketA}/diagnostics`, () => ({ runId: service.diagnostics.list({ deviceId: 'DEVA1' })[0]!.id }), 200, 200, 404, 200], // idempotent
    ['POST', `/api/v1/tickets/${ticketB}/diagnostics`, () => ({ runId: service.diagnostics.list({ deviceId: 'DEVA1' })[0]!.id }), 404, 404, 404, 400],
    ['POST', `/api/v1/tickets/${ticketA}/diagnostics`, { runId: 'no-such-run' }, 404, 404, 404, 404],
    ['GET', '/api/v1/diagnostics/no-such-run', undefined, 404, 404, 404, 404],
    ['GET', '/api/v1/webhooks', undefined, 200, 403, 200, 403],
    ['POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['ticket.created'] }, 201, 403, 201, 403],
    ['GET', '/api/v1/webhooks/1/deliveries', undefined, 200, 403, 404, 200],
    ['DELETE', '/api/v1/silences/1', undefined, 200, 200, 404, 200],
  ];

  it('answers each role on partner A resources as it may: B gets 404 (never A data), roles get 403', async () => {
    for (const [method, path, body, aAdmin, aUser, bAdmin, noc] of single()) {
      const got = [];
      for (const token of [TOKENS.aAdmin, TOKENS.aUser, TOKENS.bAdmin, TOKENS.noc]) got.push((await call(token, method, path, typeof body === 'function' ? (body as () => unknown)() : body)).status);
      expect([method, path, ...got]).toEqual([method, path, aAdmin, aUser, bAdmin, noc]);
    }
    const leak = await call(TOKENS.bAdmin, 'GET', `/api/v1/tickets/${ticketA}`);
    expect(JSON.stringify(leak.json)).not.toContain('DEVA1');
    // The run attached above is the ticket's evidence, as its owner and the NOC see it.
    for (const token of [TOKENS.aUser, TOKENS.noc]) {
      const t = await call(token, 'GET', `/api/v1/tickets/${ticketA}`);
      expect(t.json.diagnostics).toEqual([expect.objectContaining({ deviceId: 'DEVA1', tool: 'ping', target: 'example.com' })]);
    }
    expect((await call(TOKENS.bAdmin, 'GET', `/api/v1/tickets/${ticketB}`)).json.diagnostics).toEqual([]);
  });

  it('scopes every list to the caller: partners see their own only, noc sees all', async () => {
    const lists = ['/api/v1/devices', '/api/v1/tickets', '/api/v1/alerts', '/api/v1/alerts/groups', '/api/v1/customers', '/api/v1/silences', '/api/v1/audit'];
    for (const path of lists) {
      const a = await call(TOKENS.aUser, 'GET', path);
      const b = await call(TOKENS.bAdmin, 'GET', path);
      const noc = await call(TOKENS.noc, 'GET', path);
      expect([path, a.status, b.status, noc.status]).toEqual([path, 200, 200, 200]);
      const partners = (r: typeof a) => new Set(r.json.items!.map((i) => i.partnerId));
      for (const p of partners(a)) expect([path, p]).toEqual([path, 'p-a']);
      for (const p of partners(b)) expect([path, p]).toEqual([path, 'p-b']);
      if (path !== '/api/v1/silences') expect([path, partners(noc).has('p-a') && partners(noc).has('p-b')]).toEqual([path, true]);
    }
    const sites = await call(TOKENS.bAdmin, 'GET', '/api/v1/sites?customerId=c-a');
    expect(sites.json.items).toEqual([]);
  });

  it('lets the owner act on a ticket: acknowledge, escalate, the replacement lifecycle, resolve; B cannot', async () => {
    for (const [path, body] of [
      [`/api/v1/tickets/${ticketA}/acknowledge`, { comment: 'on it' }],
      [`/api/v1/tickets/${ticketA}/escalate`, { level: 'poly_support', comment: 'needs Poly' }],
      [`/api/v1/tickets/${ticketA}/replacement`, { event: 'ship' }],
      [`/api/v1/tickets/${ticketA}/resolve`, { comment: 'fixed' }],
    ] as const) {
      expect([path, (await call(TOKENS.bAdmin, 'POST', path, body)).status]).toEqual([path, 404]);
      expect([path, (await call(TOKENS.aUser, 'POST', path, body)).status]).toEqual([path, 200]);
    }
    const t = await call(TOKENS.aUser, 'GET', `/api/v1/tickets/${ticketA}`);
    expect(t.json).toMatchObject({ status: 'resolved', queue: 'poly_support' });
    expect((t.json.history as Array<{ type: string }>).map((h) => h.type)).toEqual(expect.arrayContaining(['acknowledged', 'escalated', 'replacement_shipped', 'resolved']));
    const illegal = await call(TOKENS.aUser, 'POST', `/api/v1/tickets/${ticketA}/replacement`, { event: 'install' });
    expect(illegal.status).toBe(409);
  });

  it('gives one timeline per device: telemetry from InfluxDB, alerts, tickets, replacement, commands, firmware', async () => {
    type Entry = { ts: number; kind: string; id: string };
    const t = await waitFor(
      async () => (await call(TOKENS.aUser, 'GET', '/api/v1/devices/DEVA1/timeline?hours=2')).json as unknown as { entries: Array<Entry & { snapshots?: number; lastFirmware?: string }>; nextCursor: string | null; firmware: Record<string, unknown> },
      (x) => (x.entries.find((e) => e.kind === 'telemetry_summary')?.snapshots ?? 0) >= 1,
      10_000,
      200,
    );
    expect(t.entries.find((e) => e.kind === 'telemetry_summary')).toMatchObject({ snapshots: 1, lastFirmware: '4.1.0.123' });
    expect(t.firmware).toEqual({ current: '4.1.0.123', minimum: '4.0.0', belowMinimum: false });
    expect(t.entries.map((e) => e.ts)).toEqual([...t.entries.map((e) => e.ts)].sort((a, b) => b - a));
    const kinds = new Set(t.entries.map((e) => e.kind));
    for (const k of ['telemetry_summary', 'alert_firing', 'ticket_opened', 'ticket_updated']) expect([k, kinds.has(k)]).toEqual([k, true]);
    // the fan fault on a covered device, when alerting asked for a replacement; the run of the matrix above
    expect(kinds.has('replacement')).toBe(service.alerting.replacements.forDevice('DEVA1').length > 0);
    expect(kinds.has('command_sent')).toBe(service.diagnostics.list({ deviceId: 'DEVA1' }).length > 0);
    // the other partner's device is not in it
    expect(JSON.stringify(t)).not.toContain('DEVB1');
  });

  it('answers malformed and oversized input with a 4xx and a reason, never a 500', async () => {
    const cases: Array<[string, string, unknown, string | undefined, number]> = [
      ['POST', '/api/v1/tickets', undefined, '{"title":', 400],
      ['POST', '/api/v1/tickets', undefined, JSON.stringify({ title: 'x'.repeat(70_000), deviceId: 'DEVA1' }), 413],
      ['POST', '/api/v1/tickets', { title: 1 }, undefined, 400],
      ['POST', '/api/v1/tickets', { title: 'ok title', deviceId: 'bad id!' }, undefined, 400],
      ['GET', '/api/v1/tickets/abc', undefined, undefined, 400],
      ['GET', '/api/v1/tickets?limit=100000', undefined, undefined, 400],
      ['GET', '/api/v1/devices?limit=-1', undefined, undefined, 400],
      ['POST', '/api/v1/silences', { deviceId: 'DEVA1', endsAt: 'tomorrow', comment: 'x' }, undefined, 400],
      ['POST', '/api/v1/silences', { deviceId: 'DEVA1', endsAt: new Date(Date.now() - 1000).toISOString(), comment: 'x' }, undefined, 400],
      ['GET', '/api/v1/devices/DEVA1/timeline?cursor=nonsense', undefined, undefined, 400],
      ['GET', '/api/v1/devices/DEVA1/timeline?limit=0', undefined, undefined, 400],
      ['POST', '/api/v1/devices/DEVA1/diagnostics', { tool: 'ping', target: 'example.com', ticketId: -1 }, undefined, 400],
      ['POST', `/api/v1/tickets/1/diagnostics`, {}, undefined, 400],
      ['GET', '/api/v1/nothing-here', undefined, undefined, 404],
      ['GET', '/api/v1/tickets/999999', undefined, undefined, 404],
    ];
    for (const [method, path, body, raw, status] of cases) {
      const r = await call(TOKENS.aAdmin, method, path, body, raw);
      expect([method, path, r.status]).toEqual([method, path, status]);
      expect(r.json.error?.code, path).toMatch(/^[a-z_]+$/);
      expect(r.json.error?.message.length, path).toBeGreaterThan(3);
    }
  });

  it('serves an OpenAPI description of every route', async () => {
    const res = await fetch(`${service.httpUrl}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/v1/devices', '/api/v1/devices/{id}', '/api/v1/tickets/{id}/acknowledge', '/api/v1/silences', '/api/v1/audit', '/api/v1/dead-letters']) expect(Object.keys(doc.paths)).toContain(p);
    expect(JSON.stringify(doc.paths['/api/v1/tickets/{id}/escalate'])).toContain('poly_specialist');
    const timeline = JSON.stringify(doc.paths['/api/v1/devices/{id}/timeline']);
    for (const k of ['nextCursor', 'cursor', 'telemetry_summary', 'alert_firing', 'ticket_updated', 'command_result', 'firmware_changed', 'replacement']) expect([k, timeline.includes(k)]).toEqual([k, true]);
    expect(JSON.stringify(doc.paths['/api/v1/tickets/{id}/diagnostics'])).toContain('runId');
    expect(JSON.stringify(doc.paths['/api/v1/devices/{id}/diagnostics'])).toContain('ticketId');
  });
});

describe('partner API rate limit', () => {
  it('answers 429 with Retry-After once a token spends its burst', async () => {
    const world = makeWorld([]);
    twoPartnerSeed(world.env.FLEET_SEED!);
    world.config = loadConfig({ ...world.env, API_RATE_PER_SECOND: '1', API_RATE_BURST: '3' });
    const service = await startInProcess(world);
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${service.httpUrl}/api/v1/software/catalog`, { headers: { authorization: `Bearer ${TOKENS.aUser}` } });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // another token is not affected
      expect((await fetch(`${service.httpUrl}/api/v1/software/catalog`, { headers: { authorization: `Bearer ${TOKENS.bAdmin}` } })).status).toBe(200);
    } finally {
      await service.stop();
      await world.cleanup();
    }
  });
});
