// The Grafana dashboards (dashboards/): the generated JSON is well formed, and every query of every
// panel and variable returns data from an InfluxDB the real service filled from the simulator.
//
// Grafana itself cannot be installed here (it is not in Debian's packages), so nothing imports the
// JSON into a running Grafana. The structural checks stand in for that: unique ids and uids, the
// provisioned data source uid everywhere, panels inside the 24-column grid without overlapping,
// every variable a query uses defined (before its use, for chained variables). The data checks
// substitute $timeFilter, $__interval and the variables the way Grafana's InfluxDB data source does
// (test/dashboards/grafana-emulation.ts) and run the queries against InfluxDB 1.6.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { TICKET_CHANGES } from '../../alerting/tickets/ticket-points.js';
import { instanceName } from '../../collector/self-stats.js';
import { DASHBOARDS, renderDashboard } from '../../dashboards/all-dashboards.js';
import { DATASOURCE_UID, MIN_INTERVAL } from '../../dashboards/datasource.js';
import { GENERATED_DIR, repoRoot } from '../../dashboards/generate.js';
import { runFleet } from '../../simulators/fleet.js';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { testMqttUrl } from '../support/services.js';
import { allPanels, interpolate, panelQueries, referencedVariables, targetsOf, variables, type VariableValue } from './grafana-emulation.js';

const ROOT = repoRoot();
const dashboards = DASHBOARDS.map((d) => ({ file: d.file, dashboard: d.build() }));
const datasourceYaml = YAML.parse(readFileSync(join(ROOT, 'dashboards/provisioning/datasources/fleetwatch-influxdb.yaml'), 'utf8')) as {
  datasources: Array<{ uid: string; type: string; jsonData: { dbName: string; timeInterval: string } }>;
};
const providerYaml = YAML.parse(readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/fleetwatch.yaml'), 'utf8')) as {
  providers: Array<{ type: string; options: { path: string } }>;
};

describe('generated dashboards: structure', () => {
  it('the committed JSON in dashboards/generated is what the TypeScript generates (run npm run dashboards)', () => {
    for (const d of DASHBOARDS) expect(readFileSync(join(GENERATED_DIR, d.file), 'utf8'), d.file).toBe(renderDashboard(d));
  });

  it('has unique dashboard uids and, per dashboard, unique panel ids and refIds', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.uid, file).toMatch(/^[a-z0-9-]{1,40}$/);
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(ids.every((id) => typeof id === 'number' && id > 0), file).toBe(true);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const p of allPanels(dashboard)) {
        const refIds = targetsOf(p).map((t) => t.refId);
        expect(new Set(refIds).size, `${file} panel ${p.id}`).toBe(refIds.length);
      }
    }
  });

  it('queries only the provisioned data source, with raw InfluxQL', () => {
    const [ds] = datasourceYaml.datasources;
    expect(ds!.uid).toBe(DATASOURCE_UID);
    expect(ds!.type).toBe('influxdb');
    expect(ds!.jsonData.timeInterval).toBe(MIN_INTERVAL);
    for (const { file, dashboard } of dashboards) {
      for (const p of allPanels(dashboard)) {
        if (p.type === 'row') continue;
        expect(p.datasource, `${file} panel ${p.id}`).toEqual({ type: 'influxdb', uid: ds!.uid });
        const targets = targetsOf(p);
        expect(targets.length, `${file} panel ${p.id} has queries`).toBeGreaterThan(0);
        for (const t of targets) {
          expect(t.datasource, `${file} panel ${p.id} ${t.refId}`).toEqual({ type: 'influxdb', uid: ds!.uid });
          expect(t.rawQuery).toBe(true);
          expect(['time_series', 'table']).toContain(t.resultFormat);
          expect(t.query).toMatch(/^SELECT /);
        }
      }
      for (const v of variables(dashboard)) expect(v.datasource, `${file} variable ${v.name}`).toEqual({ type: 'influxdb', uid: ds!.uid });
    }
  });

  it('places every panel inside the 24-column grid without overlaps', () => {
    for (const { file, dashboard } of dashboards) {
      // Panels of collapsed rows have positions of their own; these dashboards have no collapsed rows.
      const boxes = (dashboard.panels ?? []).map((p) => ({ id: p.id, ...p.gridPos! }));
      for (const b of boxes) {
        expect(b.w >= 1 && b.h >= 1 && b.x >= 0 && b.y >= 0 && b.x + b.w <= 24, `${file} panel ${b.id} ${JSON.stringify(b)}`).toBe(true);
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${file}: panels ${a.id} and ${b.id} overlap`).toBe(false);
        }
      }
    }
  });

  it('defines every variable a query or title uses, before any variable that uses it', () => {
    for (const { file, dashboard } of dashboards) {
      const vars = variables(dashboard);
      const defined = new Set(vars.map((v) => v.name));
      for (const p of allPanels(dashboard)) {
        const texts = [(p as { title?: string }).title ?? '', ...targetsOf(p).map((t) => t.query ?? '')];
        for (const name of texts.flatMap(referencedVariables)) expect(defined.has(name), `${file} panel ${p.id} uses $${name}`).toBe(true);
      }
      vars.forEach((v, i) => {
        const earlier = new Set(vars.slice(0, i).map((e) => e.name));
        for (const name of referencedVariables(String(v.query ?? ''))) expect(earlier.has(name), `${file}: $${v.name} uses $${name} defined after it`).toBe(true);
      });
    }
  });

  it('provisions the dashboards from the folder the README tells users to copy them to', () => {
    const [provider] = providerYaml.providers;
    expect(provider!.type).toBe('file');
    const readme = readFileSync(join(ROOT, 'dashboards/README.md'), 'utf8');
    expect(readme).toContain(provider!.options.path);
    for (const d of DASHBOARDS) expect(readme).toContain(d.file);
  });
});

const SIM_A = ['DASH-A1', 'DASH-A2', 'DASH-A3'];
const SIM_B = ['DASH-B1', 'DASH-B2'];
/** Played by the test itself (full snapshots, a call, an overheating fault); last in the seed, so the simulator leaves it out. */
const HOT = 'DASH-HOT';
const UNREGISTERED = 'UNREG000001';

describe('generated dashboards: every query returns data', () => {
  let world: TestWorld;
  let service: Service;
  let fromMs: number;
  let stayOnline: { stop(): Promise<void> } | undefined;
  let toMs: number;

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, { devicesA: SIM_A, devicesB: [...SIM_B, HOT] });
    // Overheating fires and clears at once, so one short run has an alert and a ticket go through.
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'overheating', for: '0s', clearFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    fromMs = Date.now() - 10 * 60_000;
    service = await startInProcess(world);
    await waitFor(async () => (await fetch(`${service.httpUrl}/readyz`)).status, (s) => s === 200, 20_000);

    // 5 registered devices and 1 unregistered one (an unregistered_device alert and a NOC ticket),
    // a status a second each; at the end they go offline (presence offline, device_offline alerts).
    const fleet = runFleet({ url: testMqttUrl(), registry: world.env.FLEET_SEED!, devices: SIM_A.length + SIM_B.length, unregistered: 1, intervalS: 1, durationS: 24, seed: 11, replyDelayMs: 0 });
    await playHotDevice(service);
    const stats = await fleet;
    expect(stats.errors).toBe(0);

    const count = async (q: string) => {
      const rows = await world.influx.query<{ n: number }>(q);
      return rows[0]?.n ?? 0;
    };
    // collector_stats come every 10 s: the run lasts long enough for two.
    await waitFor(() => count('SELECT count("received") AS n FROM "collector_stats"'), (n) => n >= 2, 20_000);
    await waitFor(() => count(`SELECT count("summary") AS n FROM "alert" WHERE "firing" = false`), (n) => n >= 1, 10_000);
    await waitFor(() => count(`SELECT sum("count") AS n FROM "ticket" WHERE "change" = 'resolved'`), (n) => n >= 1, 10_000);
    await waitFor(() => count('SELECT count("online") AS n FROM "device_presence" WHERE "online" = false'), (n) => n >= SIM_B.length, 10_000);
    // One device still online while the panels are read ("Online now"): quiet devices go offline
    // after their missed reports, as they should.
    stayOnline = await keepReporting(HOT);
    await waitFor(() => count(`SELECT count("online") AS n FROM "device_presence" WHERE "online" = true AND "device" = '${HOT}' AND time > now() - 1m`), (n) => n >= 1, 10_000);
    toMs = Date.now() + 60_000;

    // The continuous query fills rollup.device_status_5m every 5 minutes, too late for a test: run
    // its own SELECT … INTO by hand over the test's range (what docs/influxdb.md says to do for a gap).
    const [cq] = (await world.influx.showContinousQueries()).filter((c) => c.name === 'cq_device_status_5m');
    const select = /BEGIN\s+(.*)\s+END\s*$/s.exec(cq!.query)![1]!;
    await world.influx.query(select.replace(/ GROUP BY /, ` WHERE time >= ${fromMs}ms AND time <= ${toMs}ms GROUP BY `));
  }, 180_000);

  afterAll(async () => {
    await stayOnline?.stop();
    await service?.stop();
    // Presence is retained: clear it, or later services on this broker see these devices.
    const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `dash-clear-${process.pid}`, clean: true });
    for (const id of [...SIM_A, ...SIM_B, HOT, UNREGISTERED]) await c.publishAsync(`poly/v1/devices/${id}/presence`, '', { qos: 1, retain: true });
    await c.endAsync();
    await world?.cleanup();
  });

  /**
   * Values as a user picks them: everything, and one partner, customer, site, device and collector.
   * A variable without All (the device detail's device) gets DASH-HOT in the first.
   */
  const selections = (): Array<{ name: string; values: Record<string, VariableValue> }> => [
    { name: 'All', values: { partner: 'All', customer: 'All', site: 'All', device: 'All', instance: 'All' } },
    { name: 'one of each', values: { partner: ['p-b'], customer: ['c-b'], site: ['s-b'], device: [HOT], instance: [instanceName(world.config.mqttClientId)] } },
  ];

  it('writes ticket and collector_stats points with bounded tags only (no ticket ids)', async () => {
    const keys = async (m: string) => (await world.influx.query<{ tagKey: string }>(`SHOW TAG KEYS FROM "${m}"`)).map((r) => r.tagKey).sort();
    expect(await keys('ticket')).toEqual(['change', 'customer', 'kind', 'partner', 'priority', 'queue', 'site']);
    expect(await keys('collector_stats')).toEqual(['instance']);
    const changes = (await world.influx.query<{ value: string }>('SHOW TAG VALUES FROM "ticket" WITH KEY = "change"')).map((r) => r.value);
    expect(changes).toEqual(expect.arrayContaining(['created', 'acknowledged', 'resolved']));
    for (const c of changes) expect(TICKET_CHANGES).toContain(c);
    const [hot] = await world.influx.query<{ age_s: number; open: boolean }>(`SELECT "age_s", "open" FROM "ticket" WHERE "change" = 'resolved' AND "site" = 's-b' LIMIT 1`);
    expect(hot!.open).toBe(false);
    expect(hot!.age_s).toBeGreaterThan(0);
  });

  it('every variable query lists values', async () => {
    const failures: string[] = [];
    for (const { file, dashboard } of dashboards) {
      for (const sel of selections()) {
        const vars = variables(dashboard);
        for (const v of vars) {
          const q = interpolate(String(v.query), { fromMs, toMs, interval: MIN_INTERVAL, values: valuesFor(dashboard, sel.values), variables: vars });
          const values = await rowsOf(world, q);
          if (values.error || values.rows === 0) failures.push(`${file} [${sel.name}] $${v.name}: ${values.error ?? 'no values'} — ${q}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('every query of every panel returns at least one row', async () => {
    const failures: string[] = [];
    let ran = 0;
    for (const { file, dashboard } of dashboards) {
      for (const sel of selections()) {
        for (const pq of panelQueries(dashboard)) {
          const q = interpolate(pq.query, { fromMs, toMs, interval: pq.interval ?? MIN_INTERVAL, values: valuesFor(dashboard, sel.values), variables: variables(dashboard) });
          const result = await rowsOf(world, q);
          ran++;
          if (result.error || result.rows === 0) failures.push(`${file} [${sel.name}] panel ${pq.panelId} "${pq.panelTitle}" ${pq.refId}: ${result.error ?? 'no rows'} — ${q}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(100);
  });
});

function valuesFor(dashboard: Dashboard, values: Record<string, VariableValue>): Record<string, VariableValue> {
  const out = { ...values };
  for (const v of variables(dashboard)) if (out[v.name] === 'All' && !v.includeAll) out[v.name] = [HOT];
  return out;
}

async function rowsOf(world: TestWorld, q: string): Promise<{ rows: number; error?: string }> {
  try {
    const raw = (await world.influx.queryRaw(q)) as { results: Array<{ error?: string; series?: Array<{ values?: unknown[][] }> }> };
    const result = raw.results[0];
    if (result?.error) return { rows: 0, error: result.error };
    return { rows: (result?.series ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0) };
  } catch (err) {
    return { rows: 0, error: (err as Error).message };
  }
}

/**
 * DASH-HOT, played by hand next to the simulator: full snapshots (network, a call with MOS, cloud,
 * a camera) once a second, a fault event, then three hot snapshots (90 °C, link down, camera failed):
 * overheating fires and opens a ticket, which is acknowledged, and resolves with the next normal one.
 * It stays online (retained presence), so "online now" has a device.
 */
/** A device that says it is online and reports every 500 ms until stopped. */
async function keepReporting(id: string): Promise<{ stop(): Promise<void> }> {
  const pub = await publisher();
  await pub.publishAsync(`poly/v1/devices/${id}/presence`, JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1 });
  let seq = 1000;
  const status = () => JSON.stringify({ v: 1, ts: Date.now(), seq: seq++, model: 'Studio X50', firmware: '4.1.0.123', uptimeS: 7200 + seq, tempC: 45, network: { link: 'up' } });
  const timer = setInterval(() => void pub.publishAsync(`poly/v1/devices/${id}/status`, status(), { qos: 1 }).catch(() => undefined), 500);
  return {
    async stop() {
      clearInterval(timer);
      await pub.endAsync();
    },
  };
}

async function playHotDevice(service: Service): Promise<void> {
  const pub = await publisher();
  const topic = (leaf: string) => `poly/v1/devices/${HOT}/${leaf}`;
  let seq = 0;
  const status = (hot: boolean) =>
    pub.publishAsync(
      topic('status'),
      JSON.stringify({
        v: 1,
        ts: Date.now(),
        seq: seq++,
        model: 'Studio X50',
        firmware: '4.1.0.123',
        uptimeS: 3600 + seq,
        cpuPct: 20 + (seq % 10),
        memPct: 41,
        tempC: hot ? 90 : 45,
        fanRpm: 3100,
        network: { link: hot ? 'down' : 'up', rttMs: 30 + seq, jitterMs: 4, lossPct: hot ? 8 : 0.2 },
        call: { active: true, platform: 'teams', mos: hot ? 3.2 : 4.2 },
        cloud: { provider: 'teams', registered: true },
        peripherals: [{ kind: 'camera', model: 'EagleEye Cube', state: hot ? 'failed' : 'ok' }],
      }),
      { qos: 1 },
    );
  const second = () => new Promise((r) => setTimeout(r, 1000));
  try {
    await pub.publishAsync(topic('presence'), JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1, retain: true });
    for (let i = 0; i < 3; i++) await status(false).then(second);
    await pub.publishAsync(topic('events'), JSON.stringify({ v: 1, ts: Date.now(), type: 'fault', severity: 'critical', data: { code: 'E_THERMAL', component: 'mainboard' } }), { qos: 1 });
    for (let i = 0; i < 3; i++) await status(true).then(second);
    const ticket = await waitFor(
      async () => service.alerting.tickets.list({ deviceId: HOT }).find((t) => t.dedupKey === `overheating/${HOT}` && t.status !== 'resolved'),
      (t) => t !== undefined,
      5000,
    );
    expect(ticket).toBeDefined();
    service.alerting.escalation.acknowledge(ticket!.id, 'dashboards-test', 'on it', Date.now());
    for (let i = 0; i < 8; i++) await status(false).then(second);
  } finally {
    await pub.endAsync();
  }
}
