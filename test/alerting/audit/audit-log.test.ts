import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  GENESIS_HASH,
  auditEntryHash,
  formatAuditHead,
  parseAuditHead,
  type AuditRecord,
} from '../../../alerting/audit/audit-log.js';
import { canonicalJson } from '../../../alerting/audit/canonical-json.js';
import { openDatabase, type Database } from '../../../src/storage/database.js';
import { tempDirs } from '../../storage/helpers.js';

const tempDir = tempDirs();
const T0 = 1_795_475_557_000;

/** A fresh database file, an AuditLog on a fake clock (T0, T0+1000, …). */
function fresh(): { db: Database; log: AuditLog; url: string } {
  const url = `sqlite:${join(tempDir(), 'audit.db')}`;
  const db = openDatabase(url);
  let t = T0;
  const log = new AuditLog(db, () => (t += 1000) - 1000);
  return { db, log, url };
}

function fill(log: AuditLog, n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      log.append({
        actor: i % 7 === 0 ? 'alice' : 'system',
        action: i % 2 === 0 ? 'ticket.opened' : 'alert.fired',
        subject: `ticket:${i % 50}`,
        partnerId: ['P-A', 'P-B', null][i % 3] ?? null,
        data: { i, note: `entry ${i}`, nested: { z: i % 5, a: [i, 'x'] } },
      }),
    );
  }
  return out;
}

type RawRow = { seq: number; ts_ms: number; actor: string; action: string; subject: string; partner_id: string | null; data: string; prev_hash: string; hash: string };

function raw(db: Database, seq: number): RawRow {
  const row = db.prepare<RawRow>('SELECT * FROM audit_log WHERE seq = ?').get(seq);
  if (!row) throw new Error(`no row ${seq}`);
  return row;
}

/** Recomputes the hash of a (tampered) row the way a forger with the source code would. */
function forgeHash(r: RawRow): string {
  return auditEntryHash(
    { seq: r.seq, tsMs: r.ts_ms, actor: r.actor, action: r.action, subject: r.subject, partnerId: r.partner_id, prevHash: r.prev_hash },
    canonicalJson(JSON.parse(r.data)),
  );
}

describe('AuditLog append and verify', () => {
  it('chains 1000 entries and verifies them, also from a reopened file and with small pages', async () => {
    const { db, log, url } = fresh();
    expect(log.verify()).toEqual({ ok: true, count: 0, head: { seq: 0, hash: GENESIS_HASH } });
    expect(log.head()).toEqual({ seq: 0, hash: GENESIS_HASH });

    const records = fill(log, 1000);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(records[0]).toMatchObject({ seq: 1, tsMs: T0, prevHash: GENESIS_HASH, actor: 'alice', partnerId: 'P-A' });
    for (let i = 1; i < records.length; i++) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
    expect(new Set(records.map((r) => r.hash)).size).toBe(1000);

    const head = { seq: 1000, hash: records[999]!.hash };
    expect(log.head()).toEqual(head);
    expect(log.verify()).toEqual({ ok: true, count: 1000, head });
    expect(log.verify({ pageSize: 7 })).toEqual({ ok: true, count: 1000, head });
    expect(log.verify({ pageSize: 1000 })).toEqual({ ok: true, count: 1000, head }); // last page exactly full
    expect(await log.verifyAsync({ pageSize: 64, expectedHead: head })).toEqual({ ok: true, count: 1000, head });
    db.close();

    const db2 = openDatabase(url);
    expect(new AuditLog(db2).verify({ expectedHead: head })).toEqual({ ok: true, count: 1000, head });
    db2.close();
  });

  it('hashes sha256 over canonical JSON of (seq, ts_ms, actor, action, subject, partner_id, data, prev_hash)', () => {
    const { db, log } = fresh();
    const r = log.append({ actor: 'bob', action: 'ticket.acknowledged', subject: 'ticket:7', partnerId: null, data: { z: 1, a: 'é"' } });
    const spec = canonicalJson({
      seq: r.seq,
      ts_ms: r.tsMs,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      partner_id: r.partnerId,
      data: r.data,
      prev_hash: r.prevHash,
    });
    expect(r.hash).toBe(createHash('sha256').update(spec).digest('hex'));
    expect(raw(db, 1)).toMatchObject({ data: '{"a":"é\\"","z":1}', hash: r.hash, prev_hash: GENESIS_HASH, partner_id: null });
    db.close();
  });

  it('stores data as JSON would (Dates as ISO strings, undefined dropped) and defaults it to {}', () => {
    const { db, log } = fresh();
    const r = log.append({ actor: 'system', action: 'x', subject: 's', partnerId: 'P', data: { at: new Date(0), gone: undefined } });
    expect(r.data).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    expect(log.append({ actor: 'system', action: 'x', subject: 's', partnerId: 'P' }).data).toEqual({});
    expect(log.query({ limit: 2 }).map((q) => q.data)).toEqual([{ at: '1970-01-01T00:00:00.000Z' }, {}]);
    expect(log.query()).toEqual([r, expect.objectContaining({ seq: 2 })]);
    expect(log.verify().ok).toBe(true);
    db.close();
  });

  it('refuses malformed entries without consuming a seq', () => {
    const { db, log } = fresh();
    const ok = { actor: 'system', action: 'a', subject: 's', partnerId: null };
    expect(() => log.append({ ...ok, actor: '' })).toThrow(/actor/);
    expect(() => log.append({ ...ok, action: '' })).toThrow(/action/);
    expect(() => log.append({ ...ok, subject: undefined as unknown as string })).toThrow(/subject/);
    expect(() => log.append({ ...ok, partnerId: '' })).toThrow(/partnerId/);
    expect(() => log.append({ ...ok, data: [] as unknown as Record<string, unknown> })).toThrow(/data/);
    expect(() => log.append({ ...ok, data: { n: 1n } })).toThrow(TypeError);
    expect(() => new AuditLog(db, () => Number.NaN).append(ok)).toThrow(/clock/);
    expect(log.append(ok).seq).toBe(1);
    db.close();
  });

  it('stays chained when two connections append in turn', () => {
    const { db, log, url } = fresh();
    const db2 = openDatabase(url);
    const log2 = new AuditLog(db2);
    for (let i = 0; i < 50; i++) {
      (i % 2 === 0 ? log : log2).append({ actor: `w${i % 2}`, action: 'a', subject: `s${i}`, partnerId: null });
    }
    expect(log2.verify()).toMatchObject({ ok: true, count: 50 });
    expect(log.head()).toEqual(log2.head());
    db2.close();
    db.close();
  });

  it('commits and rolls back together with the caller’s transaction', () => {
    const { db, log } = fresh();
    log.append({ actor: 'system', action: 'a', subject: 's', partnerId: null });
    expect(() =>
      db.transaction(() => {
        log.append({ actor: 'system', action: 'ticket.opened', subject: 'ticket:1', partnerId: null });
        throw new Error('ticket insert failed');
      }),
    ).toThrow('ticket insert failed');
    expect(log.head().seq).toBe(1);
    db.transaction(() => log.append({ actor: 'system', action: 'ticket.opened', subject: 'ticket:1', partnerId: null }));
    expect(log.verify()).toMatchObject({ ok: true, count: 2 });
    db.close();
  });

  it('refuses a fork: the seq primary key rejects a second entry on the same head', () => {
    const { db, log } = fresh();
    const r = log.append({ actor: 'system', action: 'a', subject: 's', partnerId: null });
    expect(() =>
      db
        .prepare('INSERT INTO audit_log (seq, ts_ms, actor, action, subject, partner_id, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(1, r.tsMs, 'x', 'y', 'z', null, '{}', GENESIS_HASH, r.hash),
    ).toThrow(/UNIQUE|PRIMARY KEY/);
    db.close();
  });
});

describe('AuditLog tamper detection', () => {
  it.each([
    ['data', `'{"i":499,"note":"nothing to see"}'`],
    ['actor', `'mallory'`],
    ['action', `'ticket.closed'`],
    ['subject', `'ticket:999'`],
    ['partner_id', `'P-Z'`],
    ['partner_id', 'NULL'],
    ['ts_ms', 'ts_ms + 1'],
    ['hash', `'${'f'.repeat(64)}'`],
  ])('an edited %s (%s) is a hash_mismatch at that seq', (column, value) => {
    const { db, log } = fresh();
    fill(log, 1000);
    db.exec(`UPDATE audit_log SET ${column} = ${value} WHERE seq = 500`);
    const result = log.verify();
    expect(result).toMatchObject({ ok: false, count: 499, firstBadSeq: 500, problem: 'hash_mismatch' });
    db.close();
  });

  it('edited data that is no longer JSON is a hash_mismatch', () => {
    const { db, log } = fresh();
    fill(log, 10);
    db.exec(`UPDATE audit_log SET data = '{oops' WHERE seq = 4`);
    expect(log.verify()).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'hash_mismatch', detail: expect.stringMatching(/not valid JSON/) });
    // query() still answers
    expect(log.query({ afterSeq: 3, limit: 1 })[0]?.data).toEqual({ _invalid: '{oops' });
    db.close();
  });

  it('reformatting data without changing its value is not tampering (the hash covers the JSON value)', () => {
    const { db, log } = fresh();
    fill(log, 10);
    const row = raw(db, 5);
    const value = JSON.parse(row.data) as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(value).reverse()), null, 2);
    db.prepare('UPDATE audit_log SET data = ? WHERE seq = 5').run(reordered);
    expect(log.verify()).toMatchObject({ ok: true, count: 10 });
    db.close();
  });

  it('an edited prev_hash is a broken link (bad_genesis at seq 1)', () => {
    const { db, log } = fresh();
    fill(log, 20);
    db.exec(`UPDATE audit_log SET prev_hash = '${'a'.repeat(64)}' WHERE seq = 10`);
    expect(log.verify()).toMatchObject({ ok: false, count: 9, firstBadSeq: 10, problem: 'broken_link' });
    db.exec(`UPDATE audit_log SET prev_hash = '${'a'.repeat(64)}' WHERE seq = 1`);
    expect(log.verify()).toMatchObject({ ok: false, count: 0, firstBadSeq: 1, problem: 'bad_genesis' });
    db.close();
  });

  it('a deleted middle row is a gap; deleted and renumbered, a broken link', () => {
    const { db, log } = fresh();
    fill(log, 1000);
    db.exec('DELETE FROM audit_log WHERE seq = 500');
    expect(log.verify()).toEqual({
      ok: false,
      count: 499,
      firstBadSeq: 500,
      problem: 'gap',
      detail: 'seq 500 missing, next entry is seq 501',
    });
    db.exec('DELETE FROM audit_log WHERE seq BETWEEN 501 AND 503');
    expect(log.verify()).toMatchObject({ firstBadSeq: 500, problem: 'gap', detail: 'seq 500..503 missing, next entry is seq 504' });

    // Close the hole: renumber everything after it (ascending so the primary key never collides).
    const rows = db.prepare<{ seq: number }>('SELECT seq FROM audit_log WHERE seq > 499 ORDER BY seq').all();
    const renumber = db.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?');
    db.transaction(() => rows.forEach((r, i) => renumber.run(500 + i, r.seq)));
    expect(log.verify()).toMatchObject({ ok: false, count: 499, firstBadSeq: 500, problem: 'broken_link' });
    db.close();
  });

  it('deleting the first entries is a gap at seq 1', () => {
    const { db, log } = fresh();
    fill(log, 10);
    db.exec('DELETE FROM audit_log WHERE seq <= 3');
    expect(log.verify()).toEqual({ ok: false, count: 0, firstBadSeq: 1, problem: 'gap', detail: 'seq 1..3 missing, next entry is seq 4' });
    db.close();
  });

  it('a smarter forger who recomputes the edited row’s hash breaks the next row’s link', () => {
    const { db, log } = fresh();
    fill(log, 1000);
    const row = raw(db, 500);
    const forged = { ...row, data: canonicalJson({ ...JSON.parse(row.data), note: 'rewritten' }) };
    db.prepare('UPDATE audit_log SET data = ?, hash = ? WHERE seq = 500').run(forged.data, forgeHash(forged));
    const result = log.verify();
    expect(result).toMatchObject({ ok: false, count: 500, firstBadSeq: 501, problem: 'broken_link' });
    expect(result.ok === false && result.detail).toMatch(/seq 500 was rewritten with a recomputed hash/);
    db.close();
  });

  it('a forger who rewrites the rest of the chain is only caught by an anchored head', () => {
    const { db, log } = fresh();
    fill(log, 1000);
    const anchor = log.head();
    const update = db.prepare('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    let prevHash = raw(db, 499).hash;
    db.transaction(() => {
      for (let seq = 500; seq <= 1000; seq++) {
        const row = raw(db, seq);
        const data = seq === 500 ? '{"i":499,"note":"rewritten"}' : row.data;
        const forged = { ...row, data, prev_hash: prevHash };
        prevHash = forgeHash(forged);
        update.run(data, forged.prev_hash, prevHash, seq);
      }
    });
    expect(log.verify()).toMatchObject({ ok: true, count: 1000 });
    expect(log.verify({ expectedHead: anchor })).toMatchObject({
      ok: false,
      count: 999,
      firstBadSeq: 1000,
      problem: 'anchor_mismatch',
    });
    db.close();
  });

  it('truncation is invisible to the chain and caught with expectedHead', async () => {
    const { db, log } = fresh();
    fill(log, 1000);
    const older = { seq: 600, hash: raw(db, 600).hash };
    const anchor = log.head();
    db.exec('DELETE FROM audit_log WHERE seq > 997');

    expect(log.verify()).toMatchObject({ ok: true, count: 997, head: { seq: 997 } });
    expect(log.verify({ expectedHead: older })).toMatchObject({ ok: true, count: 997 });
    const expected = {
      ok: false,
      count: 997,
      firstBadSeq: 998,
      problem: 'truncated',
      detail: 'log ends at seq 997, but the anchored head is seq 1000: newest entries were deleted',
    };
    expect(log.verify({ expectedHead: anchor })).toEqual(expected);
    expect(await log.verifyAsync({ expectedHead: anchor, pageSize: 100 })).toEqual(expected);
    expect(log.verify({ expectedHead: anchor, pageSize: 997 })).toEqual(expected); // last page exactly full

    // Appending past the anchor again does not hide it: seq 1000 now has another hash.
    fill(log, 5);
    expect(log.verify()).toMatchObject({ ok: true, count: 1002 });
    expect(log.verify({ expectedHead: anchor })).toMatchObject({ ok: false, firstBadSeq: 1000, problem: 'anchor_mismatch' });
    db.close();
  });

  it('an anchor on an empty log', () => {
    const { db, log } = fresh();
    expect(log.verify({ expectedHead: { seq: 0, hash: GENESIS_HASH } })).toMatchObject({ ok: true, count: 0 });
    expect(log.verify({ expectedHead: { seq: 3, hash: 'a'.repeat(64) } })).toMatchObject({ ok: false, firstBadSeq: 1, problem: 'truncated' });
    db.close();
  });

  it('formats and parses anchors', () => {
    const head = { seq: 42, hash: 'ab'.repeat(32) };
    expect(formatAuditHead(head)).toBe(`42:${'ab'.repeat(32)}`);
    expect(parseAuditHead(formatAuditHead(head))).toEqual(head);
    expect(parseAuditHead(` 42 ${'AB'.repeat(32)} `)).toEqual(head);
    expect(() => parseAuditHead('42:abc')).toThrow(/SEQ:HASH/);
  });
});

describe('AuditLog query', () => {
  it('scopes by partner: a partner never sees another partner’s entries, the NOC sees all', () => {
    const { db, log } = fresh();
    const all = fill(log, 300);
    const a = log.query({ partnerId: 'P-A', limit: 1000 });
    const b = log.query({ partnerId: 'P-B', limit: 1000 });
    const none = log.query({ partnerId: null, limit: 1000 });
    expect(a).toHaveLength(100);
    expect(a.every((r) => r.partnerId === 'P-A')).toBe(true);
    expect(b).toHaveLength(100);
    expect(b.every((r) => r.partnerId === 'P-B')).toBe(true);
    expect(none.every((r) => r.partnerId === null)).toBe(true);
    expect(log.query({ partnerId: 'P-C' })).toEqual([]);
    expect(log.query({ limit: 1000 })).toEqual(all);
    // Other filters never widen the partner scope.
    expect(log.query({ partnerId: 'P-A', subject: 'ticket:1' }).every((r) => r.partnerId === 'P-A')).toBe(true);
    expect(log.query({ partnerId: 'P-A', afterSeq: 0, order: 'desc', action: 'alert.fired', limit: 1000 }).every((r) => r.partnerId === 'P-A')).toBe(true);
    db.close();
  });

  it('filters by subject, action and time, pages by seq both ways, clamps the limit', () => {
    const { db, log } = fresh();
    const all = fill(log, 1200);
    expect(log.query()).toEqual(all.slice(0, 100));
    expect(log.query({ limit: 5000 })).toHaveLength(1000);
    expect(log.query({ limit: 0 })).toHaveLength(1);
    expect(log.query({ limit: Number.NaN })).toHaveLength(1);

    expect(log.query({ subject: 'ticket:3', limit: 1000 }).map((r) => r.seq)).toEqual(
      all.filter((r) => r.subject === 'ticket:3').map((r) => r.seq),
    );
    expect(log.query({ subject: 'ticket:3', action: 'alert.fired', limit: 1000 }).map((r) => r.seq)).toEqual(
      all.filter((r) => r.subject === 'ticket:3' && r.action === 'alert.fired').map((r) => r.seq),
    );
    // ts of seq n is T0 + (n-1)*1000: sinceMs inclusive, untilMs exclusive
    expect(log.query({ sinceMs: T0 + 10_000, untilMs: T0 + 13_000 }).map((r) => r.seq)).toEqual([11, 12, 13]);

    const page1 = log.query({ partnerId: 'P-B', limit: 10 });
    const page2 = log.query({ partnerId: 'P-B', limit: 10, afterSeq: page1.at(-1)!.seq });
    expect([...page1, ...page2]).toEqual(log.query({ partnerId: 'P-B', limit: 20 }));

    const newest = log.query({ order: 'desc', limit: 3 });
    expect(newest.map((r) => r.seq)).toEqual([1200, 1199, 1198]);
    expect(log.query({ order: 'desc', limit: 3, beforeSeq: 1198 }).map((r) => r.seq)).toEqual([1197, 1196, 1195]);
    db.close();
  });
});
