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

  // 2: alerting: alert states (so a restart neither forgets nor re-notifies), tickets with their
  // history, and the hash-chained audit log.
  `
  CREATE TABLE alerts (
    fingerprint    TEXT PRIMARY KEY,       -- the dedup key: rule + what it is about (device or site)
    rule           TEXT NOT NULL,
    device_id      TEXT,
    partner_id     TEXT,                   -- NULL for devices the registry does not know
    customer_id    TEXT,
    site_id        TEXT,
    severity       TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    state          TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
    summary        TEXT NOT NULL,
    value          REAL,
    started_ms     INTEGER NOT NULL,       -- when it last started firing
    resolved_ms    INTEGER,
    updated_ms     INTEGER NOT NULL,
    notified_state TEXT,                   -- the last state sent out (notification log)
    ticket_id      INTEGER,
    incident_id    INTEGER                 -- the cloud-partner incident it belongs to, if any
  );
  CREATE INDEX alerts_partner_state ON alerts(partner_id, state);
  CREATE INDEX alerts_device ON alerts(device_id);

  CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key      TEXT,                   -- alert fingerprint; NULL for manual tickets
    kind           TEXT NOT NULL CHECK (kind IN ('alert', 'manual', 'cloud_incident')),
    partner_id     TEXT,
    customer_id    TEXT,
    site_id        TEXT,
    device_id      TEXT,
    title          TEXT NOT NULL,
    priority       TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'escalated', 'resolved')),
    queue          TEXT NOT NULL,          -- partner_l1, poly_support, poly_specialist, cloud_partner, noc
    coverage       TEXT NOT NULL CHECK (coverage IN ('covered', 'uncovered', 'unknown')),
    opened_ms      INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    resolved_ms    INTEGER,
    reopened       INTEGER NOT NULL DEFAULT 0
  );
  -- One open ticket per dedup key, whatever races: the database refuses the second.
  CREATE UNIQUE INDEX tickets_open_dedup ON tickets(dedup_key) WHERE dedup_key IS NOT NULL AND status <> 'resolved';
  CREATE INDEX tickets_partner_status ON tickets(partner_id, status);
  CREATE INDEX tickets_dedup ON tickets(dedup_key, id);

  CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    ts_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,             -- 'system' or a user name
    type        TEXT NOT NULL,             -- opened, annotated, comment, acknowledged, escalated, resolved, reopened
    body        TEXT NOT NULL,
    data        TEXT                       -- JSON
  );
  CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

  -- Append-only; each row's hash covers its content and the previous row's hash, so an edit or a
  -- deletion anywhere breaks the chain from there on (see alerting/audit).
  CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,       -- 1, 2, 3, … without gaps
    ts_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,             -- e.g. ticket:12, alert:<fingerprint>, device:<id>
    partner_id  TEXT,
    data        TEXT NOT NULL,             -- JSON
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
  );
  CREATE INDEX audit_partner ON audit_log(partner_id, seq);
  CREATE INDEX audit_subject ON audit_log(subject, seq);
  `,

  // 3: escalation state on tickets, the partner's country (its holidays pause business-hours
  // clocks), advance replacement shipments and onsite visits.
  `
  ALTER TABLE partners ADD COLUMN country TEXT;
  ALTER TABLE tickets ADD COLUMN escalation TEXT;          -- JSON, alerting/escalation EscalationState
  ALTER TABLE tickets ADD COLUMN next_wake_ms INTEGER;     -- when the escalation next needs a look
  ALTER TABLE tickets ADD COLUMN acknowledged_ms INTEGER;
  CREATE INDEX tickets_wake ON tickets(next_wake_ms) WHERE next_wake_ms IS NOT NULL;

  CREATE TABLE replacements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    device_id     TEXT NOT NULL,
    partner_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    fault         TEXT NOT NULL,
    status        TEXT NOT NULL,           -- requested, shipped, delivered, installed, returned, cancelled
    ship_by       TEXT NOT NULL,           -- YYYY-MM-DD in the site's calendar
    deliver_by    TEXT NOT NULL,
    reason        TEXT NOT NULL,           -- how ship_by was worked out
    shipment      TEXT NOT NULL,           -- JSON, alerting/replacement Shipment (history, freight prepaid)
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX replacements_ticket ON replacements(ticket_id);

  CREATE TABLE onsite_visits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    device_id     TEXT NOT NULL,
    status        TEXT NOT NULL,           -- proposed, scheduled, done, cancelled
    reason        TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX onsite_ticket ON onsite_visits(ticket_id);
  `,

  // 4: silences and maintenance windows: alerts matching them are recorded but not announced and
  // open no ticket until the end time, when what still fires is announced.
  `
  CREATE TABLE silences (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('silence', 'maintenance')),
    partner_id   TEXT,                     -- matchers: NULL matches anything; all given must match
    customer_id  TEXT,
    site_id      TEXT,
    device_id    TEXT,
    rule         TEXT,
    starts_ms    INTEGER NOT NULL,
    ends_ms      INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    comment      TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    CHECK (ends_ms > starts_ms)
  );
  CREATE INDEX silences_ends ON silences(ends_ms);
  `,

  // 5: partner API: outbound webhooks with their delivery log, and network-tool runs on devices.
  `
  CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  TEXT NOT NULL REFERENCES partners(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,             -- HMAC key; shown once when created
    events      TEXT NOT NULL,             -- JSON array of event names, e.g. ["alert.firing","ticket.created"]
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_ms  INTEGER NOT NULL
  );
  CREATE INDEX webhooks_partner ON webhooks(partner_id);

  CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id    INTEGER NOT NULL REFERENCES webhooks(id),
    event_id      TEXT NOT NULL,
    event         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_try_ms   INTEGER,
    last_status   INTEGER,                 -- HTTP status of the last attempt, NULL if no answer
    last_error    TEXT,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_try_ms);
  CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

  CREATE TABLE diagnostics (
    id            TEXT PRIMARY KEY,        -- also the command id sent to the device
    device_id     TEXT NOT NULL,
    partner_id    TEXT,
    customer_id   TEXT,
    tool          TEXT NOT NULL CHECK (tool IN ('ping', 'traceroute', 'dns', 'bandwidth', 'port')),
    target        TEXT NOT NULL,
    params        TEXT NOT NULL,           -- JSON
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'ok', 'error', 'timeout')),
    steps         TEXT NOT NULL,           -- JSON array of the device's replies, in seq order
    result        TEXT,                    -- JSON: the final reply's data
    requested_by  TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    finished_ms   INTEGER
  );
  CREATE INDEX diagnostics_device ON diagnostics(device_id, created_ms);
  `,

  // 6: who owns a ticket (assigned by a person).
  `
  ALTER TABLE tickets ADD COLUMN owner TEXT;
  `,

  // 7: firing alerts by site: the site-outage check counts them on every device going down, and
  // without this index each count scanned the whole table (a mass offline went quadratic).
  `
  CREATE INDEX alerts_site_state ON alerts(site_id, state, rule);
  `,

  // 8: a network tool run can belong to a ticket (the evidence of the ticket), and a device's
  // timeline reads its tickets' history by device (without this index: a scan of all tickets).
  `
  ALTER TABLE diagnostics ADD COLUMN ticket_id INTEGER REFERENCES tickets(id);
  CREATE INDEX diagnostics_ticket ON diagnostics(ticket_id) WHERE ticket_id IS NOT NULL;
  CREATE INDEX tickets_device ON tickets(device_id, id) WHERE device_id IS NOT NULL;
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
