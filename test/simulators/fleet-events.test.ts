// The events a played fleet sends on its own: `call_ended` when a call ends, and the `fault` events
// of a scenario, on an embedded broker.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFleet } from '../../simulators/fleet.js';
import { parseScenario } from '../../simulators/scenario/scenario-file.js';
import { startBroker, startRecorder, type Received, type TestBroker } from './broker.js';

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

const VIDEO = '8L2129E0A1B2';

async function registry(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'fwsim-')), 'fleet.yaml');
  await writeFile(
    file,
    ['devices:', `  - { id: ${VIDEO}, model: Studio X50, siteId: s1 }`, '  - { id: 64167F0012AB, model: CCX 500, siteId: s1 }'].join('\n'),
  );
  return file;
}

// A bad call on purpose: values forced, then a 1 s call; a camera fault that clears meanwhile.
const SCENARIO = parseScenario(
  [
    'name: bad-call-and-fault',
    'title: A bad call and a camera fault',
    'duration: 2s',
    'groups: { cam: { model: Studio X50 } }',
    'steps:',
    '  - { at: 20ms, group: cam, call: { end: true } }', // a call of its own (time of day) ends first
    '  - { at: 100ms, group: cam, set: { mos: 2.8, lossPct: 8 } }',
    '  - { at: 200ms, group: cam, call: { start: true, durationS: 1 } }',
    '  - { at: 300ms, group: cam, fault: { code: CAM_NO_VIDEO, component: camera } }',
    '  - { at: 500ms, group: cam, fault: { code: CAM_NO_VIDEO, component: camera, cleared: true } }',
    'expect: [{ alert: device_fault, group: cam }]',
  ].join('\n'),
  'test.yaml',
);

const isEvent = (m: Received, type: string): boolean => m.leaf === 'events' && m.payload.type === type;

interface Status {
  call: { active: boolean; platform: string; mos?: number };
  network: { lossPct: number; jitterMs: number };
}

describe('events of the simulated devices', () => {
  it.each(['per-device', 'shared'] as const)('%s: a fault and its clearing, then exactly one call_ended with the call averages', async (connections) => {
    const stats = await runFleet({ url: broker.url, devices: 2, registry: await registry(), intervalS: 0.1, durationS: 2, connections, scenarios: [SCENARIO] });
    expect(stats.errors).toBe(0);
    const mine = rec.messages.filter((m) => m.deviceId === VIDEO);

    const faults = mine.filter((m) => isEvent(m, 'fault'));
    expect(faults.map((m) => ({ ...m.payload, ts: typeof m.payload.ts }))).toEqual([
      { v: 1, ts: 'number', type: 'fault', severity: 'critical', data: { code: 'CAM_NO_VIDEO', component: 'camera', state: 'active', message: 'Camera fault CAM_NO_VIDEO' } },
      { v: 1, ts: 'number', type: 'fault', severity: 'info', data: { code: 'CAM_NO_VIDEO', component: 'camera', state: 'cleared', message: 'Camera fault CAM_NO_VIDEO cleared' } },
    ]);

    // The scenario's call: started before the fault, so its call_ended is the only one after it.
    const faultAt = mine.indexOf(faults[0]!);
    const ended = mine.slice(faultAt).filter((m) => isEvent(m, 'call_ended'));
    expect(ended).toHaveLength(1);
    const endedAt = mine.indexOf(ended[0]!);
    // Its samples: the in-call statuses right before it.
    const inCall: Status[] = [];
    for (let i = endedAt - 1; i >= 0; i--) {
      const m = mine[i]!;
      if (m.leaf !== 'status') continue;
      const s = m.payload as unknown as Status;
      if (!s.call.active) break;
      inCall.unshift(s);
    }
    expect(inCall.length).toBeGreaterThanOrEqual(7); // ~10 statuses in the 1 s call
    expect(inCall.every((s) => s.call.mos === 2.8 && s.network.lossPct === 8)).toBe(true);
    const jitter = inCall.reduce((a, s) => a + s.network.jitterMs, 0) / inCall.length;
    expect(ended[0]!.payload).toMatchObject({
      v: 1,
      type: 'call_ended',
      severity: 'warning', // mos 2.8 < 3.5, loss 8 % > 5 %
      data: { platform: inCall[0]!.call.platform, durationS: 1, mos: 2.8, mosMin: 2.8, lossPct: 8, jitterMs: Math.round(jitter * 10) / 10 },
    });
    expect(Object.keys(ended[0]!.payload.data as object).sort()).toEqual(['durationS', 'jitterMs', 'lossPct', 'mos', 'mosMin', 'platform']);
    // After it, the device is out of the call.
    const after = mine.slice(endedAt).find((m) => m.leaf === 'status');
    if (after) expect(after.payload.call).toEqual({ active: false, platform: 'none' });

    expect(stats.events).toBe(rec.messages.filter((m) => m.leaf === 'events').length);
  });
});
