// Rules as data: the file format (docs/alerting.md), validated with zod, and the types rules have
// once loaded. A rules file (ALERT_RULES, YAML or JSON) changes shipped rules by name, adds rules,
// and overrides any of them per partner.
import { z } from 'zod';

const DURATION = /^(\d+(\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`"${d}" is not a duration like 30s, 5m or 1h`);
  return Number(m[1]) * UNIT_MS[m[3]!]!;
}

const duration = z.string().regex(DURATION, 'a duration like 30s, 5m or 1h');

/** Snapshot fields a threshold rule may watch (collector/messages.ts StatusSnapshot). */
export const NUMERIC_FIELDS = ['cpuPct', 'memPct', 'tempC', 'fanRpm', 'rttMs', 'jitterMs', 'lossPct', 'mos', 'peripheralsFailed', 'uptimeS'] as const;
export const FLAG_FIELDS = ['linkUp', 'cloudRegistered'] as const;

const common = {
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower_snake_case'),
  enabled: z.boolean().default(true),
  severity: z.enum(['info', 'warning', 'critical']),
  for: duration.default('0s'),
  clearFor: duration.default('0s'),
  /** Open a ticket when it fires. */
  ticket: z.boolean().default(true),
  /** A hardware fault: a covered device gets an advance replacement. */
  hardware: z.boolean().default(false),
  /** The failed part, for the replacement (camera, fan, overheating, …). Default: the rule name;
   *  for the peripheralsFailed field, the kind of the first failed peripheral. */
  fault: z.string().max(32).optional(),
  /** Ticket priority; by default from the severity (critical P2, warning P3, info P4). */
  priority: z.enum(['P1', 'P2', 'P3', 'P4']).optional(),
  /** `{value}` and `{threshold}` are filled in. */
  summary: z.string().min(1).max(200),
};

export const RuleSchema = z.discriminatedUnion('kind', [
  z.object({
    ...common,
    kind: z.literal('threshold'),
    field: z.enum(NUMERIC_FIELDS),
    op: z.enum(['>', '<']),
    fire: z.number(),
    /** Where it clears: below `fire` for '>', above it for '<' (hysteresis). Default: `fire`. */
    clear: z.number().optional(),
    /** Only evaluated while the device is in a call (call quality rules). */
    inCallOnly: z.boolean().default(false),
  }),
  z.object({ ...common, kind: z.literal('flag'), field: z.enum(FLAG_FIELDS), bad: z.boolean() }),
  z.object({ ...common, kind: z.literal('offline'), missedIntervals: z.number().int().min(1).default(3), defaultInterval: duration.default('30s') }),
  z.object({ ...common, kind: z.literal('seq_gap'), window: duration.default('10m') }),
  z.object({ ...common, kind: z.literal('reboot_loop'), count: z.number().int().min(2).default(3), window: duration.default('30m') }),
  z.object({ ...common, kind: z.literal('unregistered') }),
  /** Below the catalog's minimum for the model (alerting/rules/firmware-catalog.ts), or `minimum` per model here. */
  z.object({ ...common, kind: z.literal('firmware_min'), minimum: z.record(z.string(), z.string()).default({}) }),
  z.object({ ...common, kind: z.literal('uncovered') }),
  /** A `software_update` event said `failed`; clears on a later `done`, or when the status reports that version. */
  z.object({ ...common, kind: z.literal('update_failed') }),
]);

export type RuleSpec = z.output<typeof RuleSchema>;
/** A rule as written (defaults may be left out). */
export type RuleInput = z.input<typeof RuleSchema>;
export type RuleKind = RuleSpec['kind'];

/** A partial rule: what a partner override or a file entry for a shipped rule may change. */
const RulePatch = z.record(z.string(), z.unknown());

export const RulesFileSchema = z.object({
  rules: z.array(z.union([RuleSchema, z.object({ name: z.string() }).catchall(z.unknown())])).default([]),
  partners: z.record(z.string(), z.record(z.string(), RulePatch)).default({}),
});

export type RulesFile = z.output<typeof RulesFileSchema>;

/** A rule ready to evaluate: durations in ms. */
export type Rule = RuleSpec & {
  forMs: number;
  clearForMs: number;
  /** `window` of seq_gap and reboot_loop rules, in ms (0 for the others). */
  windowMs: number;
  /** `defaultInterval` of offline rules, in ms (0 for the others). */
  defaultIntervalMs: number;
  /** Position in every partner's rule list. */
  index: number;
};
