// Nothing lost: InfluxDB down for 30 s mid-stream, the collector SIGKILLed mid-stream, SIGTERM.
// Real mosquitto (persistent sessions), real influxd, the real collector.
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { countStatus, makeWorld, publisher, range, startInProcess, statusPayload, storedSeqs, waitFor, type TestWorld } from '../support/harness.js';
import { startChild } from '../support/child-service.js';
import { startInfluxd, stopInfluxd } from '../support/services.js';

const DEVICES = range(10).map((i) => `DURDEV${String(i).padStart(3, '0')}`);

/** Publishes `perDevice` snapshots for every device at about `ratePerS` messages a second. */
async function stream(pub: MqttClient, perDevice: number, ratePerS: number, t0: number): Promise<number> {
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((ratePerS * tickMs) / 1000));
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  for (let seq = 0; seq < perDevice; seq++) {
    for (const [i, id] of DEVICES.entries()) {
      pending.push(pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(seq, t0 + seq * 100 + i), { qos: 1 }));
      if (++sent % perTick === 0) await new Promise((r) => setTimeout(r, tickMs));
    }
  }
  await Promise.all(pending);
  return sent;
}

async function expectAllStored(world: TestWorld, perDevice: number, timeoutMs: number): Promise<void> {
  const total = DEVICES.length * perDevice;
  expect(await waitFor(() => countStatus(world), (n) => n >= total, timeoutMs, 500)).toBe(total);
  const seqs = await storedSeqs(world);
  for (const id of DEVICES) expect(seqs.get(id), id).toEqual(range(perDevice));
}

describe('durability', () => {
  let world: TestWorld | undefined;
  afterEach(async () => {
    await startInfluxd(); // whatever happened in the test, leave influxd running
    await world?.cleanup();
    world = undefined;
  });

  it('loses nothing when InfluxDB is stopped for 30 s in the middle of a stream', async () => {
    world = makeWorld(DEVICES.map((id) => ({ id })));
    const service = await startInProcess(world);
    const pub = await publisher();
    try {
      const t0 = Date.now() - 120_000;
      const streaming = stream(pub, 400, 100, t0); // 4,000 messages over ~40 s
      await waitFor(() => countStatus(world!), (n) => n > 200, 10_000);
      await stopInfluxd();
      const outageStart = Date.now();
      await new Promise((r) => setTimeout(r, 5000));
      const ready = await fetch(`${service.httpUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: { influxdb: string } }).checks.influxdb).toBe('down');
      expect(service.journal.pendingBytes).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 30_000 - (Date.now() - outageStart)));
      await startInfluxd();
      await streaming;
      await expectAllStored(world, 400, 60_000);
      const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
      expect(Number(/fleetwatch_write_failures_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await pub.endAsync();
      await service.stop();
    }
  }, 180_000);

  it('loses nothing when the collector is killed with SIGKILL mid-stream and restarted', async () => {
    world = makeWorld(DEVICES.map((id) => ({ id })));
    let child = await startChild(world.env);
    const pub = await publisher();
    try {
      const t0 = Date.now() - 120_000;
      const streaming = stream(pub, 300, 300, t0); // 3,000 messages over ~10 s
      await waitFor(() => countStatus(world!), (n) => n > 300, 10_000);
      child.proc.kill('SIGKILL');
      expect(await countStatus(world)).toBeLessThan(3000); // killed mid-stream
      expect((await child.exited).signal).toBe('SIGKILL');
      await new Promise((r) => setTimeout(r, 2000)); // the stream goes on into the broker's queue
      child = await startChild(world.env);
      await streaming;
      await expectAllStored(world, 300, 60_000);
    } finally {
      await pub.endAsync();
      child.proc.kill('SIGTERM');
      await child.exited;
    }
  }, 120_000);

  it('stops acknowledging when the journal is full, so the broker holds the rest, and loses nothing', async () => {
    world = makeWorld(DEVICES.map((id) => ({ id })), { JOURNAL_MAX_BYTES: String(1024 * 1024) });
    const service = await startInProcess(world);
    const pub = await publisher();
    try {
      await waitFor(async () => (await fetch(`${service.httpUrl}/readyz`)).status, (s) => s === 200, 10_000);
      await stopInfluxd();
      // 15,000 snapshots of ~170 bytes of line protocol: about 2.5 MiB, more than the journal holds
      const streaming = stream(pub, 1500, 20_000, Date.now() - 300_000);
      const metric = async () => Number(/fleetwatch_journal_full_waits_total (\d+)/.exec(await service.metrics.metrics())?.[1] ?? 0);
      expect(await waitFor(metric, (n) => n > 0, 20_000)).toBeGreaterThan(0);
      expect(service.journal.pendingBytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(service.journal.pendingBytes).toBeLessThan(1024 * 1024 + 64 * 1024);
      await startInfluxd();
      await streaming;
      await expectAllStored(world, 1500, 60_000);
    } finally {
      await pub.endAsync();
      await service.stop();
    }
  }, 120_000);

  it('writes everything it acknowledged before exiting on SIGTERM', async () => {
    world = makeWorld(DEVICES.map((id) => ({ id })), { BATCH_MAX_WAIT_MS: '10000', BATCH_MAX_POINTS: '100000' });
    const child = await startChild(world.env);
    const pub = await publisher();
    try {
      await stream(pub, 50, 5000, Date.now() - 60_000);
      // Batches wait up to 10 s to fill: most of what was acknowledged is only in the journal now.
      expect(await countStatus(world)).toBeLessThan(500);
      child.proc.kill('SIGTERM');
      const stopping = Date.now();
      const { code } = await child.exited;
      expect(code).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5000); // it wrote at once, not after the batching pause
      expect(child.output()).toMatch(/stopping: flushing the journal/);
      await expectAllStored(world, 50, 5000);
    } finally {
      await pub.endAsync();
    }
  }, 60_000);
});
