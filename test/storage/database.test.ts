import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, parseDatabaseUrl } from '../../src/storage/database.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/storage/migrations.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

describe('openDatabase', () => {
  it('creates parent dirs, applies migrations and sets the pragmas', () => {
    const dir = tmp();
    const file = join(dir, 'nested', 'deeper', 'fleet.db');
    const db = openDatabase(`sqlite:${file}`);
    try {
      expect(existsSync(file)).toBe(true);
      expect(db.location).toBe(file);
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      const tables = db
        .prepare<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => r.name);
      for (const t of ['partners', 'customers', 'sites', 'devices', 'users', 'unknown_devices', 'dead_letters', 'schema_migrations']) {
        expect(tables).toContain(t);
      }
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      expect(db.prepare('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 });
      expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 1 }); // NORMAL
      expect(db.ping()).toBe(true);
    } finally {
      db.close();
    }
    expect(db.isOpen).toBe(false);
    expect(db.ping()).toBe(false);
    db.close(); // idempotent
  });

  it('reopening an up-to-date database is a no-op', () => {
    const file = join(tmp(), 'fleet.db');
    const first = openDatabase(`sqlite:${file}`);
    const appliedAt = first.prepare('SELECT version, applied_at FROM schema_migrations').all();
    first.prepare("INSERT INTO partners (id, name, timezone) VALUES ('p-1', 'P', 'UTC')").run();
    first.close();

    const again = openDatabase(`sqlite:${file}`);
    try {
      expect(again.prepare('SELECT version, applied_at FROM schema_migrations').all()).toEqual(appliedAt);
      expect(migrate(again)).toEqual({ from: MIGRATIONS.length, to: MIGRATIONS.length });
      expect(again.prepare('SELECT COUNT(*) AS n FROM partners').get()).toEqual({ n: 1 });
    } finally {
      again.close();
    }
  });

  it('refuses a database written by a newer build', () => {
    const file = join(tmp(), 'fleet.db');
    const db = openDatabase(`sqlite:${file}`);
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'x')").run();
    db.close();
    expect(() => openDatabase(`sqlite:${file}`)).toThrow(/schema version 99 is newer/);
  });

  it('enforces foreign keys', () => {
    const db = openDatabase('sqlite::memory:');
    try {
      expect(() =>
        db.prepare("INSERT INTO customers (id, partner_id, name, country) VALUES ('c', 'nope', 'C', 'DE')").run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      db.close();
    }
  });

  it('supports sqlite::memory:', () => {
    const db = openDatabase('sqlite::memory:');
    expect(db.location).toBe(':memory:');
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('rolls a failing transaction back', () => {
    const db = openDatabase('sqlite::memory:');
    try {
      expect(() =>
        db.transaction(() => {
          db.prepare("INSERT INTO partners (id, name, timezone) VALUES ('p-1', 'P', 'UTC')").run();
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(db.prepare('SELECT COUNT(*) AS n FROM partners').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe('DATABASE_URL parsing', () => {
  it('resolves sqlite paths against cwd', () => {
    expect(parseDatabaseUrl('sqlite:.data/fleetwatch.db', '/srv/app')).toEqual({
      kind: 'sqlite',
      location: '/srv/app/.data/fleetwatch.db',
    });
    expect(parseDatabaseUrl('sqlite:/var/lib/f.db', '/srv/app').location).toBe('/var/lib/f.db');
  });

  it('says PostgreSQL is not supported yet, without echoing credentials', () => {
    for (const url of ['postgres://fleet:s3cret@db:5432/fleet', 'postgresql://fleet:s3cret@db/fleet']) {
      let message = '';
      try {
        openDatabase(url);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/PostgreSQL .*not supported yet by this build/);
      expect(message).not.toContain('s3cret');
    }
  });

  it('rejects other schemes and an empty path', () => {
    expect(() => openDatabase('mysql://x')).toThrow(/unsupported scheme "mysql:"/);
    expect(() => openDatabase('fleet.db')).toThrow(/expected sqlite:PATH/);
    expect(() => openDatabase('sqlite:')).toThrow(/needs a file path/);
  });
});
