// Proves the global setup: a real mosquitto and a real influxd on the test
// ports, and that the start/stop/kill helpers behave as fault tests need.
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  killMosquitto,
  startMosquitto,
  stopMosquitto,
  testInfluxUrl,
  testMqttUrl,
} from './services.js';

const noRetry = { reconnectPeriod: 0, connectTimeout: 5_000 } as const;

function nextMessage(client: mqtt.MqttClient, topic: string, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(t: string, payload: Buffer): void {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload);
    }
    client.on('message', onMessage);
  });
}

describe('test services (global setup)', () => {
  // Whatever a test does to mosquitto, later test files need it up.
  afterAll(async () => {
    await startMosquitto();
  });

  it('mosquitto delivers a QoS 1 message back to its publisher', async () => {
    const client = await mqtt.connectAsync(testMqttUrl(), { ...noRetry, clientId: `fw-t-${randomUUID()}` });
    try {
      const topic = `fleetwatch/test/${randomUUID()}`;
      const granted = await client.subscribeAsync(topic, { qos: 1 });
      expect(granted[0]?.qos).toBe(1);
      const received = nextMessage(client, topic);
      await client.publishAsync(topic, 'hello', { qos: 1 });
      expect((await received).toString()).toBe('hello');
    } finally {
      await client.endAsync();
    }
  });

  it('influxd 1.x answers /ping', async () => {
    const res = await fetch(`${testInfluxUrl()}/ping`);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version') ?? '').toMatch(/^1\./);
  });

  it('stopMosquitto makes connections fail, startMosquitto brings it back', async () => {
    await stopMosquitto();
    try {
      const err: unknown = await mqtt
        .connectAsync(testMqttUrl(), { ...noRetry, clientId: `fw-t-${randomUUID()}` }, false)
        .then(
          async (c) => {
            await c.endAsync();
            return new Error('connected although mosquitto is stopped');
          },
          (e: unknown) => e,
        );
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      await startMosquitto();
    }
    const client = await mqtt.connectAsync(testMqttUrl(), { ...noRetry, clientId: `fw-t-${randomUUID()}` });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('a queued QoS 1 message for an offline persistent session survives SIGKILL', async () => {
    const clientId = `fw-persist-${randomUUID()}`;
    const topic = `fleetwatch/test/persist/${randomUUID()}`;

    // Persistent session with a subscription, then go offline.
    const sub = await mqtt.connectAsync(testMqttUrl(), { ...noRetry, clientId, clean: false });
    await sub.subscribeAsync(topic, { qos: 1 });
    await sub.endAsync();

    const pub = await mqtt.connectAsync(testMqttUrl(), { ...noRetry, clientId: `fw-t-${randomUUID()}` });
    await pub.publishAsync(topic, 'queued while offline', { qos: 1 });
    await pub.endAsync();

    // autosave_interval is 1 s: after 2 s the queue is on disk.
    await new Promise((r) => setTimeout(r, 2_000));
    await killMosquitto();
    await startMosquitto();

    // Listen before CONNACK: the broker sends the queued message right after it.
    const again = mqtt.connect(testMqttUrl(), { ...noRetry, clientId, clean: false });
    try {
      const received = nextMessage(again, topic);
      const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
        again.once('connect', resolve);
        again.once('error', reject);
      });
      expect(connack.sessionPresent).toBe(true);
      expect((await received).toString()).toBe('queued while offline');
    } finally {
      // Drop the persistent session so it does not pile up in the broker.
      await again.endAsync();
      const cleanup = await mqtt.connectAsync(testMqttUrl(), { ...noRetry, clientId, clean: true });
      await cleanup.endAsync();
    }
  });
});
