/**
 * `fleetwatch loadtest`: a target rate for a duration against a running service, then what it
 * stored, latencies, CPU per message, and an HTML report. Registered into the main CLI by src/cli.ts.
 * Exit codes: 0 pass, 3 a criterion missed (loss, duplicates, unacknowledged, rate), 1 the run
 * failed, 2 a wrong flag, 130 a second Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { LoadtestUsageError, probeDeviceCount, resolveLoadtestOptions, type LoadtestFlags, type LoadtestOptions } from './options.js';
import { ProgressBar } from './progress.js';
import { buildReport } from './report-html.js';
import type { LoadtestResult } from './result.js';
import { LoadtestRunError, runLoadtest } from './run.js';
import { writeLoadtestSeed } from './seed.js';
import { formatSummary } from './summary.js';

export const EXIT_FAILED_CRITERIA = 3;

export function registerLoadtestCommand(program: Command): void {
  program
    .command('loadtest')
    .description('load-test a running service: a target rate for a duration, then stored vs sent, latency, CPU per message and an HTML report')
    .option('--url <mqtt url>', 'broker the service subscribes to (default: MQTT_URL, else mqtt://127.0.0.1:1883)')
    .option('--rate <msg/s>', 'target status messages per second, probes included (default: 100)')
    .option('--duration <seconds>', 'how long to publish (default: 60)')
    .option('--devices <n>', 'fleet devices (default: enough for one message every 10 s each; with a registry, all of it)')
    .option('--registry <file>', 'registry seed file whose devices are played (default: FLEET_SEED); LTPROBE… devices in it become the probes')
    .option('--probes <msg/s>', 'latency probe messages per second, part of the rate (default: rate/10, at most 20; 0: none)')
    .option('--influx-url <url>', 'InfluxDB 1.x the service writes to (default: INFLUX_URL, else http://127.0.0.1:8086)')
    .option('--influx-db <name>', 'its database (default: INFLUX_DB, else fleet)')
    .option('--api-url <url>', "the service's HTTP URL, for /metrics and socket.io (default: http://127.0.0.1:PORT, PORT 3000)")
    .option('--token <token>', 'API token for the socket.io stream (noc, or the probe devices\' partner)')
    .option('--report <file.html>', 'HTML report (default: .data/loadtest/loadtest-report-<time>.html)')
    .option('--seed <n>', 'seed of the simulated values (default: 1)')
    .option('--qos <0|1>', 'QoS of status messages (default: 1)')
    .option('--pids <list>', 'processes to measure when they cannot be found by port: service=PID,broker=PID,influxd=PID')
    .option('--write-seed <file>', 'write a registry seed file with the devices this run would play (and a noc user with --token), then stop')
    .option('--warmup <seconds>', "longest wait for the service to take the fleet's connect burst before the first status (default: 60; 0: none)")
    .option('--settle <seconds>', 'longest wait for InfluxDB to hold everything after the last publish (default: 30)')
    .action(async (flags: LoadtestFlags, cmd: Command) => {
      let opts: LoadtestOptions;
      try {
        opts = await resolveLoadtestOptions(flags);
      } catch (err) {
        if (err instanceof LoadtestUsageError) cmd.error(`error: ${err.message}`, { exitCode: 2 });
        throw err;
      }
      const out = (line: string): boolean => process.stdout.write(`${line}\n`);
      if (opts.writeSeed !== undefined) {
        const file = resolve(opts.writeSeed);
        const w = await writeLoadtestSeed(file, {
          devices: opts.devices,
          probeDevices: probeDeviceCount(opts.probeRate),
          seed: opts.seed,
          ...(opts.token !== undefined ? { token: opts.token } : {}),
        });
        out(`loadtest: wrote ${file}: ${w.devices} devices, ${w.probes} probe devices${opts.token !== undefined ? ', a noc user with the token' : ''}`);
        out(`loadtest: start the service with FLEET_SEED=${file}, then run the load test with --registry ${file}`);
        return;
      }
      out(
        `loadtest: ${opts.rate} msg/s for ${opts.durationS} s -> ${opts.mqttUrl}; ${opts.devices} devices` +
          `${opts.registry ? ` from ${opts.registry}` : ''}; InfluxDB ${opts.influxDb} at ${new URL(opts.influxUrl).host}; service ${opts.apiUrl}`,
      );

      const ac = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (++signals > 1) process.exit(130);
        process.stderr.write(`\nloadtest: ${sig}, stopping; counting what was stored (again to force)\n`);
        ac.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const progress = new ProgressBar(process.stderr);
      let result: LoadtestResult;
      try {
        result = await runLoadtest(opts, { progress, signal: ac.signal, log: (l) => process.stderr.write(`loadtest: ${l}\n`) });
      } catch (err) {
        progress.done();
        if (err instanceof LoadtestRunError) cmd.error(`error: ${err.message}`, { exitCode: 1 });
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const report = resolve(opts.reportPath);
      mkdirSync(dirname(report), { recursive: true });
      writeFileSync(report, buildReport(result));
      out('loadtest: summary');
      out(formatSummary(result));
      out(`loadtest: report ${report}`);
      if (!result.verdict.pass) process.exitCode = EXIT_FAILED_CRITERIA;
    });
}
