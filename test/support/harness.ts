// Starting the real service against the test mosquitto and influxd, and looking at what it stored.
// Each test gets its own InfluxDB database, SQLite file, journal folder and MQTT client id.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { writeSingleSiteSeed, type FleetDevice } from '../../simulators/seed-file.js';
import { loadConfig, type Config } from '../../src/config.js';
import { startService, type Service } from '../../src/service.js';
import { testInfluxUrl, testMqttUrl } from './services.js';

let counter = 0;

export interface TestWorld {
  name: string;
  dir: string;
  env: Record<string, string>;
  config: Config;
  influx: InfluxDB;
  cleanup(): Promise<void>;
}

export function makeWorld(devices: FleetDevice[], extraEnv: Record<string, string> = {}): TestWorld {
  const name = `t${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const dir = mkdtempSync(join(tmpdir(), 'fw-it-'));
  const env: Record<string, string> = {
    MQTT_URL: testMqttUrl(),
    MQTT_CLIENT_ID: `fw-${name}`,
    INFLUX_URL: testInfluxUrl(),
    INFLUX_DB: name,
    DATABASE_URL: `sqlite:${join(dir, 'fleetwatch.db')}`,
    FLEET_SEED: writeSingleSiteSeed(join(dir, 'seed.json'), 'test', devices),
    JOURNAL_DIR: join(dir, 'journal'),
    PORT: '0',
    LOG_LEVEL: 'error',
    BATCH_MAX_WAIT_MS: '20',
    ...extraEnv,
  };
  const influx = new InfluxDB({ host: '127.0.0.1', port: Number(new URL(testInfluxUrl()).port), database: name });
  return {
    name,
    dir,
    env,
    config: loadConfig(env),
    influx,
    async cleanup() {
      await influx.dropDatabase(name).catch(() => undefined);
      // Remove the persistent session so the broker stops queueing for it.
      const c = await mqtt.connectAsync(testMqttUrl(), { clientId: env.MQTT_CLIENT_ID, clean: true });
      await c.endAsync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startInProcess(world: TestWorld): Promise<Service> {
  return startService(world.config, pino({ level: world.env.LOG_LEVEL ?? 'warn' }));
}

export async function publisher(clientId = `pub-${process.pid}-${counter++}`): Promise<MqttClient> {
  return mqtt.connectAsync(testMqttUrl(), { clientId, clean: true });
}

export function statusPayload(seq: number, ts: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, ts, seq, model: 'Studio X50', firmware: '4.1.0.123', cpuPct: 10 + (seq % 50), tempC: 45, network: { link: 'up', rttMs: 20 }, ...extra });
}

/** Polls until check() returns true or timeoutMs passes; returns the last value seen. */
export async function waitFor<T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!check(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await probe();
  }
  return last;
}

/** Number of device_status points in the world's database (0 when it does not exist yet). */
export async function countStatus(world: TestWorld): Promise<number> {
  try {
    const rows = await world.influx.query<{ count: number }>('SELECT count("seq") AS "count" FROM "device_status"');
    return rows[0]?.count ?? 0;
  } catch {
    return 0;
  }
}

/** seq values stored for each device: device -> sorted seq list. */
export async function storedSeqs(world: TestWorld): Promise<Map<string, number[]>> {
  const rows = await world.influx.query<{ device: string; seq: number }>('SELECT "seq", "device" FROM "device_status"');
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const list = out.get(r.device) ?? [];
    list.push(r.seq);
    out.set(r.device, list);
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
