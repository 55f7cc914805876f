/**
 * `fleetwatch audit verify|tail`: checks the hash chain of the audit log, shows the newest entries.
 * Registered into the main CLI by src/cli.ts (registerAuditCommand(program)).
 *
 * Results set process.exitCode (0 OK, 1 chain broken) instead of calling process.exit, so the
 * command is testable in-process; usage errors (bad flags, no database file) go through commander's
 * cmd.error with exit code 2.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { openDatabase, parseDatabaseUrl, type Database } from '../../src/storage/database.js';
import { AuditLog, parseAuditHead, type AuditHead, type AuditRecord } from './audit-log.js';

const DEFAULT_DATABASE_URL = 'sqlite:.data/fleetwatch.db';
const TAIL_MAX = 1000;

/** One line per entry: `#SEQ ISO-TIME ACTOR ACTION SUBJECT partner=ID|- DATA-JSON`. */
export function formatAuditRecord(r: AuditRecord): string {
  return `#${r.seq} ${new Date(r.tsMs).toISOString()} ${r.actor} ${r.action} ${r.subject} partner=${r.partnerId ?? '-'} ${JSON.stringify(r.data)}`;
}

/**
 * Opens the existing database named by --database / DATABASE_URL. Refuses a missing file: opening
 * would create an empty database and then "verify" it as OK.
 */
function openExisting(cmd: Command, url: string | undefined): Database {
  const dbUrl = url ?? (process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  let location: string;
  try {
    location = parseDatabaseUrl(dbUrl).location;
  } catch (err) {
    cmd.error(`error: ${(err as Error).message}`, { exitCode: 2 });
    throw err; // not reached: cmd.error exits (or throws under exitOverride)
  }
  if (location !== ':memory:' && !existsSync(location)) {
    cmd.error(`error: no database at ${location} (set --database or DATABASE_URL)`, { exitCode: 2 });
  }
  try {
    return openDatabase(dbUrl);
  } catch (err) {
    cmd.error(`error: cannot open the database: ${(err as Error).message}`, { exitCode: 2 });
    throw err;
  }
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('audit log of every automatic and human action: verify the hash chain, show entries');
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);

  audit
    .command('verify')
    .description('check every entry of the audit log against its hash and its predecessor (exit 1 if broken)')
    .option('--database <url>', `relational store (default: DATABASE_URL, else ${DEFAULT_DATABASE_URL})`)
    .option('--expect-head <seq:hash>', 'a head exported earlier; also detects deleted newest entries and rewrites up to it')
    .action(async (flags: { database?: string; expectHead?: string }, cmd: Command) => {
      let expectedHead: AuditHead | undefined;
      if (flags.expectHead !== undefined) {
        try {
          expectedHead = parseAuditHead(flags.expectHead);
        } catch (err) {
          cmd.error(`error: --expect-head: ${(err as Error).message}`, { exitCode: 2 });
        }
      }
      const db = openExisting(cmd, flags.database);
      try {
        const result = await new AuditLog(db).verifyAsync(expectedHead ? { expectedHead } : {});
        if (result.ok) {
          out(`audit log OK: ${result.count} entries, head seq ${result.head.seq} hash ${result.head.hash}`);
          process.exitCode = 0;
        } else {
          out(`audit log BROKEN at seq ${result.firstBadSeq}: ${result.problem} (${result.detail})`);
          process.exitCode = 1;
        }
      } finally {
        db.close();
      }
    });

  audit
    .command('tail')
    .description('print the newest audit entries, oldest first, one per line')
    .option('-n, --lines <n>', `how many entries (at most ${TAIL_MAX})`, '20')
    .option('--partner <id>', 'only this partner\'s entries')
    .option('--subject <subject>', 'only entries about this subject, e.g. ticket:12')
    .option('--database <url>', `relational store (default: DATABASE_URL, else ${DEFAULT_DATABASE_URL})`)
    .action((flags: { lines: string; partner?: string; subject?: string; database?: string }, cmd: Command) => {
      const n = /^\d+$/.test(flags.lines.trim()) ? Number(flags.lines) : Number.NaN;
      if (!(n >= 1 && n <= TAIL_MAX)) cmd.error(`error: -n must be an integer from 1 to ${TAIL_MAX}`, { exitCode: 2 });
      const db = openExisting(cmd, flags.database);
      try {
        const rows = new AuditLog(db).query({
          order: 'desc',
          limit: n,
          ...(flags.partner !== undefined ? { partnerId: flags.partner } : {}),
          ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
        });
        for (const r of rows.reverse()) out(formatAuditRecord(r));
        process.exitCode = 0;
      } finally {
        db.close();
      }
    });
}
