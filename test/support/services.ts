// Typed wrapper around scripts/services.sh for tests: one influxd and one
// mosquitto on fixed test ports, with state in <repo>/.data/test-services so
// they never collide with a demo running on the default ports.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

// FW_TEST_INFLUX_PORT, FW_TEST_MQTT_PORT and FW_TEST_DATA_DIR let two test runs share a machine
// (each with its own pair of services); CI uses the defaults.
export const TEST_INFLUX_PORT = Number(process.env.FW_TEST_INFLUX_PORT || 18086);
export const TEST_MQTT_PORT = Number(process.env.FW_TEST_MQTT_PORT || 11883);

/** Repository root (this file lives in <repo>/test/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
export const TEST_DATA_DIR = process.env.FW_TEST_DATA_DIR || fileURLToPath(new URL('../../.data/test-services', import.meta.url));

export function testInfluxUrl(): string {
  return `http://127.0.0.1:${TEST_INFLUX_PORT}`;
}

export function testMqttUrl(): string {
  return `mqtt://127.0.0.1:${TEST_MQTT_PORT}`;
}

/**
 * Runs `scripts/services.sh <args>` against the test instances and resolves
 * with its trimmed stdout. Rejects with an Error carrying the script's stderr.
 */
export async function runServices(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [SCRIPT, ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        INFLUX_PORT: String(TEST_INFLUX_PORT),
        MQTT_PORT: String(TEST_MQTT_PORT),
        FW_DATA_DIR: TEST_DATA_DIR,
      },
      // apt output during a first-time install can be long.
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; code?: number | string; message?: string };
    const stderr = (e.stderr ?? '').trim();
    throw new Error(
      `scripts/services.sh ${args.join(' ')} failed (exit ${String(e.code)}): ${stderr || e.message}`,
    );
  }
}

/** Installs influxd and mosquitto if missing (root only); silent when present. */
export const installServices = (): Promise<string> => runServices('install');

export const startInfluxd = (): Promise<string> => runServices('start', 'influxd');
export const stopInfluxd = (): Promise<string> => runServices('stop', 'influxd');
/** SIGKILL, for fault tests. */
export const killInfluxd = (): Promise<string> => runServices('kill', 'influxd');
/** Stops influxd and deletes all its data. */
export const resetInfluxd = (): Promise<string> => runServices('reset', 'influxd');

export const startMosquitto = (): Promise<string> => runServices('start', 'mosquitto');
export const stopMosquitto = (): Promise<string> => runServices('stop', 'mosquitto');
/** SIGKILL, for fault tests (persistence is autosaved every second). */
export const killMosquitto = (): Promise<string> => runServices('kill', 'mosquitto');
/** Stops mosquitto and deletes its persistence (sessions, queued messages). */
export const resetMosquitto = (): Promise<string> => runServices('reset', 'mosquitto');
