// The memory bench's measurement (bench/memory.ts) on a small fleet: the real collector, alerting and
// stream parts on a seeded SQLite registry, against the last message of each device in a Map.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { measureMemory, memoryTable, planFleet } from '../../bench/memory.js';

const DEVICES = 2000;
const dir = mkdtempSync(join(tmpdir(), 'fw-bench-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('planFleet', () => {
  it('plans distinct serial-like ids in sites of 25, every site, customer and partner referenced', () => {
    const f = planFleet(1000);
    expect(new Set(f.ids).size).toBe(1000);
    expect(f.ids[0]).toMatch(/^[0-9A-Z]{12}$/);
    expect(f.seed.sites).toHaveLength(40);
    expect(f.seed.customers).toHaveLength(4);
    expect(f.seed.partners).toHaveLength(1);
    expect(new Set(f.models).size).toBeGreaterThan(3);
  });
});

describe('measureMemory', () => {
  it(`gives a plausible heap figure per device for ${DEVICES} devices, service and baseline, and the service's state does not grow`, async () => {
    const baseline = await measureMemory({ side: 'baseline', devices: DEVICES, more: 2 });
    const service = await measureMemory({ side: 'service', devices: DEVICES, more: 2, dir: join(dir, 'service') });

    expect(baseline.messages).toBe(3 * DEVICES);
    expect(service.messages).toBe(3 * DEVICES);
    // A parsed snapshot is a few hundred bytes; the service holds more (decoded snapshot, attribution,
    // alert state, stream summary, the registry's tenants), but not tens of kilobytes.
    expect(baseline.first.heapBytesPerDevice).toBeGreaterThan(200);
    expect(baseline.first.heapBytesPerDevice).toBeLessThan(5_000);
    expect(service.first.heapBytesPerDevice).toBeGreaterThan(baseline.first.heapBytesPerDevice);
    expect(service.first.heapBytesPerDevice).toBeLessThan(20_000);
    expect(service.wired!.heapBytesPerDevice).toBeGreaterThan(0);
    // Two more snapshots each replace state, they do not add to it (the wiring's fixed cost weighs
    // more at 2,000 devices than at 100,000, hence the loose bound).
    expect(service.last.heapBytesPerDevice).toBeLessThan(service.first.heapBytesPerDevice * 1.25);

    const table = memoryTable(baseline, service);
    expect(table[0]).toContain('baseline');
    expect(table.some((l) => l.startsWith('| heap bytes per device after 1 snapshot each'))).toBe(true);
  });
});
