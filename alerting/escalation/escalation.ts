// The escalation timeline of one ticket as plain data. Every deadline is computed once, when the
// ticket opens, and stored as an ISO string; after that, what is due is a comparison with the
// clock the caller passes in. So the shell can persist the state as JSON, restart, and ask again:
// no timers live here, and nothing is lost or fired twice as long as the shell stores the state
// returned by markDone before (or atomically with) acting on it.

import { z } from 'zod';
import { addWorkingTime, checkCalendar, type WorkingCalendar } from './business-time.js';
import {
  AFTER_ACKNOWLEDGE,
  LEVELS,
  PRIORITIES,
  type AfterAcknowledge,
  type EscalationLevel,
  type EscalationPolicy,
  type Priority,
} from './policy.js';

export interface EscalationTicket {
  priority: Priority;
  openedAt: Date;
  /** IANA zone of the partner, e.g. "Europe/Berlin": business hours are the partner's. */
  partnerTimezone: string;
  /** ISO 3166-1 alpha-2 country whose public holidays the partner has off, e.g. "DE". */
  partnerCountry: string;
}

export type ActionKind = 'ack_overdue' | 'escalate';
/** Identifies one action of a ticket, for markDone: "ack_overdue" or "escalate:<level>". */
export type ActionKey = 'ack_overdue' | `escalate:${EscalationLevel}`;

export interface DueAction {
  key: ActionKey;
  kind: ActionKind;
  /** escalate: the level to hand the ticket to. ack_overdue: the level that holds the ticket at the ack deadline. */
  level: EscalationLevel;
  dueAt: Date;
}

export interface StepState {
  level: EscalationLevel;
  dueAt: string;
  /** The shell has performed the escalation. */
  done: boolean;
  doneAt: string | null;
  /** Stopped by an acknowledgement before it was due (policy afterAcknowledge = stop_pending). */
  cancelled: boolean;
}

/** JSON-safe: JSON.parse(JSON.stringify(state)) is an equal state (see parseEscalationState). */
export interface EscalationState {
  /** Format version of this object, for the shell's stored copies. */
  v: 1;
  priority: Priority;
  openedAt: string;
  /** The clock the deadlines were computed on, kept for SLA reports (workingTimeBetween). */
  calendar: WorkingCalendar;
  afterAcknowledge: AfterAcknowledge;
  ack: { dueAt: string; level: EscalationLevel; done: boolean; doneAt: string | null };
  steps: StepState[];
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

/** The clock a ticket runs on under a policy: 24x7, or the policy's hours in the partner's zone and country. */
export function ticketCalendar(ticket: EscalationTicket, policy: EscalationPolicy): WorkingCalendar {
  if (policy.clock === '24x7') return { kind: '24x7' };
  return {
    kind: 'business_hours',
    timezone: ticket.partnerTimezone,
    country: ticket.partnerCountry,
    open: policy.businessHours.open,
    close: policy.businessHours.close,
  };
}

/**
 * All deadlines of a new ticket. The caller passes the policy for the ticket's priority
 * (policiesFor(file, partnerId)[ticket.priority]). Throws for a P1 policy on business hours, an
 * unknown zone or holiday country, or an invalid openedAt.
 */
export function planEscalation(ticket: EscalationTicket, policy: EscalationPolicy): EscalationState {
  if (Number.isNaN(ticket.openedAt.getTime())) throw new RangeError('openedAt is an invalid Date');
  if (ticket.priority === 'P1' && policy.clock !== '24x7') {
    throw new RangeError('a P1 ticket always runs on the 24x7 clock');
  }
  if (policy.steps.length === 0) throw new RangeError('a policy needs at least one step');
  const calendar = ticketCalendar(ticket, policy);
  checkCalendar(calendar);

  const ackDue = addWorkingTime(ticket.openedAt, policy.ackWithinMs, calendar);
  let previous = ticket.openedAt;
  const steps = policy.steps.map((step): StepState => {
    previous = addWorkingTime(previous, step.afterMs, calendar);
    return { level: step.level, dueAt: previous.toISOString(), done: false, doneAt: null, cancelled: false };
  });
  // Whoever holds the ticket when the ack deadline passes is the one who failed to acknowledge.
  const holder = steps.filter((s) => Date.parse(s.dueAt) <= ackDue.getTime()).at(-1) ?? steps[0];

  return {
    v: 1,
    priority: ticket.priority,
    openedAt: ticket.openedAt.toISOString(),
    calendar,
    afterAcknowledge: policy.afterAcknowledge,
    ack: { dueAt: ackDue.toISOString(), level: holder?.level ?? 'partner_l1', done: false, doneAt: null },
    steps,
    acknowledgedAt: null,
    resolvedAt: null,
  };
}

/**
 * The actions due at `now` and not yet done, oldest first (an ack_overdue before an escalation due
 * at the same instant). Returns them again on every call until markDone records them.
 */
export function due(state: EscalationState, now: Date): DueAction[] {
  const t = now.getTime();
  return pending(state).filter((a) => a.dueAt.getTime() <= t);
}

/** The earliest dueAt after `now` of an action still pending, or null: the one timer the shell needs. */
export function nextWakeUp(state: EscalationState, now: Date): Date | null {
  const t = now.getTime();
  return pending(state).find((a) => a.dueAt.getTime() > t)?.dueAt ?? null;
}

/** Records that the shell performed an action. Idempotent: the first doneAt stays. */
export function markDone(state: EscalationState, actionKey: ActionKey, at: Date): EscalationState {
  const doneAt = at.toISOString();
  if (actionKey === 'ack_overdue') {
    return state.ack.done ? state : { ...state, ack: { ...state.ack, done: true, doneAt } };
  }
  const level = actionKey.slice('escalate:'.length);
  const index = state.steps.findIndex((s) => s.level === level);
  const step = state.steps[index];
  if (!step) throw new RangeError(`this ticket's policy has no step "${actionKey}"`);
  if (step.done) return state;
  return { ...state, steps: state.steps.map((s, i) => (i === index ? { ...s, done: true, doneAt } : s)) };
}

/**
 * Records the first acknowledgement. It always ends the ack-overdue action (even when the ack
 * deadline has passed and the shell has not sent it yet). Under stop_pending it also cancels the
 * steps beyond partner_l1 that are not due at `at`; steps due at or before `at` are kept and still
 * returned by due() until done. Later acknowledgements, and any after resolve, change nothing.
 */
export function acknowledge(state: EscalationState, at: Date): EscalationState {
  if (state.acknowledgedAt !== null || state.resolvedAt !== null) return state;
  const t = at.getTime();
  const stop = state.afterAcknowledge === 'stop_pending';
  return {
    ...state,
    acknowledgedAt: at.toISOString(),
    steps: state.steps.map((s) =>
      stop && s.level !== 'partner_l1' && !s.done && Date.parse(s.dueAt) > t ? { ...s, cancelled: true } : s,
    ),
  };
}

/** Ends the timeline: nothing is due any more. Idempotent: the first resolvedAt stays. */
export function resolve(state: EscalationState, at: Date): EscalationState {
  return state.resolvedAt !== null ? state : { ...state, resolvedAt: at.toISOString() };
}

/** Every action not done, cancelled or stopped, sorted by dueAt (stable: ack first, then level order). */
function pending(state: EscalationState): DueAction[] {
  if (state.resolvedAt !== null) return [];
  const actions: DueAction[] = [];
  if (state.acknowledgedAt === null && !state.ack.done) {
    actions.push({ key: 'ack_overdue', kind: 'ack_overdue', level: state.ack.level, dueAt: new Date(state.ack.dueAt) });
  }
  for (const s of state.steps) {
    if (s.done || s.cancelled) continue;
    actions.push({ key: `escalate:${s.level}`, kind: 'escalate', level: s.level, dueAt: new Date(s.dueAt) });
  }
  return actions.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

// ---- restoring a stored state ----------------------------------------------------------------

const iso = z.iso.datetime({ offset: true });
const level = z.enum(LEVELS);

const calendarSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('24x7') }),
  z.object({
    kind: z.literal('business_hours'),
    timezone: z.string(),
    country: z.string(),
    open: z.string(),
    close: z.string(),
  }),
]);

export const EscalationStateSchema = z.object({
  v: z.literal(1),
  priority: z.enum(PRIORITIES),
  openedAt: iso,
  calendar: calendarSchema,
  afterAcknowledge: z.enum(AFTER_ACKNOWLEDGE),
  ack: z.object({ dueAt: iso, level, done: z.boolean(), doneAt: iso.nullable() }),
  steps: z.array(
    z.object({ level, dueAt: iso, done: z.boolean(), doneAt: iso.nullable(), cancelled: z.boolean() }),
  ),
  acknowledgedAt: iso.nullable(),
  resolvedAt: iso.nullable(),
});

/** Validates a state read back from storage (JSON.parse of what the shell stored). Throws a ZodError. */
export function parseEscalationState(json: unknown): EscalationState {
  return EscalationStateSchema.parse(json);
}
