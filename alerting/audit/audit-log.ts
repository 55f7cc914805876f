// The audit log: every automatic and human action, append-only and hash-chained (table audit_log,
// schema 2).
//
// Each entry's hash is sha256 (hex) over the canonical JSON (sorted keys, RFC 8785 style) of
//   { seq, ts_ms, actor, action, subject, partner_id, data, prev_hash }
// where data is the entry's JSON value (not its text) and prev_hash is the previous entry's hash
// (64 zeros for seq 1). Editing any field of an entry breaks its hash; deleting or inserting an
// entry in the middle breaks the seq run and the prev_hash link; rewriting an entry and recomputing
// its hash breaks the next entry's link.
//
// What the chain alone cannot catch: deleting the newest entries (the shorter log is still a valid
// chain), or rewriting everything from some entry on with recomputed hashes (the hash is not keyed,
// anyone who can write the table can recompute it). Both are caught by an ANCHOR: operators export
// head() periodically to somewhere the database's writers cannot rewrite (a log line shipped off the
// host, the metrics store, a ticket) and pass the last exported head to verify({ expectedHead }).

import { createHash } from 'node:crypto';
import type { Database, Statement } from '../../src/storage/database.js';
import { canonicalJson } from './canonical-json.js';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
const QUERY_DEFAULT = 100;
const QUERY_MAX = 1000;
const VERIFY_PAGE = 1000;

export interface NewAuditEntry {
  /** Who did it: 'system', a component (e.g. 'alerting'), or a user name. */
  actor: string;
  /** What was done, e.g. 'ticket.acknowledged', 'alert.fired', 'silence.created'. */
  action: string;
  /** What it was done to, e.g. 'ticket:12', 'alert:<fingerprint>', 'device:<id>'. */
  subject: string;
  /** The partner the entry belongs to (tenancy); null for global / NOC-only entries. */
  partnerId: string | null;
  /** Details; must be JSON-representable. Stored and hashed as canonical JSON. Default {}. */
  data?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  tsMs: number;
  actor: string;
  action: string;
  subject: string;
  partnerId: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditHead {
  /** 0 for an empty log. */
  seq: number;
  /** GENESIS_HASH for an empty log. */
  hash: string;
}

export interface AuditQuery {
  /** undefined: every partner's entries (NOC). A string: only that partner's. null: only entries without a partner. */
  partnerId?: string | null;
  /** Exact subject, e.g. 'ticket:12'. */
  subject?: string;
  /** Exact action. */
  action?: string;
  /** ts_ms >= sinceMs. */
  sinceMs?: number;
  /** ts_ms < untilMs. */
  untilMs?: number;
  /** seq > afterSeq (forward paging: pass the last seq of the previous page). */
  afterSeq?: number;
  /** seq < beforeSeq (backward paging with order 'desc'). */
  beforeSeq?: number;
  /** 'asc' (default): oldest first. 'desc': newest first. */
  order?: 'asc' | 'desc';
  /** Default 100, clamped to 1..1000. */
  limit?: number;
}

export type VerifyProblem =
  /** An entry's content does not match its hash (a field was edited). */
  | 'hash_mismatch'
  /** An entry's prev_hash is not the previous entry's hash (an entry was replaced or removed and renumbered). */
  | 'broken_link'
  /** seq does not run 1, 2, 3, … (an entry is missing). */
  | 'gap'
  /** seq 1 does not start from GENESIS_HASH. */
  | 'bad_genesis'
  /** The log ends before the anchored head (newest entries deleted). Only with expectedHead. */
  | 'truncated'
  /** The entry at the anchored seq has another hash (log rewritten at or before it). Only with expectedHead. */
  | 'anchor_mismatch';

export type VerifyResult =
  | { ok: true; count: number; head: AuditHead }
  /** count: entries verified good before the problem (seq 1 … firstBadSeq - 1). */
  | { ok: false; count: number; firstBadSeq: number; problem: VerifyProblem; detail: string };

export interface VerifyOptions {
  /** A head exported earlier (head()); catches truncation and wholesale rewrites up to it. */
  expectedHead?: AuditHead;
  /** Rows read per page (default 1000). */
  pageSize?: number;
}

/** An anchor as one token, `SEQ:HASH`: what operators export (log line, ticket) and pass back to `audit verify --expect-head`. */
export function formatAuditHead(head: AuditHead): string {
  return `${head.seq}:${head.hash}`;
}

/** Parses `SEQ:HASH` (or `SEQ HASH`) as written by formatAuditHead. Throws Error on anything else. */
export function parseAuditHead(text: string): AuditHead {
  const m = /^\s*(\d+)\s*[:\s]\s*([0-9a-f]{64})\s*$/i.exec(text);
  if (!m) throw new Error(`expected SEQ:HASH (a sequence number and a 64-digit sha256 hex), got ${JSON.stringify(text)}`);
  return { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() };
}

interface Row {
  seq: number;
  ts_ms: number;
  actor: string;
  action: string;
  subject: string;
  partner_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'seq, ts_ms, actor, action, subject, partner_id, data, prev_hash, hash';

/**
 * sha256 hex of canonicalJson({ seq, ts_ms, actor, action, subject, partner_id, data, prev_hash }),
 * with data given as its canonical JSON text. Written out by hand (keys in sorted order) so append
 * does not serialize data twice; test/alerting/audit checks it equals the generic form.
 */
export function auditEntryHash(
  e: { seq: number; tsMs: number; actor: string; action: string; subject: string; partnerId: string | null; prevHash: string },
  canonicalData: string,
): string {
  const s = JSON.stringify;
  const text =
    `{"action":${s(e.action)},"actor":${s(e.actor)},"data":${canonicalData},"partner_id":${s(e.partnerId)},` +
    `"prev_hash":${s(e.prevHash)},"seq":${s(e.seq)},"subject":${s(e.subject)},"ts_ms":${s(e.tsMs)}}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function nonEmpty(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new TypeError(`audit entry: ${field} must be a non-empty string`);
  return v;
}

function toRecord(r: Row, data: Record<string, unknown>): AuditRecord {
  return {
    seq: r.seq,
    tsMs: r.ts_ms,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    partnerId: r.partner_id,
    data,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function parseData(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: a record never holds anything else, but query() must not throw on a tampered row
  }
  return { _invalid: text };
}

export class AuditLog {
  private readonly headStmt: Statement<{ seq: number; hash: string }>;
  private readonly insertStmt: Statement;
  private readonly pageStmt: Statement<Row>;
  /** One prepared statement per filter combination (bounded: a few hundred at most). */
  private readonly queryStmts = new Map<string, Statement<Row>>();

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {
    this.headStmt = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.insertStmt = db.prepare(`INSERT INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.pageStmt = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`);
  }

  /**
   * Appends one entry and returns it. Reads the head and inserts in one write transaction, so
   * writers on other connections or processes are serialized and stay chained (and the seq primary
   * key refuses a fork outright). Called inside a caller's db.transaction it becomes a savepoint:
   * the entry commits or rolls back together with the action it records.
   * Throws TypeError for an empty actor/action/subject or data JSON cannot hold.
   */
  append(entry: NewAuditEntry): AuditRecord {
    const actor = nonEmpty('actor', entry.actor);
    const action = nonEmpty('action', entry.action);
    const subject = nonEmpty('subject', entry.subject);
    const partnerId = entry.partnerId;
    if (partnerId !== null && (typeof partnerId !== 'string' || partnerId === '')) {
      throw new TypeError('audit entry: partnerId must be a non-empty string or null');
    }
    const rawData: unknown = entry.data ?? {};
    if (rawData === null || typeof rawData !== 'object' || Array.isArray(rawData)) {
      throw new TypeError('audit entry: data must be an object');
    }
    const dataText = canonicalJson(rawData);
    const data = JSON.parse(dataText) as Record<string, unknown>;
    const now = this.clock();
    if (!Number.isFinite(now)) throw new TypeError('audit log: clock returned a non-finite time');
    const tsMs = Math.trunc(now);

    return this.db.transaction(() => {
      const head = this.headStmt.get();
      const seq = (head?.seq ?? 0) + 1;
      const prevHash = head?.hash ?? GENESIS_HASH;
      const fields = { seq, tsMs, actor, action, subject, partnerId, prevHash };
      const hash = auditEntryHash(fields, dataText);
      this.insertStmt.run(seq, tsMs, actor, action, subject, partnerId, dataText, prevHash, hash);
      return { ...fields, data, hash };
    });
  }

  /** The newest entry's seq and hash ({ seq: 0, hash: GENESIS_HASH } when empty). Not verified. */
  head(): AuditHead {
    const row = this.headStmt.get();
    return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /** Entries matching every given filter, by seq (oldest first unless order 'desc'). */
  query(q: AuditQuery = {}): AuditRecord[] {
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? QUERY_DEFAULT) || 1, 1), QUERY_MAX);
    const where: string[] = [];
    const params: (string | number)[] = [];
    let key = '';
    if (q.partnerId === null) {
      where.push('partner_id IS NULL');
      key += 'N';
    } else if (q.partnerId !== undefined) {
      where.push('partner_id = ?');
      params.push(q.partnerId);
      key += 'p';
    }
    const add = (flag: string, clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
      key += flag;
    };
    add('s', 'subject = ?', q.subject);
    add('a', 'action = ?', q.action);
    add('f', 'ts_ms >= ?', q.sinceMs);
    add('u', 'ts_ms < ?', q.untilMs);
    add('>', 'seq > ?', q.afterSeq);
    add('<', 'seq < ?', q.beforeSeq);
    const order = q.order === 'desc' ? 'DESC' : 'ASC';
    key += order;
    let stmt = this.queryStmts.get(key);
    if (!stmt) {
      stmt = this.db.prepare<Row>(
        `SELECT ${COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`,
      );
      this.queryStmts.set(key, stmt);
    }
    return stmt.all(...params, limit).map((r) => toRecord(r, parseData(r.data)));
  }

  /**
   * Walks the whole log in seq order, a page at a time, and checks the seq run, every link and
   * every hash (and the anchor, if given). Stops at the first problem. Synchronous: on a big log
   * inside the service, prefer verifyAsync, which lets the event loop run between pages.
   */
  verify(opts: VerifyOptions = {}): VerifyResult {
    const walk = this.walk(opts);
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
    }
  }

  /** verify() that yields to the event loop between pages. */
  async verifyAsync(opts: VerifyOptions = {}): Promise<VerifyResult> {
    const walk = this.walk(opts);
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Yields after each page; returns the result. */
  private *walk(opts: VerifyOptions): Generator<void, VerifyResult, void> {
    const pageSize = Math.max(1, Math.trunc(opts.pageSize ?? VERIFY_PAGE));
    const anchor = opts.expectedHead;
    let prev: AuditHead = { seq: 0, hash: GENESIS_HASH };
    let count = 0;
    const bad = (firstBadSeq: number, problem: VerifyProblem, detail: string): VerifyResult => ({
      ok: false,
      count,
      firstBadSeq,
      problem,
      detail,
    });
    // Start below any possible seq, so forged rows with seq <= 0 are seen too.
    let cursor = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = this.pageStmt.all(cursor, pageSize);
      for (const r of rows) {
        const expected = prev.seq + 1;
        if (r.seq !== expected) {
          return bad(
            expected,
            'gap',
            r.seq > expected
              ? `seq ${expected}${r.seq - 1 > expected ? `..${r.seq - 1}` : ''} missing, next entry is seq ${r.seq}`
              : `expected seq ${expected}, found seq ${r.seq}`,
          );
        }
        if (r.prev_hash !== prev.hash) {
          if (r.seq === 1) return bad(1, 'bad_genesis', `seq 1 prev_hash is ${r.prev_hash}, expected ${GENESIS_HASH}`);
          return bad(
            r.seq,
            'broken_link',
            `prev_hash of seq ${r.seq} does not match the hash of seq ${prev.seq}: seq ${prev.seq} was rewritten with a recomputed hash, or seq ${r.seq} was altered`,
          );
        }
        let canonicalData: string;
        try {
          canonicalData = canonicalJson(JSON.parse(r.data));
        } catch {
          return bad(r.seq, 'hash_mismatch', `data of seq ${r.seq} is not valid JSON`);
        }
        const hash = auditEntryHash(
          {
            seq: r.seq,
            tsMs: r.ts_ms,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            partnerId: r.partner_id,
            prevHash: r.prev_hash,
          },
          canonicalData,
        );
        if (hash !== r.hash) {
          return bad(r.seq, 'hash_mismatch', `content of seq ${r.seq} does not match its hash (a field was edited)`);
        }
        if (anchor && r.seq === anchor.seq && r.hash !== anchor.hash) {
          return bad(
            r.seq,
            'anchor_mismatch',
            `seq ${r.seq} has hash ${r.hash}, the anchored head says ${anchor.hash}: the log was rewritten at or before seq ${r.seq}`,
          );
        }
        prev = { seq: r.seq, hash: r.hash };
        count++;
      }
      if (rows.length < pageSize) {
        if (!anchor || anchor.seq <= prev.seq) break;
        // The anchored entry was not seen. Look once more (another process may have appended
        // since this page was read); if nothing follows, the newest entries are gone.
        if (this.pageStmt.all(prev.seq, 1).length === 0) {
          return bad(
            prev.seq + 1,
            'truncated',
            `log ends at seq ${prev.seq}, but the anchored head is seq ${anchor.seq}: newest entries were deleted`,
          );
        }
      }
      cursor = prev.seq;
      yield;
    }
    if (anchor && anchor.seq === 0 && anchor.hash !== GENESIS_HASH) {
      return bad(0, 'anchor_mismatch', `an anchored head at seq 0 must have hash ${GENESIS_HASH}`);
    }
    return { ok: true, count, head: prev };
  }
}
