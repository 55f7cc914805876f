// `fleetwatch loadtest` (the real CLI, a child process) against the real service (in this process),
// the test mosquitto and influxd: 200 msg/s for 5 s, and the figures it reports are checked against
// what InfluxDB holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { LoadtestResult } from '../../simulators/loadtest/result.js';
import { writeLoadtestSeed } from '../../simulators/loadtest/seed.js';
import { runCli } from '../support/child-service.js';
import { makeWorld, startInProcess, storedSeqs } from '../support/harness.js';
import { testInfluxUrl, testMqttUrl } from '../support/services.js';

const TOKEN = 'loadtest-noc-token-0000000';
const RATE = 200;
const DURATION_S = 5;
const DEVICES = 360; // 180 msg/s of fleet: each device every 2 s
const PROBES = 10; // 20 msg/s of probes (rate / 10), one per probe device every 0.5 s

describe('fleetwatch loadtest', () => {
  it('reaches the target rate and reports what the service stored, latencies, CPU and an HTML report', { timeout: 60_000 }, async () => {
    const world = makeWorld([]);
    await writeLoadtestSeed(world.env.FLEET_SEED!, { devices: DEVICES, probeDevices: PROBES, token: TOKEN });
    const service = await startInProcess(world);
    const report = join(world.dir, 'report.html');
    let output = '';
    try {
      const lt = runCli(
        [
          'loadtest',
          ...['--url', testMqttUrl(), '--rate', String(RATE), '--duration', String(DURATION_S)],
          ...['--registry', world.env.FLEET_SEED!, '--influx-url', testInfluxUrl(), '--influx-db', world.name],
          ...['--api-url', service.httpUrl, '--token', TOKEN, '--report', report],
        ],
        {},
      );
      const { code } = await lt.exited;
      output = lt.output();
      expect(code, output).toBe(0);

      // stdout: the summary and where the report is
      expect(output).toMatch(/achieved rate +\d+\.\d msg\/s \(1,000 published in 5\.0 s/);
      expect(output).toMatch(/stored in InfluxDB +1,000 distinct messages in 1,000 points: 0 lost, 0 duplicates/);
      expect(output).toMatch(/publish -> InfluxDB +p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
      expect(output).toMatch(/publish -> socket\.io +p50 [\d.]+ ms/);
      expect(output).toMatch(/verdict +PASS/);
      expect(output).toContain(`loadtest: report ${report}`);

      // the report: self-contained, every chart, and the raw figures
      const html = readFileSync(report, 'utf8');
      for (const kind of ['rate', 'delivery', 'stored', 'latency', 'latency-time', 'latency-influx', 'latency-stream', 'cpu']) expect(html).toContain(`data-chart="${kind}"`);
      expect(html).not.toMatch(/<script(?! type="application\/json")|\b(src|href)=/);
      const r = JSON.parse(/<script type="application\/json" id="loadtest-data">(.*?)<\/script>/s.exec(html)![1]!) as LoadtestResult;

      // what was sent, and what InfluxDB has: the report's own figures...
      expect(r.settings).toMatchObject({ targetRate: RATE, devices: DEVICES, probeDevices: PROBES, probeRate: 20, connections: 1 });
      expect(r.delivery).toMatchObject({ published: RATE * DURATION_S, acked: RATE * DURATION_S, unacked: 0, storedDistinct: RATE * DURATION_S, storedPoints: RATE * DURATION_S, duplicates: 0, lost: 0 });
      expect(r.achievedRate).toBeGreaterThanOrEqual(RATE * 0.95);
      expect(r.timeline.published.length).toBe(DURATION_S);
      expect(r.timeline.acked.length).toBeGreaterThanOrEqual(DURATION_S - 1);
      // ...and InfluxDB read directly: every device's seq 0..n-1 once
      const seqs = await storedSeqs(world);
      const total = [...seqs.values()].reduce((a, s) => a + s.length, 0);
      expect(total).toBe(r.delivery.published);
      for (const [device, list] of seqs) expect(list, device).toEqual(Array.from({ length: list.length }, (_, i) => i));
      expect(seqs.get('LTPROBE01')).toHaveLength((20 / PROBES) * DURATION_S);

      // latency samples on both paths, one per probe message
      expect(r.warmup.absorbed).toBe(true);
      expect(r.influxLatency.samples).toBe(20 * DURATION_S);
      expect(r.influxLatency.distribution!.p50).toBeGreaterThan(0);
      expect(r.streamLatency.unavailable).toBeUndefined();
      expect(r.streamLatency.samples).toBe(20 * DURATION_S);
      expect(r.streamLatency.distribution!.max).toBeLessThan(5000);

      // CPU: the service is this process (found by its HTTP port), mosquitto and influxd by theirs
      const cpu = new Map(r.cpu.map((c) => [c.roles, c]));
      expect([...cpu.keys()]).toEqual(['load tester', 'service', 'broker', 'InfluxDB']);
      expect(cpu.get('service')!.process).toMatch(new RegExp(`\\(pid ${process.pid}\\)$`));
      expect(cpu.get('broker')!.process).toMatch(/^mosquitto \(pid \d+\)$/);
      expect(cpu.get('InfluxDB')!.process).toMatch(/^influxd \(pid \d+\)$/);
      for (const c of r.cpu) expect(c.usPerMsg, c.roles).toBeGreaterThan(0);
    } finally {
      await service.stop();
      // Presence is retained: clear it, or every later service on this broker sees these devices.
      const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `lt-clear-${process.pid}`, clean: true });
      const ids = [...Array.from({ length: DEVICES }, (_, i) => `SIM${String(i + 1).padStart(6, '0')}`), ...Array.from({ length: PROBES }, (_, i) => `LTPROBE${String(i + 1).padStart(2, '0')}`)];
      await Promise.all(ids.map((id) => c.publishAsync(`poly/v1/devices/${id}/presence`, '', { qos: 1, retain: true })));
      await c.endAsync();
      await world.cleanup();
    }
  });
});
