// Network tools end to end over the real mosquitto: the real service (collector, registry, audit) in
// process, a DiagnosticsService on top of it publishing commands with its own mqtt.js client, and
// the simulator (runFleet, in process) playing one registered device that answers step by step.
// Other registered devices have no simulator: they never answer.
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../../simulators/fleet.js';
import { DiagnosticsEvents, type DiagnosticsEventPayload } from '../../src/diagnostics/diagnostics-events.js';
import { DiagnosticsError, DiagnosticsService, type DiagnosticsServiceDeps } from '../../src/diagnostics/diagnostics-service.js';
import type { Service } from '../../src/service.js';
import { makeWorld, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';

const SIM = 'DGSIM001'; // answered by the simulator (first in the seed: the fleet plays it)
const SILENT = 'DGSILENT01';
const VICTIM = 'DGVICTIM01';
const SPOOFER = 'DGSPOOF01';
const OPS = { name: 'ops@test', partnerId: 'p-test' };
const REPLY_DELAY_MS = 40;

describe('diagnostics over real MQTT with a simulated device', () => {
  let world: TestWorld;
  let service: Service;
  let commands: MqttClient;
  let spoofer: MqttClient;
  const fleet = new AbortController();
  let fleetRun: Promise<unknown>;
  const services: DiagnosticsService[] = [];

  const progress: DiagnosticsEventPayload[] = [];
  const results: DiagnosticsEventPayload[] = [];
  const events = new DiagnosticsEvents();
  events.on('progress', (p) => progress.push(p));
  events.on('result', (p) => results.push(p));
  let diag: DiagnosticsService;

  const make = (extra: Partial<DiagnosticsServiceDeps> = {}): DiagnosticsService => {
    const s = new DiagnosticsService({
      db: service.registry.db,
      ingest: service.events,
      publish: async (topic, payload) => {
        await commands.publishAsync(topic, payload, { qos: 1 });
      },
      resolveTenant: (id) => service.registry.getDevice(id),
      audit: service.alerting.audit,
      events,
      log: pino({ level: 'silent' }),
      ...extra,
    });
    services.push(s);
    return s;
  };
  const resultOf = (id: string) => waitFor(async () => results.find((r) => r.diagnosticsId === id), (r) => r !== undefined, 15_000, 10);
  const row = (id: string) =>
    service.registry.db.prepare<{ status: string; steps: string; result: string | null; finished_ms: number | null; partner_id: string | null }>(
      'SELECT status, steps, result, finished_ms, partner_id FROM diagnostics WHERE id = ?',
    ).get(id);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(DiagnosticsError);
      return `${(err as DiagnosticsError).code} ${(err as DiagnosticsError).status}`;
    }
    return 'no error';
  };

  beforeAll(async () => {
    world = makeWorld([{ id: SIM }, { id: SILENT }, { id: VICTIM }, { id: SPOOFER }, { id: 'DGRATE01' }, { id: 'DGRATE02' }, { id: 'DGRATE03' }]);
    service = await startInProcess(world);
    commands = await mqtt.connectAsync(testMqttUrl(), { clientId: `dg-cmd-${world.name}`, clean: true });
    spoofer = await mqtt.connectAsync(testMqttUrl(), { clientId: SPOOFER, clean: true });
    // The collector is subscribed once it has seen the simulated device's (retained) presence.
    const collectorSeesDevice = new Promise<void>((resolve) => {
      const onPresence = (deviceId: string): void => {
        if (deviceId !== SIM) return;
        service.events.off('presence', onPresence);
        resolve();
      };
      service.events.on('presence', onPresence);
    });
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    fleetRun = runFleet({ url: testMqttUrl(), registry: world.env.FLEET_SEED!, devices: 1, intervalS: 30, replyDelayMs: REPLY_DELAY_MS, seed: 7, onReady: ready }, fleet.signal);
    await Promise.race([isReady, fleetRun.then(() => Promise.reject(new Error('the simulator stopped before it was ready')))]);
    await collectorSeesDevice;
    diag = make();
  });

  afterAll(async () => {
    for (const s of services) s.close();
    fleet.abort();
    await fleetRun?.catch(() => undefined);
    await service?.stop();
    // The simulator's presence is retained: clear it, or every later service on this broker sees the device.
    await commands?.publishAsync(`poly/v1/devices/${SIM}/presence`, '', { qos: 1, retain: true });
    await commands?.endAsync();
    await spoofer?.endAsync();
    await world?.cleanup();
  });

  it('ping: one progress event per echo, then the result with the summary; all stored and audited', async () => {
    const run = diag.start(SIM, { tool: 'ping', target: 'teams.microsoft.com', count: 5 }, OPS);
    expect(run).toMatchObject({ status: 'pending', deviceId: SIM, partnerId: 'p-test', customerId: 'c-test' });
    const result = await resultOf(run.id);
    const steps = progress.filter((p) => p.diagnosticsId === run.id);
    expect(steps.map((p) => p.step!.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(steps.every((p) => p.status === 'running' && p.deviceId === SIM && p.partnerId === 'p-test' && p.tool === 'ping')).toBe(true);
    for (const p of steps) expect(p.step!.data).toMatchObject({ seq: p.step!.seq });
    expect(result).toMatchObject({ status: 'ok', result: { sent: 5 } });
    const summary = result!.result!;
    expect(summary.received).toBe(steps.filter((p) => !p.step!.data.lost).length);
    expect(Object.keys(summary).sort()).toEqual(['lossPct', 'received', 'rttAvgMs', 'rttMaxMs', 'rttMinMs', 'sent']);

    const stored = row(run.id)!;
    expect(stored.status).toBe('ok');
    expect((JSON.parse(stored.steps) as Array<{ seq: number }>).map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(JSON.parse(stored.result!)).toEqual(summary);
    expect(stored.finished_ms).toBeGreaterThanOrEqual(run.createdMs);
    expect(diag.get(run.id)).toMatchObject({ status: 'ok', result: summary });
    expect(diag.list({ deviceId: SIM, limit: 10 }).map((d) => d.id)).toContain(run.id);
    const audit = service.alerting.audit.query({ subject: `device:${SIM}`, action: 'diagnostics.started' });
    expect(audit.map((e) => [e.actor, e.partnerId, e.data.diagnosticsId])).toContainEqual(['ops@test', 'p-test', run.id]);
  });

  it('traceroute, dns, bandwidth and port run to their summaries; an unresolvable name ends as error', async () => {
    const cases = [
      [{ tool: 'traceroute', target: 'example.com' }, 'ok', ['hops', 'reached', 'destination']],
      [{ tool: 'dns', target: 'example.com' }, 'ok', ['addresses']],
      [{ tool: 'bandwidth', target: 'speed.example.net' }, 'ok', ['downMbps', 'upMbps']],
      [{ tool: 'port', target: 'sip.example.com', port: 5061 }, 'ok', ['open']],
      [{ tool: 'ping', target: 'nothing.invalid' }, 'error', ['error']],
    ] as const;
    for (const [req, status, keys] of cases) {
      const run = diag.start(SIM, req, OPS);
      const result = await resultOf(run.id);
      expect([req.tool, result!.status]).toEqual([req.tool, status]);
      for (const k of keys) expect(result!.result).toHaveProperty(k);
      expect(row(run.id)!.status).toBe(status);
    }
    const hops = progress.filter((p) => p.tool === 'traceroute').length;
    expect(hops).toBeGreaterThanOrEqual(5);
    expect(hops).toBeLessThanOrEqual(10);
  }, 30_000);

  it('a registered device that does not answer times out cleanly', async () => {
    const short = make({ timeoutMs: 800 });
    const run = short.start(SILENT, { tool: 'ping', target: 'example.com' }, OPS);
    const result = await resultOf(run.id);
    expect(result).toMatchObject({ status: 'timeout', result: null, deviceId: SILENT });
    expect(Date.now() - run.createdMs).toBeGreaterThanOrEqual(790);
    expect(progress.filter((p) => p.diagnosticsId === run.id)).toEqual([]);
    expect(row(run.id)).toMatchObject({ status: 'timeout', steps: '[]', result: null });
    expect(row(run.id)!.finished_ms).not.toBeNull();
    // the device is free again
    expect(short.start(SILENT, { tool: 'dns', target: 'example.com' }, OPS).status).toBe('pending');
  });

  it('ignores a reply with the same command id from another device', async () => {
    const run = diag.start(VICTIM, { tool: 'ping', target: 'example.com', count: 1 }, OPS);
    const spoofed = (seq: number, final: boolean) =>
      JSON.stringify({ commandId: run.id, seq, final, status: final ? 'ok' : 'running', data: final ? { sent: 1, received: 1, forged: true } : { seq, rttMs: 1, ttl: 64 } });
    // The collector has handled the forged final reply when it emits it on the ingest bus.
    const handled = new Promise<void>((resolve) =>
      service.events.on('reply', (deviceId, _a, reply) => {
        if (deviceId === SPOOFER && reply.final && reply.commandId === run.id) resolve();
      }),
    );
    await spoofer.publishAsync(`poly/v1/devices/${SPOOFER}/replies`, spoofed(0, false), { qos: 1 });
    await spoofer.publishAsync(`poly/v1/devices/${SPOOFER}/replies`, spoofed(1, true), { qos: 1 });
    await handled;
    expect(diag.get(run.id)).toMatchObject({ status: 'pending', steps: [], result: null });
    expect(progress.filter((p) => p.diagnosticsId === run.id)).toEqual([]);
    expect(results.filter((p) => p.diagnosticsId === run.id)).toEqual([]);
    expect(row(run.id)!.status).toBe('pending');

    // The real device's answer is still taken.
    await commands.publishAsync(`poly/v1/devices/${VICTIM}/replies`, JSON.stringify({ commandId: run.id, seq: 0, final: true, status: 'ok', data: { sent: 1, received: 1 } }), { qos: 1 });
    expect((await resultOf(run.id))!.result).toEqual({ sent: 1, received: 1 });
  });

  it('refuses bad requests, unknown devices, a second run on a busy device, and too many runs a minute', async () => {
    expect(code(() => diag.start(SIM, { tool: 'nmap', target: 'example.com' }, OPS))).toBe('bad_request 400');
    expect(code(() => diag.start(SIM, { tool: 'ping', target: 'example.com;reboot' }, OPS))).toBe('bad_request 400');
    expect(code(() => diag.start(SIM, { tool: 'port', target: 'example.com' }, OPS))).toBe('bad_request 400');
    expect(code(() => diag.start('NOT-REGISTERED', { tool: 'ping', target: 'example.com' }, OPS))).toBe('not_found 404');
    expect(code(() => diag.start(SIM, { tool: 'ping', target: 'example.com' }, { name: 'other', partnerId: 'p-other' }))).toBe('not_found 404');

    const first = diag.start(SIM, { tool: 'ping', target: 'example.com', count: 3 }, OPS);
    expect(code(() => diag.start(SIM, { tool: 'dns', target: 'example.com' }, OPS))).toBe('busy 409');
    await resultOf(first.id);
    const next = diag.start(SIM, { tool: 'dns', target: 'example.com' }, OPS); // free again after the result
    await resultOf(next.id);

    const limited = make({ maxRunsPerPartnerPerMinute: 2, timeoutMs: 300 });
    limited.start('DGRATE01', { tool: 'ping', target: 'example.com' }, OPS);
    limited.start('DGRATE02', { tool: 'ping', target: 'example.com' }, OPS);
    expect(code(() => limited.start('DGRATE03', { tool: 'ping', target: 'example.com' }, OPS))).toBe('rate_limited 429');
    expect(limited.start('DGRATE03', { tool: 'ping', target: 'example.com' }, { name: 'noc', partnerId: null }).status).toBe('pending');
    expect(service.registry.db.prepare<{ n: number }>("SELECT COUNT(*) AS n FROM diagnostics WHERE device_id = 'DGRATE03'").get()!.n).toBe(1);
  });

  it('the service wired into `fleetwatch serve` sends its commands on the collector connection', async () => {
    const wired = service.diagnostics;
    const run = wired.start(SIM, { tool: 'ping', target: '10.0.0.1', count: 2 }, OPS);
    await waitFor(async () => wired.get(run.id)?.status, (s) => s === 'ok' || s === 'error' || s === 'timeout', 10_000, 20);
    expect(wired.get(run.id)).toMatchObject({ status: 'ok', result: { sent: 2 } });
    expect(wired.get(run.id)!.steps).toHaveLength(2);
    expect(results.some((r) => r.diagnosticsId === run.id)).toBe(false); // its events go to the streams, not to this test's bus
  });
});
