// Devices that send messages but are not in the registry (CONTRACT section 1: stored and raised to the
// NOC, never dropped). record() runs once per message of such a device, so it only touches memory;
// the table is written in one transaction at most once per interval.

import type { Database, Statement } from './database.js';

export interface UnknownDevice {
  deviceId: string;
  /** Last model the device reported; null if it never sent one we could read. */
  model: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  messages: number;
}

export interface UnknownDeviceLogOptions {
  /** Flush period of start(); default 1000 ms. */
  intervalMs?: number;
  /**
   * Most distinct device ids buffered between flushes (protects memory against a flood of made-up
   * ids); further new ids are counted in `dropped` until the next flush. Default 10000.
   */
  maxPending?: number;
  /** Where a failed timer flush is reported (the data stays buffered and is retried). */
  onError?: (err: unknown) => void;
}

interface Pending {
  model: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  messages: number;
}

export class UnknownDeviceLog {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private readonly upsert: Statement;
  private readonly listStmt: Statement<{
    device_id: string;
    model: string | null;
    first_seen_ms: number;
    last_seen_ms: number;
    messages: number;
  }>;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly onError: (err: unknown) => void;
  /** New ids not recorded because maxPending was reached. */
  dropped = 0;

  constructor(
    private readonly db: Database,
    opts: UnknownDeviceLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.maxPending = opts.maxPending ?? 10_000;
    this.onError = opts.onError ?? (() => {});
    // Portable merge: first_seen keeps the older value, last_seen the newer, messages add up.
    this.upsert = db.prepare(`
      INSERT INTO unknown_devices (device_id, model, first_seen_ms, last_seen_ms, messages)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (device_id) DO UPDATE SET
        model = COALESCE(excluded.model, unknown_devices.model),
        first_seen_ms = CASE WHEN excluded.first_seen_ms < unknown_devices.first_seen_ms
                             THEN excluded.first_seen_ms ELSE unknown_devices.first_seen_ms END,
        last_seen_ms = CASE WHEN excluded.last_seen_ms > unknown_devices.last_seen_ms
                            THEN excluded.last_seen_ms ELSE unknown_devices.last_seen_ms END,
        messages = unknown_devices.messages + excluded.messages`);
    // Devices registered since they were first seen are no longer unknown.
    this.listStmt = db.prepare(`
      SELECT u.device_id, u.model, u.first_seen_ms, u.last_seen_ms, u.messages
        FROM unknown_devices u
       WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = u.device_id)
       ORDER BY u.last_seen_ms DESC, u.device_id`);
  }

  /** Counts one message from an unregistered device. Memory only; see flush(). */
  record(deviceId: string, model: string | null | undefined, nowMs: number): void {
    const entry = this.pending.get(deviceId);
    if (entry) {
      entry.messages++;
      if (nowMs > entry.lastSeenMs) entry.lastSeenMs = nowMs;
      if (nowMs < entry.firstSeenMs) entry.firstSeenMs = nowMs;
      if (model) entry.model = model;
      return;
    }
    if (this.pending.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.set(deviceId, { model: model || null, firstSeenMs: nowMs, lastSeenMs: nowMs, messages: 1 });
  }

  /** Buffered device ids not yet written. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Writes the buffered counts in one transaction. On failure they stay buffered and it throws. */
  flush(): number {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    try {
      this.db.transaction(() => {
        for (const [id, p] of batch) this.upsert.run(id, p.model, p.firstSeenMs, p.lastSeenMs, p.messages);
      });
    } catch (err) {
      // Merge back so nothing is lost; the next flush retries.
      for (const [id, p] of batch) {
        const newer = this.pending.get(id);
        if (newer) {
          newer.messages += p.messages;
          newer.firstSeenMs = Math.min(newer.firstSeenMs, p.firstSeenMs);
          newer.lastSeenMs = Math.max(newer.lastSeenMs, p.lastSeenMs);
          newer.model ??= p.model;
        } else this.pending.set(id, p);
      }
      throw err;
    }
    return batch.size;
  }

  /** Starts the periodic flush (idempotent). The timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.onError(err);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is buffered. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.db.isOpen) this.flush();
  }

  /** Unregistered devices seen so far (buffered counts included), most recently seen first. */
  list(): UnknownDevice[] {
    this.flush();
    return this.listStmt.all().map((r) => ({
      deviceId: r.device_id,
      model: r.model,
      firstSeenMs: r.first_seen_ms,
      lastSeenMs: r.last_seen_ms,
      messages: r.messages,
    }));
  }
}
