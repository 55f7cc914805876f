/**
 * What the load test sent: status messages per device and per second of the run, and the range of
 * their timestamps. `record` runs once per message on the publishing path, so it allocates nothing:
 * one Map lookup and a few typed-array increments.
 */

export class SentLedger {
  readonly ids: readonly string[];
  /** Messages handed to mqtt.js, per device (index of `ids`). */
  readonly perDevice: Uint32Array;
  /** Messages per second of the run, by the snapshot's `ts` (seconds after `startMs`). */
  readonly perSecond: Uint32Array;
  private readonly index = new Map<string, number>();
  private startMs = Number.NaN;
  total = 0;
  /** Messages for ids the ledger was not given (should stay 0). */
  foreign = 0;
  minTs = Number.POSITIVE_INFINITY;
  maxTs = Number.NEGATIVE_INFINITY;

  /** `seconds`: length of the per-second series (messages after it are counted in its last second). */
  constructor(ids: readonly string[], seconds: number) {
    this.ids = ids;
    ids.forEach((id, i) => {
      if (this.index.has(id)) throw new Error(`device ${id} appears twice in the load test`);
      this.index.set(id, i);
    });
    this.perDevice = new Uint32Array(ids.length);
    this.perSecond = new Uint32Array(Math.max(1, Math.ceil(seconds)));
  }

  /** Wall-clock time (epoch ms) the run's first second starts at. */
  start(startMs: number): void {
    this.startMs = startMs;
  }

  get startedAtMs(): number {
    return this.startMs;
  }

  indexOf(deviceId: string): number | undefined {
    return this.index.get(deviceId);
  }

  /** One status message as it is handed to mqtt.js. Matches `SimulateOptions.onStatusPublished`. */
  record = (deviceId: string, ts: number, _seq: number): void => {
    const i = this.index.get(deviceId);
    if (i === undefined) {
      this.foreign++;
      return;
    }
    this.perDevice[i]!++;
    this.total++;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    const last = this.perSecond.length - 1;
    const s = Math.floor((ts - this.startMs) / 1000);
    this.perSecond[s >= 0 ? (s < last ? s : last) : 0]!++;
  };
}
