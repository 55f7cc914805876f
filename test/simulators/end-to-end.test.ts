// `fleetwatch simulate` (the real CLI) playing a registry's fleet into mosquitto, stored by the
// collector in InfluxDB: the demo path, checked.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/child-service.js';
import { countStatus, makeWorld, range, startInProcess, storedSeqs, waitFor } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';

describe('simulator -> mosquitto -> collector -> InfluxDB', () => {
  it('stores every snapshot the simulator sends for registered and unregistered devices', async () => {
    const devices = range(8).map((i) => ({ id: `E2E${String(i).padStart(4, '0')}`, model: i % 2 ? 'CCX 600' : 'Studio X52' }));
    const world = makeWorld(devices);
    const service = await startInProcess(world);
    try {
      const sim = runCli(
        ['simulate', '--url', testMqttUrl(), '--registry', world.env.FLEET_SEED!, '--unregistered', '2', '--interval', '0.1', '--count', '5', '--connections', 'per-device', '--seed', '7'],
        {},
      );
      const { code } = await sim.exited;
      expect(code, sim.output()).toBe(0);
      expect(await waitFor(() => countStatus(world), (n) => n >= 50, 15_000)).toBe(50);
      const seqs = await storedSeqs(world);
      for (const d of devices) expect(seqs.get(d.id)).toEqual(range(5));
      const unknown = [...seqs.keys()].filter((id) => !devices.some((d) => d.id === id));
      expect(unknown).toHaveLength(2);
      const models = await world.influx.query<{ model: string; count: number }>('SELECT count("seq") AS "count" FROM "device_status" GROUP BY "model"');
      expect(models.find((m) => m.model === 'CCX 600')?.count).toBe(20);
      // after the run every simulated device said goodbye
      for (const d of devices) expect(service.liveState.get(d.id)?.presence).toBe('offline');
    } finally {
      await service.stop();
      // The simulator's presence is retained: clear it, or every later service on this broker sees these devices.
      const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `e2e-clear-${process.pid}`, clean: true });
      for (const id of [...devices.map((d) => d.id), 'UNREG000001', 'UNREG000002']) await c.publishAsync(`poly/v1/devices/${id}/presence`, '', { qos: 1, retain: true });
      await c.endAsync();
      await world.cleanup();
    }
  });
});
