// Escalation policies as data: per ticket priority, how long the partner has to acknowledge, and
// the levels a ticket walks through (partner_l1 -> poly_support -> poly_specialist). A policy
// file can override the defaults for all partners and per partner; the merge happens here so the
// timing code only ever sees one complete policy.

import { z } from 'zod';
import { parseDuration } from './duration.js';

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** In escalation order. A policy lists some of them, in this order, starting with partner_l1. */
export const LEVELS = ['partner_l1', 'poly_support', 'poly_specialist'] as const;
export type EscalationLevel = (typeof LEVELS)[number];

export const CLOCK_KINDS = ['24x7', 'business_hours'] as const;
export type ClockKind = (typeof CLOCK_KINDS)[number];

/**
 * What an acknowledgement does to level steps that are not due yet:
 * - stop_pending: cancel the steps beyond partner_l1 that are not due at the moment of the
 *   acknowledgement (steps already due stay, so an escalation the shell missed while down still
 *   happens);
 * - continue_until_resolved: keep escalating on schedule until the ticket is resolved.
 * Either way the acknowledgement ends the ack-overdue action.
 */
export const AFTER_ACKNOWLEDGE = ['stop_pending', 'continue_until_resolved'] as const;
export type AfterAcknowledge = (typeof AFTER_ACKNOWLEDGE)[number];

export interface EscalationStep {
  level: EscalationLevel;
  /** Working time (on the policy's clock) after the previous step; the first step counts from opening. */
  afterMs: number;
}

/** Local opening hours, Monday to Friday, "HH:MM". */
export interface BusinessHours {
  open: string;
  close: string;
}

export interface EscalationPolicy {
  clock: ClockKind;
  /** Working time from opening until the acknowledge deadline. */
  ackWithinMs: number;
  steps: readonly EscalationStep[];
  afterAcknowledge: AfterAcknowledge;
  /** Used when clock is business_hours, in the partner's time zone. */
  businessHours: BusinessHours;
}

export type EscalationPolicies = Readonly<Record<Priority, EscalationPolicy>>;

export const DEFAULT_BUSINESS_HOURS: BusinessHours = { open: '08:00', close: '18:00' };

const MIN = 60_000;
const HOUR = 60 * MIN;
/** One business day with the default opening hours. */
const BUSINESS_DAY = 10 * HOUR;

const steps = (support: number, specialist: number): EscalationStep[] => [
  { level: 'partner_l1', afterMs: 0 },
  { level: 'poly_support', afterMs: support },
  { level: 'poly_specialist', afterMs: specialist },
];

/**
 * Step delays are relative to the previous step: the P1 specialist is due 30 min + 2 h after
 * opening. P1 keeps escalating after acknowledgement (a P1 outage is what Poly+ escalation
 * management is sold for); lower priorities stop at whoever acknowledged.
 */
export const DEFAULT_POLICIES: EscalationPolicies = {
  P1: {
    clock: '24x7',
    ackWithinMs: 15 * MIN,
    steps: steps(30 * MIN, 2 * HOUR),
    afterAcknowledge: 'continue_until_resolved',
    businessHours: DEFAULT_BUSINESS_HOURS,
  },
  P2: {
    clock: '24x7',
    ackWithinMs: 1 * HOUR,
    steps: steps(4 * HOUR, 8 * HOUR),
    afterAcknowledge: 'stop_pending',
    businessHours: DEFAULT_BUSINESS_HOURS,
  },
  P3: {
    clock: 'business_hours',
    ackWithinMs: 4 * HOUR,
    steps: steps(BUSINESS_DAY, 2 * BUSINESS_DAY),
    afterAcknowledge: 'stop_pending',
    businessHours: DEFAULT_BUSINESS_HOURS,
  },
  P4: {
    clock: 'business_hours',
    ackWithinMs: BUSINESS_DAY,
    steps: steps(3 * BUSINESS_DAY, 5 * BUSINESS_DAY),
    afterAcknowledge: 'stop_pending',
    businessHours: DEFAULT_BUSINESS_HOURS,
  },
};

/**
 * The response clock a device's coverage buys: Poly+ and Poly Premier are answered around the
 * clock, everything else (including no plan) on business days.
 */
export function responseClockFor(coveragePlan: string): ClockKind {
  const plan = coveragePlan.trim().toLowerCase();
  return plan === 'poly-plus' || plan === 'poly-premier' ? '24x7' : 'business_hours';
}

// ---- policy file ---------------------------------------------------------------------------

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { error: 'must be a duration like "15m", "4h" or "1h30m"' })
  .transform((s) => parseDuration(s) ?? 0);

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a local time "HH:MM"' });
const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

const stepsSchema = z
  .array(z.strictObject({ level: z.enum(LEVELS), after: duration }))
  .min(1)
  .refine((list) => list[0]?.level === 'partner_l1', { error: 'the first step must be partner_l1' })
  .refine((list) => list.every((s, i) => i === 0 || LEVELS.indexOf(s.level) > LEVELS.indexOf(list[i - 1]!.level)), {
    error: `levels must appear at most once, in the order ${LEVELS.join(' -> ')}`,
  })
  .transform((list) => list.map((s): EscalationStep => ({ level: s.level, afterMs: s.after })));

// Strict objects: a misspelt key in a hand-edited file must fail, not silently keep a default.
const priorityOverride = z.strictObject({
  clock: z.enum(CLOCK_KINDS).optional(),
  ack: duration.optional(),
  steps: stepsSchema.optional(),
  afterAcknowledge: z.enum(AFTER_ACKNOWLEDGE).optional(),
});

const overridesSchema = z.strictObject({
  businessHours: z
    .strictObject({ open: hhmm, close: hhmm })
    .refine((h) => minutes(h.open) < minutes(h.close), { error: 'open must be before close' })
    .optional(),
  // P1 is answered around the clock whatever the partner's hours.
  P1: priorityOverride
    .extend({ clock: z.literal('24x7', { error: 'P1 always runs on the 24x7 clock' }).optional() })
    .optional(),
  P2: priorityOverride.optional(),
  P3: priorityOverride.optional(),
  P4: priorityOverride.optional(),
});

/**
 * A policy file (YAML or JSON, parsed by the caller):
 * { defaults?: Overrides; partners?: { [partnerId]: Overrides } } where
 * Overrides = { businessHours?: {open, close}; P1..P4?: { clock?, ack?, steps?: [{level, after}], afterAcknowledge? } }.
 * Durations are strings ("15m", "10h"); a `steps` list replaces the default list as a whole.
 */
export const PolicyFileSchema = z.strictObject({
  defaults: overridesSchema.optional(),
  partners: z.record(z.string().min(1), overridesSchema).default({}),
});
export type PolicyFile = z.output<typeof PolicyFileSchema>;
type Overrides = z.output<typeof overridesSchema>;

/** The policies for one partner: DEFAULT_POLICIES, then the file's defaults, then the partner's own. */
export function policiesFor(file: PolicyFile | undefined, partnerId: string): EscalationPolicies {
  const layers = [file?.defaults, file?.partners[partnerId]].filter((o): o is Overrides => o !== undefined);
  const merged = { ...DEFAULT_POLICIES };
  for (const layer of layers) {
    for (const p of PRIORITIES) {
      const base = merged[p];
      const o = layer[p];
      merged[p] = {
        clock: o?.clock ?? base.clock,
        ackWithinMs: o?.ack ?? base.ackWithinMs,
        steps: o?.steps ?? base.steps,
        afterAcknowledge: o?.afterAcknowledge ?? base.afterAcknowledge,
        businessHours: layer.businessHours ?? base.businessHours,
      };
    }
  }
  return merged;
}
