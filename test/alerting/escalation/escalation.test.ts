import { describe, expect, it } from 'vitest';
import {
  acknowledge,
  due,
  markDone,
  nextWakeUp,
  parseEscalationState,
  planEscalation,
  resolve,
  type ActionKey,
  type EscalationState,
  type EscalationTicket,
} from '../../../alerting/escalation/escalation.js';
import { DEFAULT_POLICIES, type EscalationPolicy, type Priority } from '../../../alerting/escalation/policy.js';
import { BERLIN, HOUR, local, ms, show } from './clock.js';

function ticket(priority: Priority, openedAt: string): EscalationTicket {
  return { priority, openedAt: local(BERLIN, openedAt), partnerTimezone: BERLIN, partnerCountry: 'DE' };
}

function plan(priority: Priority, openedAt: string, policy: EscalationPolicy = DEFAULT_POLICIES[priority]) {
  return planEscalation(ticket(priority, openedAt), policy);
}

/** due() as "<key> @ <local due time>", the way the specs read. */
function dueAt(state: EscalationState, now: string): string[] {
  return due(state, local(BERLIN, now)).map((a) => `${a.key} @ ${show(BERLIN, a.dueAt)}`);
}

/** The deadlines of a plan in local time. */
function timeline(state: EscalationState) {
  return {
    ack: show(BERLIN, new Date(state.ack.dueAt)),
    steps: state.steps.map((s) => `${s.level} @ ${show(BERLIN, new Date(s.dueAt))}`),
  };
}

/**
 * What a shell does: wake up, perform everything due, record it, sleep until nextWakeUp. Returns
 * the log of "<local time>: <key>" for every action performed.
 */
function runShell(state: EscalationState, from: Date, until: Date): { log: string[]; state: EscalationState } {
  const log: string[] = [];
  let now: Date | null = from;
  while (now !== null && now <= until) {
    for (const action of due(state, now)) {
      log.push(`${show(BERLIN, now)}: ${action.key}`);
      state = markDone(state, action.key, now);
    }
    now = nextWakeUp(state, now);
  }
  return { log, state };
}

describe('P1 opened at 03:00 on a Sunday escalates through the night (24x7)', () => {
  const state = plan('P1', 'Sun 2025-06-15 03:00');

  it('plans ack at +15 min, Poly support at +30 min, the specialist 2 h after Poly support', () => {
    expect(timeline(state)).toEqual({
      ack: 'Sun 2025-06-15 03:15',
      steps: [
        'partner_l1 @ Sun 2025-06-15 03:00',
        'poly_support @ Sun 2025-06-15 03:30',
        'poly_specialist @ Sun 2025-06-15 05:30',
      ],
    });
  });

  it.each<[now: string, dueActions: string[]]>([
    ['Sun 2025-06-15 02:59', []],
    ['Sun 2025-06-15 03:00', ['escalate:partner_l1 @ Sun 2025-06-15 03:00']],
    ['Sun 2025-06-15 03:15', ['escalate:partner_l1 @ Sun 2025-06-15 03:00', 'ack_overdue @ Sun 2025-06-15 03:15']],
    [
      'Sun 2025-06-15 04:00',
      [
        'escalate:partner_l1 @ Sun 2025-06-15 03:00',
        'ack_overdue @ Sun 2025-06-15 03:15',
        'escalate:poly_support @ Sun 2025-06-15 03:30',
      ],
    ],
    [
      'Sun 2025-06-15 05:30',
      [
        'escalate:partner_l1 @ Sun 2025-06-15 03:00',
        'ack_overdue @ Sun 2025-06-15 03:15',
        'escalate:poly_support @ Sun 2025-06-15 03:30',
        'escalate:poly_specialist @ Sun 2025-06-15 05:30',
      ],
    ],
  ])('at %s nothing done yet, due() is %j', (now, dueActions) => {
    expect(dueAt(state, now)).toEqual(dueActions);
  });

  it('a shell that sleeps until nextWakeUp performs each action once, at its time', () => {
    const { log, state: after } = runShell(state, local(BERLIN, '2025-06-15 03:00'), local(BERLIN, '2025-06-16 03:00'));
    expect(log).toEqual([
      'Sun 2025-06-15 03:00: escalate:partner_l1',
      'Sun 2025-06-15 03:15: ack_overdue',
      'Sun 2025-06-15 03:30: escalate:poly_support',
      'Sun 2025-06-15 05:30: escalate:poly_specialist',
    ]);
    expect(nextWakeUp(after, local(BERLIN, '2025-06-15 05:30'))).toBeNull();
  });

  it('nextWakeUp is the earliest pending deadline strictly after now', () => {
    const at = (now: string) => {
      const next = nextWakeUp(state, local(BERLIN, now));
      return next && show(BERLIN, next);
    };
    expect(at('2025-06-15 02:00')).toBe('Sun 2025-06-15 03:00');
    expect(at('2025-06-15 03:00')).toBe('Sun 2025-06-15 03:15');
    expect(at('2025-06-15 03:20')).toBe('Sun 2025-06-15 03:30');
    expect(at('2025-06-15 05:30')).toBeNull();
  });
});

describe('P3 runs on the partner\'s business hours (Berlin: Mon–Fri 08:00–18:00, DE public holidays)', () => {
  it('opened Friday 17:30: 30 min count on Friday, the remaining 3.5 h on Monday -> ack due Monday 11:30', () => {
    const state = plan('P3', 'Fri 2025-06-13 17:30');
    expect(state.ack.dueAt).toBe('2025-06-16T09:30:00.000Z'); // 11:30 CEST
    expect(timeline(state)).toEqual({
      ack: 'Mon 2025-06-16 11:30',
      steps: [
        'partner_l1 @ Fri 2025-06-13 17:30', // handed to the partner at once
        'poly_support @ Mon 2025-06-16 17:30', // + 10 business hours
        'poly_specialist @ Wed 2025-06-18 17:30', // + 20 business hours more
      ],
    });
    expect(dueAt(state, 'Mon 2025-06-16 11:29')).toEqual(['escalate:partner_l1 @ Fri 2025-06-13 17:30']);
    expect(dueAt(state, 'Mon 2025-06-16 11:30')).toEqual([
      'escalate:partner_l1 @ Fri 2025-06-13 17:30',
      'ack_overdue @ Mon 2025-06-16 11:30',
    ]);
  });

  it('over Easter: Good Friday and Easter Monday do not count', () => {
    const state = plan('P3', 'Thu 2025-04-17 16:00');
    expect(timeline(state)).toEqual({
      ack: 'Tue 2025-04-22 10:00', // 2 h Thursday + 2 h Tuesday
      steps: [
        'partner_l1 @ Thu 2025-04-17 16:00',
        'poly_support @ Tue 2025-04-22 16:00', // 2 h Thursday + 8 h Tuesday
        'poly_specialist @ Thu 2025-04-24 16:00', // 2 h Tue + 10 h Wed + 8 h Thu
      ],
    });
    // On Easter Monday at noon nothing new is due; the next wake-up is Tuesday 10:00.
    const done = markDone(state, 'escalate:partner_l1', local(BERLIN, '2025-04-17 16:00'));
    expect(dueAt(done, 'Mon 2025-04-21 12:00')).toEqual([]);
    expect(show(BERLIN, nextWakeUp(done, local(BERLIN, '2025-04-21 12:00'))!)).toBe('Tue 2025-04-22 10:00');
  });

  it('opened on Easter Monday: the clock starts Tuesday 08:00', () => {
    expect(timeline(plan('P3', 'Mon 2025-04-21 09:00')).ack).toBe('Tue 2025-04-22 12:00');
  });

  it.each([
    // Fri 16:00 CET (+01:00) + 4 business hours = Mon 10:00 CEST (+02:00), not 11:00.
    ['last Sunday of March', 'Fri 2025-03-28 16:00', '2025-03-31T08:00:00.000Z', 'Mon 2025-03-31 10:00'],
    // Fri 16:00 CEST (+02:00) + 4 business hours = Mon 10:00 CET (+01:00), not 09:00.
    ['last Sunday of October', 'Fri 2025-10-24 16:00', '2025-10-27T09:00:00.000Z', 'Mon 2025-10-27 10:00'],
  ])('across the DST change on the %s the deadline stays on local business hours', (_when, opened, utc, localTime) => {
    const state = plan('P3', opened);
    expect(state.ack.dueAt).toBe(utc);
    expect(show(BERLIN, new Date(state.ack.dueAt))).toBe(localTime);
  });

  it('P4: acknowledge within one business day (10 business hours)', () => {
    expect(timeline(plan('P4', 'Tue 2025-06-10 12:00')).ack).toBe('Wed 2025-06-11 12:00');
  });

  it('P1 never waits for business hours, even on a holiday', () => {
    expect(timeline(plan('P1', 'Mon 2025-04-21 23:50')).ack).toBe('Tue 2025-04-22 00:05');
  });
});

describe('the state survives a restart as JSON', () => {
  /** What the shell does: write JSON to its store, and after a restart read it back. */
  const restart = (state: EscalationState): EscalationState => parseEscalationState(JSON.parse(JSON.stringify(state)));

  it('round-trips to an equal state', () => {
    const state = plan('P3', 'Fri 2025-06-13 17:30');
    expect(restart(state)).toEqual(state);
  });

  it.each<[what: string, priority: Priority, opened: string, doneBeforeCrash: ActionKey[], restartAt: string, overdue: string[]]>([
    [
      'P1: the process was down from 03:10 to 04:00',
      'P1',
      'Sun 2025-06-15 03:00',
      ['escalate:partner_l1'],
      'Sun 2025-06-15 04:00',
      ['ack_overdue @ Sun 2025-06-15 03:15', 'escalate:poly_support @ Sun 2025-06-15 03:30'],
    ],
    [
      'P3: the process was down over the weekend until Monday noon',
      'P3',
      'Fri 2025-06-13 17:30',
      [],
      'Mon 2025-06-16 12:00',
      ['escalate:partner_l1 @ Fri 2025-06-13 17:30', 'ack_overdue @ Mon 2025-06-16 11:30'],
    ],
  ])('%s: due() returns exactly the overdue actions, once', (_what, priority, opened, doneBeforeCrash, restartAt, overdue) => {
    let state = plan(priority, opened);
    for (const key of doneBeforeCrash) state = markDone(state, key, local(BERLIN, opened));
    expect(state.steps.filter((s) => s.done).map((s) => `escalate:${s.level}`)).toEqual(doneBeforeCrash);

    // The process restarts: only the stored JSON and the current time remain.
    let restored = restart(state);
    const now = local(BERLIN, restartAt);
    expect(dueAt(restored, restartAt)).toEqual(overdue);

    for (const action of due(restored, now)) restored = markDone(restored, action.key, now);
    expect(due(restored, now)).toEqual([]);
    // And after the next restart they stay done.
    expect(due(restart(restored), new Date(now.getTime() + 1000))).toEqual([]);
  });

  it('after the restart the shell sets one timer, and that timer finds exactly the next step', () => {
    let state = plan('P1', 'Sun 2025-06-15 03:00');
    const at0400 = local(BERLIN, '2025-06-15 04:00');
    state = restart(state);
    for (const action of due(state, at0400)) state = markDone(state, action.key, at0400);
    state = restart(state);

    const wake = nextWakeUp(state, at0400)!;
    expect(show(BERLIN, wake)).toBe('Sun 2025-06-15 05:30');
    expect(due(state, wake).map((a) => a.key)).toEqual(['escalate:poly_specialist']);
  });

  it('refuses a stored state that is not one', () => {
    const bad = { ...JSON.parse(JSON.stringify(plan('P1', '2025-06-15 03:00'))), v: 2 };
    expect(() => parseEscalationState(bad)).toThrow();
    expect(() => parseEscalationState({ ...bad, v: 1, openedAt: 'yesterday' })).toThrow();
  });
});

describe('acknowledge', () => {
  const opened = 'Tue 2025-06-10 10:00';
  const keysAt = (state: EscalationState, now: string) => due(state, local(BERLIN, now)).map((a) => a.key);
  const cancelled = (state: EscalationState) => state.steps.filter((s) => s.cancelled).map((s) => s.level);

  // P2 (24x7, stop_pending): ack within 1 h; Poly support at +4 h, specialist at +12 h.
  it.each<[what: string, ackAt: string, dueNextDay: string[], stopped: string[]]>([
    [
      'before the ack deadline: no ack_overdue, no escalation beyond the partner',
      'Tue 2025-06-10 10:30',
      ['escalate:partner_l1'],
      ['poly_support', 'poly_specialist'],
    ],
    [
      'after the ack deadline: ack_overdue stops even if not sent yet; steps not yet due stop',
      'Tue 2025-06-10 11:30',
      ['escalate:partner_l1'],
      ['poly_support', 'poly_specialist'],
    ],
    [
      'after Poly support was due: that escalation still happens (it was due), the specialist stops',
      'Tue 2025-06-10 15:00',
      ['escalate:partner_l1', 'escalate:poly_support'],
      ['poly_specialist'],
    ],
    [
      'exactly when Poly support falls due: it counts as due, so it stays',
      'Tue 2025-06-10 14:00',
      ['escalate:partner_l1', 'escalate:poly_support'],
      ['poly_specialist'],
    ],
  ])('P2 acknowledged %s', (_what, ackAt, dueNextDay, stopped) => {
    const state = acknowledge(plan('P2', opened), local(BERLIN, ackAt));
    expect(state.acknowledgedAt).toBe(local(BERLIN, ackAt).toISOString());
    expect(keysAt(state, 'Wed 2025-06-11 10:00')).toEqual(dueNextDay);
    expect(cancelled(state)).toEqual(stopped);
  });

  it('an ack_overdue already sent stays recorded; acknowledging later does not undo it', () => {
    let state = plan('P2', opened);
    state = markDone(state, 'ack_overdue', local(BERLIN, '2025-06-10 11:00'));
    state = acknowledge(state, local(BERLIN, '2025-06-10 11:30'));
    expect(state.ack).toMatchObject({ done: true, doneAt: local(BERLIN, '2025-06-10 11:00').toISOString() });
    expect(keysAt(state, 'Tue 2025-06-10 11:30')).toEqual(['escalate:partner_l1']);
  });

  it('P1 (continue_until_resolved): acknowledging stops only ack_overdue; the levels follow on schedule', () => {
    const state = acknowledge(plan('P1', 'Sun 2025-06-15 03:00'), local(BERLIN, '2025-06-15 03:05'));
    expect(dueAt(state, 'Sun 2025-06-15 06:00')).toEqual([
      'escalate:partner_l1 @ Sun 2025-06-15 03:00',
      'escalate:poly_support @ Sun 2025-06-15 03:30',
      'escalate:poly_specialist @ Sun 2025-06-15 05:30',
    ]);
    expect(cancelled(state)).toEqual([]);
  });

  it('the first acknowledgement counts; later ones change nothing', () => {
    const first = acknowledge(plan('P2', opened), local(BERLIN, '2025-06-10 10:30'));
    expect(acknowledge(first, local(BERLIN, '2025-06-10 16:00'))).toBe(first);
  });

  it('a step done before the acknowledgement is never cancelled', () => {
    let state = plan('P2', opened);
    state = markDone(state, 'escalate:partner_l1', local(BERLIN, '2025-06-10 10:00'));
    state = acknowledge(state, local(BERLIN, '2025-06-10 10:30'));
    expect(state.steps[0]).toMatchObject({ level: 'partner_l1', done: true, cancelled: false });
  });

  it('ack_overdue names the level holding the ticket at the ack deadline', () => {
    // A policy that brings in Poly support before the partner's ack deadline.
    const policy: EscalationPolicy = {
      ...DEFAULT_POLICIES.P2,
      ackWithinMs: 2 * HOUR,
      steps: [
        { level: 'partner_l1', afterMs: 0 },
        { level: 'poly_support', afterMs: ms('1h') },
      ],
    };
    const state = plan('P2', opened, policy);
    expect(due(state, local(BERLIN, '2025-06-10 12:00')).find((a) => a.kind === 'ack_overdue')?.level).toBe('poly_support');
    expect(plan('P2', opened).ack.level).toBe('partner_l1');
  });
});

describe('resolve, markDone', () => {
  const opened = 'Sun 2025-06-15 03:00';

  it('resolve ends everything: nothing due, no wake-up, and acknowledging afterwards is a no-op', () => {
    const state = resolve(plan('P1', opened), local(BERLIN, '2025-06-15 03:20'));
    expect(state.resolvedAt).toBe(local(BERLIN, '2025-06-15 03:20').toISOString());
    expect(due(state, local(BERLIN, '2025-06-15 06:00'))).toEqual([]);
    expect(nextWakeUp(state, local(BERLIN, '2025-06-15 03:20'))).toBeNull();
    expect(acknowledge(state, local(BERLIN, '2025-06-15 03:30'))).toBe(state);
    expect(resolve(state, local(BERLIN, '2025-06-15 04:00'))).toBe(state);
  });

  it('markDone is idempotent and keeps the first doneAt', () => {
    const once = markDone(plan('P1', opened), 'escalate:partner_l1', local(BERLIN, '2025-06-15 03:00'));
    expect(markDone(once, 'escalate:partner_l1', local(BERLIN, '2025-06-15 03:01'))).toBe(once);
  });

  it('markDone refuses a level the ticket\'s policy does not have', () => {
    const policy: EscalationPolicy = { ...DEFAULT_POLICIES.P4, steps: [{ level: 'partner_l1', afterMs: 0 }] };
    expect(() => markDone(plan('P4', opened, policy), 'escalate:poly_specialist', new Date())).toThrow(/no step/);
  });

  it('never mutates the state it is given', () => {
    const state = deepFreeze(plan('P2', 'Tue 2025-06-10 10:00'));
    const at = local(BERLIN, '2025-06-10 15:00');
    expect(() => resolve(acknowledge(markDone(markDone(state, 'ack_overdue', at), 'escalate:partner_l1', at), at), at)).not.toThrow();
    expect(state.ack.done).toBe(false);
    expect(state.acknowledgedAt).toBeNull();
  });
});

describe('planEscalation refuses what cannot be planned', () => {
  it.each<[string, EscalationTicket, EscalationPolicy, RegExp]>([
    ['a P1 on business hours', ticket('P1', '2025-06-10 10:00'), { ...DEFAULT_POLICIES.P1, clock: 'business_hours' }, /24x7/],
    ['an unknown holiday country', { ...ticket('P3', '2025-06-10 10:00'), partnerCountry: 'XX' }, DEFAULT_POLICIES.P3, /country/],
    ['an unknown time zone', { ...ticket('P3', '2025-06-10 10:00'), partnerTimezone: 'Mars/Olympus' }, DEFAULT_POLICIES.P3, /time zone/],
    ['an invalid opening time', { ...ticket('P3', '2025-06-10 10:00'), openedAt: new Date('nope') }, DEFAULT_POLICIES.P3, /openedAt/],
  ])('%s', (_what, t, policy, message) => {
    expect(() => planEscalation(t, policy)).toThrow(message);
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
