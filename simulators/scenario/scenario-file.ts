/**
 * The fault scenario file format (docs/simulator.md#fault-scenarios): YAML or JSON, validated with zod.
 * A scenario names groups of devices (picked from the fleet by what they are and where), a timeline
 * of steps played on those groups, and what the service is expected to raise, so a test (or a
 * partner at a demo) can check that exactly that happened.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { OVERRIDABLE } from '../device.js';
import { FAULT_COMPONENTS } from '../protocol.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "2m", "1.5h" to milliseconds. */
export function durationMs(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`"${d}" is not a duration like 500ms, 30s, 2m or 1h`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

const duration = z.string().regex(DURATION, 'a duration like 30s, 2m or 1h');
const name = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, - and _');
const field = z.enum(OVERRIDABLE);
const fieldValues = z
  .partialRecord(field, z.number())
  .refine((r) => Object.keys(r).length > 0, 'name at least one field')
  .refine((r) => r.mos === undefined || (r.mos >= 1 && r.mos <= 5), { message: 'mos is between 1 and 5', path: ['mos'] });

/** A scenario's call: `{start: true}` (optionally `durationS` long) or `{end: true}`. */
const callStep = z
  .object({
    start: z.literal(true, { error: 'start: true (to end a call: end: true)' }).optional(),
    end: z.literal(true, { error: 'end: true (to start a call: start: true)' }).optional(),
    /** With start: the call ends this many seconds later. */
    durationS: z.number({ error: 'durationS: a number of seconds' }).int('durationS: whole seconds').min(1, 'durationS: at least 1').optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.start === undefined) === (c.end === undefined)) ctx.addIssue({ code: 'custom', message: 'a call step is either { start: true } or { end: true }' });
    if (c.end !== undefined && c.durationS !== undefined) ctx.addIssue({ code: 'custom', path: ['durationS'], message: 'durationS goes with start, not end' });
  });

/** A `fault` event the device reports (cleared: it is over). */
const faultStep = z
  .object({
    code: z
      .string({ error: 'a fault code string, e.g. CAM_NO_VIDEO (quote one YAML reads as a number)' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'a fault code: up to 64 letters, digits, _ . : -'),
    component: z.enum(FAULT_COMPONENTS, { error: `component is one of ${FAULT_COMPONENTS.join(', ')}` }),
    severity: z.enum(['critical', 'warning'], { error: 'severity is critical or warning (a cleared fault is info)' }).default('critical'),
    cleared: z.boolean().default(false),
    /** The event's text; default "<Component> fault <code>" (", cleared" when cleared). */
    message: z.string().min(1).max(200).optional(),
  })
  .strict();

export const GroupSchema = z
  .object({
    /** How many devices (per customer with `customers`), or every matching one. Default 1. */
    count: z.union([z.number().int().min(1), z.literal('all')]).default(1),
    family: z.enum(['video', 'phone', 'controller']).optional(),
    model: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    /** Only devices that have a fan (fanRpm in their status). */
    hasFan: z.boolean().optional(),
    /** Only devices with this peripheral attached. */
    peripheral: z.enum(['camera', 'microphone', 'speaker', 'display', 'controller', 'headset', 'other']).optional(),
    /** Only devices registered with this cloud provider. */
    provider: z.enum(['teams', 'zoom']).optional(),
    /** Only devices whose coverage (from the registry seed) is in force today: an advance replacement needs one. */
    covered: z.boolean().optional(),
    /** All picked devices are at one site: the first site (registry order) with enough matching devices. */
    sameSite: z.boolean().default(false),
    /** Only devices at a site with at least this many devices in the fleet. */
    siteAtLeast: z.number().int().min(1).optional(),
    /** Spread over this many different customers, `count` devices each. */
    customers: z.number().int().min(1).optional(),
  })
  .strict();

const actions = {
  /** Force fields to values at once. */
  set: fieldValues.optional(),
  /** Move fields linearly to values over `over`. */
  ramp: fieldValues.optional(),
  /** Give fields back to the device's own behaviour (`all`: every forced field), over `over` if given. */
  restore: z.union([z.array(field).min(1), z.literal('all')]).optional(),
  /** A peripheral changes state (a `peripheral_state` event is sent). */
  peripheral: z.object({ kind: GroupSchema.shape.peripheral.unwrap(), state: z.enum(['ok', 'degraded', 'failed', 'disconnected']) }).strict().optional(),
  /** Registration with the device's cloud provider is lost (their outage) or back. */
  cloud: z.enum(['lost', 'restored']).optional(),
  /** The device restarts: a `reboot` event, seq from 0. */
  reboot: z.literal(true).optional(),
  /** A software update to `to`: downloading, installing, then `done` (new firmware, reboot) or `failed`. */
  update: z.object({ to: z.string({ error: 'a version string: quote it ("9.0"), or YAML reads a number' }).min(1).max(64), result: z.enum(['done', 'failed']), step: duration.default('20s') }).strict().optional(),
  /** Power or network cable pulled: the connection drops without a goodbye (the broker sends the Last Will). */
  unplug: z.literal(true).optional(),
  /** Back: connects again after a restart (seq from 0), online presence. */
  plug: z.literal(true).optional(),
  /** A call starts (held until its durationS or an end step) or ends (a `call_ended` event with its quality). */
  call: callStep.optional(),
  /** The device reports a fault, or that it cleared (a `fault` event). */
  fault: faultStep.optional(),
};
const ACTION_KEYS = Object.keys(actions) as (keyof typeof actions)[];

export const StepSchema = z
  .object({
    at: duration,
    group: name,
    over: duration.optional(),
    /** Repeat the step `times` times in all, `every` apart. */
    every: duration.optional(),
    times: z.number().int().min(1).max(1000).optional(),
    ...actions,
  })
  .strict()
  .superRefine((s, ctx) => {
    const present = ACTION_KEYS.filter((k) => s[k] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a step does exactly one of ${ACTION_KEYS.join(', ')} (found ${present.length === 0 ? 'none' : present.join(', ')})` });
    }
    if ((s.every === undefined) !== (s.times === undefined)) ctx.addIssue({ code: 'custom', message: 'every and times go together' });
    if (s.ramp !== undefined && s.over === undefined) ctx.addIssue({ code: 'custom', message: 'ramp needs over' });
  });

export const ExpectSchema = z.union([
  z
    .object({
      /** The alert rule that must fire for every device of the group (and for no other device). */
      alert: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
      group: name,
      /** It must also resolve before the scenario's end. */
      resolves: z.boolean().default(false),
      /** true: its ticket requests an advance replacement; false: it must not (triage); left out: not checked. */
      replacement: z.boolean().optional(),
    })
    .strict(),
  /** A cloud-partner incident for this provider (the ECPS ticket). */
  z.object({ incident: z.enum(['teams', 'zoom']) }).strict(),
]);

export const ScenarioSchema = z
  .object({
    name,
    title: z.string().min(1).max(120),
    description: z.string().max(2000).default(''),
    /** How long the scenario takes from its start to the end of its checks. */
    duration,
    groups: z.record(name, GroupSchema).refine((g) => Object.keys(g).length > 0, 'name at least one group'),
    steps: z.array(StepSchema).min(1),
    expect: z.array(ExpectSchema).min(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const end = durationMs(s.duration);
    s.steps.forEach((step, i) => {
      if (!(step.group in s.groups)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'group'], message: `no group ${step.group}` });
      const last = durationMs(step.at) + (step.every ? durationMs(step.every) * ((step.times ?? 1) - 1) : 0);
      if (last > end) ctx.addIssue({ code: 'custom', path: ['steps', i, 'at'], message: `runs after the scenario's duration (${s.duration})` });
      else if (step.call?.durationS !== undefined && last + step.call.durationS * 1000 > end) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'call', 'durationS'], message: `the call ends after the scenario's duration (${s.duration})` });
      }
    });
    s.expect.forEach((e, i) => {
      if ('group' in e && !(e.group in s.groups)) ctx.addIssue({ code: 'custom', path: ['expect', i, 'group'], message: `no group ${e.group}` });
    });
  });

export type ScenarioFile = z.output<typeof ScenarioSchema>;
export type GroupSpec = z.output<typeof GroupSchema>;
export type StepSpec = z.output<typeof StepSchema>;
export type Expectation = z.output<typeof ExpectSchema>;

export function parseScenario(text: string, source = 'scenario', format?: 'json' | 'yaml'): ScenarioFile {
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const res = ScenarioSchema.safeParse(doc);
  if (!res.success) {
    const issues = res.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${source}: invalid scenario: ${issues}`);
  }
  return res.data;
}

export async function loadScenario(path: string): Promise<ScenarioFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseScenario(text, basename(path), extname(path).toLowerCase() === '.json' ? 'json' : 'yaml');
}
