/**
 * Probe devices: a few devices, played by the load test itself on a connection of its own, whose
 * every status message can be recognised downstream. Each snapshot is healthy and carries a
 * firmware of its own, `99.<run tag>.<seq>`: the device's health summary changes with every
 * message, so the service emits one `device.status` per probe message (the stream sends a summary
 * only when it changes), and the event names the message it came from. 99 is above every minimum
 * of the firmware catalog, so probes raise no firmware alert.
 *
 * The same messages are the samples of the publish -> InfluxDB latency (a probe point is found by
 * device and `ts`).
 */
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { presence } from '../device.js';
import { deviceTopic } from '../protocol.js';
import { Nap } from './nap.js';

export interface ProbeDevice {
  id: string;
  model: string;
}

export const PROBE_PREFIX = 'LTPROBE';

/** Generated probe ids, LTPROBE01, LTPROBE02, … */
export function generatedProbeIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${PROBE_PREFIX}${String(i + 1).padStart(2, '0')}`);
}

export function probeFirmware(tag: number, seq: number): string {
  return `99.${tag}.${seq}`;
}

/** The seq a probe firmware names, when it is of this run (tag); else undefined. */
export function parseProbeFirmware(firmware: unknown, tag: number): number | undefined {
  if (typeof firmware !== 'string') return undefined;
  const m = /^99\.(\d+)\.(\d+)$/.exec(firmware);
  if (!m || Number(m[1]) !== tag) return undefined;
  return Number(m[2]);
}

export function probeSnapshot(model: string, tag: number, seq: number, ts: number): string {
  return JSON.stringify({
    v: 1,
    ts,
    seq,
    model,
    firmware: probeFirmware(tag, seq),
    uptimeS: 3600 + seq,
    cpuPct: 12,
    memPct: 35,
    tempC: 45,
    network: { link: 'up', rttMs: 20, jitterMs: 2, lossPct: 0 },
    cloud: { provider: 'teams', registered: true },
  });
}

export interface ProbeOptions {
  url: string;
  devices: ProbeDevice[];
  /** Probe messages per second, over all probe devices. */
  ratePerS: number;
  durationS: number;
  qos: 0 | 1;
  /** Run tag in the firmware, so that events of an earlier run are not matched. */
  tag: number;
  /** Called for every probe message as it is handed to mqtt.js (the ledger's record). */
  onStatusPublished?: (deviceId: string, ts: number, seq: number) => void;
  /** Called for every probe message with its publish time (performance.now()). */
  onProbe?: (probe: number, seq: number, ts: number, publishedAt: number) => void;
  connectTimeoutS?: number;
}

export class ProbePublisher {
  acked = 0;
  errors = 0;
  lastError: string | undefined;
  private client: MqttClient | undefined;
  private readonly publishTimes: Float64Array[];
  private readonly topics: string[];
  private readonly statusOpts: IClientPublishOptions;
  private stopped = false;
  private readonly nap = new Nap();
  private pending = 0;
  private readonly onAck = (err?: Error): void => {
    this.pending--;
    if (err) this.fail(err);
    else this.acked++;
  };

  constructor(private readonly o: ProbeOptions) {
    const perDevice = o.devices.length > 0 ? o.ratePerS / o.devices.length : 0;
    const slots = Math.ceil(o.durationS * perDevice) + 2;
    this.publishTimes = o.devices.map(() => new Float64Array(slots).fill(Number.NaN));
    this.topics = o.devices.map((d) => deviceTopic(d.id, 'status'));
    this.statusOpts = { qos: o.qos, retain: false };
  }

  get ids(): string[] {
    return this.o.devices.map((d) => d.id);
  }

  /** performance.now() when probe `probe` published `seq`; NaN when it did not. */
  publishedAt(probe: number, seq: number): number {
    return this.publishTimes[probe]?.[seq] ?? Number.NaN;
  }

  async connect(): Promise<void> {
    if (this.o.devices.length === 0) return;
    const client = mqtt.connect(this.o.url, {
      clientId: `fwlt-probes-${process.pid.toString(36)}-${this.o.tag}`,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 1000,
      connectTimeout: (this.o.connectTimeoutS ?? 10) * 1000,
    });
    this.client = client;
    client.on('error', (err) => this.fail(err));
    const announce = (): Promise<unknown> => {
      const payload = JSON.stringify(presence('online', Date.now()));
      return Promise.all(this.o.devices.map((d) => client.publishAsync(deviceTopic(d.id, 'presence'), payload, { qos: 1, retain: true })));
    };
    const timeoutMs = (this.o.connectTimeoutS ?? 10) * 1000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probes: cannot connect to ${this.o.url} within ${timeoutMs / 1000} s${this.lastError ? `: ${this.lastError}` : ''}`)), timeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // Online presence on every connect; the first one acknowledged before the run starts.
    client.on('connect', () => void announce().catch((err: Error) => this.fail(err)));
    await announce();
  }

  /** Waits until every probe message is acknowledged (at most maxWaitMs) or the connection is down. */
  async drain(maxWaitMs = 10_000): Promise<void> {
    const until = performance.now() + maxWaitMs;
    while (this.pending > 0 && this.client?.connected && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
  }

  /** Publishes the probes, spread evenly over time, until the duration is over or stop(). */
  async run(): Promise<void> {
    const client = this.client;
    const n = this.o.devices.length;
    if (!client || n === 0 || !(this.o.ratePerS > 0)) return;
    const stepMs = 1000 / this.o.ratePerS;
    const start = performance.now();
    const endAt = start + this.o.durationS * 1000;
    const seqs = new Uint32Array(n);
    let j = 0;
    while (!this.stopped) {
      const now = performance.now();
      if (now >= endAt) break;
      while (start + j * stepMs <= now && start + j * stepMs < endAt) {
        const p = j % n;
        const seq = seqs[p]!++;
        const ts = Date.now();
        const payload = probeSnapshot(this.o.devices[p]!.model, this.o.tag, seq, ts);
        const at = performance.now();
        const times = this.publishTimes[p]!;
        if (seq < times.length) times[seq] = at;
        this.pending++;
        client.publish(this.topics[p]!, payload, this.statusOpts, this.onAck);
        this.o.onStatusPublished?.(this.o.devices[p]!.id, ts, seq);
        this.o.onProbe?.(p, seq, ts, at);
        j++;
      }
      await this.nap.sleep(Math.min(start + j * stepMs, endAt) - performance.now());
    }
  }

  stop(): void {
    this.stopped = true;
    this.nap.wake();
  }

  /** Waits for outstanding acks (up to 10 s), publishes offline presence and disconnects. */
  async close(): Promise<void> {
    this.stop();
    const client = this.client;
    if (!client) return;
    await this.drain();
    if (client.connected) {
      const payload = JSON.stringify(presence('offline', Date.now()));
      for (const d of this.o.devices) client.publish(deviceTopic(d.id, 'presence'), payload, { qos: 1, retain: true });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.stream?.destroy();
        resolve();
      }, 5000);
      client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private fail(err: Error): void {
    this.errors++;
    this.lastError = err.message;
  }
}
