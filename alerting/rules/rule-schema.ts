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
  /**
   * `hardware`: a hardware fault; a covered device gets an advance replacement once the fault has
   * lasted `confirmFor` after firing (a part ships only for a fault that persists). `none`: never.
   * Default: `hardware` when the older `hardware: true` is set, else `none`.
   */
  replacement: z.enum(['hardware', 'none']).optional(),
  /** How long a hardware fault must keep firing before a replacement is proposed. */
  confirmFor: duration.default('2m'),
  /** Older spelling of `replacement: hardware`. */
  hardware: z.boolean().default(false),
  /** The failed part, for the replacement (camera, fan, overheating, …). Default: the rule name;
   *  for the peripheralsFailed field, the kind of the first failed peripheral (a peripheral that
   *  is only disconnected is a cable, not a broken part: it never ships one). */
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
  /**
   * Offline by Last Will, by `missedIntervals` missed reports, or never reported (collector/device-state.ts).
   * `clearFor` is the hold-down: a device that comes back and drops again within it keeps one alert,
   * which counts the times it went offline within `flapWindow` (`{flaps}` in the summary).
   */
  z.object({ ...common, kind: z.literal('offline'), missedIntervals: z.number().int().min(1).default(3), defaultInterval: duration.default('30s'), flapWindow: duration.default('10m') }),
  /**
   * A `fault` event from the device (data.code, data.component) of at least `minSeverity`. Clears
   * on a `fault` event with data.state `cleared` for the same code, or when no fault was repeated
   * for `clearAfter`. `components` limits it to those parts (default: all).
   */
  z.object({ ...common, kind: z.literal('fault_event'), minSeverity: z.enum(['warning', 'critical']).default('critical'), clearAfter: duration.default('24h'), components: z.array(z.string().max(32)).optional() }),
  /**
   * Bad calls from `call_ended` summaries: fires when `count` calls within `window` ended with MOS
   * below `mosBelow`, loss above `lossAbove` % or jitter above `jitterAbove` ms. Watches devices
   * that report quality only at the end of a call.
   */
  z.object({ ...common, kind: z.literal('call_quality'), mosBelow: z.number().default(3.5), lossAbove: z.number().default(5), jitterAbove: z.number().default(40), count: z.number().int().min(1).default(2), window: duration.default('1h') }),
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
  /** Resolved from `replacement` and the older `hardware`. */
  replacement: 'hardware' | 'none';
  forMs: number;
  clearForMs: number;
  confirmForMs: number;
  /** `window` of seq_gap, reboot_loop and call_quality rules, in ms (0 for the others). */
  windowMs: number;
  /** `flapWindow` of offline rules, `clearAfter` of fault_event rules, in ms (0 for the others). */
  flapWindowMs: number;
  clearAfterMs: number;
  /** `defaultInterval` of offline rules, in ms (0 for the others). */
  defaultIntervalMs: number;
  /** Position in every partner's rule list. */
  index: number;
};
