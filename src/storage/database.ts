// The relational store behind DATABASE_URL (registry, tickets, audit, dead letters).
//
// This is the ONLY file that knows about SQLite / better-sqlite3. Everything else talks to the small
// `Database` interface below with plain, portable SQL (`?` placeholders, INSERT … ON CONFLICT,
// IS DISTINCT FROM, LIMIT/OFFSET), so a PostgreSQL adapter can later be added here behind the same
// interface without touching the stores.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrate } from './migrations.js';

/** Distinct SQL texts kept compiled; built SQL (IN lists of varying length) could otherwise grow it. */
const MAX_CACHED_STATEMENTS = 500;

/** Values a statement can bind. No booleans: store them as 0/1 so both SQLite and PostgreSQL agree. */
export type SqlValue = string | number | bigint | Buffer | null;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** Id of the last inserted row (for INTEGER PRIMARY KEY tables). */
  lastInsertRowid: number | bigint;
}

/** A prepared statement: prepare once, run many times (hot paths depend on this being cheap). */
export interface Statement<Row = unknown> {
  run(...params: SqlValue[]): RunResult;
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
}

export interface Database {
  readonly dialect: 'sqlite';
  /** Where the data lives: an absolute file path or ':memory:' (never contains credentials). */
  readonly location: string;
  prepare<Row = Record<string, unknown>>(sql: string): Statement<Row>;
  /** Runs one or more statements without parameters (DDL, migrations). */
  exec(sql: string): void;
  /**
   * Runs fn in a write transaction: committed when fn returns, rolled back when it throws.
   * Nested calls become savepoints. fn must be synchronous.
   */
  transaction<T>(fn: () => T): T;
  /** Cheap reachability check for /readyz. */
  ping(): boolean;
  readonly isOpen: boolean;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** Parsed DATABASE_URL. */
export type DatabaseTarget = { kind: 'sqlite'; location: string };

/** Parses `sqlite:PATH` (relative to cwd) and `sqlite::memory:`; rejects everything else with a clear message. */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    // Never echo the URL: it usually carries a password.
    throw new Error(
      'DATABASE_URL: PostgreSQL (postgres://…) is not supported yet by this build; use sqlite:PATH (e.g. sqlite:.data/fleetwatch.db)',
    );
  }
  if (!trimmed.toLowerCase().startsWith('sqlite:')) {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(trimmed)?.[1];
    throw new Error(
      `DATABASE_URL: unsupported ${scheme ? `scheme "${scheme}:"` : 'value'}; expected sqlite:PATH or sqlite::memory:`,
    );
  }
  const rest = trimmed.slice('sqlite:'.length);
  if (rest === ':memory:') return { kind: 'sqlite', location: ':memory:' };
  if (rest === '') throw new Error('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:.data/fleetwatch.db');
  return { kind: 'sqlite', location: resolve(cwd, rest) };
}

/**
 * Opens (creating if needed) the database named by DATABASE_URL and brings its schema up to date.
 * Throws for postgres:// URLs: PostgreSQL is not supported yet by this build.
 */
export function openDatabase(url: string): Database {
  const target = parseDatabaseUrl(url);
  const db = new SqliteDatabase(target.location);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Closes a database opened with openDatabase (same as db.close()). */
export function closeDatabase(db: Database): void {
  db.close();
}

class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  private readonly raw: BetterSqlite3.Database;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(location: string) {
    this.location = location;
    if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
    this.raw = new BetterSqlite3(location);
    // WAL: readers (API) never block the writer (collector, tickets). NORMAL is durable enough in WAL
    // mode (a power cut can lose the last commits, never corrupt the file) and much cheaper than FULL.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    // SQLite leaves foreign keys off unless asked, per connection.
    this.raw.pragma('foreign_keys = ON');
    // Another process (a CLI next to `serve`) may hold the write lock for a moment: wait, don't fail.
    this.raw.pragma('busy_timeout = 5000');
  }

  get isOpen(): boolean {
    return this.raw.open;
  }

  prepare<Row = Record<string, unknown>>(sql: string): Statement<Row> {
    // The better-sqlite3 statement already has exactly this shape; no wrapper on the hot path.
    // Cached by text: the stores prepare at the call site, and compiling the same SQL on every
    // call costs more than running it. A statement holds no state between runs.
    let st = this.statements.get(sql);
    if (!st) {
      st = this.raw.prepare(sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st as unknown as Statement<Row>;
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock up front, so two connections never deadlock upgrading a read
    // lock (which busy_timeout cannot resolve in WAL mode). Nested calls become savepoints.
    return this.raw.transaction(fn).immediate();
  }

  ping(): boolean {
    try {
      return this.raw.open && this.raw.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }
}
