// The headline table of `npm run bench` (bench/summary.ts): figures side by side with their baselines,
// PASS or FAIL against the goals, and what it says when a bench did not run or failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHeadline, writeHeadline, type IngestHeadline, type LatencyHeadline, type MemoryHeadline, type StormHeadline } from '../../bench/results.js';
import { summaryTable } from '../../bench/summary.js';

const WHEN = '2026-11-25T20:40:10.641Z';
const ingest = (collectorMsgPerS: number, allStored = true): IngestHeadline => ({
  bench: 'ingest',
  when: WHEN,
  settings: { messages: 100_000, devices: 1000, rounds: 2 },
  bareMsgPerS: 34_000,
  collectorMsgPerS,
  ratio: collectorMsgPerS / 34_000,
  allStored,
});
const latency = (loadedP99: number, loadedTickets = 300): LatencyHeadline => ({
  bench: 'latency',
  when: WHEN,
  settings: { load: 8000, faults: 300, spacingMs: 30, devices: 2000 },
  idle: { faults: 300, tickets: 300, p50: 1.2, p99: 11.9 },
  loaded: { faults: 300, tickets: loadedTickets, p50: 1.3, p99: loadedP99, backgroundMsgPerS: 7900 },
});
const memory = (serviceMore: number): MemoryHeadline => ({
  bench: 'memory',
  when: WHEN,
  settings: { devices: 100_000, more: 10, intervalS: 30 },
  baseline: { first: { heapBytesPerDevice: 723, rssBytesPerDevice: 800 }, more: { heapBytesPerDevice: 724, rssBytesPerDevice: 1100 } },
  service: { first: { heapBytesPerDevice: 2362, rssBytesPerDevice: 8000 }, more: { heapBytesPerDevice: serviceMore, rssBytesPerDevice: 14000 } },
});
const storm = (stallMs: number, firing = 10_000, reconnects = 0): StormHeadline => ({
  bench: 'storm',
  when: WHEN,
  settings: { devices: 10_000, perSite: 50, idleS: 10 },
  baseline: { ms: 612, cpuUsPerDevice: 46, stallMs: 326 },
  storm: { ms: 5010, cpuUsPerDevice: 458, stallMs, firing, reconnects },
  idle: { cpuPct: 3.04, stallMs: 9 },
});

/** The cells of the row whose first cell starts with `label`. */
function row(lines: string[], label: string): string[] {
  const line = lines.find((l) => l.startsWith(`| ${label}`));
  expect(line, `a row starting with "${label}"`).toBeDefined();
  return line!.slice(2, -2).split(' | ');
}

describe('summaryTable', () => {
  it('puts each figure next to its baseline, with the ratio and PASS where the goal is met', () => {
    const lines = summaryTable({ ingest: ingest(30_000), latency: latency(14.2), memory: memory(2378), storm: storm(250) });
    expect(lines[0]).toBe('| headline | baseline | fleetwatch | ratio | goal | result |');
    expect(lines[1]).toBe('|---|---|---|---|---|---|');
    expect(lines).toHaveLength(2 + 7);

    const i = row(lines, 'ingest');
    expect(i[1]).toBe('34,000 bare mqtt.js subscriber');
    expect(i[2]).toBe('30,000 collector, stored in InfluxDB');
    expect(i[3]).toBe('0.88x');
    expect(i[5]).toBe('PASS');

    const p50 = row(lines, 'fault-to-ticket latency p50');
    expect(p50.slice(1, 4)).toEqual(['1.2 idle', '1.3 under 8,000 msg/s', '1.08x']);
    const p99 = row(lines, 'fault-to-ticket latency p99');
    expect(p99[2]).toBe('14.2 under 8,000 msg/s');
    expect(p99[4]).toContain('< 250 ms');
    expect(p99[5]).toBe('PASS');

    const m1 = row(lines, 'memory per device, heap bytes, 100,000 devices after 1 snapshot');
    expect(m1.slice(1, 4)).toEqual(["723 last message JSON.parse'd, in a Map", "2,362 the service's per-device state", '3.27x']);
    const m2 = row(lines, 'memory per device, heap bytes, after 10 more');
    expect(m2[2]).toBe('2,378 (+0.7 %)');
    expect(m2[5]).toBe('PASS');

    const cpu = row(lines, 'mass offline, 10,000 devices at sites of 50: µs CPU per device');
    expect(cpu.slice(1, 4)).toEqual([
      '46 status burst, one status each (0.6 s)',
      '458 offline storm, one offline presence each: alerts, site outages (5.0 s); then idle 3.0 % of a core',
      '9.96x',
    ]);
    expect(cpu[5]).toBe('');
    const stall = row(lines, 'longest event-loop stall during the storm, ms');
    expect(stall.slice(1, 4)).toEqual(['326 status burst', '250 offline storm', '0.77x']);
    expect(stall[4]).toBe('< 1,000 ms, every device alerted, MQTT connection kept');
    expect(stall[5]).toBe('PASS');
  });

  it('says FAIL when a goal is missed: ingest ratio below 0.8x or messages missing, p99 too high or tickets missing, state growing', () => {
    expect(row(summaryTable({ ingest: ingest(20_000) }), 'ingest')[5]).toBe('FAIL');
    expect(row(summaryTable({ ingest: ingest(33_000, false) }), 'ingest')[5]).toBe('FAIL');
    expect(row(summaryTable({ latency: latency(251) }), 'fault-to-ticket latency p99')[5]).toBe('FAIL');
    const missing = row(summaryTable({ latency: latency(20, 299) }), 'fault-to-ticket latency p99');
    expect(missing[2]).toContain('tickets opened: 299/300');
    expect(missing[5]).toBe('FAIL');
    expect(row(summaryTable({ memory: memory(2600) }), 'memory per device, heap bytes, after')[5]).toBe('FAIL');
  });

  it('says FAIL for the storm when the stall reaches 1,000 ms, a device has no alert, or the MQTT connection dropped', () => {
    const stall = (h: StormHeadline) => row(summaryTable({ storm: h }), 'longest event-loop stall during the storm');
    expect(stall(storm(999))[5]).toBe('PASS');
    expect(stall(storm(4780))[2]).toBe('4,780 offline storm');
    expect(stall(storm(4780))[5]).toBe('FAIL');
    const missing = stall(storm(250, 9_998));
    expect(missing[2]).toContain('alerts firing: 9,998/10,000');
    expect(missing[5]).toBe('FAIL');
    const dropped = stall(storm(250, 10_000, 1));
    expect(dropped[2]).toContain('MQTT connection dropped: 1 reconnect(s)');
    expect(dropped[5]).toBe('FAIL');
  });

  it('tells a bench that failed from one that did not run, and dates figures from an earlier run', () => {
    const lines = summaryTable({ memory: memory(2378) }, { ran: ['ingest', 'memory'], since: Date.parse(WHEN) - 1000 });
    expect(row(lines, 'ingest')[2]).toBe('no result: the bench failed');
    expect(row(lines, 'fault-to-ticket latency p99')[2]).toBe('not run');
    expect(row(lines, 'mass offline, µs CPU per device')[2]).toBe('not run');
    expect(row(lines, 'memory per device, heap bytes, 100,000')[0]).not.toContain('earlier run');
    expect(row(summaryTable({}, { ran: ['storm'] }), 'mass offline')[2]).toBe('no result: the bench failed');

    const later = summaryTable({ memory: memory(2378) }, { ran: ['ingest'], since: Date.parse(WHEN) + 60_000 });
    expect(row(later, 'memory per device, heap bytes, 100,000')[0]).toContain('(earlier run, 2026-11-25 20:40 UTC)');
  });

  it('leaves the loaded column and the verdict open when the latency bench ran idle only (--load 0)', () => {
    const { loaded: _none, ...idleOnly } = latency(10);
    const p99 = row(summaryTable({ latency: idleOnly }), 'fault-to-ticket latency p99');
    expect(p99[2]).toBe('not run (--load 0)');
    expect(p99[5]).toBe('not measured');
  });
});

describe('headline files', () => {
  it('are read back as written, and not at all when absent or of another bench', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-bench-results-'));
    try {
      expect(readHeadline('ingest', dir)).toBeUndefined();
      writeHeadline(ingest(30_000), dir);
      expect(readHeadline('ingest', dir)).toEqual(ingest(30_000));
      expect(readHeadline('memory', dir)).toBeUndefined();
      writeHeadline(storm(250), dir);
      expect(readHeadline('storm', dir)).toEqual(storm(250));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
