/**
 * Plays a fleet of simulated devices against an MQTT broker, following CONTRACT section 1:
 * status every interval (QoS 1), retained presence with the offline Last Will, and answers to the
 * commands the service sends (diagnostics, reboot, software_update; see commands.ts) as replies
 * and events; a `call_ended` event when a call ends, and the events of fault scenarios.
 */
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { parseCommand, planCommand, type CommandAction } from './commands.js';
import { SimDevice, isBadCall, presence } from './device.js';
import { compileScenarios, describeAction, type ScenarioAction, type ScenarioPlan, type TimedAction } from './scenario/compile.js';
import type { ScenarioFile } from './scenario/scenario-file.js';
import { pickModel } from './models.js';
import { hashString, Prng } from './prng.js';
import { deviceTopic, type EventType, type FaultData, type Severity } from './protocol.js';
import { utcOffsetMinutes } from './local-time.js';
import { loadRegistryDevices } from './registry.js';

export interface SimulateOptions {
  url: string;
  /** Generated devices, or with a registry the first `devices` of it. */
  devices: number;
  intervalS: number;
  seed?: number;
  /** Path to a registry seed file (JSON or YAML, CONTRACT section 4) whose devices are played with their ids and models. */
  registry?: string;
  /** Extra devices not in the registry. */
  unregistered?: number;
  connections?: 'per-device' | 'shared';
  /** Stop after this many status messages per device. */
  count?: number;
  durationS?: number;
  qos?: 0 | 1;
  onProgress?: (s: SimStats) => void;
  /** How often onProgress is called (default 5 s). */
  progressIntervalS?: number;
  /** Devices per connection in shared mode (default 500). */
  devicesPerConnection?: number;
  /** Give up if a connection is not up within this time at start (default 10 s). */
  connectTimeoutS?: number;
  /** Unacknowledged status messages per connection before publishing pauses (default 1000). */
  maxInflight?: number;
  /** Time per step of a command's answer, e.g. between two ping echoes (default 1000 ms; 0: as fast as possible). */
  replyDelayMs?: number;
  /** Subscribe to the devices' command topics and answer (default true). */
  answerCommands?: boolean;
  /**
   * Called once every connection is up and subscribed to its commands, before the first status;
   * a returned promise is awaited (the load test's warm-up).
   */
  onReady?: () => void | Promise<void>;
  /**
   * Called at the end, once in-flight status messages are acknowledged (or the wait timed out), with
   * the stats so far and before offline presence; a returned promise is awaited (the load test
   * counts what was stored there). A throw counts as an error of the run.
   */
  onDrained?: (s: SimStats) => void | Promise<void>;
  /**
   * Called for every status message as it is handed to mqtt.js (before the broker's ack), with the
   * snapshot's `ts` and `seq`: the load test's record of what was sent and when. Keep it cheap.
   */
  onStatusPublished?: (deviceId: string, ts: number, seq: number) => void;
  /** Fault scenarios played on the fleet, starting with the first status (docs/simulator.md#fault-scenarios). */
  scenarios?: ScenarioFile[];
  /** Rare random faults (default: on without scenarios, off with them, so a scenario's faults are the only ones). */
  randomFaults?: boolean;
  /** Called when scenario steps run: the actions of one moment, all devices at once. */
  onScenarioStep?: (step: ScenarioStep) => void;
  /** Called once the scenarios are compiled, with the devices each group got. */
  onScenarioPlan?: (plan: ScenarioPlan) => void;
}

export interface ScenarioStep {
  scenario: string;
  /** Offset from the scenario start. */
  atMs: number;
  description: string;
  deviceIds: string[];
}

export interface SimStats {
  /** Status messages the broker acknowledged (QoS 1) or that were written (QoS 0). */
  sent: number;
  /** Presence messages acknowledged (online on every connect, offline at stop). */
  presence: number;
  /** Commands received (on the devices' commands topics). */
  commands: number;
  /** Replies sent in answer to commands (acknowledged). */
  replies: number;
  /** Events (acknowledged): answers to commands, `call_ended`, and the scenarios' events. */
  events: number;
  errors: number;
  elapsedMs: number;
  devices: number;
  connections: number;
  lastError?: string;
}

export interface PlannedDevice {
  id: string;
  model: string;
  /** From the registry seed, when it says. */
  siteId?: string;
  customerId?: string;
  /** The site's time zone, when the registry says: calls follow its working day (else UTC). */
  timezone?: string;
  /** Taken from the registry seed file (false: generated, e.g. SIM000001 or UNREG000001). */
  fromRegistry: boolean;
  /** The seed's coverage end, for scenario groups that need a covered device. */
  coveredUntil?: string | null;
}

const DEFAULT_SEED = 1;
const URL_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']);
/** Status messages published per timer tick at most, so acks and signals get a turn when far behind. */
const MAX_BATCH = 2000;
const CONNECT_CONCURRENCY = 100;
const DRAIN_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 5_000;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Throws a RangeError naming the first invalid option. */
export function validateSimulateOptions(o: SimulateOptions): void {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new RangeError(`url is not a valid URL: ${String(o.url)}`);
  }
  if (!URL_PROTOCOLS.has(url.protocol)) throw new RangeError(`url must be mqtt://, mqtts://, ws:// or wss://: ${o.url}`);
  if (!isInt(o.devices) || o.devices < 0) throw new RangeError('devices must be a non-negative integer');
  if (typeof o.intervalS !== 'number' || !Number.isFinite(o.intervalS) || o.intervalS <= 0) {
    throw new RangeError('intervalS must be a positive number');
  }
  if (o.unregistered !== undefined && (!isInt(o.unregistered) || o.unregistered < 0)) {
    throw new RangeError('unregistered must be a non-negative integer');
  }
  if (o.devices + (o.unregistered ?? 0) < 1) throw new RangeError('nothing to simulate: devices + unregistered is 0');
  if (o.connections !== undefined && o.connections !== 'per-device' && o.connections !== 'shared') {
    throw new RangeError("connections must be 'per-device' or 'shared'");
  }
  if (o.count !== undefined && (!isInt(o.count) || o.count < 1)) throw new RangeError('count must be a positive integer');
  if (o.durationS !== undefined && (!Number.isFinite(o.durationS) || o.durationS <= 0)) {
    throw new RangeError('durationS must be a positive number');
  }
  if (o.qos !== undefined && o.qos !== 0 && o.qos !== 1) throw new RangeError('qos must be 0 or 1');
  if (o.seed !== undefined && !isInt(o.seed)) throw new RangeError('seed must be an integer');
  for (const k of ['devicesPerConnection', 'maxInflight'] as const) {
    const v = o[k];
    if (v !== undefined && (!isInt(v) || v < 1)) throw new RangeError(`${k} must be a positive integer`);
  }
  if (o.replyDelayMs !== undefined && (typeof o.replyDelayMs !== 'number' || !Number.isFinite(o.replyDelayMs) || o.replyDelayMs < 0)) {
    throw new RangeError('replyDelayMs must be a non-negative number');
  }
  for (const k of ['progressIntervalS', 'connectTimeoutS'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new RangeError(`${k} must be a positive number`);
  }
}

function generatedId(prefix: string, n: number, width: number): string {
  return prefix + String(n).padStart(width, '0');
}

/**
 * The devices a run will play: the first `devices` of the registry (or generated SIM ids), then
 * `unregistered` generated UNREG ids. Deterministic for a given seed.
 */
export async function planDevices(
  opts: Pick<SimulateOptions, 'devices' | 'registry' | 'unregistered' | 'seed'>,
): Promise<PlannedDevice[]> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const out: PlannedDevice[] = [];
  if (opts.registry) {
    const reg = await loadRegistryDevices(opts.registry);
    if (opts.devices > reg.length) {
      throw new RangeError(
        `devices (${opts.devices}) exceeds the ${reg.length} devices in ${opts.registry}; add devices outside the registry with unregistered`,
      );
    }
    for (let i = 0; i < opts.devices; i++) {
      const d = reg[i]!;
      out.push({ id: d.id, model: d.model, siteId: d.siteId, customerId: d.customerId, timezone: d.timezone, coveredUntil: d.coveredUntil, fromRegistry: true });
    }
  } else {
    const rng = new Prng(hashString('models', seed));
    const width = Math.max(6, String(opts.devices).length);
    for (let i = 1; i <= opts.devices; i++) out.push({ id: generatedId('SIM', i, width), model: pickModel(rng).name, fromRegistry: false });
  }
  const extra = opts.unregistered ?? 0;
  if (extra > 0) {
    const taken = new Set(out.map((d) => d.id));
    const rng = new Prng(hashString('unregistered', seed));
    const width = Math.max(6, String(extra).length);
    for (let i = 1; i <= extra; i++) {
      const id = generatedId('UNREG', i, width);
      if (taken.has(id)) throw new Error(`generated id ${id} is also in the registry`);
      out.push({ id, model: pickModel(rng).name, fromRegistry: false });
    }
  }
  return out;
}

interface Conn {
  readonly clientId: string;
  readonly devices: Dev[];
  client: MqttClient | undefined;
  /** Status publishes not yet acknowledged on this connection. */
  pending: number;
  /** Set while the scheduler waits for this connection's backlog to shrink. */
  waiter: (() => void) | undefined;
  /** One ack callback per connection, reused for every message (no closure per publish). */
  onAck: (err?: Error) => void;
  /** The latest subscription to the devices' command topics (made on every connect). */
  subscribed: Promise<void> | undefined;
}

interface Dev {
  readonly sim: SimDevice;
  readonly statusTopic: string;
  readonly presenceTopic: string;
  readonly commandsTopic: string;
  readonly repliesTopic: string;
  readonly eventsTopic: string;
  readonly conn: Conn;
  /** A scenario pulled its plug: no status, no answers, until plugged back. */
  unplugged: boolean;
  /** Firmware before a scenario's software update started (for the events' `from`). */
  updateFrom: string | undefined;
}

/** Plays the fleet until count, durationS or the signal stops it; always ends gracefully. */
export async function runFleet(opts: SimulateOptions, signal?: AbortSignal): Promise<SimStats> {
  validateSimulateOptions(opts);
  const planned = await planDevices(opts);
  return new Fleet(opts, planned, signal).run();
}

class Fleet {
  private readonly startedAt = performance.now();
  private readonly stats: SimStats;
  private readonly conns: Conn[] = [];
  private readonly devs: Dev[] = [];
  private readonly perDevice: boolean;
  private readonly maxInflight: number;
  private readonly statusOpts: IClientPublishOptions;
  private readonly presenceOpts: IClientPublishOptions = { qos: 1, retain: true };
  private readonly onPresenceAck = (err?: Error): void => {
    if (err) this.fail(err);
    else this.stats.presence++;
  };
  private readonly onReplyAck = (err?: Error): void => {
    if (err) this.fail(err);
    else this.stats.replies++;
  };
  private readonly onEventAck = (err?: Error): void => {
    if (err) this.fail(err);
    else this.stats.events++;
  };
  private readonly answerCommands: boolean;
  /** Devices by their commands topic. */
  private readonly byCommandsTopic = new Map<string, Dev>();
  /** Timers of commands being answered; cleared at stop. */
  private readonly commandTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Cuts the scheduler's sleep short when stopping. */
  private wake: (() => void) | undefined;
  /** Connect waits to end when stopping (one listener here, not one per connection on the signal). */
  private readonly onStop = new Set<() => void>();
  private readonly scenarioPlan: ScenarioPlan | undefined;
  private readonly devById = new Map<string, Dev>();

  constructor(
    private readonly opts: SimulateOptions,
    planned: PlannedDevice[],
    private readonly signal: AbortSignal | undefined,
  ) {
    this.perDevice = (opts.connections ?? 'per-device') === 'per-device';
    this.maxInflight = opts.maxInflight ?? 1000;
    this.statusOpts = { qos: opts.qos ?? 1, retain: false };
    this.answerCommands = opts.answerCommands ?? true;
    const seed = opts.seed ?? DEFAULT_SEED;
    const randomFaults = opts.randomFaults ?? !(opts.scenarios && opts.scenarios.length > 0);

    const perConn = this.perDevice ? 1 : (opts.devicesPerConnection ?? 500);
    const nConns = Math.ceil(planned.length / perConn);
    const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;
    for (let k = 0; k < nConns; k++) {
      const conn: Conn = {
        clientId: this.perDevice ? planned[k]!.id : `fwsim-${tag}-${k}`,
        devices: [],
        client: undefined,
        pending: 0,
        waiter: undefined,
        subscribed: undefined,
        onAck: (err?: Error) => {
          conn.pending--;
          if (err) this.fail(err);
          else this.stats.sent++;
          if (conn.waiter && conn.pending <= this.maxInflight / 2) {
            const w = conn.waiter;
            conn.waiter = undefined;
            w();
          }
        },
      };
      this.conns.push(conn);
    }
    // Devices in plan order; in shared mode consecutive devices land on different connections so each
    // connection carries an even share of the load at every moment.
    planned.forEach((p, i) => {
      const conn = this.conns[i % nConns]!;
      const dev: Dev = {
        sim: new SimDevice({ id: p.id, model: p.model, seed, randomFaults, utcOffsetMin: p.timezone ? utcOffsetMinutes(p.timezone) : undefined }),
        statusTopic: deviceTopic(p.id, 'status'),
        presenceTopic: deviceTopic(p.id, 'presence'),
        commandsTopic: deviceTopic(p.id, 'commands'),
        repliesTopic: deviceTopic(p.id, 'replies'),
        eventsTopic: deviceTopic(p.id, 'events'),
        conn,
        unplugged: false,
        updateFrom: undefined,
      };
      conn.devices.push(dev);
      this.devs.push(dev);
      this.devById.set(p.id, dev);
      this.byCommandsTopic.set(dev.commandsTopic, dev);
    });
    if (opts.scenarios && opts.scenarios.length > 0) {
      const candidates = planned.map((p) => {
        const sim = this.devById.get(p.id)!.sim;
        return {
          id: p.id,
          model: sim.spec.name,
          family: sim.spec.family,
          hasFan: sim.spec.fanRpm !== undefined,
          peripherals: sim.peripheralKinds,
          provider: sim.provider,
          siteId: p.siteId,
          customerId: p.customerId,
          coveredUntil: p.coveredUntil,
        };
      });
      this.scenarioPlan = compileScenarios(opts.scenarios, candidates);
      opts.onScenarioPlan?.(this.scenarioPlan);
    }
    this.stats = { sent: 0, presence: 0, commands: 0, replies: 0, events: 0, errors: 0, elapsedMs: 0, devices: this.devs.length, connections: nConns };
  }

  async run(): Promise<SimStats> {
    const onAbort = (): void => this.stop();
    if (this.signal?.aborted) this.stopped = true;
    this.signal?.addEventListener('abort', onAbort, { once: true });
    const progress = this.opts.onProgress
      ? setInterval(() => this.opts.onProgress?.(this.snapshot()), (this.opts.progressIntervalS ?? 5) * 1000)
      : undefined;
    try {
      await this.connectAll();
      if (!this.stopped && this.answerCommands) await this.subscribedAll();
      if (!this.stopped) {
        await this.opts.onReady?.();
        this.startScenarios();
        await this.schedule();
      }
    } finally {
      this.stop(); // also ends the other connect waits if one connection failed
      this.signal?.removeEventListener('abort', onAbort);
      if (progress) clearInterval(progress);
      await this.shutdown();
    }
    return this.snapshot();
  }

  private snapshot(): SimStats {
    return { ...this.stats, elapsedMs: performance.now() - this.startedAt };
  }

  private stop(): void {
    this.stopped = true;
    this.wake?.();
    for (const t of this.commandTimers) clearTimeout(t);
    this.commandTimers.clear();
    for (const f of this.onStop) f();
    for (const c of this.conns) {
      const w = c.waiter;
      c.waiter = undefined;
      w?.();
    }
  }

  private fail(err: Error): void {
    this.stats.errors++;
    this.stats.lastError = err.message;
  }

  // ---- connections ----

  private async connectAll(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!this.stopped && next < this.conns.length) await this.connectOne(this.conns[next++]!);
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(CONNECT_CONCURRENCY, this.conns.length); i++) workers.push(worker());
    await Promise.all(workers);
  }

  /** Opens one connection and waits for its first CONNACK; reconnects later are mqtt.js's job. */
  private connectOne(conn: Conn): Promise<void> {
    const options: IClientOptions = {
      clientId: conn.clientId,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: false,
    };
    const first = conn.devices[0];
    if (this.perDevice && first) {
      // The Last Will carries the time of the connect it belongs to; refreshed before each reconnect.
      options.will = { topic: first.presenceTopic, payload: offlineWill(), qos: 1, retain: true };
    }
    const client = mqtt.connect(this.opts.url, options);
    conn.client = client;
    if (options.will) {
      client.on('reconnect', () => {
        if (client.options.will) client.options.will.payload = offlineWill();
      });
    }
    client.on('connect', () => {
      this.announce(conn);
      if (this.answerCommands) this.subscribeCommands(conn);
    });
    client.on('error', (err) => this.fail(err));
    if (this.answerCommands) client.on('message', (topic, payload) => this.onCommand(topic, payload));

    const timeoutMs = (this.opts.connectTimeoutS ?? 10) * 1000;
    return new Promise<void>((resolve, reject) => {
      let lastErr = '';
      const onErr = (err: Error): void => {
        lastErr = err.message;
      };
      const done = (err?: Error): void => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onErr);
        this.onStop.delete(onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = (): void => done();
      const onAbort = (): void => done();
      const timer = setTimeout(
        () => done(new Error(`cannot connect to ${this.opts.url} within ${timeoutMs / 1000} s${lastErr ? `: ${lastErr}` : ''}`)),
        timeoutMs,
      );
      client.once('connect', onConnect);
      client.on('error', onErr);
      this.onStop.add(onAbort);
    });
  }

  /** Online presence for every device behind a connection, on each (re)connect. */
  private announce(conn: Conn): void {
    if (this.stopped) return;
    const payload = JSON.stringify(presence('online', Date.now()));
    for (const d of conn.devices) {
      if (!d.unplugged) conn.client?.publish(d.presenceTopic, payload, this.presenceOpts, this.onPresenceAck);
    }
  }

  // ---- commands ----

  /** Sessions are clean: subscribe again on every connect. Per-device: one topic; shared: one per device. */
  private subscribeCommands(conn: Conn): void {
    const client = conn.client;
    if (!client || this.stopped) return;
    const topics = conn.devices.map((d) => d.commandsTopic);
    conn.subscribed = client.subscribeAsync(topics, { qos: 1 }).then(
      (granted) => {
        const refused = granted.filter((g) => g.qos === 128).length;
        if (refused > 0) this.fail(new Error(`broker refused ${refused} command subscriptions`));
      },
      (err: Error) => this.fail(err),
    );
  }

  /** Waits until every connection has its command subscriptions (the first connect's). */
  private async subscribedAll(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.subscribed));
  }

  private onCommand(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const dev = this.byCommandsTopic.get(topic);
    if (!dev || dev.unplugged) return;
    this.stats.commands++;
    const cmd = parseCommand(payload);
    if (!cmd) {
      this.fail(new Error(`${dev.sim.id}: ignored a command that is not {"id","type","params"}`));
      return;
    }
    this.play(dev, planCommand(dev.sim, cmd, { replyDelayMs: this.opts.replyDelayMs, seed: this.opts.seed ?? DEFAULT_SEED }));
  }

  /** Plays a plan one action after the other (each timer set when the previous action ran, so order holds). */
  private play(dev: Dev, actions: CommandAction[]): void {
    let i = 0;
    let prevAt = 0;
    const next = (): void => {
      const action = actions[i++];
      if (!action || this.stopped) return;
      const timer = setTimeout(() => {
        this.commandTimers.delete(timer);
        if (this.stopped) return;
        this.apply(dev, action);
        next();
      }, Math.max(0, action.atMs - prevAt));
      prevAt = action.atMs;
      this.commandTimers.add(timer);
    };
    next();
  }

  private apply(dev: Dev, action: CommandAction): void {
    const client = dev.conn.client;
    switch (action.kind) {
      case 'reply':
        client?.publish(dev.repliesTopic, JSON.stringify(action.reply), { qos: 1 }, this.onReplyAck);
        return;
      case 'event': {
        const event = { v: 1, ts: Date.now(), type: action.type, severity: action.severity, data: action.data };
        client?.publish(dev.eventsTopic, JSON.stringify(event), { qos: 1 }, this.onEventAck);
        return;
      }
      case 'reboot':
        dev.sim.reboot(Date.now());
        return;
      case 'firmware':
        dev.sim.setFirmware(action.version);
        return;
    }
  }

  // ---- scenarios ----

  /** One timer per distinct moment of the plan; the moment's actions run together, in file order. */
  private startScenarios(): void {
    const plan = this.scenarioPlan;
    if (!plan) return;
    const start = performance.now();
    let i = 0;
    const next = (): void => {
      if (i >= plan.actions.length || this.stopped) return;
      const atMs = plan.actions[i]!.atMs;
      const timer = setTimeout(() => {
        this.commandTimers.delete(timer);
        if (this.stopped) return;
        const moment: TimedAction[] = [];
        while (i < plan.actions.length && plan.actions[i]!.atMs === atMs) moment.push(plan.actions[i++]!);
        for (const a of moment) this.applyScenario(this.devById.get(a.deviceId)!, a.action);
        this.reportStep(moment);
        next();
      }, Math.max(0, start + atMs - performance.now()));
      this.commandTimers.add(timer);
    };
    next();
  }

  private reportStep(moment: TimedAction[]): void {
    const report = this.opts.onScenarioStep;
    if (!report) return;
    // One line per scenario and action, with every device it touched.
    const lines = new Map<string, ScenarioStep>();
    for (const a of moment) {
      const description = describeAction(a.action);
      const key = `${a.scenario}\u0000${description}`;
      const line = lines.get(key);
      if (line) line.deviceIds.push(a.deviceId);
      else lines.set(key, { scenario: a.scenario, atMs: a.atMs, description, deviceIds: [a.deviceId] });
    }
    for (const line of lines.values()) report(line);
  }

  private applyScenario(dev: Dev, a: ScenarioAction): void {
    const now = Date.now();
    const sim = dev.sim;
    switch (a.kind) {
      case 'override':
        sim.override(a.field, a.to, now, a.overMs);
        return;
      case 'restore':
        if (a.field === 'all') sim.restoreAll(now, a.overMs);
        else sim.restore(a.field, now, a.overMs);
        return;
      case 'peripheral': {
        const before = sim.setPeripheral(a.peripheral, a.state);
        if (before === undefined || before === a.state) return;
        const severity = a.state === 'failed' ? 'critical' : a.state === 'ok' ? 'info' : 'warning';
        this.publishEvent(dev, 'peripheral_state', severity, { kind: a.peripheral, from: before, to: a.state });
        return;
      }
      case 'cloud':
        sim.forceUnregistered(a.lost);
        return;
      case 'reboot':
        sim.reboot(now);
        this.publishEvent(dev, 'reboot', 'warning', { reason: 'watchdog' });
        return;
      case 'firmware':
        sim.setFirmware(a.version);
        return;
      case 'update_event': {
        if (a.state === 'downloading') dev.updateFrom = sim.firmware;
        const from = dev.updateFrom ?? sim.firmware;
        const data: Record<string, unknown> = { from, to: a.to, state: a.state };
        if (a.state === 'failed') data.reason = 'image verification failed';
        this.publishEvent(dev, 'software_update', a.state === 'failed' ? 'warning' : 'info', data);
        return;
      }
      case 'unplug':
        this.unplug(dev);
        return;
      case 'plug':
        this.plug(dev);
        return;
      case 'call':
        if (a.start) sim.startCall(now);
        else if (sim.endCall(now)) this.publishCallEnded(dev, now);
        return;
      case 'fault': {
        const data: FaultData = { code: a.code, component: a.component, state: a.cleared ? 'cleared' : 'active', message: a.message };
        this.publishEvent(dev, 'fault', a.cleared ? 'info' : a.severity, data, now);
        return;
      }
    }
  }

  /** The `call_ended` event of the call the device just finished, if it did (cheap when not: one field read). */
  private publishCallEnded(dev: Dev, ts: number): void {
    const c = dev.sim.takeEndedCall();
    if (c !== undefined) this.publishEvent(dev, 'call_ended', isBadCall(c) ? 'warning' : 'info', c, ts);
  }

  private publishEvent(dev: Dev, type: EventType, severity: Severity, data: object, ts = Date.now()): void {
    if (dev.unplugged) return;
    const event = { v: 1, ts, type, severity, data };
    dev.conn.client?.publish(dev.eventsTopic, JSON.stringify(event), { qos: 1 }, this.onEventAck);
  }

  /**
   * Per-device connections: the socket is cut without DISCONNECT, so the broker publishes the Last
   * Will, as for a pulled cable. Shared connections carry other devices, so the simulator publishes
   * the offline presence the Will would have.
   */
  private unplug(dev: Dev): void {
    if (dev.unplugged) return;
    dev.unplugged = true;
    const client = dev.conn.client;
    if (!client) return;
    if (this.perDevice) {
      client.options.reconnectPeriod = 0; // stays down until plugged back
      client.stream?.destroy();
    } else {
      client.publish(dev.presenceTopic, JSON.stringify(presence('offline', Date.now())), this.presenceOpts, this.onPresenceAck);
    }
  }

  /** Power back: the device boots (seq from 0), connects and announces itself. */
  private plug(dev: Dev): void {
    if (!dev.unplugged) return;
    dev.unplugged = false;
    dev.sim.reboot(Date.now());
    const client = dev.conn.client;
    if (!client) return;
    if (this.perDevice) {
      client.options.reconnectPeriod = 1000;
      client.reconnect(); // the connect handler announces it online and subscribes again
    } else {
      client.publish(dev.presenceTopic, JSON.stringify(presence('online', Date.now())), this.presenceOpts, this.onPresenceAck);
    }
  }

  // ---- publishing ----

  /**
   * Slot j belongs to device j % n and is due at start + j * interval / n: every device keeps its own
   * interval and the devices' phases are spread evenly, so the broker sees a smooth rate, not bursts.
   */
  private async schedule(): Promise<void> {
    const devs = this.devs;
    const n = devs.length;
    const intervalMs = this.opts.intervalS * 1000;
    const stepMs = intervalMs / n;
    const total = this.opts.count !== undefined ? n * this.opts.count : Number.POSITIVE_INFINITY;
    const start = performance.now();
    const endAt = this.opts.durationS !== undefined ? start + this.opts.durationS * 1000 : Number.POSITIVE_INFINITY;
    let j = 0;
    while (!this.stopped && j < total) {
      const now = performance.now();
      if (now >= endAt) break;
      // More than a whole interval behind (broker outage, stalled host) and not counting messages:
      // skip the missed rounds, as a device's timer would, instead of bursting a backlog of stale snapshots.
      const lagMs = now - (start + j * stepMs);
      if (this.opts.count === undefined && lagMs > intervalMs) j += Math.floor(lagMs / intervalMs) * n;
      let budget = MAX_BATCH;
      while (j < total && start + j * stepMs <= now && budget-- > 0) {
        const dev = devs[j % n]!;
        if (dev.unplugged) {
          j++; // no power, no status: its slot passes
          continue;
        }
        if (dev.conn.pending >= this.maxInflight) {
          // Broker slower than the schedule: wait instead of queueing without bound; the schedule
          // then catches up as fast as the broker acknowledges.
          await this.drain(dev.conn);
          if (this.stopped) return;
          continue;
        }
        this.publishStatus(dev);
        j++;
      }
      if (j >= total) break;
      await this.sleep(Math.min(start + j * stepMs, endAt) - performance.now());
    }
  }

  private publishStatus(dev: Dev): void {
    const conn = dev.conn;
    conn.pending++;
    const snap = dev.sim.nextStatus(Date.now());
    // conn.client is set for every connection before the scheduler starts.
    conn.client!.publish(dev.statusTopic, JSON.stringify(snap), this.statusOpts, conn.onAck);
    this.opts.onStatusPublished?.(dev.sim.id, snap.ts, snap.seq);
    // A call that ended with this status (a few per device and hour): its summary, after the status.
    this.publishCallEnded(dev, snap.ts);
  }

  private drain(conn: Conn): Promise<void> {
    return new Promise((resolve) => {
      conn.waiter = resolve;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.wake = undefined;
        resolve();
      };
      // Less than 1 ms ahead is a timer too (node makes it 1 ms): setImmediate there would spin the
      // CPU until the slot is due, at high rates (1 ms slots) most of a core.
      if (ms > 0) {
        const timer = setTimeout(finish, ms);
        this.wake = () => {
          clearTimeout(timer);
          finish();
        };
      } else {
        // Behind schedule: setImmediate still lets socket reads (acks) and signals through.
        setImmediate(finish);
        this.wake = finish;
      }
    });
  }

  // ---- stop ----

  /** Lets in-flight status settle, publishes offline presence, then disconnects cleanly (no Last Will). */
  private async shutdown(): Promise<void> {
    const drainUntil = performance.now() + DRAIN_TIMEOUT_MS;
    while (this.conns.some((c) => c.pending > 0 && c.client?.connected) && performance.now() < drainUntil) {
      await new Promise((r) => setTimeout(r, 10));
    }
    try {
      await this.opts.onDrained?.(this.snapshot());
    } catch (err) {
      this.fail(err as Error);
    }
    const payload = JSON.stringify(presence('offline', Date.now()));
    for (const c of this.conns) {
      if (!c.client?.connected) continue;
      for (const d of c.devices) c.client.publish(d.presenceTopic, payload, this.presenceOpts, this.onPresenceAck);
    }
    await Promise.all(this.conns.map((c) => endClient(c.client)));
  }
}

function offlineWill(): string {
  return JSON.stringify(presence('offline', Date.now()));
}

/** Graceful end (waits for outstanding acks, sends DISCONNECT); forced if the broker does not answer. */
function endClient(client: MqttClient | undefined): Promise<void> {
  if (!client) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // end() is already in progress, so end(true) would be a no-op; closing the socket forces it.
      client.stream?.destroy();
      resolve();
    }, END_TIMEOUT_MS);
    client.end(false, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
