// The rules in force: shipped defaults, changed and extended by a rules file, with per-partner
// overrides. Every partner's list has the same rules at the same positions (only parameters and
// `enabled` differ), so per-device rule state can be an array indexed by rule position.
import type { OfflineTiming } from '../../collector/device-state.js';
import { readSettingsFile } from '../../src/settings-file.js';
import { DEFAULT_RULES } from './default-rules.js';
import { parseDuration, RuleSchema, RulesFileSchema, type Rule, type RuleSpec, type RulesFile } from './rule-schema.js';

export class RuleSet {
  private readonly perPartner = new Map<string, Rule[]>();

  private constructor(
    readonly rules: Rule[],
    partnerRules: Map<string, Rule[]>,
  ) {
    for (const [p, r] of partnerRules) this.perPartner.set(p, r);
  }

  /** The rules for a partner's devices (unregistered devices: the global rules). */
  for(partnerId: string | undefined): Rule[] {
    return (partnerId !== undefined && this.perPartner.get(partnerId)) || this.rules;
  }

  byName(name: string): Rule | undefined {
    return this.rules.find((r) => r.name === name);
  }

  private readonly timings = new Map<string | undefined, OfflineTiming>();
  /** The offline rule's timing for a partner's devices: what the collector's reachability sweep applies. */
  offlineTiming(partnerId: string | undefined): OfflineTiming {
    let t = this.timings.get(partnerId);
    if (!t) {
      const rule = this.for(partnerId).find((r) => r.kind === 'offline');
      t = rule?.kind === 'offline' ? { missedIntervals: rule.missedIntervals, defaultIntervalMs: rule.defaultIntervalMs } : { missedIntervals: 3, defaultIntervalMs: 30_000 };
      this.timings.set(partnerId, t);
    }
    return t;
  }

  static fromFile(path: string | undefined): RuleSet {
    if (!path) return RuleSet.from({ rules: [], partners: {} });
    return RuleSet.from(readSettingsFile(path, RulesFileSchema), path);
  }

  static from(file: RulesFile, source = 'rules'): RuleSet {
    const specs = new Map<string, Record<string, unknown>>(DEFAULT_RULES.map((r) => [r.name, { ...r }]));
    for (const entry of file.rules) {
      const base = specs.get(entry.name) ?? {};
      specs.set(entry.name, { ...base, ...entry });
    }
    const rules = [...specs.values()].map((spec, index) => compile(spec, index, `${source}: rule "${spec.name as string}"`));
    const partnerRules = new Map<string, Rule[]>();
    for (const [partnerId, patches] of Object.entries(file.partners)) {
      for (const name of Object.keys(patches)) {
        if (!specs.has(name)) throw new Error(`${source}: partners.${partnerId}: no rule named "${name}"`);
      }
      partnerRules.set(
        partnerId,
        rules.map((r) => {
          const patch = patches[r.name];
          if (!patch) return r;
          if ('kind' in patch && patch.kind !== r.kind) throw new Error(`${source}: partners.${partnerId}.${r.name}: a partner may not change a rule's kind`);
          return compile({ ...specs.get(r.name), ...patch }, r.index, `${source}: partners.${partnerId}.${r.name}`);
        }),
      );
    }
    return new RuleSet(rules, partnerRules);
  }
}

function compile(spec: Record<string, unknown>, index: number, where: string): Rule {
  const parsed = RuleSchema.safeParse(spec);
  if (!parsed.success) throw new Error(`${where}: ${formatIssue(parsed.error.issues[0])}`);
  const r: RuleSpec = parsed.data;
  return {
    ...r,
    replacement: r.replacement ?? (r.hardware ? 'hardware' : 'none'),
    forMs: parseDuration(r.for),
    clearForMs: parseDuration(r.clearFor),
    confirmForMs: parseDuration(r.confirmFor),
    windowMs: 'window' in r ? parseDuration(r.window) : 0,
    flapWindowMs: 'flapWindow' in r ? parseDuration(r.flapWindow) : 0,
    clearAfterMs: 'clearAfter' in r ? parseDuration(r.clearAfter) : 0,
    defaultIntervalMs: 'defaultInterval' in r ? parseDuration(r.defaultInterval) : 0,
    index,
  };
}

function formatIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'invalid';
  return `${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`;
}
