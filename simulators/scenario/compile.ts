/**
 * From scenario files and a fleet to a plan: which devices each group gets, and every step as one
 * action on one device at one time offset. Pure and deterministic (registry order decides), so the
 * same fleet and files always give the same devices; fleet.ts plays the plan.
 */
import type { ModelFamily } from '../models.js';
import type { FaultComponent, PeripheralKind, PeripheralState, Platform } from '../protocol.js';
import type { OverridableField } from '../device.js';
import { durationMs, type Expectation, type GroupSpec, type ScenarioFile } from './scenario-file.js';

/** What scenario selection needs to know about a fleet device. */
export interface CandidateDevice {
  id: string;
  model: string;
  family: ModelFamily;
  hasFan: boolean;
  peripherals: readonly PeripheralKind[];
  provider: Platform;
  siteId: string | undefined;
  customerId: string | undefined;
  /** Last covered day from the registry seed (null: open-ended; undefined: not known). */
  coveredUntil?: string | null | undefined;
}

export type ScenarioAction =
  | { kind: 'override'; field: OverridableField; to: number; overMs: number }
  | { kind: 'restore'; field: OverridableField | 'all'; overMs: number }
  | { kind: 'peripheral'; peripheral: PeripheralKind; state: PeripheralState }
  | { kind: 'cloud'; lost: boolean }
  | { kind: 'reboot' }
  | { kind: 'update_event'; to: string; state: 'downloading' | 'installing' | 'done' | 'failed' }
  | { kind: 'firmware'; version: string }
  | { kind: 'unplug' }
  | { kind: 'plug' }
  /** A call placed (held until an end) or hung up. */
  | { kind: 'call'; start: boolean }
  | { kind: 'fault'; code: string; component: FaultComponent; severity: 'critical' | 'warning'; cleared: boolean; message: string };

export interface TimedAction {
  /** Offset from the scenario's start. */
  atMs: number;
  deviceId: string;
  action: ScenarioAction;
  /** The scenario it belongs to, for progress lines. */
  scenario: string;
}

export interface ResolvedExpectation {
  scenario: string;
  expectation: Expectation;
  /** Devices of the expectation's group (none for an incident). */
  deviceIds: string[];
}

export interface ScenarioPlan {
  /** Scenario name -> group name -> device ids. */
  groups: Map<string, Map<string, string[]>>;
  /** Every action of every scenario, by time. */
  actions: TimedAction[];
  expectations: ResolvedExpectation[];
  /** The longest scenario's duration. */
  durationMs: number;
  /** Every device some scenario plays with. */
  involved: Set<string>;
}

export class ScenarioError extends Error {}

/**
 * Groups take devices in declaration order, scenario after scenario, and a device belongs to one
 * group at most, so several scenarios can run side by side on one fleet without touching each other.
 */
export function compileScenarios(files: readonly ScenarioFile[], fleet: readonly CandidateDevice[]): ScenarioPlan {
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.name)) throw new ScenarioError(`two scenarios are named ${f.name}`);
    names.add(f.name);
  }
  const taken = new Set<string>();
  const siteSize = new Map<string, number>();
  for (const d of fleet) if (d.siteId !== undefined) siteSize.set(d.siteId, (siteSize.get(d.siteId) ?? 0) + 1);

  const plan: ScenarioPlan = { groups: new Map(), actions: [], expectations: [], durationMs: 0, involved: taken };
  for (const f of files) {
    const groups = new Map<string, string[]>();
    for (const [groupName, spec] of Object.entries(f.groups)) {
      const ids = pick(spec, fleet, taken, siteSize);
      if (ids.length === 0) throw new ScenarioError(`scenario ${f.name}: group ${groupName}: no free device matches ${describeGroup(spec)}`);
      for (const id of ids) taken.add(id);
      groups.set(groupName, ids);
    }
    plan.groups.set(f.name, groups);
    for (const step of f.steps) {
      const times = step.times ?? 1;
      const every = step.every ? durationMs(step.every) : 0;
      const overMs = step.over ? durationMs(step.over) : 0;
      for (let k = 0; k < times; k++) {
        const at = durationMs(step.at) + k * every;
        for (const deviceId of groups.get(step.group)!) {
          const push = (atMs: number, action: ScenarioAction): void => {
            plan.actions.push({ atMs, deviceId, action, scenario: f.name });
          };
          if (step.set) for (const [field, to] of Object.entries(step.set)) push(at, { kind: 'override', field: field as OverridableField, to: to!, overMs: 0 });
          if (step.ramp) for (const [field, to] of Object.entries(step.ramp)) push(at, { kind: 'override', field: field as OverridableField, to: to!, overMs });
          if (step.restore) {
            for (const field of step.restore === 'all' ? (['all'] as const) : step.restore) push(at, { kind: 'restore', field, overMs });
          }
          if (step.peripheral) push(at, { kind: 'peripheral', peripheral: step.peripheral.kind, state: step.peripheral.state });
          if (step.cloud) push(at, { kind: 'cloud', lost: step.cloud === 'lost' });
          if (step.reboot) push(at, { kind: 'reboot' });
          if (step.unplug) push(at, { kind: 'unplug' });
          if (step.plug) push(at, { kind: 'plug' });
          if (step.call) {
            push(at, { kind: 'call', start: step.call.start === true });
            if (step.call.start && step.call.durationS !== undefined) push(at + step.call.durationS * 1000, { kind: 'call', start: false });
          }
          if (step.fault) {
            const { code, component, severity, cleared } = step.fault;
            push(at, { kind: 'fault', code, component, severity, cleared, message: step.fault.message ?? faultMessage(code, component, cleared) });
          }
          if (step.update) {
            const { to, result } = step.update;
            const stepMs = durationMs(step.update.step);
            push(at, { kind: 'update_event', to, state: 'downloading' });
            push(at + stepMs, { kind: 'update_event', to, state: 'installing' });
            if (result === 'done') {
              // Installed: the device restarts on the new version, then says so.
              push(at + 2 * stepMs, { kind: 'firmware', version: to });
              push(at + 2 * stepMs, { kind: 'reboot' });
            }
            push(at + 2 * stepMs, { kind: 'update_event', to, state: result });
          }
        }
      }
    }
    for (const e of f.expect) {
      plan.expectations.push({ scenario: f.name, expectation: e, deviceIds: 'group' in e ? [...groups.get(e.group)!] : [] });
    }
    plan.durationMs = Math.max(plan.durationMs, durationMs(f.duration));
  }
  // Stable: actions of one device at one time keep the order the file gave them.
  plan.actions.sort((a, b) => a.atMs - b.atMs);
  return plan;
}

function matches(spec: GroupSpec, d: CandidateDevice, siteSize: Map<string, number>): boolean {
  if (spec.family !== undefined && d.family !== spec.family) return false;
  if (spec.model !== undefined && !(Array.isArray(spec.model) ? spec.model.includes(d.model) : spec.model === d.model)) return false;
  if (spec.hasFan !== undefined && d.hasFan !== spec.hasFan) return false;
  if (spec.peripheral !== undefined && !d.peripherals.includes(spec.peripheral)) return false;
  if (spec.provider !== undefined && d.provider !== spec.provider) return false;
  // Hardware scenarios that expect a replacement need a device whose coverage is in force today.
  if (spec.covered === true && !(d.coveredUntil === null || (d.coveredUntil !== undefined && d.coveredUntil >= new Date().toISOString().slice(0, 10)))) return false;
  if (spec.siteAtLeast !== undefined && (d.siteId === undefined || (siteSize.get(d.siteId) ?? 0) < spec.siteAtLeast)) return false;
  // Grouping by site or customer needs to know where the device is (from a registry seed).
  if (spec.sameSite && d.siteId === undefined) return false;
  if (spec.customers !== undefined && d.customerId === undefined) return false;
  return true;
}

function pick(spec: GroupSpec, fleet: readonly CandidateDevice[], taken: Set<string>, siteSize: Map<string, number>): string[] {
  const free = fleet.filter((d) => !taken.has(d.id) && matches(spec, d, siteSize));
  const want = spec.count === 'all' ? Number.POSITIVE_INFINITY : spec.count;
  if (spec.sameSite) {
    const bySite = groupBy(free, (d) => d.siteId);
    for (const devices of bySite.values()) {
      if (spec.count === 'all' || devices.length >= want) return devices.slice(0, want).map((d) => d.id);
    }
    return [];
  }
  if (spec.customers !== undefined) {
    const chosen: string[] = [];
    let customers = 0;
    for (const devices of groupBy(free, (d) => d.customerId).values()) {
      if (spec.count !== 'all' && devices.length < want) continue;
      chosen.push(...devices.slice(0, want).map((d) => d.id));
      if (++customers === spec.customers) return chosen;
    }
    return [];
  }
  const chosen = free.slice(0, want).map((d) => d.id);
  return spec.count === 'all' || chosen.length === want ? chosen : [];
}

/** Groups in first-seen order; devices without the key are left out. */
function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function describeGroup(spec: GroupSpec): string {
  const parts = Object.entries(spec)
    .filter(([k, v]) => v !== undefined && !(k === 'sameSite' && v === false))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('|') : String(v)}`);
  return `{${parts.join(', ')}}`;
}

/** A one-line description of an action, for the simulator's progress output. */
export function describeAction(a: ScenarioAction): string {
  switch (a.kind) {
    case 'override':
      return a.overMs > 0 ? `${a.field} -> ${a.to} over ${a.overMs / 1000} s` : `${a.field} = ${a.to}`;
    case 'restore':
      return `${a.field === 'all' ? 'every forced value' : a.field} back to normal${a.overMs > 0 ? ` over ${a.overMs / 1000} s` : ''}`;
    case 'peripheral':
      return `${a.peripheral} ${a.state}`;
    case 'cloud':
      return a.lost ? 'cloud registration lost' : 'cloud registration restored';
    case 'reboot':
      return 'reboot';
    case 'update_event':
      return `software update to ${a.to}: ${a.state}`;
    case 'firmware':
      return `firmware now ${a.version}`;
    case 'unplug':
      return 'unplugged';
    case 'plug':
      return 'plugged back in';
    case 'call':
      return a.start ? 'call started' : 'call ended';
    case 'fault':
      return a.cleared ? `fault ${a.code} (${a.component}) cleared` : `fault ${a.code} (${a.component}, ${a.severity})`;
  }
}

/** The default text of a fault event: "Camera fault CAM_NO_VIDEO", "…, cleared". */
export function faultMessage(code: string, component: FaultComponent, cleared: boolean): string {
  return `${component[0]!.toUpperCase()}${component.slice(1)} fault ${code}${cleared ? ' cleared' : ''}`;
}
