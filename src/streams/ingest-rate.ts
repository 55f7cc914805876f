// The ingest rate: messages the collector accepted per second (status snapshots, events, presence,
// command replies), counted from the IngestEvents bus, in total and per partner. Once a second the
// last second's counts go to `onSecond` (the service publishes them as the `ingest.rate` stream
// event: the global rate to noc, each partner's own rate to that partner), and the last few minutes
// are kept for `GET /api/v1/fleet/ingest-rate`, so a page can draw a chart right after loading.
import type { IngestEvents } from '../../collector/ingest-events.js';
import type { Attribution } from '../../collector/tenant-tags.js';

export interface IngestRateSample {
  /** Epoch ms of the end of the second counted. */
  ts: number;
  /** Messages accepted in that second. */
  perSecond: number;
  status: number;
  event: number;
  presence: number;
  reply: number;
}

export interface IngestRateOptions {
  /** Samples kept per scope. Default 120 (two minutes). */
  historySeconds?: number;
  /** A partner without messages keeps getting (zero) samples this long after its last one. Default the history length. */
  idleAfterSeconds?: number;
  now?: () => number;
}

type Kind = 'status' | 'event' | 'presence' | 'reply';

interface Scope {
  current: IngestRateSample;
  history: IngestRateSample[];
  /** Seconds in a row without a message. */
  idle: number;
}

/** Called once a second: partnerId null for the global rate (every message, also of unregistered devices). */
export type IngestRateListener = (partnerId: string | null, sample: IngestRateSample) => void;

const empty = (): IngestRateSample => ({ ts: 0, perSecond: 0, status: 0, event: 0, presence: 0, reply: 0 });

export class IngestRate {
  private readonly historySeconds: number;
  private readonly idleAfter: number;
  private readonly now: () => number;
  private readonly global: Scope = { current: empty(), history: [], idle: 0 };
  private readonly partners = new Map<string, Scope>();
  private readonly listeners: IngestRateListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly ingest: IngestEvents,
    opts: IngestRateOptions = {},
  ) {
    this.historySeconds = opts.historySeconds ?? 120;
    this.idleAfter = opts.idleAfterSeconds ?? this.historySeconds;
    this.now = opts.now ?? Date.now;
  }

  /** Starts counting, and ticking at every full second of the clock. */
  start(): this {
    const count = (kind: Kind) => (_deviceId: string, a: Attribution) => this.count(kind, a.tenant?.partnerId ?? null);
    for (const kind of ['status', 'event', 'presence', 'reply'] as const) {
      const listener = count(kind);
      this.ingest.on(kind, listener);
      this.off.push(() => this.ingest.off(kind, listener));
    }
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.tick();
        schedule();
      }, 1000 - (this.now() % 1000));
      this.timer.unref();
    };
    schedule();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const f of this.off.splice(0)) f();
  }

  onSecond(listener: IngestRateListener): void {
    this.listeners.push(listener);
  }

  /** The kept samples, oldest first: the global rate (partnerId null) or one partner's. */
  history(partnerId: string | null): IngestRateSample[] {
    const s = partnerId === null ? this.global : this.partners.get(partnerId);
    return s ? s.history.slice() : [];
  }

  count(kind: Kind, partnerId: string | null): void {
    this.global.current[kind]++;
    this.global.current.perSecond++;
    if (partnerId === null) return;
    let s = this.partners.get(partnerId);
    if (!s) this.partners.set(partnerId, (s = { current: empty(), history: [], idle: 0 }));
    s.current[kind]++;
    s.current.perSecond++;
  }

  /** Closes the current second (the timer calls it; tests may too). */
  tick(): void {
    const ts = Math.round(this.now() / 1000) * 1000;
    const close = (s: Scope): IngestRateSample => {
      const sample = { ...s.current, ts };
      s.idle = sample.perSecond === 0 ? s.idle + 1 : 0;
      s.current = empty();
      s.history.push(sample);
      if (s.history.length > this.historySeconds) s.history.splice(0, s.history.length - this.historySeconds);
      return sample;
    };
    this.emit(null, close(this.global));
    for (const [partnerId, s] of this.partners) {
      const sample = close(s);
      if (s.idle > this.idleAfter) {
        this.partners.delete(partnerId);
        continue;
      }
      this.emit(partnerId, sample);
    }
  }

  private emit(partnerId: string | null, sample: IngestRateSample): void {
    for (const l of this.listeners) {
      try {
        l(partnerId, sample);
      } catch {
        // A listener's failure must not stop the meter.
      }
    }
  }
}
