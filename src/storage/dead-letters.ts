// Dead letters: MQTT messages the collector could not use (CONTRACT section 1, "What bad input gets"),
// kept with the reason so an operator can read them through the API. Bounded by trim().

import type { Database, Statement } from './database.js';

/** Only this much of a payload is kept; `size` still records the original length. */
export const DEAD_LETTER_PAYLOAD_MAX = 64 * 1024;
const LIST_DEFAULT = 100;
const LIST_MAX = 1000;

export interface NewDeadLetter {
  receivedMs: number;
  topic: string;
  /** null when the topic did not name a device. */
  deviceId: string | null;
  /** Machine-readable, e.g. `invalid_json`, `too_large`, `missing_field`, `unknown_topic`. */
  reasonCode: string;
  /** Human-readable detail. */
  reason: string;
  payload: Buffer;
}

export interface DeadLetter extends NewDeadLetter {
  id: number;
  /** Size of the original payload in bytes. */
  size: number;
  /** payload holds only the first DEAD_LETTER_PAYLOAD_MAX bytes. */
  truncated: boolean;
}

export interface DeadLetterQuery {
  /** Default 100, at most 1000. */
  limit?: number;
  /** Only entries older than this id (paging: pass the last id of the previous page). */
  beforeId?: number;
  deviceId?: string;
}

interface Row {
  id: number;
  received_ms: number;
  topic: string;
  device_id: string | null;
  reason_code: string;
  reason: string;
  payload: Buffer;
  size: number;
}

const COLUMNS = 'id, received_ms, topic, device_id, reason_code, reason, payload, size';

export class DeadLetterStore {
  private readonly insert: Statement;
  private readonly countStmt: Statement<{ n: number }>;
  private readonly trimStmt: Statement;
  /** One prepared statement per filter combination, so list() never re-parses SQL. */
  private readonly listStmts: Record<'all' | 'before' | 'device' | 'deviceBefore', Statement<Row>>;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      `INSERT INTO dead_letters (received_ms, topic, device_id, reason_code, reason, payload, size)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM dead_letters');
    // Delete everything at or below the (maxRows+1)-th newest id; keeps the newest maxRows.
    this.trimStmt = db.prepare(
      `DELETE FROM dead_letters
        WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
    const base = `SELECT ${COLUMNS} FROM dead_letters`;
    this.listStmts = {
      all: db.prepare(`${base} ORDER BY id DESC LIMIT ?`),
      before: db.prepare(`${base} WHERE id < ? ORDER BY id DESC LIMIT ?`),
      device: db.prepare(`${base} WHERE device_id = ? ORDER BY id DESC LIMIT ?`),
      deviceBefore: db.prepare(`${base} WHERE device_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
    };
  }

  /** Stores one dead letter; returns its id. Cheap: one prepared insert, payload cut to 64 KiB. */
  add(letter: NewDeadLetter): number {
    const payload =
      letter.payload.length > DEAD_LETTER_PAYLOAD_MAX
        ? letter.payload.subarray(0, DEAD_LETTER_PAYLOAD_MAX)
        : letter.payload;
    const result = this.insert.run(
      Math.trunc(letter.receivedMs),
      letter.topic,
      letter.deviceId,
      letter.reasonCode,
      letter.reason,
      payload,
      letter.payload.length,
    );
    return Number(result.lastInsertRowid);
  }

  /** Newest first. */
  list(query: DeadLetterQuery = {}): DeadLetter[] {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? LIST_DEFAULT), 1), LIST_MAX);
    const { beforeId, deviceId } = query;
    let rows: Row[];
    if (deviceId !== undefined && beforeId !== undefined) {
      rows = this.listStmts.deviceBefore.all(deviceId, beforeId, limit);
    } else if (deviceId !== undefined) {
      rows = this.listStmts.device.all(deviceId, limit);
    } else if (beforeId !== undefined) {
      rows = this.listStmts.before.all(beforeId, limit);
    } else {
      rows = this.listStmts.all.all(limit);
    }
    return rows.map((r) => ({
      id: r.id,
      receivedMs: r.received_ms,
      topic: r.topic,
      deviceId: r.device_id,
      reasonCode: r.reason_code,
      reason: r.reason,
      payload: r.payload,
      size: r.size,
      truncated: r.size > r.payload.length,
    }));
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  /** Keeps the newest maxRows entries, deletes the rest; returns how many were deleted. */
  trim(maxRows: number): number {
    const keep = Math.max(0, Math.trunc(maxRows));
    return this.db.transaction(() => this.trimStmt.run(keep).changes);
  }
}
