// A network tool through the whole product: the API starts it, the command goes out over real
// MQTT to a device (played here by an mqtt.js client answering like a device), each reply reaches
// the owner's socket.io client as diagnostics.progress and the summary as diagnostics.result,
// and the run is stored. The other partner sees none of it; a silent device times out.
import mqtt, { type MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { connectStream } from '../support/stream-client.js';
import { makeWorld, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';

const A = 'diag-a-user-token-0000000';
const B = 'diag-b-user-token-0000000';

describe('network tools end to end', () => {
  let world: TestWorld;
  let service: Service;
  let device: MqttClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, {
      devicesA: ['DIAGA1', 'DIAGA2'],
      devicesB: ['DIAGB1'],
      users: [
        { name: 'a', role: 'partner_user', partnerId: 'p-a', token: A },
        { name: 'b', role: 'partner_user', partnerId: 'p-b', token: B },
      ],
    });
    service = await startInProcess(world);
    // The device: answers a ping with one reply per echo, then the summary.
    device = await mqtt.connectAsync(testMqttUrl(), { clientId: 'DIAGA1' });
    device.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { id: string; type: string; params: { tool: string; count?: number } };
      const n = cmd.params.count ?? 4;
      void (async () => {
        for (let seq = 0; seq < n; seq++) {
          await new Promise((r) => setTimeout(r, 20));
          await device.publishAsync('poly/v1/devices/DIAGA1/replies', JSON.stringify({ commandId: cmd.id, seq, final: false, status: 'running', data: { seq, rttMs: 10 + seq, ttl: 57 } }), { qos: 1 });
        }
        await device.publishAsync('poly/v1/devices/DIAGA1/replies', JSON.stringify({ commandId: cmd.id, seq: n, final: true, status: 'ok', data: { sent: n, received: n, lossPct: 0, rttAvg: 11.5 } }), { qos: 1 });
      })();
    });
    await device.subscribeAsync('poly/v1/devices/DIAGA1/commands', { qos: 1 });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await device?.endAsync();
    await service?.stop();
    await world?.cleanup();
  });

  const client = (token: string) => connectStream(service.httpUrl, token, sockets);
  const post = (token: string, path: string, body: unknown) =>
    fetch(`${service.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('streams each step and the result to the owner, and stores the run', async () => {
    const a = await client(A);
    const b = await client(B);
    const gotA: Array<[string, { runId?: string; step?: { seq: number }; status?: string; result?: unknown }]> = [];
    const gotB: string[] = [];
    for (const name of ['diagnostics.progress', 'diagnostics.result']) {
      a.on(name, (e) => gotA.push([name, e]));
      b.on(name, () => gotB.push(name));
    }
    expect((await post(B, '/api/v1/devices/DIAGA1/diagnostics', { tool: 'ping', target: 'teams.microsoft.com' })).status).toBe(404);
    const res = await post(A, '/api/v1/devices/DIAGA1/diagnostics', { tool: 'ping', target: 'teams.microsoft.com', count: 3 });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => gotA.some(([n]) => n === 'diagnostics.result'), (x) => x, 10_000, 20);
    expect(gotA.map(([n, e]) => (n === 'diagnostics.progress' ? `step ${e.step?.seq}` : `result ${e.status}`))).toEqual(['step 0', 'step 1', 'step 2', 'result ok']);
    expect(gotA.every(([, e]) => e.runId === id)).toBe(true);
    expect(gotB).toEqual([]);
    const run = (await (await fetch(`${service.httpUrl}/api/v1/diagnostics/${id}`, { headers: { authorization: `Bearer ${A}` } })).json()) as { status: string; steps: unknown[]; result: unknown };
    expect(run).toMatchObject({ status: 'ok', result: { sent: 3, received: 3 } });
    expect(run.steps).toHaveLength(3);
    expect((await fetch(`${service.httpUrl}/api/v1/diagnostics/${id}`, { headers: { authorization: `Bearer ${B}` } })).status).toBe(404);
    expect(service.alerting.audit.query({ partnerId: 'p-a' }).some((e) => e.subject.includes(id) || JSON.stringify(e.data).includes(id))).toBe(true);
  });

  it('refuses bad input with a 4xx and a reason', async () => {
    for (const [body, status] of [
      [{ tool: 'nmap', target: 'x' }, 400],
      [{ tool: 'ping', target: 'a.example; rm -rf /' }, 400],
      [{ tool: 'port', target: 'example.com' }, 400],
    ] as const) {
      const r = await post(A, '/api/v1/devices/DIAGA1/diagnostics', body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(((await r.json()) as { error: { message: string } }).error.message.length).toBeGreaterThan(3);
    }
  });
});
