// Every setting of the service, read from the environment once at start and validated there.
// Nothing else in the code reads process.env: the typed Config is passed in. docs/configuration.md
// documents each variable; keep the two in step (test/config.test.ts checks that every one is documented).

export interface Config {
  /** Broker to subscribe to; undefined starts the embedded aedes broker on mqttPort. */
  mqttUrl: string | undefined;
  mqttPort: number;
  mqttClientId: string;
  /** MQTT 5 shared-subscription group: several collectors with the same group split the load. */
  mqttSharedGroup: string | undefined;
  mqttProtocolVersion: 4 | 5;
  influxUrl: string;
  influxDb: string;
  influxRawRetention: string;
  influxRollupRetention: string;
  databaseUrl: string;
  fleetSeed: string | undefined;
  port: number;
  host: string;
  journalDir: string;
  journalMaxBytes: number;
  journalFsyncMs: number;
  batchMaxPoints: number;
  batchMaxWaitMs: number;
  deadLetterMaxRows: number;
  /** Rules file (YAML or JSON) changing and extending the shipped alert rules. */
  alertRules: string | undefined;
  /** Escalation policies file (YAML or JSON) overriding the shipped ones, per partner too. */
  escalationPolicies: string | undefined;
  /** A ticket resolved less than this long ago is reopened when its alert fires again. */
  ticketReopenWindow: string;
  /** Requests per second per API token (sustained), and the burst allowed above it. */
  apiRatePerSecond: number;
  apiRateBurst: number;
  /** Customers losing the same cloud provider within the window that make a cloud-partner incident. */
  cloudIncidentMinCustomers: number;
  cloudIncidentWindow: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const v = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${v}"`);
  }
  return v as T;
}

function url(env: Env, name: string, value: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `not a valid URL: "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `protocol must be one of ${protocols.join(' ')}, got "${parsed.protocol}"`);
  }
  return value;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of an InfluxDB duration (INF: Infinity). */
export function durationMs(d: string): number {
  if (d === 'INF') return Infinity;
  let ms = 0;
  for (const m of d.matchAll(/(\d+)(ns|u|µ|ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** InfluxDB 1.x durations as used in CREATE RETENTION POLICY: 30d, 12w, 720h, INF. */
function duration(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!/^(INF|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$/.test(v)) {
    throw new ConfigError(name, `expected an InfluxDB duration like 30d, 12w or INF, got "${v}"`);
  }
  return v;
}

/** Durations of our own settings: 90s, 15m, 24h, 7d. */
function shortDuration(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (!/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v)) throw new ConfigError(name, `expected a duration like 90s, 15m or 24h, got "${v}"`);
  return v;
}

// Device timestamps are accepted up to 7 days back (see collector/decode-json.ts); a raw retention
// shorter than that would make InfluxDB refuse points the collector accepted.
function rawRetention(env: Env): string {
  const v = duration(env, 'INFLUX_RAW_RETENTION', '30d');
  if (durationMs(v) < 7 * 86_400_000) {
    throw new ConfigError('INFLUX_RAW_RETENTION', `must be at least 7d (devices may send data up to 7 days old), got "${v}"`);
  }
  return v;
}

export function loadConfig(env: Env = process.env): Config {
  const mqttUrl = optional(env, 'MQTT_URL');
  if (mqttUrl !== undefined) url(env, 'MQTT_URL', mqttUrl, ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);
  const databaseUrl = str(env, 'DATABASE_URL', 'sqlite:.data/fleetwatch.db');
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', `expected sqlite:PATH or postgres://…, got "${databaseUrl}"`);
  }
  const influxDb = str(env, 'INFLUX_DB', 'fleet');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(influxDb)) {
    throw new ConfigError('INFLUX_DB', `letters, digits, _ and - only, got "${influxDb}"`);
  }
  const sharedGroup = optional(env, 'MQTT_SHARED_GROUP');
  if (sharedGroup !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(sharedGroup)) {
    throw new ConfigError('MQTT_SHARED_GROUP', `letters, digits, _ and - only, got "${sharedGroup}"`);
  }
  return {
    mqttUrl,
    mqttPort: int(env, 'MQTT_PORT', 1883, 1, 65535),
    mqttClientId: str(env, 'MQTT_CLIENT_ID', 'fleetwatch-collector'),
    mqttSharedGroup: sharedGroup,
    mqttProtocolVersion: Number(oneOf(env, 'MQTT_PROTOCOL_VERSION', '4', ['4', '5'])) as 4 | 5,
    influxUrl: url(env, 'INFLUX_URL', str(env, 'INFLUX_URL', 'http://127.0.0.1:8086'), ['http:', 'https:']),
    influxDb,
    influxRawRetention: rawRetention(env),
    influxRollupRetention: duration(env, 'INFLUX_ROLLUP_RETENTION', '400d'),
    databaseUrl,
    fleetSeed: optional(env, 'FLEET_SEED'),
    port: int(env, 'PORT', 3000, 0, 65535),
    host: str(env, 'HOST', '127.0.0.1'),
    journalDir: str(env, 'JOURNAL_DIR', '.data/journal'),
    journalMaxBytes: int(env, 'JOURNAL_MAX_BYTES', 1024 * 1024 * 1024, 1024 * 1024, Number.MAX_SAFE_INTEGER),
    journalFsyncMs: int(env, 'JOURNAL_FSYNC_MS', 1000, 0, 60_000),
    batchMaxPoints: int(env, 'BATCH_MAX_POINTS', 5000, 1, 100_000),
    batchMaxWaitMs: int(env, 'BATCH_MAX_WAIT_MS', 50, 0, 10_000),
    deadLetterMaxRows: int(env, 'DEAD_LETTER_MAX_ROWS', 100_000, 100, 100_000_000),
    alertRules: optional(env, 'ALERT_RULES'),
    escalationPolicies: optional(env, 'ESCALATION_POLICIES'),
    ticketReopenWindow: shortDuration(env, 'TICKET_REOPEN_WINDOW', '24h'),
    apiRatePerSecond: int(env, 'API_RATE_PER_SECOND', 20, 1, 100_000),
    apiRateBurst: int(env, 'API_RATE_BURST', 100, 1, 1_000_000),
    cloudIncidentMinCustomers: int(env, 'CLOUD_INCIDENT_MIN_CUSTOMERS', 3, 2, 1000),
    cloudIncidentWindow: shortDuration(env, 'CLOUD_INCIDENT_WINDOW', '10m'),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  };
}
