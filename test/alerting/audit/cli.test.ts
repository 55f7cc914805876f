import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, formatAuditHead } from '../../../alerting/audit/audit-log.js';
import { registerAuditCommand } from '../../../alerting/audit/cli.js';
import { openDatabase } from '../../../src/storage/database.js';
import { tempDirs } from '../../storage/helpers.js';

const tempDir = tempDirs();
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** A database file with n entries; returns its path and the AuditLog head. */
function seeded(n: number): { path: string; url: string } {
  const path = join(tempDir(), 'fleetwatch.db');
  const url = `sqlite:${path}`;
  const db = openDatabase(url);
  let t = T0;
  const log = new AuditLog(db, () => (t += 1000) - 1000);
  for (let i = 1; i <= n; i++) {
    log.append({
      actor: i % 2 ? 'system' : 'alice',
      action: 'ticket.updated',
      subject: `ticket:${i}`,
      partnerId: i % 2 ? 'P-A' : 'P-B',
      data: { i },
    });
  }
  db.close();
  return { path, url };
}

function tamper(url: string, sql: string): void {
  const db = openDatabase(url);
  db.exec(sql);
  db.close();
}

/** Runs `fleetwatch <args>` in-process; captures stdout, commander's stderr and process.exitCode. */
async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number | undefined; thrown?: { exitCode: number } }> {
  const err: string[] = [];
  const out: string[] = [];
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
  registerAuditCommand(program);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  let thrown: { exitCode: number } | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    thrown = e as { exitCode: number };
  } finally {
    spy.mockRestore();
  }
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
  return { out: out.join(''), err: err.join(''), exitCode, ...(thrown ? { thrown } : {}) };
}

describe('fleetwatch audit', () => {
  beforeEach(() => {
    process.exitCode = undefined;
  });
  afterEach(() => {
    process.exitCode = undefined;
    vi.unstubAllEnvs();
  });

  it('verify: OK with the head, exit code 0', async () => {
    const { url } = seeded(25);
    const db = openDatabase(url);
    const head = new AuditLog(db).head();
    db.close();
    const r = await run('audit', 'verify', '--database', url);
    expect(r.out).toBe(`audit log OK: 25 entries, head seq 25 hash ${head.hash}\n`);
    expect(r.exitCode).toBe(0);
    expect(r.thrown).toBeUndefined();

    const anchored = await run('audit', 'verify', '--database', url, '--expect-head', formatAuditHead(head));
    expect(anchored.out).toMatch(/^audit log OK: 25 entries/);
    expect(anchored.exitCode).toBe(0);
  });

  it('verify: reads DATABASE_URL when --database is not given', async () => {
    const { url } = seeded(3);
    vi.stubEnv('DATABASE_URL', url);
    const r = await run('audit', 'verify');
    expect(r.out).toMatch(/^audit log OK: 3 entries, head seq 3 hash [0-9a-f]{64}\n$/);
    expect(r.exitCode).toBe(0);
  });

  it('verify: BROKEN with the seq and the problem, exit code 1', async () => {
    const { url } = seeded(25);
    tamper(url, `UPDATE audit_log SET data = '{"i":999}' WHERE seq = 12`);
    const r = await run('audit', 'verify', '--database', url);
    expect(r.out).toBe('audit log BROKEN at seq 12: hash_mismatch (content of seq 12 does not match its hash (a field was edited))\n');
    expect(r.exitCode).toBe(1);

    tamper(url, 'DELETE FROM audit_log WHERE seq = 5');
    const gap = await run('audit', 'verify', '--database', url);
    expect(gap.out).toBe('audit log BROKEN at seq 5: gap (seq 5 missing, next entry is seq 6)\n');
    expect(gap.exitCode).toBe(1);
  });

  it('verify --expect-head: catches deleted newest entries', async () => {
    const { url } = seeded(25);
    const db = openDatabase(url);
    const head = new AuditLog(db).head();
    db.close();
    tamper(url, 'DELETE FROM audit_log WHERE seq > 20');
    expect((await run('audit', 'verify', '--database', url)).exitCode).toBe(0);
    const r = await run('audit', 'verify', '--database', url, '--expect-head', `${head.seq}:${head.hash}`);
    expect(r.out).toMatch(/^audit log BROKEN at seq 21: truncated \(log ends at seq 20, but the anchored head is seq 25/);
    expect(r.exitCode).toBe(1);
  });

  it('tail: the newest entries, oldest first, one per line; -n, --partner, --subject', async () => {
    const { url } = seeded(30);
    const r = await run('audit', 'tail', '--database', url);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe(`#11 ${new Date(T0 + 10_000).toISOString()} system ticket.updated ticket:11 partner=P-A {"i":11}`);
    expect(lines[19]).toBe(`#30 ${new Date(T0 + 29_000).toISOString()} alice ticket.updated ticket:30 partner=P-B {"i":30}`);
    expect(r.exitCode).toBe(0);

    const three = await run('audit', 'tail', '-n', '3', '--database', url);
    expect(three.out.trimEnd().split('\n').map((l) => l.split(' ')[0])).toEqual(['#28', '#29', '#30']);
    const partner = await run('audit', 'tail', '-n', '3', '--partner', 'P-A', '--database', url);
    expect(partner.out.trimEnd().split('\n').map((l) => l.split(' ')[0])).toEqual(['#25', '#27', '#29']);
    const subject = await run('audit', 'tail', '--subject', 'ticket:7', '--database', url);
    expect(subject.out.trimEnd().split('\n')).toHaveLength(1);
    expect(subject.out).toMatch(/^#7 /);
  });

  it('usage errors exit 2 and never create a database', async () => {
    const missing = join(tempDir(), 'nope', 'fleetwatch.db');
    const r = await run('audit', 'verify', '--database', `sqlite:${missing}`);
    expect(r.thrown?.exitCode).toBe(2);
    expect(r.err).toContain(`error: no database at ${missing}`);
    expect(r.out).toBe('');
    const { existsSync } = await import('node:fs');
    expect(existsSync(missing)).toBe(false);

    const pg = await run('audit', 'tail', '--database', 'postgres://u:secret@h/db');
    expect(pg.thrown?.exitCode).toBe(2);
    expect(pg.err).toMatch(/not supported yet/);
    expect(pg.err).not.toContain('secret');

    const { url } = seeded(1);
    for (const n of ['0', 'ten', '1001']) {
      const bad = await run('audit', 'tail', '-n', n, '--database', url);
      expect(bad.thrown?.exitCode).toBe(2);
      expect(bad.err).toContain('-n must be an integer from 1 to 1000');
    }
    const badHead = await run('audit', 'verify', '--database', url, '--expect-head', '12:abc');
    expect(badHead.thrown?.exitCode).toBe(2);
    expect(badHead.err).toContain('--expect-head: expected SEQ:HASH');
  });
});
