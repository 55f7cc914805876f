/**
 * `fleetwatch simulate`: plays a fleet of simulated devices against a broker (CONTRACT section 1).
 * Registered into the main CLI by src/cli.ts.
 */
import type { Command } from 'commander';
import { runFleet, type SimStats, type SimulateOptions } from './fleet.js';
import { loadRegistryDevices } from './registry.js';
import { loadScenario } from './scenario/scenario-file.js';

export interface SimulateFlags {
  url?: string;
  devices?: string;
  interval?: string;
  registry?: string;
  unregistered?: string;
  connections?: string;
  count?: string;
  duration?: string;
  seed?: string;
  qos?: string;
  replyDelay?: string;
  scenario?: string[];
  randomFaults?: string;
}

/** A usage error, reported as is (no stack). */
export class SimulateUsageError extends Error {}

function positiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new SimulateUsageError(`${flag} must be a positive integer`);
  return Number(v);
}

function nonNegativeInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new SimulateUsageError(`${flag} must be a non-negative integer`);
  return Number(v);
}

function positiveNumber(flag: string, v: string): number {
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new SimulateUsageError(`${flag} must be a positive number of seconds`);
  return n;
}

/** Flags (strings as commander gives them) and environment to validated options. */
export async function resolveSimulateOptions(
  flags: SimulateFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SimulateOptions> {
  const url = flags.url ?? (env.MQTT_URL || 'mqtt://127.0.0.1:1883');
  try {
    const u = new URL(url);
    if (!/^(mqtts?|tcp|tls|ssl|wss?):$/.test(u.protocol)) throw new Error();
  } catch {
    throw new SimulateUsageError(`--url must be an mqtt://, mqtts://, ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  }
  const opts: SimulateOptions = {
    url,
    devices: 10,
    intervalS: flags.interval !== undefined ? positiveNumber('--interval', flags.interval) : 30,
  };
  const registry = flags.registry ?? (env.FLEET_SEED || undefined);
  if (flags.unregistered !== undefined) opts.unregistered = nonNegativeInt('--unregistered', flags.unregistered);
  if (registry) {
    opts.registry = registry;
    let available: number;
    try {
      available = (await loadRegistryDevices(registry)).length;
    } catch (err) {
      throw new SimulateUsageError(`--registry: ${(err as Error).message}`);
    }
    if (flags.devices !== undefined) {
      opts.devices = positiveInt('--devices', flags.devices);
      if (opts.devices > available) {
        throw new SimulateUsageError(
          `--devices ${opts.devices} exceeds the ${available} devices in ${registry}; use --unregistered for devices outside the registry`,
        );
      }
    } else {
      opts.devices = available;
      if (available === 0 && !opts.unregistered) throw new SimulateUsageError(`${registry} lists no devices`);
    }
  } else if (flags.devices !== undefined) {
    opts.devices = positiveInt('--devices', flags.devices);
  }
  if (flags.connections !== undefined) {
    // `multiplexed` is what the product brief calls it: many devices over few connections.
    if (flags.connections !== 'per-device' && flags.connections !== 'shared' && flags.connections !== 'multiplexed') {
      throw new SimulateUsageError('--connections must be per-device or shared (also called multiplexed)');
    }
    opts.connections = flags.connections === 'per-device' ? 'per-device' : 'shared';
  }
  if (flags.count !== undefined) opts.count = positiveInt('--count', flags.count);
  if (flags.duration !== undefined) opts.durationS = positiveNumber('--duration', flags.duration);
  if (flags.seed !== undefined) {
    if (!/^-?\d+$/.test(flags.seed.trim())) throw new SimulateUsageError('--seed must be an integer');
    opts.seed = Number(flags.seed);
  }
  if (flags.replyDelay !== undefined) {
    const n = flags.replyDelay.trim() === '' ? Number.NaN : Number(flags.replyDelay);
    if (!Number.isFinite(n) || n < 0) throw new SimulateUsageError('--reply-delay must be a non-negative number of milliseconds');
    opts.replyDelayMs = n;
  }
  if (flags.qos !== undefined) {
    if (flags.qos !== '0' && flags.qos !== '1') throw new SimulateUsageError('--qos must be 0 or 1');
    opts.qos = flags.qos === '0' ? 0 : 1;
  }
  if (flags.scenario && flags.scenario.length > 0) {
    opts.scenarios = [];
    for (const file of flags.scenario) {
      try {
        opts.scenarios.push(await loadScenario(file));
      } catch (err) {
        throw new SimulateUsageError(`--scenario: ${(err as Error).message}`);
      }
    }
  }
  if (flags.randomFaults !== undefined) {
    if (flags.randomFaults !== 'on' && flags.randomFaults !== 'off') throw new SimulateUsageError('--random-faults must be on or off');
    opts.randomFaults = flags.randomFaults === 'on';
  }
  return opts;
}

function fmtRate(n: number, ms: number): string {
  return (ms > 0 ? (n * 1000) / ms : 0).toFixed(1);
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('simulate a fleet of Poly devices publishing status and presence to an MQTT broker and answering commands')
    .option('--url <mqtt url>', 'broker URL (default: MQTT_URL, else mqtt://127.0.0.1:1883)')
    .option('--devices <n>', 'number of devices (default: 10, or all devices of the registry)')
    .option('--interval <seconds>', 'status interval per device, fractional allowed (default: 30)')
    .option('--registry <file>', 'registry seed file (JSON or YAML) whose devices are played (default: FLEET_SEED)')
    .option('--unregistered <n>', 'extra devices that are not in the registry')
    .option('--connections <mode>', 'per-device (one connection and Last Will each) or shared (multiplexed: 500 devices per connection)', 'per-device')
    .option('--count <n>', 'stop after this many status messages per device')
    .option('--duration <seconds>', 'stop after this long')
    .option('--seed <n>', 'seed of the simulated values (default: 1)')
    .option('--qos <0|1>', 'QoS of status messages (default: 1)')
    .option('--reply-delay <ms>', 'time per step when answering a command, e.g. between ping echoes (default: 1000)')
    .option('--scenario <file>', 'play a fault scenario file (YAML/JSON); repeat for several at once', (v: string, prev: string[] = []) => [...prev, v])
    .option('--random-faults <on|off>', 'rare random faults (default: on, off when a scenario plays)')
    .action(async (flags: SimulateFlags, cmd: Command) => {
      let opts: SimulateOptions;
      try {
        opts = await resolveSimulateOptions(flags);
      } catch (err) {
        if (err instanceof SimulateUsageError) cmd.error(`error: ${err.message}`, { exitCode: 2 });
        throw err;
      }
      const out = (line: string): boolean => process.stdout.write(`${line}\n`);
      const total = opts.devices + (opts.unregistered ?? 0);
      out(
        `simulate: ${total} devices (${opts.connections ?? 'per-device'} connections) -> ${opts.url}, ` +
          `status every ${opts.intervalS} s` +
          (opts.count !== undefined ? `, ${opts.count} each` : '') +
          (opts.durationS !== undefined ? `, for ${opts.durationS} s` : ''),
      );

      opts.onScenarioPlan = (plan) => {
        for (const [scenario, groups] of plan.groups) {
          for (const [group, ids] of groups) out(`scenario ${scenario}: group ${group} = ${ids.join(' ')}`);
        }
      };
      opts.onScenarioStep = (step) => {
        const ids = step.deviceIds.length > 4 ? `${step.deviceIds.slice(0, 4).join(' ')} +${step.deviceIds.length - 4}` : step.deviceIds.join(' ');
        out(`scenario ${step.scenario} +${Math.round(step.atMs / 1000)} s: ${ids}: ${step.description}`);
      };

      let last = { sent: 0, ms: 0 };
      opts.onProgress = (s: SimStats) => {
        out(
          `simulate: ${(s.elapsedMs / 1000).toFixed(0)} s sent=${s.sent} rate=${fmtRate(s.sent - last.sent, s.elapsedMs - last.ms)} msg/s ` +
            `presence=${s.presence} commands=${s.commands} errors=${s.errors}`,
        );
        last = { sent: s.sent, ms: s.elapsedMs };
      };

      const ac = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) process.exit(130); // a second Ctrl-C means now
        process.stderr.write(`simulate: ${sig}, stopping (publishing offline presence; again to force)\n`);
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let stats: SimStats;
      try {
        stats = await runFleet(opts, ac.signal);
      } catch (err) {
        cmd.error(`error: ${(err as Error).message}`, { exitCode: 1 });
        throw err; // not reached: cmd.error exits (or throws under exitOverride)
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      out(
        `simulate: done in ${(stats.elapsedMs / 1000).toFixed(1)} s: ${stats.sent} status messages ` +
          `(${fmtRate(stats.sent, stats.elapsedMs)} msg/s), ${stats.presence} presence, ` +
          (stats.commands > 0 ? `${stats.commands} commands answered with ${stats.replies} replies, ` : '') +
          (stats.events > 0 ? `${stats.events} events, ` : '') +
          `${stats.errors} errors; ` +
          `${stats.devices} devices over ${stats.connections} connections` +
          (stats.lastError ? `; last error: ${stats.lastError}` : ''),
      );
    });
}
