import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { runCli } from './support/child-service.js';

describe('config', () => {
  it('has the contract defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      mqttUrl: undefined,
      mqttPort: 1883,
      influxUrl: 'http://127.0.0.1:8086',
      influxDb: 'fleet',
      databaseUrl: 'sqlite:.data/fleetwatch.db',
      fleetSeed: undefined,
      port: 3000,
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['PORT', 'abc', /whole number/],
    ['PORT', '70000', /between 0 and 65535/],
    ['MQTT_PORT', '-1', /whole number/],
    ['MQTT_URL', 'not a url', /not a valid URL/],
    ['MQTT_URL', 'http://broker', /protocol/],
    ['INFLUX_URL', 'ftp://x', /protocol/],
    ['INFLUX_DB', 'my db', /letters, digits/],
    ['DATABASE_URL', 'mysql://x', /sqlite:PATH or postgres/],
    ['INFLUX_RAW_RETENTION', '30 days', /InfluxDB duration/],
    ['INFLUX_RAW_RETENTION', '3d', /at least 7d/],
    ['MQTT_PROTOCOL_VERSION', '3', /one of 4, 5/],
    ['LOG_LEVEL', 'loud', /one of/],
    ['BATCH_MAX_POINTS', '0', /between 1 and/],
  ];
  it.each(bad)('refuses %s=%s with a message naming the variable', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toMatch(new RegExp(`^${name}: `));
    expect((err as Error).message).toMatch(message);
  });

  it('documents every variable it reads in docs/configuration.md', () => {
    const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
    const names = new Set([...source.matchAll(/\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]!));
    expect(names.size).toBeGreaterThan(15);
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const missing = [...names].filter((n) => !doc.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  it('stops `fleetwatch serve` at start with the name of a wrong variable', async () => {
    const child = runCli(['serve'], { PORT: 'eighty', DATABASE_URL: 'sqlite::memory:' });
    const { code } = await child.exited;
    expect(code).toBe(2);
    expect(child.output()).toContain('invalid setting PORT: expected a whole number, got "eighty"');
  });
});
