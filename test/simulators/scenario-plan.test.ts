// The pure parts of fault scenarios: picking devices for groups, expanding steps into timed
// actions, forced values on a device, and the checker that says whether the service did its part.
import { describe, expect, it } from 'vitest';
import { SimDevice } from '../../simulators/device.js';
import { compileScenarios, describeAction, type CandidateDevice, type ScenarioAction } from '../../simulators/scenario/compile.js';
import { checkScenarios, type ObservedAlert } from '../../simulators/scenario/expect.js';
import { parseScenario } from '../../simulators/scenario/scenario-file.js';

function dev(id: string, over: Partial<CandidateDevice> = {}): CandidateDevice {
  return { id, model: 'Studio X50', family: 'video', hasFan: true, peripherals: ['camera'], provider: 'teams', siteId: 's1', customerId: 'c1', ...over };
}

const FLEET: CandidateDevice[] = [
  dev('V1'),
  dev('V2', { siteId: 's2', customerId: 'c2', provider: 'zoom' }),
  dev('P1', { model: 'CCX 500', family: 'phone', hasFan: false, peripherals: ['headset'] }),
  dev('V3', { siteId: 's2', customerId: 'c2' }),
  dev('V4', { siteId: 's3', customerId: 'c3' }),
  dev('P2', { model: 'CCX 500', family: 'phone', hasFan: false, peripherals: [], siteId: 's2', customerId: 'c2' }),
];

const scenario = (yaml: string) => parseScenario(yaml, 'test.yaml');

describe('compileScenarios', () => {
  it('gives each group its own devices, in registry order, across scenarios', () => {
    const a = scenario(`name: a\ntitle: A\nduration: 60s\ngroups: { site: { sameSite: true, count: all, siteAtLeast: 3 } }\nsteps: [{ at: 1s, group: site, reboot: true }]\nexpect: [{ alert: reboot_loop, group: site }]`);
    const b = scenario(`name: b\ntitle: B\nduration: 60s\ngroups: { t: { provider: teams, customers: 2 }, ph: { family: phone } }\nsteps: [{ at: 1s, group: t, cloud: lost }]\nexpect: [{ incident: teams }]`);
    const plan = compileScenarios([a, b], FLEET);
    // s1 has V1 and P1 only (2 devices); s2 has V2, V3, P2: the first site with 3.
    expect(plan.groups.get('a')!.get('site')).toEqual(['V2', 'V3', 'P2']);
    // Teams devices of two customers, one each, not taken by scenario a.
    expect(plan.groups.get('b')!.get('t')).toEqual(['V1', 'V4']);
    expect(plan.groups.get('b')!.get('ph')).toEqual(['P1']);
    expect([...plan.involved].sort()).toEqual(['P1', 'P2', 'V1', 'V2', 'V3', 'V4']);
  });

  it('refuses a group nothing matches, naming it', () => {
    const s = scenario(`name: a\ntitle: A\nduration: 60s\ngroups: { g: { family: controller } }\nsteps: [{ at: 1s, group: g, reboot: true }]\nexpect: [{ alert: reboot_loop, group: g }]`);
    expect(() => compileScenarios([s], FLEET)).toThrow(/scenario a: group g: no free device matches \{count: 1, family: controller\}/);
  });

  it('a version YAML would read as a number must be quoted', () => {
    const yaml = `name: a\ntitle: A\nduration: 60s\ngroups: { g: {} }\nsteps: [{ at: 1s, group: g, update: { to: 9.0, result: done } }]\nexpect: [{ alert: reboot_loop, group: g }]`;
    expect(() => scenario(yaml)).toThrow(/steps.0.update.to: a version string: quote it/);
  });

  it('expands repeats and software updates into timed actions, sorted by time', () => {
    const s = scenario(
      `name: a\ntitle: A\nduration: 5m\ngroups: { g: { family: phone, count: 1 } }\nsteps:\n` +
        `  - { at: 10s, group: g, reboot: true, every: 40s, times: 3 }\n` +
        `  - { at: 20s, group: g, update: { to: '9.0', result: done, step: 5s } }\n` +
        `expect: [{ alert: reboot_loop, group: g }]`,
    );
    const plan = compileScenarios([s], FLEET);
    expect(plan.actions.map((a) => [a.atMs, a.action.kind, 'state' in a.action ? a.action.state : undefined])).toEqual([
      [10_000, 'reboot', undefined],
      [20_000, 'update_event', 'downloading'],
      [25_000, 'update_event', 'installing'],
      [30_000, 'firmware', undefined],
      [30_000, 'reboot', undefined],
      [30_000, 'update_event', 'done'],
      [50_000, 'reboot', undefined],
      [90_000, 'reboot', undefined],
    ]);
    expect(plan.durationMs).toBe(300_000);
  });
});

describe('call and fault steps', () => {
  const withSteps = (steps: string, duration = '5m') =>
    `name: a\ntitle: A\nduration: ${duration}\ngroups: { g: { family: video, count: 2 } }\nsteps:\n${steps}\nexpect: [{ alert: device_fault, group: g }]`;

  it('compiles a held call into start and end, and faults into events of their own', () => {
    const s = scenario(
      withSteps(
        `  - { at: 5s, group: g, set: { mos: 2.9, lossPct: 7 } }\n` +
          `  - { at: 10s, group: g, call: { start: true, durationS: 90 } }\n` +
          `  - { at: 20s, group: g, fault: { code: CAM_NO_VIDEO, component: camera } }\n` +
          `  - { at: 30s, group: g, fault: { code: FAN_SLOW, component: fan, severity: warning, message: Fan below 500 rpm } }\n` +
          `  - { at: 60s, group: g, fault: { code: CAM_NO_VIDEO, component: camera, cleared: true } }\n` +
          `  - { at: 2m, group: g, call: { end: true } }`,
      ),
    );
    const plan = compileScenarios([s], FLEET);
    const v1 = plan.actions.filter((a) => a.deviceId === 'V1').map((a) => [a.atMs, a.action]);
    expect(v1).toEqual([
      [5_000, { kind: 'override', field: 'mos', to: 2.9, overMs: 0 }],
      [5_000, { kind: 'override', field: 'lossPct', to: 7, overMs: 0 }],
      [10_000, { kind: 'call', start: true }],
      [20_000, { kind: 'fault', code: 'CAM_NO_VIDEO', component: 'camera', severity: 'critical', cleared: false, message: 'Camera fault CAM_NO_VIDEO' }],
      [30_000, { kind: 'fault', code: 'FAN_SLOW', component: 'fan', severity: 'warning', cleared: false, message: 'Fan below 500 rpm' }],
      [60_000, { kind: 'fault', code: 'CAM_NO_VIDEO', component: 'camera', severity: 'critical', cleared: true, message: 'Camera fault CAM_NO_VIDEO cleared' }],
      [100_000, { kind: 'call', start: false }],
      [120_000, { kind: 'call', start: false }],
    ]);
    expect(plan.actions.filter((a) => a.deviceId === 'V2')).toHaveLength(8);
    expect(describeAction({ kind: 'call', start: true })).toBe('call started');
    expect(describeAction(v1[3]![1] as ScenarioAction)).toBe('fault CAM_NO_VIDEO (camera, critical)');
    expect(describeAction(v1[5]![1] as ScenarioAction)).toBe('fault CAM_NO_VIDEO (camera) cleared');
  });

  it.each([
    [`fault: { code: X1 }`, /steps\.0\.fault\.component: component is one of camera, microphone, speaker, display, fan, power, software, network, other/],
    [`fault: { code: X1, component: mainboard }`, /steps\.0\.fault\.component: component is one of camera, microphone/],
    [`fault: { code: 1234, component: fan }`, /steps\.0\.fault\.code: a fault code string, e\.g\. CAM_NO_VIDEO \(quote one YAML reads as a number\)/],
    [`fault: { code: 'no spaces', component: fan }`, /steps\.0\.fault\.code: a fault code: up to 64 letters, digits/],
    [`fault: { code: X1, component: fan, severity: info }`, /steps\.0\.fault\.severity: severity is critical or warning \(a cleared fault is info\)/],
    [`fault: { code: X1, component: fan, state: active }`, /steps\.0\.fault: Unrecognized key: "state"/],
    [`call: { start: true, end: true }`, /steps\.0\.call: a call step is either \{ start: true \} or \{ end: true \}/],
    [`call: {}`, /steps\.0\.call: a call step is either/],
    [`call: { start: false }`, /steps\.0\.call\.start: start: true \(to end a call: end: true\)/],
    [`call: { end: true, durationS: 10 }`, /steps\.0\.call\.durationS: durationS goes with start, not end/],
    [`call: { start: true, durationS: 1.5 }`, /steps\.0\.call\.durationS: durationS: whole seconds/],
    [`call: { start: true, durationS: 600 }`, /steps\.0\.call\.durationS: the call ends after the scenario's duration \(5m\)/],
    [`set: { mos: 7 }`, /steps\.0\.set\.mos: mos is between 1 and 5/],
    [`call: { start: true }, reboot: true`, /steps\.0: a step does exactly one of .* \(found reboot, call\)/],
  ])('refuses %s with a clear error', (step, error) => {
    expect(() => scenario(withSteps(`  - { at: 1s, group: g, ${step} }`))).toThrow(error);
  });
});

describe('forced values on a simulated device', () => {
  it('ramps linearly, holds, and hands back to the device; the fan follows a forced temperature', () => {
    const d = new SimDevice({ id: 'X1', model: 'Studio X50', seed: 3, randomFaults: false });
    const t0 = 1_800_000_000_000;
    const before = d.nextStatus(t0);
    d.override('tempC', 81, t0, 20_000);
    const mid = d.nextStatus(t0 + 10_000);
    expect(mid.tempC).toBeCloseTo((before.tempC! + 81) / 2, 0);
    const hot = d.nextStatus(t0 + 30_000);
    expect(hot.tempC).toBe(81);
    expect(hot.fanRpm).toBeGreaterThan(before.fanRpm!);
    d.restore('tempC', t0 + 30_000, 10_000);
    const back = d.nextStatus(t0 + 60_000);
    expect(back.tempC).toBeLessThan(70);
  });

  it('a failed peripheral and a lost registration show in the status', () => {
    const d = new SimDevice({ id: 'X2', model: 'Studio X50', seed: 3, randomFaults: false });
    expect(d.setPeripheral('camera', 'failed')).toBe('ok');
    d.forceUnregistered(true);
    const s = d.nextStatus(1_800_000_000_000);
    expect(s.peripherals?.find((p) => p.kind === 'camera')?.state).toBe('failed');
    expect(s.cloud?.registered).toBe(false);
    expect(d.setPeripheral('headset', 'failed')).toBeUndefined(); // none attached
  });
});

describe('checkScenarios', () => {
  const s = scenario(
    `name: heat\ntitle: H\nduration: 5m\ngroups: { hot: { count: 2, family: video } }\nsteps: [{ at: 1s, group: hot, set: { tempC: 90 } }]\n` +
      `expect: [{ alert: overheating, group: hot, resolves: true, replacement: true }]`,
  );
  const plan = compileScenarios([s], FLEET); // hot = V1, V2
  const T = 1_000_000;
  const alert = (rule: string, deviceId: string, state: 'firing' | 'resolved', startedMs = T + 5000, ticketId: number | null = 1): ObservedAlert => ({
    rule,
    deviceId,
    state,
    startedMs,
    ticketId,
  });

  it('is satisfied when every device fired, resolved and got its replacement, and nothing else started', () => {
    const r = checkScenarios(
      plan,
      { alerts: [alert('overheating', 'V1', 'resolved', T + 5000, 1), alert('overheating', 'V2', 'resolved', T + 6000, 2), alert('firmware_below_minimum', 'P1', 'firing', T - 500)], tickets: [], replacementTicketIds: new Set([1, 2]) },
      T,
    );
    expect(r).toMatchObject({ ok: true, missing: [], unexpected: [] });
    expect(r.met).toHaveLength(2);
  });

  it('names what is missing and what was not asked for', () => {
    const r = checkScenarios(
      plan,
      { alerts: [alert('overheating', 'V1', 'firing', T + 5000, 1), alert('overheating', 'V2', 'resolved', T + 6000, 2), alert('fan_stopped', 'V1', 'firing')], tickets: [], replacementTicketIds: new Set([1]) },
      T,
    );
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual(['heat: overheating on V1: fired but has not resolved', 'heat: overheating on V2: fired but its ticket has no advance replacement']);
    expect(r.unexpected).toEqual(['fan_stopped on V1 (firing)']);
  });

  it('an alert before the first step is not the scenario\'s, and does not count for it', () => {
    const r = checkScenarios(plan, { alerts: [alert('overheating', 'V1', 'resolved', T - 1)], tickets: [], replacementTicketIds: new Set([1]) }, T);
    expect(r.missing).toContain('heat: overheating on V1: never fired');
    expect(r.unexpected).toEqual([]);
  });

  it('covered: true picks only devices whose coverage is in force', () => {
    const f = scenario(`name: cov\ntitle: C\nduration: 5m\ngroups: { c: { count: all, covered: true } }\nsteps: [{ at: 1s, group: c, set: { tempC: 90 } }]\nexpect: [{ alert: overheating, group: c }]`);
    const fleet = [
      { ...FLEET[0]!, id: 'OPEN', coveredUntil: null },
      { ...FLEET[0]!, id: 'LAPSED', coveredUntil: '2020-01-31' },
      { ...FLEET[0]!, id: 'FUTURE', coveredUntil: '2999-12-31' },
      { ...FLEET[0]!, id: 'UNKNOWN' },
    ];
    expect(compileScenarios([f], fleet).expectations[0]!.deviceIds.sort()).toEqual(['FUTURE', 'OPEN']);
  });

  it('replacement: false fails when a part was requested anyway (triage)', () => {
    const cable = scenario(`name: cable\ntitle: C\nduration: 5m\ngroups: { cam: { count: 1, family: video } }\nsteps: [{ at: 1s, group: cam, peripheral: { kind: camera, state: disconnected } }]\nexpect: [{ alert: peripheral_failed, group: cam, replacement: false }]`);
    const p = compileScenarios([cable], FLEET);
    const id = p.expectations[0]!.deviceIds[0]!;
    const shipped = checkScenarios(p, { alerts: [alert('peripheral_failed', id, 'firing', T + 5000, 7)], tickets: [], replacementTicketIds: new Set([7]) }, T);
    expect(shipped.missing).toEqual([`cable: peripheral_failed on ${id}: fired and its ticket requested a replacement it must not have`]);
    const held = checkScenarios(p, { alerts: [alert('peripheral_failed', id, 'firing', T + 5000, 7)], tickets: [], replacementTicketIds: new Set() }, T);
    expect(held).toMatchObject({ ok: true, met: [`cable: peripheral_failed on ${id}: fired, no replacement`] });
  });

  it('checks a cloud-partner incident by provider', () => {
    const inc = scenario(`name: out\ntitle: O\nduration: 5m\ngroups: { t: { provider: teams } }\nsteps: [{ at: 1s, group: t, cloud: lost }]\nexpect: [{ incident: teams }]`);
    const p = compileScenarios([inc], FLEET);
    const none = checkScenarios(p, { alerts: [], tickets: [{ id: 9, kind: 'cloud_incident', dedupKey: 'cloud_incident/zoom', openedMs: T + 1 }], replacementTicketIds: new Set() }, T);
    expect(none.missing).toEqual(['out: teams cloud-partner incident not opened']);
    const ok = checkScenarios(p, { alerts: [], tickets: [{ id: 9, kind: 'cloud_incident', dedupKey: 'cloud_incident/teams', openedMs: T + 1 }], replacementTicketIds: new Set() }, T);
    expect(ok.ok).toBe(true);
  });
});
