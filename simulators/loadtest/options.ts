/** `fleetwatch loadtest` flags (strings as commander gives them) and environment to validated options. */
import { join } from 'node:path';
import { loadRegistryDevices, type RegistryDevice } from '../registry.js';
import { parsePids, type Role } from './cpu-usage.js';
import { PROBE_PREFIX } from './probes.js';

export interface LoadtestFlags {
  url?: string;
  rate?: string;
  duration?: string;
  devices?: string;
  registry?: string;
  probes?: string;
  influxUrl?: string;
  influxDb?: string;
  apiUrl?: string;
  token?: string;
  report?: string;
  seed?: string;
  qos?: string;
  pids?: string;
  settle?: string;
  warmup?: string;
  writeSeed?: string;
}

export interface LoadtestOptions {
  mqttUrl: string;
  /** Target messages per second, probes included. */
  rate: number;
  durationS: number;
  /** Devices of the fleet (probes not included). */
  devices: number;
  registry?: string;
  /** With a registry: the devices the fleet plays (the first `devices` of it, probe ids left out). */
  fleetDevices?: RegistryDevice[];
  /** Probe messages per second (0: no latency probes). */
  probeRate: number;
  /** Probe devices of the registry (ids starting with LTPROBE), when it has some. */
  registryProbes?: RegistryDevice[];
  influxUrl: string;
  influxDb: string;
  apiUrl: string;
  token?: string;
  reportPath: string;
  seed: number;
  qos: 0 | 1;
  pids: Partial<Record<Role, number>>;
  /** Longest wait for InfluxDB to have everything after the last publish. */
  settleMaxS: number;
  /** Longest wait for the service to take the fleet's connect burst before the first status (0: none). */
  warmupMaxS: number;
  /** Only write a registry seed file of the run's devices (and a noc user with the token) here, and stop. */
  writeSeed?: string;
}

/** A usage error, reported as is (no stack), exit code 2. */
export class LoadtestUsageError extends Error {}

/** Probe devices are at most this many; each then sends probeRate / n messages per second. */
export const MAX_PROBE_DEVICES = 10;
/** Default probe rate: a tenth of the target, at most 20 per second. */
export const DEFAULT_PROBE_RATE_MAX = 20;
/** Default fleet size: every device sends about every 10 s. */
export const DEFAULT_DEVICE_INTERVAL_S = 10;

function positiveNumber(flag: string, v: string, what = 'a positive number'): number {
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new LoadtestUsageError(`${flag} must be ${what}`);
  return n;
}

function positiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new LoadtestUsageError(`${flag} must be a positive integer`);
  return Number(v);
}

function checkUrl(flag: string, url: string, protocols: RegExp, what: string): string {
  try {
    if (protocols.test(new URL(url).protocol)) return url;
  } catch {
    // fall through
  }
  throw new LoadtestUsageError(`${flag} must be ${what}, got ${JSON.stringify(url)}`);
}

function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function defaultReportPath(now = new Date(), cwd = process.cwd()): string {
  return join(cwd, '.data', 'loadtest', `loadtest-report-${timestamp(now)}.html`);
}

/** Number of probe devices for a probe rate: one per probe per second, at most 10 (or the registry's). */
export function probeDeviceCount(probeRate: number, available = MAX_PROBE_DEVICES): number {
  if (!(probeRate > 0)) return 0;
  return Math.max(1, Math.min(available, MAX_PROBE_DEVICES, Math.ceil(probeRate)));
}

export async function resolveLoadtestOptions(flags: LoadtestFlags, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<LoadtestOptions> {
  const mqttUrl = checkUrl('--url', flags.url ?? (env.MQTT_URL || 'mqtt://127.0.0.1:1883'), /^(mqtts?|tcp|tls|ssl|wss?):$/, 'an mqtt://, mqtts://, ws:// or wss:// URL');
  const influxUrl = checkUrl('--influx-url', flags.influxUrl ?? (env.INFLUX_URL || 'http://127.0.0.1:8086'), /^https?:$/, 'an http:// or https:// URL');
  const apiUrl = checkUrl('--api-url', flags.apiUrl ?? `http://127.0.0.1:${env.PORT || '3000'}`, /^https?:$/, 'an http:// or https:// URL');
  const influxDb = flags.influxDb ?? (env.INFLUX_DB || 'fleet');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(influxDb)) throw new LoadtestUsageError('--influx-db must be 1-64 of A-Z a-z 0-9 _ -');
  const rate = flags.rate !== undefined ? positiveNumber('--rate', flags.rate, 'a positive number of messages per second') : 100;
  const durationS = flags.duration !== undefined ? positiveNumber('--duration', flags.duration, 'a positive number of seconds') : 60;

  let probeRate = Math.min(DEFAULT_PROBE_RATE_MAX, rate / 10);
  if (flags.probes !== undefined) {
    const n = flags.probes.trim() === '' ? Number.NaN : Number(flags.probes);
    if (!Number.isFinite(n) || n < 0) throw new LoadtestUsageError('--probes must be a non-negative number of messages per second');
    if (n >= rate) throw new LoadtestUsageError(`--probes (${n}) must be below --rate (${rate}): probes are part of the target rate`);
    probeRate = n;
  }

  const opts: LoadtestOptions = {
    mqttUrl,
    rate,
    durationS,
    devices: 1,
    probeRate,
    influxUrl,
    influxDb,
    apiUrl,
    reportPath: flags.report ?? defaultReportPath(now),
    seed: 1,
    qos: 1,
    pids: {},
    settleMaxS: 30,
    warmupMaxS: 60,
  };
  if (flags.token !== undefined) {
    if (flags.token.trim() === '') throw new LoadtestUsageError('--token must not be empty');
    opts.token = flags.token;
  }
  if (flags.report !== undefined && flags.report.trim() === '') throw new LoadtestUsageError('--report must be a file name');
  if (flags.seed !== undefined) {
    if (!/^-?\d+$/.test(flags.seed.trim())) throw new LoadtestUsageError('--seed must be an integer');
    opts.seed = Number(flags.seed);
  }
  if (flags.qos !== undefined) {
    if (flags.qos !== '0' && flags.qos !== '1') throw new LoadtestUsageError('--qos must be 0 or 1');
    opts.qos = flags.qos === '0' ? 0 : 1;
  }
  if (flags.pids !== undefined) {
    try {
      opts.pids = parsePids(flags.pids);
    } catch (err) {
      throw new LoadtestUsageError((err as Error).message);
    }
  }
  if (flags.settle !== undefined) opts.settleMaxS = positiveNumber('--settle', flags.settle, 'a positive number of seconds');
  if (flags.warmup !== undefined) {
    const n = flags.warmup.trim() === '' ? Number.NaN : Number(flags.warmup);
    if (!Number.isFinite(n) || n < 0) throw new LoadtestUsageError('--warmup must be a non-negative number of seconds');
    opts.warmupMaxS = n;
  }

  if (flags.writeSeed !== undefined) {
    if (flags.writeSeed.trim() === '') throw new LoadtestUsageError('--write-seed must be a file name');
    if (flags.registry !== undefined) throw new LoadtestUsageError('--write-seed writes a registry for the generated devices: leave out --registry');
    if (opts.token !== undefined && opts.token.length < 16) throw new LoadtestUsageError('--token must be at least 16 characters to go into a seed file');
    opts.writeSeed = flags.writeSeed;
  }
  const registry = flags.writeSeed !== undefined ? undefined : (flags.registry ?? (env.FLEET_SEED || undefined));
  if (registry) {
    let all: RegistryDevice[];
    try {
      all = await loadRegistryDevices(registry);
    } catch (err) {
      throw new LoadtestUsageError(`--registry: ${(err as Error).message}`);
    }
    const probes = all.filter((d) => d.id.startsWith(PROBE_PREFIX));
    const fleet = all.filter((d) => !d.id.startsWith(PROBE_PREFIX));
    const n = flags.devices !== undefined ? positiveInt('--devices', flags.devices) : fleet.length;
    if (n === 0) throw new LoadtestUsageError(`${registry} lists no devices (other than ${PROBE_PREFIX}… probe devices)`);
    if (n > fleet.length) throw new LoadtestUsageError(`--devices ${n} exceeds the ${fleet.length} devices in ${registry} (probe devices ${PROBE_PREFIX}… not counted)`);
    opts.registry = registry;
    opts.devices = n;
    opts.fleetDevices = fleet.slice(0, n);
    if (probes.length > 0) opts.registryProbes = probes.slice(0, MAX_PROBE_DEVICES);
  } else {
    opts.devices = flags.devices !== undefined ? positiveInt('--devices', flags.devices) : Math.max(1, Math.round((rate - probeRate) * DEFAULT_DEVICE_INTERVAL_S));
  }
  return opts;
}
