// The process that wires the layers together, in the order data flows:
// registry -> broker -> journal -> collector -> telemetry store -> HTTP. `fleetwatch serve` runs it;
// tests start it in-process with their own Config.
import { collectDefaultMetrics, Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from 'pino';
import { BatchWriter } from '../collector/batch-writer.js';
import { Collector } from '../collector/collector.js';
import { DeadLetters } from '../collector/dead-letters.js';
import { LiveState } from '../collector/device-state.js';
import { IngestEvents } from '../collector/ingest-events.js';
import { Journal } from '../collector/journal.js';
import { CollectorMetrics } from '../collector/metrics.js';
import { MqttSubscriber } from '../collector/mqtt-subscriber.js';
import { Rejection } from '../collector/rejection.js';
import { Reachability } from '../collector/reachability.js';
import { TenantResolver } from '../collector/tenant-tags.js';
import { instanceName, SelfStats } from '../collector/self-stats.js';
import { startAlerting, type Alerting } from '../alerting/index.js';
import { parseDuration } from '../alerting/rules/rule-schema.js';
import { RuleSet } from '../alerting/rules/rule-set.js';
import { readPolicyFile } from '../alerting/escalation/policy-file.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import type { Config } from './config.js';
import { opsRoutes } from './http/ops-routes.js';
import { apiRouters } from './api/api-router.js';
import { VERSION } from './version.js';
import { webhookRoutes } from './api/routes/webhooks.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { attachStreams, type Streams } from './streams/socket-server.js';
import { IngestRate } from './streams/ingest-rate.js';
import { fleetRoutes } from './api/routes/fleet.js';
import { webRouter } from './web/static.js';
import { diagnosticsRoutes } from './api/routes/diagnostics.js';
import { DiagnosticsEvents } from './diagnostics/diagnostics-events.js';
import { DiagnosticsService } from './diagnostics/diagnostics-service.js';
import { TicketDiagnostics } from './diagnostics/ticket-diagnostics.js';
import { WebhookStore } from './webhooks/webhook-store.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { openDatabase, type Database } from './storage/database.js';
import { DeadLetterStore } from './storage/dead-letters.js';
import { Registry } from './storage/registry.js';
import { loadSeed, readSeedFile } from './storage/seed.js';
import { UnknownDeviceLog } from './storage/unknown-devices.js';
import { DeviceHistory } from './telemetry/device-history.js';
import { Influx1Store } from './telemetry/influx1.js';

export interface Service {
  config: Config;
  mqttUrl: string;
  httpUrl: string;
  registry: Registry;
  liveState: LiveState;
  events: IngestEvents;
  metrics: MetricsRegistry;
  deadLetterStore: DeadLetterStore;
  unknownDevices: UnknownDeviceLog;
  store: Influx1Store;
  journal: Journal;
  alerting: Alerting;
  webhooks: WebhookStore;
  streams: Streams;
  diagnostics: DiagnosticsService;
  /** Graceful stop: stop intake, write what the journal holds (bounded by deadlineMs), close. */
  stop(deadlineMs?: number): Promise<void>;
}

export async function startService(config: Config, log: Logger): Promise<Service> {
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    return await start(config, log, cleanups);
  } catch (err) {
    for (const c of cleanups.reverse()) await c();
    throw err;
  }
}

async function start(config: Config, log: Logger, cleanups: Array<() => Promise<void> | void>): Promise<Service> {
  const db: Database = openDatabase(config.databaseUrl);
  cleanups.push(() => db.close());
  const registry = new Registry(db);
  if (config.fleetSeed) {
    const result = loadSeed(registry, readSeedFile(config.fleetSeed, { registry }), config.fleetSeed);
    log.info({ seed: config.fleetSeed, ...result }, 'registry seed loaded');
  }

  let broker: EmbeddedBroker | undefined;
  if (!config.mqttUrl) {
    broker = await startEmbeddedBroker(config.mqttPort, config.host);
    cleanups.push(() => broker!.close());
    log.info({ url: broker.url }, 'embedded MQTT broker started (MQTT_URL not set)');
  }
  const mqttUrl = config.mqttUrl ?? broker!.url;

  const journal = Journal.open(config.journalDir, { maxBytes: config.journalMaxBytes, fsyncMs: config.journalFsyncMs });
  cleanups.push(() => journal.close());
  if (journal.pendingBytes > 0) log.info({ pendingBytes: journal.pendingBytes }, 'journal holds points from the last run; writing them first');

  const metricsRegistry = new MetricsRegistry();
  collectDefaultMetrics({ register: metricsRegistry });
  const metrics = new CollectorMetrics(metricsRegistry, () => journal.pendingBytes);

  const deadLetterStore = new DeadLetterStore(db);
  const unknownDevices = new UnknownDeviceLog(db);
  unknownDevices.start();
  cleanups.push(() => unknownDevices.stop());
  const deadLetters = new DeadLetters(deadLetterStore, metrics, log);
  const trimTimer = setInterval(() => deadLetterStore.trim(config.deadLetterMaxRows), 60_000);
  trimTimer.unref();
  cleanups.push(() => clearInterval(trimTimer));

  const resolver = new TenantResolver(registry.deviceTenants());
  registry.onDevicesChanged(() => resolver.replace(registry.deviceTenants()));
  const liveState = new LiveState();
  const events = new IngestEvents();
  // The subscriber is created after alerting and diagnostics; commands to devices go out on it.
  const subscriberRef: { current: MqttSubscriber | undefined } = { current: undefined };
  const collector = new Collector({ journal, resolver, deadLetters, unknownDevices, liveState, events, metrics, log });
  const rules = RuleSet.fromFile(config.alertRules);

  // Rules are checked before anything connects: a broken rules file stops the start.
  const alerting = startAlerting({
    db,
    registry,
    escalationPolicies: config.escalationPolicies ? readPolicyFile(config.escalationPolicies) : undefined,
    ingest: events,
    rules,
    resolve: (deviceId) => resolver.resolve(deviceId, undefined),
    // Alert transitions from the sweep happen outside an MQTT burst: write them through at once.
    writePoint: (line) => {
      journal.stage(line);
      journal.flush();
    },
    reopenWindowMs: parseDuration(config.ticketReopenWindow),
    cloudIncidents: { minCustomers: config.cloudIncidentMinCustomers, windowMs: parseDuration(config.cloudIncidentWindow) },
    log,
  });
  cleanups.push(() => alerting.stop());

  const diagnosticsEvents = new DiagnosticsEvents();
  const diagnostics = new DiagnosticsService({
    db,
    ingest: events,
    publish: (topic, payload) => subscriberRef.current!.publish(topic, payload),
    resolveTenant: (deviceId) => resolver.resolve(deviceId, undefined).tenant,
    audit: alerting.audit,
    events: diagnosticsEvents,
    log,
  });
  cleanups.push(() => diagnostics.close());
  // A run that is a ticket's evidence lands in the ticket's history (and as ticket.updated).
  const ticketDiagnostics = new TicketDiagnostics({ db, diagnostics, diagnosticsEvents, tickets: alerting.tickets, audit: alerting.audit, events: alerting.events, registry, log });
  cleanups.push(() => ticketDiagnostics.close());

  const webhookStore = new WebhookStore(db);
  const webhooks = new WebhookDispatcher({ db, store: webhookStore, events: alerting.events, log });
  webhooks.start();
  cleanups.push(() => webhooks.stop());

  const store = new Influx1Store({
    url: config.influxUrl,
    database: config.influxDb,
    rawRetention: config.influxRawRetention,
    rollupRetention: config.influxRollupRetention,
  });
  const writer = new BatchWriter(
    journal,
    store,
    { maxPoints: config.batchMaxPoints, maxWaitMs: config.batchMaxWaitMs },
    metrics,
    log,
    (batch) => deadLetters.setAside('influxdb/write', undefined, Buffer.from(batch.body), new Rejection('store_rejected', batch.reason), Date.now()),
  );
  // InfluxDB may be down at start: intake begins at once (into the journal) and the writer starts
  // once the database and its retention policies exist.
  // Offline by missed intervals, decided once for the rules, the API and the stream; after a
  // start, registered devices get their expectation back from their last report in InfluxDB.
  const reachability = new Reachability({ liveState, resolver, events, timing: (p) => rules.offlineTiming(p), writePoint: (line) => { journal.stage(line); journal.flush(); }, log }).start();
  cleanups.push(() => reachability.stop());
  const schemaReady = ensureSchemaUntilDone(store, log, () => {
    writer.start();
    reachability.restoreFrom(() => registry.deviceTenants().values(), () => store.lastReports());
  });
  cleanups.push(() => schemaReady.cancel());
  // collector_stats every 10 s, through the journal like every point (docs/influxdb.md).
  const selfStats = new SelfStats({ metrics, journal, instance: instanceName(config.mqttClientId), writePoint: (line) => { journal.stage(line); journal.flush(); }, log });
  selfStats.start();
  cleanups.push(() => selfStats.stop());

  const subscriber = new MqttSubscriber(
    { url: mqttUrl, clientId: config.mqttClientId, sharedGroup: config.mqttSharedGroup, protocolVersion: config.mqttProtocolVersion },
    journal,
    (topic, payload, retained) => collector.handle(topic, payload, retained, Date.now()),
    metrics,
    log,
  );
  subscriberRef.current = subscriber;
  subscriber.start();
  cleanups.push(() => subscriber.stop());

  const apiDeps = { registry, liveState, alerting, deadLetters: deadLetterStore, telemetry: store, deviceHistory: new DeviceHistory(store.influx), diagnostics, clock: Date.now };
  const ingestRate = new IngestRate(events).start();
  cleanups.push(() => ingestRate.stop());
  const http: HttpServer = await startHttpServer(
    [
      opsRoutes(metricsRegistry, [
        { name: 'broker', check: () => subscriber.connected },
        { name: 'influxdb', check: async () => schemaReady.done && writer.storeHealthy && (await store.ping(1000)) },
        { name: 'database', check: () => db.ping() },
      ]),
      ...apiRouters(apiDeps, log, {
        rateLimit: { perSecond: config.apiRatePerSecond, burst: config.apiRateBurst },
        version: VERSION,
        extraRoutes: [...webhookRoutes({ ...apiDeps, webhooks: webhookStore }), ...diagnosticsRoutes({ ...apiDeps, diagnostics, ticketDiagnostics }), ...fleetRoutes({ ...apiDeps, ingestRate })],
      }),
      webRouter(),
    ],
    config.port,
    config.host,
  );
  log.info({ url: http.url }, 'HTTP listening');
  const streams = attachStreams({ httpServer: http.server, registry, ingest: events, alertEvents: alerting.events, log });
  diagnosticsEvents.on('progress', (p) => streams.publish('diagnostics.progress', { ...p, runId: p.diagnosticsId }));
  diagnosticsEvents.on('result', (p) => streams.publish('diagnostics.result', { ...p, runId: p.diagnosticsId }));
  // ingest.rate once a second: the global rate to noc (partnerId null), each partner's own to it.
  ingestRate.onSecond((partnerId, sample) => streams.publish('ingest.rate', { ...sample, partnerId, customerId: null, deviceId: null, scope: partnerId === null ? 'global' : 'partner' }));

  let stopping: Promise<void> | undefined;
  return {
    config,
    mqttUrl,
    httpUrl: http.url,
    registry,
    liveState,
    events,
    metrics: metricsRegistry,
    deadLetterStore,
    unknownDevices,
    store,
    journal,
    alerting,
    webhooks: webhookStore,
    streams,
    diagnostics,
    stop(deadlineMs = 10_000) {
      stopping ??= (async () => {
        await subscriber.stop();
        reachability.stop();
        alerting.stop();
        await webhooks.stop();
        ingestRate.stop();
        await streams.close();
        ticketDiagnostics.close();
        diagnostics.close();
        schemaReady.cancel();
        selfStats.stop();
        const { drained } = await writer.stop(deadlineMs);
        if (!drained) log.warn({ pendingBytes: journal.pendingBytes }, 'stopped with points still in the journal; they are written at the next start');
        journal.close();
        unknownDevices.stop();
        clearInterval(trimTimer);
        await http.close();
        await broker?.close();
        db.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

interface Retrying {
  readonly done: boolean;
  cancel(): void;
}

function ensureSchemaUntilDone(store: Influx1Store, log: Logger, then: () => void): Retrying {
  const state = { done: false, cancelled: false, timer: undefined as NodeJS.Timeout | undefined };
  let warned = false;
  const attempt = async () => {
    if (state.cancelled) return;
    try {
      await store.ensureSchema();
      state.done = true;
      log.info({ database: store.database }, 'InfluxDB database and retention policies ready');
      then();
    } catch (err) {
      if (!warned) log.warn({ err: (err as Error).message }, 'InfluxDB not reachable yet; messages are journaled meanwhile');
      warned = true;
      if (!state.cancelled) state.timer = setTimeout(attempt, 1000);
    }
  };
  void attempt();
  return {
    get done() {
      return state.done;
    },
    cancel() {
      state.cancelled = true;
      if (state.timer) clearTimeout(state.timer);
    },
  };
}
