// Every shipped fault scenario, played by the simulator on the demo fleet against the real service
// (mosquitto, collector, alerting, API): each produces exactly the alerts it promises, on exactly
// its devices, and nothing else. The scenarios run side by side on disjoint devices, so the whole
// set takes as long as the longest one (about 6 minutes: overheating waits out the rules' real
// `for`, replacement confirmation and `clearFor` timings; nothing is shortened for the test).
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { runFleet } from '../../simulators/fleet.js';
import { loadRegistryDevices } from '../../simulators/registry.js';
import type { ScenarioPlan } from '../../simulators/scenario/compile.js';
import { checkScenarios, type CheckResult, type ObservedAlert, type ObservedTicket } from '../../simulators/scenario/expect.js';
import { loadScenario, parseScenario } from '../../simulators/scenario/scenario-file.js';
import { makeWorld, startInProcess } from '../support/harness.js';
import { REPO_ROOT, testMqttUrl } from '../support/services.js';

const SCENARIO_DIR = resolve(REPO_ROOT, 'simulators/scenarios');
const DEMO_SEED = resolve(REPO_ROOT, 'seed/demo.json');
const NOC_TOKEN = 'demo-noc-token-0000000000000000';
// Site-wide groups first: they take a whole site before other scenarios pick single devices there.
const ORDER = ['site-packet-loss', 'teams-outage'];

describe('scenario files', () => {
  it('every file in simulators/scenarios parses and names what it expects', async () => {
    const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) {
      const s = await loadScenario(resolve(SCENARIO_DIR, f));
      expect(`${s.name}.yaml`).toBe(f);
      expect(s.expect.length).toBeGreaterThan(0);
    }
  });

  it('a wrong file is refused with the place of the mistake', () => {
    const base = 'name: x\ntitle: X\nduration: 60s\ngroups: { g: {} }\nexpect: [{ alert: overheating, group: g }]\n';
    expect(() => parseScenario(`${base}steps: [{ at: 5s, group: g }]`)).toThrow(/steps.0: a step does exactly one of/);
    expect(() => parseScenario(`${base}steps: [{ at: 5s, group: nope, reboot: true }]`)).toThrow(/steps.0.group: no group nope/);
    expect(() => parseScenario(`${base}steps: [{ at: 90s, group: g, reboot: true }]`)).toThrow(/runs after the scenario's duration/);
    expect(() => parseScenario(`${base}steps: [{ at: 5s, group: g, ramp: { tempC: 90 } }]`)).toThrow(/ramp needs over/);
    expect(() => parseScenario(`${base}steps: [{ at: 5s, group: g, set: { colour: 3 } }]`)).toThrow(/steps.0.set/);
  });
});

describe('fault scenarios against the real service', () => {
  it('each scenario raises its alerts on its devices, and nothing else happens', { timeout: 480_000 }, async () => {
    const names = readdirSync(SCENARIO_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const scenarios = await Promise.all(names.map((n) => loadScenario(resolve(SCENARIO_DIR, `${n}.yaml`))));
    const registry = await loadRegistryDevices(DEMO_SEED);

    const world = makeWorld([], { FLEET_SEED: DEMO_SEED });
    const service = await startInProcess(world);
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${service.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${NOC_TOKEN}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    let plan: ScenarioPlan | undefined;
    let firstStepMs = 0;
    const steps: string[] = [];
    const ac = new AbortController();
    const fleet = runFleet(
      {
        url: testMqttUrl(),
        registry: DEMO_SEED,
        devices: registry.length,
        intervalS: 2,
        connections: 'per-device',
        seed: 1,
        scenarios,
        onScenarioPlan: (p) => {
          plan = p;
        },
        onScenarioStep: (s) => {
          firstStepMs ||= Date.now();
          steps.push(`${s.scenario} +${s.atMs / 1000}s ${s.description}: ${s.deviceIds.join(' ')}`);
        },
      },
      ac.signal,
    );

    let result: CheckResult | undefined;
    try {
      const started = Date.now();
      // Poll through the API, as a partner's tool would, until every expectation is met (or time is up).
      while (Date.now() - started < (plan?.durationMs ?? 250_000) + 30_000) {
        await new Promise((r) => setTimeout(r, 2000));
        if (!plan || firstStepMs === 0) continue;
        result = checkScenarios(plan, await observe(api), firstStepMs);
        if (result.missing.length === 0) break;
      }
      // Let a late unexpected alert show itself: whatever a scenario wrongly triggers has had its `for` by now.
      await new Promise((r) => setTimeout(r, 3000));
      result = checkScenarios(plan!, await observe(api), firstStepMs);
    } finally {
      ac.abort();
      await fleet.catch(() => undefined);
      await service.stop();
      // Presence is retained: clear it, or later services on this broker see the demo fleet.
      const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `scenario-clear-${process.pid}`, clean: true });
      for (const d of registry) await c.publishAsync(`poly/v1/devices/${d.id}/presence`, '', { qos: 1, retain: true });
      await c.endAsync();
      await world.cleanup();
    }
    const report = `steps:\n  ${steps.join('\n  ')}\nmet:\n  ${result?.met.join('\n  ')}`;
    expect(result?.missing, report).toEqual([]);
    expect(result?.unexpected, report).toEqual([]);
    // Every scenario had its say: one met line per expected device or incident.
    const expectedLines = plan!.expectations.reduce((n, e) => n + Math.max(1, e.deviceIds.length), 0);
    expect(result?.met).toHaveLength(expectedLines);
    for (const name of names) expect(result?.met.some((m) => m.startsWith(`${name}:`)), name).toBe(true);
  });
});

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}

async function observe(api: <T>(path: string) => Promise<T>) {
  const alerts = (await api<{ items: ObservedAlert[] }>('/alerts?limit=1000')).items;
  const tickets = (await api<{ items: ObservedTicket[] }>('/tickets?limit=1000')).items;
  const withReplacement = new Set<number>();
  for (const t of tickets) {
    if (t.kind !== 'alert') continue;
    const full = await api<{ replacement: unknown }>(`/tickets/${t.id}`);
    if (full.replacement) withReplacement.add(t.id);
  }
  return { alerts, tickets, replacementTicketIds: withReplacement };
}
