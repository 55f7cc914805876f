// The fleet answers commands on its devices' commands topics, in both connection modes.
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFleet, validateSimulateOptions, type SimStats, type SimulateOptions } from '../../simulators/fleet.js';
import { startBroker, startRecorder, waitFor, type Received, type TestBroker } from './broker.js';

let broker: TestBroker;
let rec: Awaited<ReturnType<typeof startRecorder>>;
let cmd: MqttClient;

beforeEach(async () => {
  broker = await startBroker();
  rec = await startRecorder(broker.url);
  cmd = await mqtt.connectAsync(broker.url, { clientId: `cmd-${process.pid}-${Date.now()}`, clean: true, reconnectPeriod: 0 });
});

afterEach(async () => {
  await cmd.endAsync(true);
  await rec.client.endAsync(true);
  await broker.close();
});

/** Starts a fleet in the background; resolves once it is subscribed to its commands. */
async function startFleet(opts: Omit<SimulateOptions, 'url' | 'onReady'>): Promise<{ stop: () => Promise<SimStats> }> {
  const ac = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const run = runFleet({ url: broker.url, onReady: ready, ...opts }, ac.signal);
  await Promise.race([isReady, run.then(() => Promise.reject(new Error('fleet ended before it was ready')))]);
  return {
    stop: async () => {
      ac.abort();
      return run;
    },
  };
}

const send = (deviceId: string, body: object) => cmd.publishAsync(`poly/v1/devices/${deviceId}/commands`, JSON.stringify(body), { qos: 1 });
const repliesTo = (id: string): Received[] => rec.messages.filter((m) => m.leaf === 'replies' && m.payload.commandId === id);

describe('the simulated fleet answers commands', () => {
  it.each(['per-device', 'shared'] as const)('%s: ping step by step, only from the device asked', async (connections) => {
    const fleet = await startFleet({ devices: 3, intervalS: 60, connections, devicesPerConnection: 2, replyDelayMs: 20 });
    try {
      await send('SIM000002', { id: 'ping-1', type: 'diagnostics', params: { tool: 'ping', target: 'example.com', count: 3 } });
      await waitFor(() => repliesTo('ping-1').some((m) => m.payload.final === true), 5000, 'final reply');
      const rs = repliesTo('ping-1');
      expect(rs.map((m) => m.deviceId)).toEqual(['SIM000002', 'SIM000002', 'SIM000002', 'SIM000002']);
      expect(rs.map((m) => [m.payload.seq, m.payload.final, m.payload.status])).toEqual([
        [0, false, 'running'],
        [1, false, 'running'],
        [2, false, 'running'],
        [3, true, 'ok'],
      ]);
      expect(rs[3]!.payload.data).toMatchObject({ sent: 3 });
    } finally {
      const stats = await fleet.stop();
      expect(stats).toMatchObject({ commands: 1, replies: 4, errors: 0 });
    }
  });

  it('reboot restarts the status seq at 0 and sends a reboot event; software_update reports the new firmware', async () => {
    const fleet = await startFleet({ devices: 1, intervalS: 0.05, replyDelayMs: 30 });
    try {
      const status = () => rec.messages.filter((m) => m.leaf === 'status');
      await waitFor(() => status().length >= 5, 5000, 'statuses');
      await send('SIM000001', { id: 'rb-1', type: 'reboot', params: {} });
      await waitFor(() => rec.messages.some((m) => m.leaf === 'events' && m.payload.type === 'reboot'), 5000, 'reboot event');
      expect(repliesTo('rb-1').map((m) => m.payload)).toEqual([{ commandId: 'rb-1', seq: 0, final: true, status: 'ok', data: { accepted: true } }]);
      const rebootAt = rec.messages.findIndex((m) => m.leaf === 'events' && m.payload.type === 'reboot');
      await waitFor(() => rec.messages.slice(rebootAt).filter((m) => m.leaf === 'status').length >= 2, 5000, 'statuses after reboot');
      const after = rec.messages.slice(rebootAt).filter((m) => m.leaf === 'status');
      expect(after[0]!.payload.seq).toBeLessThanOrEqual(1);
      expect(after[0]!.payload.uptimeS).toBeLessThan(5);

      await send('SIM000001', { id: 'up-1', type: 'software_update', params: { version: '9.9.9.9', url: 'https://example.com/fw.bin' } });
      const updates = () => rec.messages.filter((m) => m.leaf === 'events' && m.payload.type === 'software_update').map((m) => (m.payload.data as { state: string }).state);
      await waitFor(() => updates().includes('done'), 5000, 'update done');
      expect(updates()).toEqual(['downloading', 'installing', 'done']);
      const doneAt = rec.messages.findIndex((m) => m.leaf === 'events' && (m.payload.data as { state?: string }).state === 'done');
      await waitFor(() => rec.messages.slice(doneAt).some((m) => m.leaf === 'status'), 5000, 'status after update');
      expect(rec.messages.slice(doneAt).find((m) => m.leaf === 'status')!.payload.firmware).toBe('9.9.9.9');
    } finally {
      await fleet.stop();
    }
  });

  it('an unknown tool gets an error reply; an unparseable command is counted, not answered', async () => {
    const fleet = await startFleet({ devices: 1, intervalS: 60, replyDelayMs: 10 });
    try {
      await send('SIM000001', { id: 'bad-1', type: 'diagnostics', params: { tool: 'nmap', target: 'example.com' } });
      await cmd.publishAsync('poly/v1/devices/SIM000001/commands', 'not json', { qos: 1 });
      await waitFor(() => repliesTo('bad-1').length === 1, 5000, 'error reply');
      expect(repliesTo('bad-1')[0]!.payload).toMatchObject({ final: true, status: 'error', data: { error: 'unknown_tool' } });
    } finally {
      const stats = await fleet.stop();
      expect(stats).toMatchObject({ commands: 2, replies: 1, errors: 1 });
    }
  });

  it('validates replyDelayMs', () => {
    expect(() => validateSimulateOptions({ url: broker.url, devices: 1, intervalS: 1, replyDelayMs: -1 })).toThrow(/replyDelayMs/);
    expect(() => validateSimulateOptions({ url: broker.url, devices: 1, intervalS: 1, replyDelayMs: 0 })).not.toThrow();
  });
});
