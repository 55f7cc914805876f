// Schema history of the relational store. Entry i is schema version i + 1.
// Rules: only ever APPEND; never edit or reorder an entry that has shipped (databases in the field
// have already applied it). Keep the SQL portable where it costs nothing; the few SQLite-isms
// (AUTOINCREMENT, BLOB) are the DDL a PostgreSQL adapter would translate.

import type { Database } from './database.js';

export const MIGRATIONS: readonly string[] = [
  // 1: registry (tenancy + coverage), API users, unknown devices, dead letters.
  `
  CREATE TABLE partners (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    timezone  TEXT NOT NULL
  );

  CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    partner_id  TEXT NOT NULL REFERENCES partners(id),
    name        TEXT NOT NULL,
    country     TEXT NOT NULL
  );
  CREATE INDEX customers_partner ON customers(partner_id);

  CREATE TABLE sites (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers(id),
    name         TEXT NOT NULL,
    country      TEXT NOT NULL,
    timezone     TEXT NOT NULL
  );
  CREATE INDEX sites_customer ON sites(customer_id);

  CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    model            TEXT NOT NULL,
    site_id          TEXT NOT NULL REFERENCES sites(id),
    coverage_plan    TEXT NOT NULL,
    coverage_until   TEXT,                 -- ISO date YYYY-MM-DD, NULL = open-ended
    coverage_onsite  INTEGER NOT NULL DEFAULT 0 CHECK (coverage_onsite IN (0, 1)),
    registered_at    TEXT NOT NULL         -- ISO timestamp, set once on first insert
  );
  CREATE INDEX devices_site ON devices(site_id);

  CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('noc', 'partner_admin', 'partner_user')),
    partner_id  TEXT REFERENCES partners(id),
    token_hash  TEXT NOT NULL UNIQUE,      -- sha256 hex of the bearer token; the token itself is never stored
    -- noc sees every partner and belongs to none; partner roles always belong to exactly one.
    CHECK ((role = 'noc' AND partner_id IS NULL) OR (role <> 'noc' AND partner_id IS NOT NULL))
  );
  CREATE INDEX users_partner ON users(partner_id);

  CREATE TABLE unknown_devices (
    device_id      TEXT PRIMARY KEY,
    model          TEXT,
    first_seen_ms  INTEGER NOT NULL,
    last_seen_ms   INTEGER NOT NULL,
    messages       INTEGER NOT NULL
  );

  CREATE TABLE dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so list(beforeId) pages stay stable across trims
    received_ms  INTEGER NOT NULL,
    topic        TEXT NOT NULL,
    device_id    TEXT,
    reason_code  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    payload      BLOB NOT NULL,                      -- first 64 KiB only
    size         INTEGER NOT NULL                    -- size of the whole original payload
  );
  CREATE INDEX dead_letters_received ON dead_letters(received_ms);
  CREATE INDEX dead_letters_device ON dead_letters(device_id, id);
  `,
];

export interface MigrationResult {
  /** Schema version before. */
  from: number;
  /** Schema version now. */
  to: number;
}

/**
 * Applies the pending migrations, all in one transaction (a database is either fully upgraded or
 * untouched). Re-running is a no-op. Refuses a database written by a newer build.
 */
export function migrate(db: Database): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
  )`);
  return db.transaction(() => {
    // Read inside the (write-locked) transaction so two processes opening the file at once
    // cannot both apply the same migration.
    const row = db.prepare<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get();
    const from = row?.v ?? 0;
    if (from > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${from} is newer than this build knows (${MIGRATIONS.length}); upgrade Fleetwatch`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (let version = from + 1; version <= MIGRATIONS.length; version++) {
      const sql = MIGRATIONS[version - 1];
      if (sql === undefined) break;
      db.exec(sql);
      record.run(version, new Date().toISOString());
    }
    return { from, to: MIGRATIONS.length };
  });
}

/** Current schema version of an open database (0 = empty). */
export function schemaVersion(db: Database): number {
  const row = db.prepare<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get();
  return row?.v ?? 0;
}
