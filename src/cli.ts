// `fleetwatch` command line: serve (the whole service in one process), simulate (device fleets) and
// loadtest (a target rate against a running service, with a report).
// Flags override the environment variables of the same meaning (docs/configuration.md).
import { Command } from 'commander';
import { registerAuditCommand } from '../alerting/audit/cli.js';
import { registerSimulateCommand } from '../simulators/cli.js';
import { registerLoadtestCommand } from '../simulators/loadtest/cli.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startService } from './service.js';

const program = new Command();
program.name('fleetwatch').description('Proactive monitoring for fleets of Poly collaboration devices');

program
  .command('serve')
  .description('run the service in one process: MQTT intake, InfluxDB writes, registry, HTTP endpoints')
  .option('--port <port>', 'HTTP port (PORT)')
  .option('--mqtt-url <url>', 'broker to subscribe to (MQTT_URL); unset: embedded broker')
  .option('--influx-url <url>', 'InfluxDB 1.x endpoint (INFLUX_URL)')
  .option('--seed <file>', 'registry seed file loaded at start (FLEET_SEED)')
  .action(async (opts: { port?: string; mqttUrl?: string; influxUrl?: string; seed?: string }) => {
    const env = { ...process.env };
    if (opts.port !== undefined) env.PORT = opts.port;
    if (opts.mqttUrl !== undefined) env.MQTT_URL = opts.mqttUrl;
    if (opts.influxUrl !== undefined) env.INFLUX_URL = opts.influxUrl;
    if (opts.seed !== undefined) env.FLEET_SEED = opts.seed;
    let config;
    try {
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`fleetwatch: invalid setting ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const log = createLogger(config.logLevel);
    let service;
    try {
      service = await startService(config, log);
    } catch (err) {
      log.fatal({ err }, 'could not start');
      process.stderr.write(`fleetwatch: could not start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    log.info({ http: service.httpUrl, mqtt: service.mqttUrl, influx: config.influxUrl, db: config.influxDb }, 'fleetwatch ready');
    let signals = 0;
    const shutdown = (signal: string) => {
      if (++signals > 1) process.exit(1); // a second Ctrl-C means now
      log.info({ signal }, 'stopping: flushing the journal to InfluxDB');
      service.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

registerSimulateCommand(program);
registerLoadtestCommand(program);
registerAuditCommand(program);

await program.parseAsync(process.argv);
