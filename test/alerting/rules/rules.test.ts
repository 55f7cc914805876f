// The pure parts of the rules: timing with hysteresis, the rules file, version comparison.
import { describe, expect, it } from 'vitest';
import { OK, step, type ConditionState } from '../../../alerting/rules/condition-state.js';
import { newTrack, rebootsWithin, trackRebootEvent, trackStatus } from '../../../alerting/rules/device-track.js';
import { compareVersions } from '../../../alerting/rules/firmware-catalog.js';
import type { StatusSnapshot } from '../../../collector/messages.js';
import { RuleSet } from '../../../alerting/rules/rule-set.js';

describe('condition timing', () => {
  const t = { forMs: 60_000, clearForMs: 120_000 };
  // One row per input: [ms, breached, cleared, expected phase, expected transition]
  const table: Array<[number, boolean, boolean, ConditionState['phase'], string | undefined]> = [
    [0, true, false, 'pending', undefined],
    [30_000, true, false, 'pending', undefined],
    [60_000, true, false, 'firing', 'firing'],
    [70_000, false, false, 'firing', undefined], // between the levels: stays
    [80_000, false, true, 'clearing', undefined],
    [150_000, true, false, 'firing', undefined], // bad again before clearFor ran out: no new alert
    [160_000, false, true, 'clearing', undefined],
    [280_000, false, true, 'ok', 'resolved'],
  ];
  it('fires after `for`, holds between the levels, resolves only after `clearFor` of calm', () => {
    let s: ConditionState = OK;
    for (const [ms, breached, cleared, phase, transition] of table) {
      const r = step(s, breached, cleared, 1, t, ms);
      expect([ms, r.state.phase, r.transition]).toEqual([ms, phase, transition]);
      s = r.state;
    }
  });

  it('a condition that stops before `for` runs out never fires', () => {
    const a = step(OK, true, false, 1, t, 0);
    expect(step(a.state, false, true, 1, t, 59_000)).toMatchObject({ state: { phase: 'ok' }, transition: undefined });
  });
});

describe('reboot counting', () => {
  const status = (seq: number, uptimeS: number): StatusSnapshot => ({ seq, uptimeS, firmware: '4.2.0', model: 'Studio X50' }) as StatusSnapshot;
  const WINDOW = 30 * 60_000;

  it('counts a reboot once whether its event or its seq restart arrives first', () => {
    const t = newTrack();
    trackStatus(t, status(10, 5000), 0, WINDOW);
    // Reboot 1: event, then seq restart.
    trackRebootEvent(t, 1_000, WINDOW);
    trackStatus(t, status(0, 5), 6_000, WINDOW);
    trackStatus(t, status(1, 10), 11_000, WINDOW);
    expect(rebootsWithin(t, 11_000, WINDOW)).toBe(1);
    // Reboot 2, 40 s later: seq restart, then its event.
    trackStatus(t, status(0, 3), 51_000, WINDOW);
    trackRebootEvent(t, 52_000, WINDOW);
    expect(rebootsWithin(t, 52_000, WINDOW)).toBe(2);
    // Reboot 3, 40 s later, event only (its status lost): counted.
    trackRebootEvent(t, 92_000, WINDOW);
    expect(rebootsWithin(t, 92_000, WINDOW)).toBe(3);
  });

  it('two reboot events a few seconds apart are two reboots', () => {
    const t = newTrack();
    trackRebootEvent(t, 0, WINDOW);
    trackRebootEvent(t, 5_000, WINDOW);
    expect(rebootsWithin(t, 5_000, WINDOW)).toBe(2);
  });
});

describe('rules file', () => {
  it('changes a shipped rule by name, adds rules, and overrides per partner', () => {
    const set = RuleSet.from({
      rules: [
        { name: 'overheating', fire: 80, clear: 72 },
        { name: 'cpu_high', kind: 'threshold', field: 'cpuPct', op: '>', fire: 95, severity: 'warning', summary: 'CPU {value}' },
      ],
      partners: { 'p-acme': { overheating: { fire: 85 }, seq_gap: { enabled: false } } },
    });
    const global = set.for(undefined);
    const acme = set.for('p-acme');
    expect(global.find((r) => r.name === 'overheating')).toMatchObject({ fire: 80, clear: 72, forMs: 60_000 });
    expect(acme.find((r) => r.name === 'overheating')).toMatchObject({ fire: 85, clear: 72 });
    expect(acme.find((r) => r.name === 'seq_gap')?.enabled).toBe(false);
    expect(global.find((r) => r.name === 'cpu_high')).toMatchObject({ kind: 'threshold', index: global.length - 1 });
    expect(acme.map((r) => r.name)).toEqual(global.map((r) => r.name)); // same positions for every partner
  });

  it.each([
    [{ rules: [{ name: 'overheating', fire: 'hot' }] }, /rule "overheating": fire/],
    [{ rules: [{ name: 'brand_new' }] }, /rule "brand_new": kind/],
    [{ rules: [{ name: 'overheating', for: '5 minutes' }] }, /for: a duration/],
    [{ partners: { 'p-x': { nope: { enabled: false } } } }, /partners.p-x: no rule named "nope"/],
    [{ partners: { 'p-x': { overheating: { kind: 'flag' } } } }, /may not change a rule's kind/],
  ])('refuses %j with a message naming the field', (file, message) => {
    expect(() => RuleSet.from({ rules: [], partners: {}, ...(file as object) } as never)).toThrow(message);
  });
});

describe('firmware versions', () => {
  it.each([
    ['3.14.2.330012', '4.0.0', -1],
    ['4.0.1.340023', '4.0.0', 1],
    ['4.10.0', '4.9.9', 1],
    ['8.1.0', '8.1.0.0', 0],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareVersions(a, b))).toBe(sign));
});
