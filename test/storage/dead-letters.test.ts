import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { DEAD_LETTER_PAYLOAD_MAX, DeadLetterStore } from '../../src/storage/dead-letters.js';

function letter(i: number, deviceId: string | null = `DEV${i % 3}`) {
  return {
    receivedMs: 1_795_475_557_000 + i,
    topic: deviceId ? `poly/v1/devices/${deviceId}/status` : 'poly/v1/other',
    deviceId,
    reasonCode: 'invalid_json',
    reason: `message ${i} is not JSON`,
    payload: Buffer.from(`not json ${i}`),
  };
}

describe('DeadLetterStore', () => {
  it('adds and lists newest first, with filters and paging', () => {
    const db = openDatabase('sqlite::memory:');
    const store = new DeadLetterStore(db);
    const ids = Array.from({ length: 10 }, (_, i) => store.add(letter(i)));
    store.add(letter(10, null));
    expect(store.count()).toBe(11);

    const all = store.list({ limit: 100 });
    expect(all.map((l) => l.id)).toEqual([...ids, ids[9]! + 1].reverse());
    expect(all[0]).toMatchObject({ deviceId: null, topic: 'poly/v1/other', truncated: false });
    expect(all[1]).toEqual({
      id: ids[9],
      receivedMs: 1_795_475_557_009,
      topic: 'poly/v1/devices/DEV0/status',
      deviceId: 'DEV0',
      reasonCode: 'invalid_json',
      reason: 'message 9 is not JSON',
      payload: Buffer.from('not json 9'),
      size: 10,
      truncated: false,
    });

    const page1 = store.list({ limit: 4 });
    const page2 = store.list({ limit: 4, beforeId: page1[3]!.id });
    expect([...page1, ...page2].map((l) => l.id)).toEqual(all.slice(0, 8).map((l) => l.id));

    const dev1 = store.list({ deviceId: 'DEV1', limit: 10 });
    expect(dev1.map((l) => l.reason)).toEqual(['message 7 is not JSON', 'message 4 is not JSON', 'message 1 is not JSON']);
    expect(store.list({ deviceId: 'DEV1', beforeId: dev1[0]!.id, limit: 1 }).map((l) => l.reason)).toEqual([
      'message 4 is not JSON',
    ]);
    expect(store.list()).toHaveLength(11); // default limit
    expect(store.list({ limit: 0 })).toHaveLength(1); // clamped to at least 1
    db.close();
  });

  it('keeps only the first 64 KiB of a payload and remembers the size', () => {
    const db = openDatabase('sqlite::memory:');
    const store = new DeadLetterStore(db);
    const big = Buffer.alloc(200_000, 0x61);
    store.add({ ...letter(1), reasonCode: 'too_large', payload: big });
    const [stored] = store.list({ limit: 1 });
    expect(stored?.payload.length).toBe(DEAD_LETTER_PAYLOAD_MAX);
    expect(stored?.size).toBe(200_000);
    expect(stored?.truncated).toBe(true);
    db.close();
  });

  it('trims to the newest N, and ids are not reused afterwards', () => {
    const db = openDatabase('sqlite::memory:');
    const store = new DeadLetterStore(db);
    const ids = Array.from({ length: 20 }, (_, i) => store.add(letter(i)));
    expect(store.trim(50)).toBe(0);
    expect(store.trim(5)).toBe(15);
    expect(store.count()).toBe(5);
    expect(store.list({ limit: 100 }).map((l) => l.id)).toEqual(ids.slice(15).reverse());
    expect(store.trim(5)).toBe(0);
    expect(store.trim(0)).toBe(5);
    expect(store.count()).toBe(0);
    expect(store.add(letter(99))).toBe(ids[19]! + 1);
    db.close();
  });
});
