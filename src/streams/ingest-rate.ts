// The ingest rate: messages the collector accepted per second (status snapshots, events, presence,
// command replies), counted from the IngestEvents bus, in total and per partner. Once a second the
// last second's counts go to `onSecond` (the service publishes them as the `ingest.rate` stream
// event: the global rate to noc, each partner's own rate to that partner), and the last few minutes
// are kept for `GET /api/v1/fleet/ingest-rate`, so a page can draw a chart right after loading.
// Each sample also carries the rate averaged over a sliding window (`averaged`), which is what a
// chart should draw: devices report every few seconds, so most one-second counts of a small fleet
// are 0.
import type { IngestEventMap, IngestEvents } from '../../collector/ingest-events.js';
import type { Attribution } from '../../collector/tenant-tags.js';

export interface IngestRateSample {
  /** Epoch ms of the end of the second counted. */
  ts: number;
  /** Messages accepted in that second. */
  perSecond: number;
  /** Messages per second averaged over the last `avgWindowS` seconds, this one included. */
  avgPerSecond: number;
  avgWindowS: number;
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

type Counts = Omit<IngestRateSample, 'avgPerSecond' | 'avgWindowS'>;

interface Scope {
  current: Counts;
  history: IngestRateSample[];
  /** Seconds in a row without a message. */
  idle: number;
}

/** Called once a second: partnerId null for the global rate (every message, also of unregistered devices). */
export type IngestRateListener = (partnerId: string | null, sample: IngestRateSample) => void;

const empty = (): Counts => ({ ts: 0, perSecond: 0, status: 0, event: 0, presence: 0, reply: 0 });

/**
 * The windows the rate is averaged over, shortest first. Devices report at a fixed interval (30 s by
 * default), so a window that is a whole number of intervals holds the same number of messages
 * whenever it ends: a fleet reporting every 5, 10, 15, 30 or 60 s draws a flat line.
 */
const WINDOWS_S = [10, 30, 60, 120];
/** Messages the window holds at the recent rate: a report a little early or late moves the line by a third, not to 0. */
const WINDOW_MESSAGES = 3;

/**
 * The rate over the last seconds of `history` (oldest first, the second just closed last). A fixed
 * window would still drop to 0 for a fleet reporting less often than its length, and a long one would
 * hide for a minute that a large fleet went quiet; so it is the shortest of WINDOWS_S that holds
 * WINDOW_MESSAGES messages at the rate of the whole history (at most `maxWindowS`, the history
 * kept): 10 s for a fleet sending a message every 3 s or more often, so that it shows going quiet
 * within 10 s; 30 s for one device reporting every 5 s, 120 s for one every 30 s. Seconds before
 * the history began count as 0, so a scope that just started ramps up rather than spiking.
 */
function averaged(history: readonly Counts[], maxWindowS: number): Pick<IngestRateSample, 'avgPerSecond' | 'avgWindowS'> {
  let total = 0;
  for (const s of history) total += s.perSecond;
  // In integers, so that exactly WINDOW_MESSAGES fits; no message at all: the longest.
  const fits = WINDOWS_S.find((w) => w * total >= WINDOW_MESSAGES * history.length);
  const windowS = Math.min(maxWindowS, fits ?? maxWindowS);
  let inWindow = 0;
  for (let i = Math.max(0, history.length - windowS); i < history.length; i++) inWindow += history[i]!.perSecond;
  return { avgPerSecond: Math.round((inWindow / windowS) * 1000) / 1000, avgWindowS: windowS };
}

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
    const partnerOf = (a: Attribution) => a.tenant?.partnerId ?? null;
    // Messages from devices only: a status patched by an event (`derived`) and an offline declared
    // for missed reports are the service's own conclusions, not messages.
    const onStatus: (...args: IngestEventMap['status']) => void = (_id, a, _s, _p, _t, derived) => {
      if (!derived) this.count('status', partnerOf(a));
    };
    const onPresence: (...args: IngestEventMap['presence']) => void = (_id, a, _online, _t, reason) => {
      if (reason !== 'missed_intervals') this.count('presence', partnerOf(a));
    };
    const onEvent = (_id: string, a: Attribution) => this.count('event', partnerOf(a));
    const onReply = (_id: string, a: Attribution) => this.count('reply', partnerOf(a));
    this.ingest.on('status', onStatus);
    this.ingest.on('presence', onPresence);
    this.ingest.on('event', onEvent);
    this.ingest.on('reply', onReply);
    this.off.push(() => this.ingest.off('status', onStatus), () => this.ingest.off('presence', onPresence), () => this.ingest.off('event', onEvent), () => this.ingest.off('reply', onReply));
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
      const sample = { ...s.current, ts, avgPerSecond: 0, avgWindowS: 0 };
      s.idle = sample.perSecond === 0 ? s.idle + 1 : 0;
      s.current = empty();
      s.history.push(sample);
      if (s.history.length > this.historySeconds) s.history.splice(0, s.history.length - this.historySeconds);
      return Object.assign(sample, averaged(s.history, this.historySeconds));
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
