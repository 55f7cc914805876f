/**
 * Latency from publish to InfluxDB, sampled on the probe messages: a poller asks InfluxDB for the
 * probe devices' points every `pollMs` and takes, for each probe point it finds (device, seq and
 * time = the message's ts), the time the answer arrived minus the time the message was published.
 *
 * That is an upper bound. The lower bound is the start of the last poll that did not find it (the
 * point was not readable yet then). The difference, the resolution, is about one poll interval
 * plus one query; the report gives both bounds.
 */
import { influxString, type InfluxQuery } from './influx-query.js';
import { Nap } from './nap.js';

interface Pending {
  probe: number;
  seq: number;
  ts: number;
  publishedAt: number;
  /** Start of the last poll, after the publish, that did not find the point. */
  notSeenAt: number;
}

export interface InfluxLatencyResult {
  /** Upper bounds (ms): answer received - published. */
  upperMs: number[];
  /** Lower bounds (ms): last poll without the point - published (0 when none came between). */
  lowerMs: number[];
  /** performance.now() at publish of each sample. */
  publishedAt: number[];
  /** Probe points never found within `giveUpMs`. */
  missed: number;
  polls: number;
  pollErrors: number;
  lastPollError?: string;
  /** Duration of each poll's query (ms). */
  queryMs: number[];
  pollMs: number;
}

export class InfluxLatencyPoller {
  private readonly pending = new Map<number, Pending>();
  private readonly upperMs: number[] = [];
  private readonly lowerMs: number[] = [];
  private readonly publishedAt: number[] = [];
  private readonly queryMs: number[] = [];
  private missed = 0;
  private polls = 0;
  private pollErrors = 0;
  private lastPollError: string | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly nap = new Nap();
  private readonly deviceFilter: string;
  private readonly probeIndex: Map<string, number>;

  constructor(
    private readonly q: InfluxQuery,
    private readonly probeIds: readonly string[],
    private readonly pollMs = 100,
    private readonly giveUpMs = 30_000,
  ) {
    this.deviceFilter = probeIds.map((id) => `"device" = ${influxString(id)}`).join(' OR ');
    this.probeIndex = new Map(probeIds.map((id, i) => [id, i]));
  }

  /** A probe message was published (ProbeOptions.onProbe). */
  add = (probe: number, seq: number, ts: number, publishedAt: number): void => {
    this.pending.set(key(probe, seq), { probe, seq, ts, publishedAt, notSeenAt: publishedAt });
  };

  get outstanding(): number {
    return this.pending.size;
  }

  start(): void {
    if (this.running || this.probeIds.length === 0) return;
    this.running = this.loop();
  }

  /** Keeps polling until nothing is outstanding (or it is given up on), at most `maxWaitMs`. */
  async finish(maxWaitMs = this.giveUpMs): Promise<InfluxLatencyResult> {
    const until = performance.now() + maxWaitMs;
    while (this.running && this.pending.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.nap.wake();
    await this.running;
    this.missed += this.pending.size;
    this.pending.clear();
    return {
      upperMs: this.upperMs,
      lowerMs: this.lowerMs,
      publishedAt: this.publishedAt,
      missed: this.missed,
      polls: this.polls,
      pollErrors: this.pollErrors,
      ...(this.lastPollError !== undefined ? { lastPollError: this.lastPollError } : {}),
      queryMs: this.queryMs,
      pollMs: this.pollMs,
    };
  }

  /** Stops polling at once (on errors); finish() still returns what was measured. */
  stop(): void {
    this.stopped = true;
    this.nap.wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      if (this.pending.size > 0) await this.poll(started);
      const wait = this.pollMs - (performance.now() - started);
      if (!this.stopped) await this.nap.sleep(wait);
    }
  }

  private async poll(started: number): Promise<void> {
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    for (const p of this.pending.values()) {
      if (p.ts < minTs) minTs = p.ts;
      if (p.ts > maxTs) maxTs = p.ts;
    }
    this.polls++;
    let series;
    try {
      series = await this.q.query(
        `SELECT "seq" FROM "device_status" WHERE time >= ${minTs}ms AND time <= ${maxTs}ms AND (${this.deviceFilter}) GROUP BY "device"`,
      );
    } catch (err) {
      this.pollErrors++;
      this.lastPollError = (err as Error).message;
      return;
    }
    const answered = performance.now();
    this.queryMs.push(answered - started);
    for (const s of series) {
      const probe = s.tags?.device === undefined ? undefined : this.probeIndex.get(s.tags.device);
      if (probe === undefined) continue;
      const ti = s.columns.indexOf('time');
      const si = s.columns.indexOf('seq');
      for (const row of s.values) {
        const k = key(probe, Number(row[si]));
        const p = this.pending.get(k);
        if (!p || Number(row[ti]) !== p.ts) continue;
        this.pending.delete(k);
        this.upperMs.push(answered - p.publishedAt);
        this.lowerMs.push(Math.max(0, p.notSeenAt - p.publishedAt));
        this.publishedAt.push(p.publishedAt);
      }
    }
    for (const [k, p] of this.pending) {
      if (p.publishedAt < started) p.notSeenAt = started;
      if (answered - p.publishedAt > this.giveUpMs) {
        this.pending.delete(k);
        this.missed++;
      }
    }
  }
}

function key(probe: number, seq: number): number {
  return seq * 1024 + probe;
}
