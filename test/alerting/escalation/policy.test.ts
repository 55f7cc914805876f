import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../../../alerting/escalation/duration.js';
import {
  DEFAULT_POLICIES,
  PolicyFileSchema,
  policiesFor,
  responseClockFor,
  type EscalationPolicy,
  type Priority,
} from '../../../alerting/escalation/policy.js';
import { ms } from './clock.js';

const step = (level: string, after: string) => ({ level, after });

/** A policy as a line of the spec: "clock, ack <d>, partner_l1 +<d> -> …, <afterAcknowledge>". */
function describePolicy(p: EscalationPolicy): string {
  const d = (x: number) => `${x / 3_600_000}h`;
  const steps = p.steps.map((s) => `${s.level} +${d(s.afterMs)}`).join(' -> ');
  return `${p.clock}, ack ${d(p.ackWithinMs)}, ${steps}, ${p.afterAcknowledge}`;
}

describe('DEFAULT_POLICIES', () => {
  it.each<[Priority, string]>([
    ['P1', '24x7, ack 0.25h, partner_l1 +0h -> poly_support +0.5h -> poly_specialist +2h, continue_until_resolved'],
    ['P2', '24x7, ack 1h, partner_l1 +0h -> poly_support +4h -> poly_specialist +8h, stop_pending'],
    ['P3', 'business_hours, ack 4h, partner_l1 +0h -> poly_support +10h -> poly_specialist +20h, stop_pending'],
    ['P4', 'business_hours, ack 10h, partner_l1 +0h -> poly_support +30h -> poly_specialist +50h, stop_pending'],
  ])('%s: %s', (priority, expected) => {
    expect(describePolicy(DEFAULT_POLICIES[priority])).toBe(expected);
  });

  it('business hours are Mon–Fri 08:00–18:00 for every priority', () => {
    for (const p of Object.values(DEFAULT_POLICIES)) expect(p.businessHours).toEqual({ open: '08:00', close: '18:00' });
  });
});

describe('responseClockFor(coverage plan)', () => {
  it.each([
    ['poly-plus', '24x7'],
    ['poly-premier', '24x7'],
    ['Poly-Plus', '24x7'],
    ['partner-care', 'business_hours'],
    ['none', 'business_hours'],
    ['', 'business_hours'],
  ])('%j -> %s', (plan, clock) => {
    expect(responseClockFor(plan)).toBe(clock);
  });
});

describe('parseDuration', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['15m', 15 * 60_000],
    ['4h', 4 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['', undefined],
    ['1d', undefined], // a "day" is ambiguous on a business-hours clock
    ['15', undefined],
    ['30m1h', undefined],
    ['-1h', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });
});

describe('policy file: defaults, then the file\'s defaults, then the partner\'s own', () => {
  const file = PolicyFileSchema.parse(
    parseYaml(`
defaults:
  P2:
    clock: business_hours
partners:
  acme:
    businessHours: { open: "07:00", close: "19:00" }
    P1:
      ack: 10m
    P3:
      ack: 2h
      afterAcknowledge: continue_until_resolved
      steps:
        - { level: partner_l1, after: "0" }
        - { level: poly_specialist, after: 1h30m }
`),
  );

  it('a partner without an entry gets the built-in defaults plus the file\'s defaults', () => {
    const p = policiesFor(file, 'globex');
    expect(p.P2.clock).toBe('business_hours');
    expect(p.P1).toEqual(DEFAULT_POLICIES.P1);
    expect(p.P3).toEqual(DEFAULT_POLICIES.P3);
  });

  it('a partner\'s entry overrides field by field; a steps list replaces the whole list', () => {
    const p = policiesFor(file, 'acme');
    expect(p.P1).toEqual({ ...DEFAULT_POLICIES.P1, ackWithinMs: ms('10m'), businessHours: { open: '07:00', close: '19:00' } });
    expect(p.P2.clock).toBe('business_hours');
    expect(p.P3).toEqual({
      clock: 'business_hours',
      ackWithinMs: ms('2h'),
      steps: [
        { level: 'partner_l1', afterMs: 0 },
        { level: 'poly_specialist', afterMs: ms('1h30m') },
      ],
      afterAcknowledge: 'continue_until_resolved',
      businessHours: { open: '07:00', close: '19:00' },
    });
    expect(p.P4.businessHours).toEqual({ open: '07:00', close: '19:00' });
  });

  it('no file at all means DEFAULT_POLICIES', () => {
    expect(policiesFor(undefined, 'acme')).toEqual(DEFAULT_POLICIES);
    expect(policiesFor(PolicyFileSchema.parse({}), 'acme')).toEqual(DEFAULT_POLICIES);
  });

  it.each<[string, unknown, RegExp]>([
    ['P1 on business hours', { defaults: { P1: { clock: 'business_hours' } } }, /P1 always runs on the 24x7 clock/],
    ['a day unit', { defaults: { P4: { ack: '1d' } } }, /duration like/],
    ['a misspelt key', { defaults: { P3: { ackWithin: '2h' } } }, /ackWithin/],
    ['an unknown priority', { partners: { acme: { P5: {} } } }, /P5/],
    [
      'steps out of order',
      { defaults: { P2: { steps: [step('partner_l1', '0'), step('poly_specialist', '1h'), step('poly_support', '1h')] } } },
      /in the order/,
    ],
    [
      'steps not starting with partner_l1',
      { defaults: { P2: { steps: [step('poly_support', '0')] } } },
      /first step must be partner_l1/,
    ],
    ['closing before opening', { partners: { acme: { businessHours: { open: '18:00', close: '08:00' } } } }, /open must be before close/],
    ['a malformed time', { partners: { acme: { businessHours: { open: '8:00', close: '18:00' } } } }, /HH:MM/],
  ])('refuses %s', (_what, input, message) => {
    const result = PolicyFileSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });
});
