/**
 * Latency from publish to the socket.io `device.status` event, sampled on the probe messages. One
 * socket per probe device, narrowed to it (`auth.subscribe: {deviceId}`), so the service sends this
 * client only the probes' events, not the whole fleet's. A probe event names its message through
 * the firmware in its summary (probes.ts); latency = arrival in the listener - publish, both on
 * this process's monotonic clock (µs resolution; the load tester's own event loop delay included).
 *
 * socket.io-client is loaded when needed: without it the rest of the load test still runs.
 */
import type { Socket } from 'socket.io-client';
import { parseProbeFirmware } from './probes.js';

export interface StreamLatencyResult {
  /** Why it was not measured; undefined when it was. */
  unavailable?: string;
  latencyMs: number[];
  /** performance.now() at publish of each sample. */
  publishedAt: number[];
  /** device.status events of this run's probes received. */
  events: number;
  /** The same probe message announced again (e.g. the summary going offline at the end). */
  repeats: number;
  /** Probe events whose message the load test has no publish time for. */
  unmatched: number;
  disconnects: number;
  sockets: number;
}

export interface StreamLatencyOptions {
  apiUrl: string;
  token: string;
  probeIds: readonly string[];
  tag: number;
  /** performance.now() at publish, NaN when unknown (ProbePublisher.publishedAt). */
  publishedAt: (probe: number, seq: number) => number;
  connectTimeoutMs?: number;
}

export class StreamLatency {
  private readonly latencyMs: number[] = [];
  private readonly publishedAtList: number[] = [];
  private readonly seen: Set<number>[];
  private events = 0;
  private repeats = 0;
  private unmatched = 0;
  private disconnects = 0;
  private closed = false;

  private constructor(
    private readonly o: StreamLatencyOptions,
    private readonly sockets: Socket[],
  ) {
    this.seen = o.probeIds.map(() => new Set<number>());
  }

  /** Connects one socket per probe device; rejects with the reason when it cannot. */
  static async connect(o: StreamLatencyOptions): Promise<StreamLatency> {
    let io: typeof import('socket.io-client').io;
    try {
      ({ io } = await import('socket.io-client'));
    } catch {
      throw new Error('socket.io-client is not installed');
    }
    const sockets: Socket[] = [];
    const self = new StreamLatency(o, sockets);
    try {
      await Promise.all(
        o.probeIds.map(async (deviceId, probe) => {
          const s = io(o.apiUrl, { auth: { token: o.token, subscribe: { deviceId } }, transports: ['websocket'], reconnection: true, reconnectionDelay: 500 });
          sockets.push(s);
          s.on('device.status', (e: { deviceId?: unknown; summary?: { firmware?: unknown } }) => self.onStatus(probe, e));
          s.on('disconnect', () => {
            if (!self.closed) self.disconnects++;
          });
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no socket.io connection to ${o.apiUrl} within ${(o.connectTimeoutMs ?? 5000) / 1000} s`)), o.connectTimeoutMs ?? 5000);
            s.once('connect', () => {
              clearTimeout(timer);
              resolve();
            });
            s.once('connect_error', (err: Error) => {
              clearTimeout(timer);
              reject(new Error(`socket.io connection refused: ${err.message}`));
            });
          });
        }),
      );
    } catch (err) {
      for (const s of sockets) s.disconnect();
      throw err;
    }
    return self;
  }

  /** Probe events received so far. */
  get received(): number {
    return this.latencyMs.length;
  }

  private onStatus(probe: number, e: { deviceId?: unknown; summary?: { firmware?: unknown } }): void {
    const at = performance.now();
    if (e.deviceId !== this.o.probeIds[probe]) return;
    const seq = parseProbeFirmware(e.summary?.firmware, this.o.tag);
    if (seq === undefined) return;
    this.events++;
    const seen = this.seen[probe]!;
    if (seen.has(seq)) {
      this.repeats++;
      return;
    }
    seen.add(seq);
    const published = this.o.publishedAt(probe, seq);
    if (Number.isNaN(published)) this.unmatched++;
    else {
      this.latencyMs.push(at - published);
      this.publishedAtList.push(published);
    }
  }

  /** Disconnects every socket. */
  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.disconnect();
  }

  /** Waits until `expected` probe events came (at most maxWaitMs), then disconnects. */
  async finish(expected: number, maxWaitMs = 5000): Promise<StreamLatencyResult> {
    const until = performance.now() + maxWaitMs;
    while (this.latencyMs.length + this.unmatched < expected && performance.now() < until) await new Promise((r) => setTimeout(r, 25));
    this.close();
    return {
      latencyMs: this.latencyMs,
      publishedAt: this.publishedAtList,
      events: this.events,
      repeats: this.repeats,
      unmatched: this.unmatched,
      disconnects: this.disconnects,
      sockets: this.sockets.length,
    };
  }
}
