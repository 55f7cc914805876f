import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planDevices, runFleet, validateSimulateOptions, type SimulateOptions } from '../../simulators/fleet.js';
import { DEVICE_ID_RE } from '../../simulators/protocol.js';
import { startBroker, startRecorder, waitFor, type Received, type TestBroker } from './broker.js';

const DEVICES = 20;
const COUNT = 5;

let broker: TestBroker;
let rec: Awaited<ReturnType<typeof startRecorder>>;

beforeEach(async () => {
  broker = await startBroker();
  rec = await startRecorder(broker.url);
});

afterEach(async () => {
  await rec.client.endAsync(true);
  await broker.close();
});

function byDevice(messages: Received[], leaf: string, state?: string): Map<string, Received[]> {
  const m = new Map<string, Received[]>();
  for (const r of messages) {
    if (r.leaf !== leaf || (state !== undefined && r.payload.state !== state)) continue;
    const list = m.get(r.deviceId) ?? [];
    list.push(r);
    m.set(r.deviceId, list);
  }
  return m;
}

/** Exactly count statuses per device, every (device, seq) once, online first and offline last. */
function checkRun(messages: Received[], ids: string[]): void {
  const status = messages.filter((r) => r.leaf === 'status');
  expect(status).toHaveLength(ids.length * COUNT);
  const pairs = new Set(status.map((r) => `${r.deviceId}#${String(r.payload.seq)}`));
  expect(pairs.size).toBe(ids.length * COUNT);
  for (const id of ids) for (let seq = 0; seq < COUNT; seq++) expect(pairs.has(`${id}#${seq}`)).toBe(true);

  const online = byDevice(messages, 'presence', 'online');
  const offline = byDevice(messages, 'presence', 'offline');
  expect([...online.keys()].sort()).toEqual([...ids].sort());
  expect([...offline.keys()].sort()).toEqual([...ids].sort());
  for (const id of ids) {
    expect(online.get(id)).toHaveLength(1);
    expect(offline.get(id)).toHaveLength(1);
    // one publisher's messages keep their order through the broker
    const own = messages.filter((r) => r.deviceId === id);
    expect(own[0]!.payload.state).toBe('online');
    expect(own.at(-1)!.payload.state).toBe('offline');
    expect(own.filter((r) => r.leaf === 'status').map((r) => r.payload.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(typeof own.at(-1)!.payload.ts).toBe('number');
  }
}

const ids = Array.from({ length: DEVICES }, (_, i) => `SIM${String(i + 1).padStart(6, '0')}`);

describe('runFleet on an embedded broker', () => {
  it('per-device: 20 devices x 5 statuses, online and offline presence per device', async () => {
    const stats = await runFleet({ url: broker.url, devices: DEVICES, intervalS: 0.05, count: COUNT, connections: 'per-device' });
    expect(stats).toMatchObject({ sent: DEVICES * COUNT, presence: 2 * DEVICES, errors: 0, devices: DEVICES, connections: DEVICES });
    await waitFor(() => byDevice(rec.messages, 'presence', 'offline').size === DEVICES, 5000, 'offline presence');
    await new Promise((r) => setTimeout(r, 100)); // nothing more may arrive (no Last Will after a clean stop)
    checkRun(rec.messages, ids);
  });

  it('shared: few connections carry all devices, same messages', async () => {
    const stats = await runFleet({
      url: broker.url,
      devices: DEVICES,
      intervalS: 0.05,
      count: COUNT,
      connections: 'shared',
      devicesPerConnection: 8,
    });
    expect(stats).toMatchObject({ sent: DEVICES * COUNT, presence: 2 * DEVICES, errors: 0, connections: 3 });
    await waitFor(() => byDevice(rec.messages, 'presence', 'offline').size === DEVICES, 5000, 'offline presence');
    await new Promise((r) => setTimeout(r, 100));
    checkRun(rec.messages, ids);
  });

  it('shared mode defaults to ceil(devices / 500) connections', async () => {
    const stats = await runFleet({ url: broker.url, devices: DEVICES, intervalS: 0.05, count: 1, connections: 'shared' });
    expect(stats.connections).toBe(1);
    expect(stats.sent).toBe(DEVICES);
  });

  it('spreads device phases over the interval instead of bursting', async () => {
    const arrivals: number[] = [];
    rec.client.on('message', (topic) => {
      if (topic.endsWith('/status')) arrivals.push(performance.now());
    });
    await runFleet({ url: broker.url, devices: 10, intervalS: 0.5, count: 1, connections: 'shared' });
    expect(arrivals).toHaveLength(10);
    // 10 devices over 0.5 s: first and last are ~0.45 s apart, not all at once
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);
  });

  it('the broker publishes the Last Will when a device connection drops, and the device comes back', async () => {
    const ac = new AbortController();
    const run = runFleet({ url: broker.url, devices: 3, intervalS: 0.05, connections: 'per-device' }, ac.signal);
    await waitFor(() => byDevice(rec.messages, 'status').size === 3, 5000, 'status from every device');

    const victim = 'SIM000002';
    const onlineTs = byDevice(rec.messages, 'presence', 'online').get(victim)![0]!.payload.ts as number;
    broker.clients.get(victim)!.conn.destroy(); // abrupt: no DISCONNECT
    await waitFor(() => byDevice(rec.messages, 'presence', 'offline').has(victim), 5000, 'Last Will');
    const will = byDevice(rec.messages, 'presence', 'offline').get(victim)![0]!.payload;
    expect(will.state).toBe('offline');
    // the will carries the time of the connect it belongs to
    expect(Math.abs((will.ts as number) - onlineTs)).toBeLessThan(2000);
    expect(byDevice(rec.messages, 'presence', 'offline').size).toBe(1);

    // mqtt.js reconnects (reconnectPeriod 1 s) and the device announces itself again
    await waitFor(() => (byDevice(rec.messages, 'presence', 'online').get(victim)?.length ?? 0) === 2, 5000, 'reconnect');
    const seqBefore = rec.messages.filter((r) => r.deviceId === victim && r.leaf === 'status').length;
    await waitFor(
      () => rec.messages.filter((r) => r.deviceId === victim && r.leaf === 'status').length > seqBefore,
      5000,
      'status after reconnect',
    );

    ac.abort();
    const stats = await run;
    expect(stats.presence).toBe(3 + 1 + 3); // online x3, online again, offline x3
    await waitFor(() => byDevice(rec.messages, 'presence', 'offline').size === 3, 5000, 'offline after stop');
    expect(byDevice(rec.messages, 'presence', 'offline').get(victim)).toHaveLength(2);
  });

  it('durationS stops the run', async () => {
    const t = performance.now();
    const stats = await runFleet({ url: broker.url, devices: 4, intervalS: 0.05, durationS: 0.3, connections: 'shared' });
    expect(performance.now() - t).toBeLessThan(3000);
    expect(stats.sent).toBeGreaterThanOrEqual(4 * 4);
    expect(stats.sent).toBeLessThanOrEqual(4 * 8);
  });

  it('an already aborted signal publishes nothing but still ends cleanly', async () => {
    const ac = new AbortController();
    ac.abort();
    const stats = await runFleet({ url: broker.url, devices: 2, intervalS: 0.05, count: 3 }, ac.signal);
    expect(stats.sent).toBe(0);
  });

  it('plays registry devices with their ids and models, plus unregistered ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fwsim-'));
    const file = join(dir, 'fleet.yaml');
    await writeFile(
      file,
      [
        'partners: [{ id: p-acme, name: Acme AV }]',
        'devices:',
        '  - { id: 8L2129E0A1B2, model: Studio X50, siteId: s-berlin, coverage: { plan: poly-plus } }',
        '  - { id: 64167F0012AB, model: CCX 500, siteId: s-berlin }',
        '  - { id: 0004F2ABCDEF, model: Poly G7500, siteId: s-berlin }',
      ].join('\n'),
    );
    const stats = await runFleet({ url: broker.url, devices: 3, unregistered: 2, registry: file, intervalS: 0.05, count: 2 });
    expect(stats.sent).toBe(10);
    await waitFor(() => byDevice(rec.messages, 'presence', 'offline').size === 5, 5000, 'offline presence');
    const models = new Map<string, unknown>();
    for (const r of rec.messages) if (r.leaf === 'status') models.set(r.deviceId, r.payload.model);
    expect(models.get('8L2129E0A1B2')).toBe('Studio X50');
    expect(models.get('64167F0012AB')).toBe('CCX 500');
    expect(models.get('0004F2ABCDEF')).toBe('G7500');
    expect(models.has('UNREG000001')).toBe(true);
    expect(models.has('UNREG000002')).toBe(true);
  });

  it('fails clearly when the broker is unreachable', async () => {
    const url = broker.url;
    await broker.close();
    broker = await startBroker(); // for afterEach
    await expect(runFleet({ url, devices: 2, intervalS: 1, count: 1, connectTimeoutS: 0.5 })).rejects.toThrow(/cannot connect to mqtt:\/\/127\.0\.0\.1/);
  });

  it('QoS 0 works too', async () => {
    const stats = await runFleet({ url: broker.url, devices: 5, intervalS: 0.05, count: 2, qos: 0, connections: 'shared' });
    expect(stats.sent).toBe(10);
  });
});

describe('planDevices and validation', () => {
  it('generates deterministic SIM ids and models', async () => {
    const a = await planDevices({ devices: 30, seed: 4, unregistered: 3 });
    const b = await planDevices({ devices: 30, seed: 4, unregistered: 3 });
    expect(a).toEqual(b);
    expect(a[0]!.id).toBe('SIM000001');
    expect(a[29]!.id).toBe('SIM000030');
    expect(a[30]!.id).toBe('UNREG000001');
    expect(a.every((d) => DEVICE_ID_RE.test(d.id))).toBe(true);
    expect(new Set(a.map((d) => d.model)).size).toBeGreaterThan(4);
    // growing the fleet keeps the devices already there
    expect((await planDevices({ devices: 40, seed: 4 })).slice(0, 30)).toEqual(a.slice(0, 30));
  });

  it('rejects bad options with the option name', () => {
    const base: SimulateOptions = { url: 'mqtt://127.0.0.1:1883', devices: 1, intervalS: 1 };
    expect(() => validateSimulateOptions({ ...base, devices: -1 })).toThrow(/devices must be/);
    expect(() => validateSimulateOptions({ ...base, devices: 1.5 })).toThrow(/devices must be/);
    expect(() => validateSimulateOptions({ ...base, intervalS: 0 })).toThrow(/intervalS must be/);
    expect(() => validateSimulateOptions({ ...base, url: 'http://x' })).toThrow(/url must be/);
    expect(() => validateSimulateOptions({ ...base, count: 0 })).toThrow(/count must be/);
    expect(() => validateSimulateOptions({ ...base, devices: 0 })).toThrow(/nothing to simulate/);
    expect(() => validateSimulateOptions({ ...base, connections: 'x' as 'shared' })).toThrow(/connections must be/);
    expect(() => validateSimulateOptions(base)).not.toThrow();
  });
});
