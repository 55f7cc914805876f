import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { Registry } from '../../src/storage/registry.js';
import { UnknownDeviceLog } from '../../src/storage/unknown-devices.js';

describe('UnknownDeviceLog', () => {
  it('buffers in memory and flushes merged counts in one go', () => {
    const db = openDatabase('sqlite::memory:');
    const log = new UnknownDeviceLog(db);
    const rows = () => db.prepare('SELECT * FROM unknown_devices ORDER BY device_id').all();

    for (let i = 0; i < 100; i++) log.record('ROGUE1', 'Studio X50', 1000 + i);
    log.record('ROGUE2', null, 5000);
    expect(rows()).toEqual([]); // nothing written per message
    expect(log.pendingCount).toBe(2);

    expect(log.flush()).toBe(2);
    expect(log.flush()).toBe(0);
    expect(rows()).toEqual([
      { device_id: 'ROGUE1', model: 'Studio X50', first_seen_ms: 1000, last_seen_ms: 1099, messages: 100 },
      { device_id: 'ROGUE2', model: null, first_seen_ms: 5000, last_seen_ms: 5000, messages: 1 },
    ]);

    // Later messages add up; first_seen stays, last_seen moves, a model learned later is kept.
    log.record('ROGUE1', undefined, 9000);
    log.record('ROGUE2', 'CCX 400', 9500);
    log.flush();
    expect(rows()).toEqual([
      { device_id: 'ROGUE1', model: 'Studio X50', first_seen_ms: 1000, last_seen_ms: 9000, messages: 101 },
      { device_id: 'ROGUE2', model: 'CCX 400', first_seen_ms: 5000, last_seen_ms: 9500, messages: 2 },
    ]);
    db.close();
  });

  it('list() includes buffered counts, newest first, and drops devices registered since', () => {
    const db = openDatabase('sqlite::memory:');
    const registry = new Registry(db);
    const log = new UnknownDeviceLog(db);
    log.record('A1', 'TC10', 100);
    log.record('B2', 'G7500', 200);
    expect(log.list().map((d) => d.deviceId)).toEqual(['B2', 'A1']);
    expect(log.list()[0]).toEqual({ deviceId: 'B2', model: 'G7500', firstSeenMs: 200, lastSeenMs: 200, messages: 1 });

    registry.upsertPartner({ id: 'p', name: 'P', timezone: 'UTC' });
    registry.upsertCustomer({ id: 'c', partnerId: 'p', name: 'C', country: 'DE' });
    registry.upsertSite({ id: 's', customerId: 'c', name: 'S', country: 'DE', timezone: 'UTC' });
    registry.upsertDevice({ id: 'B2', model: 'G7500', siteId: 's', coverage: { plan: 'poly-plus', until: null, onsite: false } });
    expect(log.list().map((d) => d.deviceId)).toEqual(['A1']);
    db.close();
  });

  it('flushes on its timer once per second, and stop() flushes the rest', () => {
    vi.useFakeTimers();
    try {
      const db = openDatabase('sqlite::memory:');
      const log = new UnknownDeviceLog(db);
      const count = () => db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM unknown_devices').get()?.n;
      log.start();
      log.start(); // idempotent
      log.record('T1', 'TC10', 1);
      vi.advanceTimersByTime(999);
      expect(count()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(count()).toBe(1);
      log.record('T2', 'TC10', 2);
      log.stop();
      expect(count()).toBe(2);
      expect(vi.getTimerCount()).toBe(0);
      db.close();
      log.stop(); // safe after the database closed
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports timer flush failures to onError and retries', () => {
    vi.useFakeTimers();
    try {
      const db = openDatabase('sqlite::memory:');
      const errors: unknown[] = [];
      const log = new UnknownDeviceLog(db, { onError: (e) => errors.push(e) });
      log.start();
      log.record('E1', null, 1);
      db.exec('ALTER TABLE unknown_devices RENAME TO unknown_devices_away');
      vi.advanceTimersByTime(1000);
      expect(errors).toHaveLength(1);
      expect(log.pendingCount).toBe(1);
      db.exec('ALTER TABLE unknown_devices_away RENAME TO unknown_devices');
      vi.advanceTimersByTime(1000);
      expect(log.pendingCount).toBe(0);
      log.stop();
      expect(log.list().map((d) => d.deviceId)).toEqual(['E1']);
      db.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('bounds the number of buffered ids between flushes', () => {
    const db = openDatabase('sqlite::memory:');
    const log = new UnknownDeviceLog(db, { maxPending: 3 });
    for (let i = 0; i < 10; i++) log.record(`X${i}`, null, i);
    log.record('X0', null, 20); // known ids still count
    expect(log.pendingCount).toBe(3);
    expect(log.dropped).toBe(7);
    log.flush();
    expect(log.list().find((d) => d.deviceId === 'X0')?.messages).toBe(2);
    db.close();
  });

  it('keeps the buffer when a flush fails', () => {
    const db = openDatabase('sqlite::memory:');
    const log = new UnknownDeviceLog(db);
    log.record('K1', 'TC10', 1);
    db.exec('DROP TABLE unknown_devices');
    expect(() => log.flush()).toThrow();
    expect(log.pendingCount).toBe(1);
    db.close();
  });
});
