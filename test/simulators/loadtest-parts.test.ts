// The pure parts of `fleetwatch loadtest`: percentiles, the ledger, delivery and verdict, option
// parsing, /metrics parsing, probe messages, /proc readings, the charts and the HTML report.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cpuRows, findTargets, parsePids, readCpu, urlPort } from '../../simulators/loadtest/cpu-usage.js';
import { SentLedger } from '../../simulators/loadtest/ledger.js';
import { defaultReportPath, probeDeviceCount, resolveLoadtestOptions } from '../../simulators/loadtest/options.js';
import { distribution, histogram, niceStep, percentile } from '../../simulators/loadtest/percentiles.js';
import { generatedProbeIds, parseProbeFirmware, probeFirmware, probeSnapshot } from '../../simulators/loadtest/probes.js';
import { cpuMs, isLocalHost, listeningPid, selfCpuMs } from '../../simulators/loadtest/proc-cpu.js';
import { formatProgress, ProgressBar } from '../../simulators/loadtest/progress.js';
import { buildReport } from '../../simulators/loadtest/report-html.js';
import type { LoadtestResult } from '../../simulators/loadtest/result.js';
import { perSecondRates } from '../../simulators/loadtest/run.js';
import { writeLoadtestSeed } from '../../simulators/loadtest/seed.js';
import { parseMetrics } from '../../simulators/loadtest/service-metrics.js';
import type { InfluxQuery } from '../../simulators/loadtest/influx-query.js';
import { compareDelivery, settleStored, type StoredCounts } from '../../simulators/loadtest/stored.js';
import { formatSummary } from '../../simulators/loadtest/summary.js';
import { barChart, escapeXml, histogramChart, lineChart, shortNumber } from '../../simulators/loadtest/svg-charts.js';
import { judge } from '../../simulators/loadtest/verdict.js';
import { readSeedFile } from '../../src/storage/seed.js';

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 0.5)).toBe(50);
    expect(percentile(s, 0.9)).toBe(90);
    expect(percentile(s, 0.99)).toBe(99);
    expect(percentile(s, 1)).toBe(100);
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('summarises unsorted samples', () => {
    expect(distribution([])).toBeUndefined();
    expect(distribution([30, 10, 20, 40])).toEqual({ n: 4, min: 10, mean: 25, p50: 20, p90: 40, p99: 40, max: 40 });
  });

  it('bins from 0 with a round width and keeps every sample', () => {
    expect([0.3, 3, 7, 12, 45, 99].map(niceStep)).toEqual([0.5, 5, 10, 20, 50, 100]);
    const h = histogram([1, 2, 3, 250, 999], 10);
    expect(h.edges[1]! - h.edges[0]!).toBe(100);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(h.counts[0]).toBe(3);
    expect(h.edges.at(-1)).toBeGreaterThanOrEqual(999);
    expect(histogram([]).counts).toEqual([0]);
  });
});

describe('SentLedger', () => {
  it('counts per device and per second of ts, and the ts range', () => {
    const l = new SentLedger(['A', 'B'], 3);
    l.start(10_000);
    l.record('A', 10_100, 0);
    l.record('A', 11_500, 1);
    l.record('B', 12_999, 0);
    l.record('B', 20_000, 1); // after the run: counted in the last second
    l.record('C', 10_500, 0);
    expect(Array.from(l.perDevice)).toEqual([2, 2]);
    expect(Array.from(l.perSecond)).toEqual([1, 1, 2]);
    expect(l.total).toBe(4);
    expect(l.foreign).toBe(1);
    expect([l.minTs, l.maxTs]).toEqual([10_100, 20_000]);
    expect(() => new SentLedger(['A', 'A'], 1)).toThrow(/twice/);
  });

  it('gives rates per second, the last partial second scaled', () => {
    expect(perSecondRates([10, 10, 5], 2.5)).toEqual([
      [0.5, 10],
      [1.5, 10],
      [2.5, 10],
    ]);
  });
});

describe('delivery and verdict', () => {
  const ledger = new SentLedger(['A', 'B', 'C'], 1);
  for (const [id, n] of [['A', 3], ['B', 2], ['C', 1]] as const) for (let i = 0; i < n; i++) ledger.record(id, 1000 + i, i);
  const stored = (points: number[], distinct: number[]): StoredCounts => ({
    points: points.reduce((a, b) => a + b, 0),
    distinct: distinct.reduce((a, b) => a + b, 0),
    perDevicePoints: Uint32Array.from(points),
    perDeviceDistinct: Uint32Array.from(distinct),
  });

  it('counts loss against acknowledged messages and duplicates as extra points of one seq', () => {
    const d = compareDelivery(ledger, 5, stored([3, 3, 0], [3, 2, 0]), 1000, 1002);
    expect(d).toMatchObject({ published: 6, acked: 5, unacked: 1, storedPoints: 6, storedDistinct: 5, duplicates: 1, lost: 0, devicesMissing: 1, devicesWithDuplicates: 1 });
    const v = judge(d, 100, 100);
    expect(v.pass).toBe(false);
    expect(v.failures.join(' ')).toMatch(/1 duplicate.*1 message\(s\) never acknowledged/);
  });

  it('passes when all is stored once at 95 % of the target or more', () => {
    const d = compareDelivery(ledger, 6, stored([3, 2, 1], [3, 2, 1]), 1000, 1002);
    expect(d.lost).toBe(0);
    expect(judge(d, 95, 100)).toEqual({ pass: true, failures: [] });
    expect(judge(d, 94.9, 100).failures).toEqual(['achieved 94.9 msg/s, below 95 % of the target 100 msg/s']);
    const lossy = compareDelivery(ledger, 6, stored([3, 1, 1], [3, 1, 1]), 1000, 1002);
    expect(lossy.lost).toBe(1);
    expect(judge(lossy, 100, 100, 'timeout').failures).toEqual(['1 acknowledged message(s) not in InfluxDB when counting gave up (--settle)']);
  });
});

describe('settling the stored count', () => {
  it('counts again when InfluxDB answers with fewer points than distinct seq (a read during a write)', async () => {
    const ledger = new SentLedger(['A'], 1);
    for (let i = 0; i < 3; i++) ledger.record('A', 1000 + i, i);
    // A stand-in for InfluxDB's answers, in order: inconsistent first, then settled.
    const answers = [
      [2, 3],
      [3, 3],
    ];
    let asked = 0;
    const q = {
      query: async () => {
        const [n, d] = answers[Math.min(asked++, answers.length - 1)]!;
        return [{ name: 'device_status', tags: { device: 'A' }, columns: ['time', 'n', 'd'], values: [[0, n, d]] }];
      },
    } as unknown as InfluxQuery;
    const settled = await settleStored(q, ledger, 3, 1000, 1002, { everyMs: 1 });
    expect(asked).toBe(2);
    expect(settled).toMatchObject({ ended: 'all stored', counts: { points: 3, distinct: 3 } });
    expect(compareDelivery(ledger, 3, settled.counts, 1000, 1002).duplicates).toBe(0);
  });
});

describe('loadtest options', () => {
  it('has defaults from the environment and sizes the fleet for a message every 10 s', async () => {
    const o = await resolveLoadtestOptions({ rate: '200', duration: '5' }, { INFLUX_URL: 'http://db:8086', INFLUX_DB: 'fw', PORT: '4000' }, new Date(2026, 0, 2, 3, 4, 5));
    expect(o).toMatchObject({
      mqttUrl: 'mqtt://127.0.0.1:1883',
      rate: 200,
      durationS: 5,
      probeRate: 20,
      devices: 1800,
      influxUrl: 'http://db:8086',
      influxDb: 'fw',
      apiUrl: 'http://127.0.0.1:4000',
      qos: 1,
      seed: 1,
      settleMaxS: 30,
      warmupMaxS: 60,
    });
    expect(o.reportPath).toBe(defaultReportPath(new Date(2026, 0, 2, 3, 4, 5)));
    expect(o.reportPath).toMatch(/\.data\/loadtest\/loadtest-report-20260102-030405\.html$/);
    expect((await resolveLoadtestOptions({ rate: '5' }, {})).probeRate).toBe(0.5);
    expect((await resolveLoadtestOptions({ rate: '5', probes: '0' }, {})).devices).toBe(50);
    expect([0, 0.5, 3, 20, 100].map((r) => probeDeviceCount(r))).toEqual([0, 1, 3, 10, 10]);
    expect(probeDeviceCount(20, 4)).toBe(4);
  });

  it('plays a registry without its LTPROBE devices, which become the probes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fwlt-opt-'));
    const file = join(dir, 'seed.json');
    const devices = [...['D1', 'LTPROBE07', 'D2', 'D3'].map((id) => ({ id, model: 'Studio X50', siteId: 's' }))];
    await writeFile(file, JSON.stringify({ devices }));
    const o = await resolveLoadtestOptions({ registry: file, devices: '2' }, {});
    expect(o.fleetDevices?.map((d) => d.id)).toEqual(['D1', 'D2']);
    expect(o.registryProbes?.map((d) => d.id)).toEqual(['LTPROBE07']);
    expect((await resolveLoadtestOptions({}, { FLEET_SEED: file })).devices).toBe(3);
    await expect(resolveLoadtestOptions({ registry: file, devices: '4' }, {})).rejects.toThrow(/exceeds the 3 devices/);
  });

  it.each([
    [{ rate: '0' }, '--rate must be a positive number'],
    [{ rate: 'fast' }, '--rate must be a positive number'],
    [{ duration: '-1' }, '--duration must be a positive number'],
    [{ devices: '1.5' }, '--devices must be a positive integer'],
    [{ rate: '10', probes: '10' }, '--probes (10) must be below --rate'],
    [{ probes: '-1' }, '--probes must be a non-negative number'],
    [{ qos: '2' }, '--qos must be 0 or 1'],
    [{ seed: 'x' }, '--seed must be an integer'],
    [{ url: 'http://x' }, '--url must be an mqtt://'],
    [{ influxUrl: 'mqtt://x' }, '--influx-url must be an http://'],
    [{ apiUrl: 'nope' }, '--api-url must be an http://'],
    [{ influxDb: 'a b' }, '--influx-db must be'],
    [{ pids: 'service=abc' }, '--pids: "service=abc" is not name=pid'],
    [{ pids: 'redis=12' }, '--pids: "redis=12" is not name=pid'],
    [{ warmup: 'x' }, '--warmup must be a non-negative number'],
    [{ writeSeed: 'x.json', token: 'short' }, '--token must be at least 16 characters'],
    [{ writeSeed: 'x.json', registry: 'y.json' }, 'leave out --registry'],
  ])('rejects %o', async (flags, message) => {
    await expect(resolveLoadtestOptions(flags, {})).rejects.toThrow(message);
  });
});

describe('load test seed file', () => {
  it('is a registry the service accepts, with the fleet, the probes and a noc user', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'fwlt-seed-')), 'lt.json');
    expect(await writeLoadtestSeed(file, { devices: 5, probeDevices: 2, token: 'noc-token-0123456789' })).toEqual({ devices: 5, probes: 2 });
    const seed = readSeedFile(file);
    expect(seed.devices.map((d) => d.id)).toEqual(['SIM000001', 'SIM000002', 'SIM000003', 'SIM000004', 'SIM000005', 'LTPROBE01', 'LTPROBE02']);
    expect(seed.users).toEqual([{ name: 'loadtest-noc', role: 'noc', partnerId: null, token: 'noc-token-0123456789' }]);
  });
});

describe('probe messages', () => {
  it('name their message in the firmware, above every catalog minimum', () => {
    expect(generatedProbeIds(3)).toEqual(['LTPROBE01', 'LTPROBE02', 'LTPROBE03']);
    expect(probeFirmware(4711, 12)).toBe('99.4711.12');
    expect(parseProbeFirmware('99.4711.12', 4711)).toBe(12);
    expect(parseProbeFirmware('99.4712.12', 4711)).toBeUndefined();
    expect(parseProbeFirmware('4.1.0.123', 4711)).toBeUndefined();
    expect(parseProbeFirmware(undefined, 4711)).toBeUndefined();
    const snap = JSON.parse(probeSnapshot('Studio X50', 4711, 3, 1795475557000)) as Record<string, unknown>;
    expect(snap).toMatchObject({ v: 1, ts: 1795475557000, seq: 3, model: 'Studio X50', firmware: '99.4711.3', tempC: 45, network: { link: 'up' } });
  });
});

describe('service /metrics', () => {
  it('sums the counters it needs, presence and status apart', () => {
    const m = parseMetrics(
      [
        '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
        'process_cpu_seconds_total 12.5',
        'fleetwatch_messages_received_total{kind="status"} 100',
        'fleetwatch_messages_received_total{kind="presence"} 7',
        'fleetwatch_points_written_total 107',
        'fleetwatch_journal_pending_bytes 0',
        'fleetwatch_points_written_total_bogus NaN',
      ].join('\n'),
    );
    expect(m).toEqual({ cpuSeconds: 12.5, received: 107, presenceReceived: 7, statusReceived: 100, written: 107, journalPendingBytes: 0 });
    expect(parseMetrics('')).toEqual({ cpuSeconds: undefined, received: undefined, presenceReceived: undefined, statusReceived: undefined, written: undefined, journalPendingBytes: undefined });
  });
});

describe('CPU of processes', () => {
  it('reads /proc for this process and finds the listener of a port', async () => {
    expect(cpuMs(process.pid)).toBeGreaterThan(0);
    expect(cpuMs(2 ** 30)).toBeUndefined();
    expect(selfCpuMs()).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(listeningPid(port)).toBe(process.pid);
      // A service found on its port in this very process is one row with the load tester.
      const targets = findTargets({ apiUrl: `http://127.0.0.1:${port}`, mqttUrl: 'mqtt://broker.example:1883', influxUrl: 'http://localhost:1' });
      expect(targets.map((t) => [t.roles.join('+'), t.unavailable?.split(' ')[0]])).toEqual([
        ['load tester+service', undefined],
        ['broker', 'not'],
        ['InfluxDB', 'not'],
      ]);
      expect(targets[1]!.unavailable).toBe('not local (broker.example)');
      expect(targets[2]!.unavailable).toMatch(/^not found/);
      const before = readCpu(targets);
      let x = 0;
      for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
      const rows = cpuRows(targets, before, readCpu(targets), 1000, 5000 + (x > 0 ? 0 : 1));
      expect(rows[0]).toMatchObject({ roles: 'load tester + service', source: 'process.cpuUsage' });
      expect(rows[0]!.usPerMsg).toBeGreaterThan(0);
      expect(rows[1]).toEqual({ roles: 'broker', process: '-', note: 'not local (broker.example)' });
    } finally {
      server.close();
    }
  });

  it('takes pids by name, and service CPU from /metrics when it is not local', () => {
    expect(parsePids('service=10, mosquitto=11,influxd=12')).toEqual({ service: 10, broker: 11, InfluxDB: 12 });
    expect(urlPort('mqtt://h')).toBe(1883);
    expect(urlPort('mqtts://h')).toBe(8883);
    expect(urlPort('http://h:3000')).toBe(3000);
    expect(isLocalHost('127.0.0.1') && isLocalHost('localhost') && isLocalHost('[::1]')).toBe(true);
    expect(isLocalHost('example.com')).toBe(false);
    const targets = findTargets({ apiUrl: 'http://api.example:3000', mqttUrl: 'mqtt://broker.example', influxUrl: 'http://db.example:8086' });
    const rows = cpuRows(targets, readCpu(targets), readCpu(targets), 1000, 2000);
    expect(rows[1]).toMatchObject({ roles: 'service', process: 'from /metrics', cpuMs: 2000, usPerMsg: 2000, source: '/metrics' });
  });
});

describe('progress bar', () => {
  const state = { elapsedS: 2, totalS: 4, published: 400, acked: 390, rate: 199.6, targetRate: 200 };

  it('draws elapsed, sent, rate and acked', () => {
    expect(formatProgress(state, 10)).toBe('[#####.....] 2/4 s sent 400 rate 200/200 msg/s acked 390');
  });

  it('redraws one line on a terminal, and prints a line every 5 s otherwise', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const bar = new ProgressBar(tty);
    bar.update(state);
    bar.update({ ...state, elapsedS: 3 });
    bar.done();
    const drawn = String(tty.read());
    expect(drawn.split('\r')).toHaveLength(3);
    expect(drawn.endsWith('\n')).toBe(true);

    const log = new PassThrough();
    const plain = new ProgressBar(log, 5);
    for (let s = 0; s <= 11; s++) plain.update({ ...state, elapsedS: s, totalS: 12 });
    expect(String(log.read()).trim().split('\n')).toHaveLength(3); // at 0, 5 and 10 s
  });
});

describe('charts', () => {
  it('escapes text and shortens numbers', () => {
    expect(escapeXml('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;');
    expect([0, 7.25, 950, 1200, 25_000, 3_400_000].map(shortNumber)).toEqual(['0', '7.25', '950', '1.2k', '25k', '3.4M']);
  });

  it('draws lines, bars and histograms as inline SVG', () => {
    const line = lineChart({ kind: 'rate', title: 'Rate <x>', xLabel: 's', yLabel: 'msg/s', series: [{ name: 'a', color: '#000', points: [[0, 1], [1, 2]] }, { name: 'b', color: '#111', points: [[0.5, 3]], dots: true }] });
    expect(line).toMatch(/^<svg class="chart" data-chart="rate"/);
    expect(line).toContain('<title>Rate &lt;x&gt;</title>');
    expect(line).toMatch(/<path d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
    expect(line).toContain('<circle');
    const bars = barChart({ kind: 'cpu', title: 'CPU', unit: 'µs/msg', bars: [{ label: 'service', value: 20 }, { label: 'broker', value: undefined, text: 'n/a: not local' }] });
    expect(bars.match(/<rect /g)).toHaveLength(1);
    expect(bars).toContain('n/a: not local');
    const hist = histogramChart({ kind: 'h', title: 'H', xLabel: 'ms', hist: histogram([1, 2, 3, 40]), color: '#123', markers: [{ label: 'p50', value: 2 }] });
    expect(hist.match(/<rect /g)!.length).toBeGreaterThan(2);
    expect(hist).toContain('>p50</text>');
  });
});

function sampleResult(): LoadtestResult {
  const lat = (ms: number[]) => ({
    probes: 100,
    samples: ms.length,
    missing: 100 - ms.length,
    distribution: distribution(ms)!,
    histogram: histogram(ms),
    resolution: 'poll every 100 ms',
    raw: ms,
    overTime: ms.map((v, i) => [i / 10, v] as [number, number]),
  });
  const ledger = new SentLedger(['A'], 1);
  ledger.record('A', 1000, 0);
  return {
    startedAt: '2026-11-25T10:00:00.000Z',
    settings: { mqttUrl: 'mqtt://127.0.0.1:1883', influxUrl: 'http://127.0.0.1:8086', influxDb: 'fleet', apiUrl: 'http://127.0.0.1:3000', targetRate: 200, durationS: 5, devices: 1800, connections: 4, intervalS: 10, probeDevices: 10, probeRate: 20, qos: 1, seed: 1 },
    warmup: { presence: 1800, tookMs: 800, absorbed: true },
    windowS: 5,
    achievedRate: 200,
    timeline: { published: [[0.5, 200]], acked: [[1, 199]], serviceWritten: [[1, 200]], stored: [[0.5, 200]] },
    delivery: { ...compareDelivery(ledger, 1, { points: 1, distinct: 1, perDevicePoints: Uint32Array.of(1), perDeviceDistinct: Uint32Array.of(1) }, 1000, 1000) },
    settleMs: 300,
    settleEnded: 'all stored',
    influxLatency: lat([50, 60, 70, 120]),
    streamLatency: { unavailable: 'no --token given', probes: 100, samples: 0, missing: 0, resolution: '', raw: [], overTime: [] },
    cpu: [
      { roles: 'load tester', process: 'node (pid 1)', cpuMs: 100, usPerMsg: 100, source: 'process.cpuUsage' },
      { roles: 'broker', process: '-', note: 'not local (b)' },
    ],
    cpuMessages: 1000,
    cpuWindowS: 6,
    publishErrors: 0,
    lastError: '</script><script>alert(1)</script>',
    verdict: { pass: true, failures: [] },
  };
}

describe('summary and HTML report', () => {
  it('prints one row per figure', () => {
    const text = formatSummary(sampleResult());
    expect(text).toMatch(/achieved rate +200\.0 msg\/s \(1 published in 5\.0 s/);
    expect(text).toMatch(/publish -> InfluxDB +p50 60 ms, p90 120 ms, p99 120 ms, max 120 ms \(4 of 100 probes, 96 never seen\)/);
    expect(text).toMatch(/publish -> socket\.io +not measured: no --token given/);
    expect(text).toMatch(/CPU broker +n\/a: not local \(b\)/);
    expect(text).toMatch(/verdict +PASS/);
  });

  it('is one self-contained file with every chart and the raw figures', () => {
    const r = sampleResult();
    const html = buildReport(r);
    for (const kind of ['rate', 'delivery', 'stored', 'latency', 'latency-time', 'latency-influx', 'cpu']) expect(html).toContain(`data-chart="${kind}"`);
    expect(html).toContain('Not measured: no --token given');
    expect(html).not.toMatch(/<script(?! type="application\/json")/);
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/<link|@import|url\(/);
    const json = /<script type="application\/json" id="loadtest-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json)).toMatchObject({ achievedRate: 200, lastError: r.lastError });
  });
});
