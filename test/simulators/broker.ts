// Embedded aedes broker on a random free port, for the simulator integration tests.
import net, { type AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export interface TestBroker {
  url: string;
  broker: Aedes;
  /** Server-side clients by client id (the latest connection of each id). */
  clients: Map<string, Client>;
  close(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const clients = new Map<string, Client>();
  broker.on('client', (c) => clients.set(c.id, c));
  broker.on('clientDisconnect', (c) => {
    if (clients.get(c.id) === c) clients.delete(c.id);
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer(broker.handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    clients,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export interface Received {
  deviceId: string;
  leaf: string;
  payload: Record<string, unknown>;
}

/** Subscribes to every device topic and records what arrives, in order. */
export async function startRecorder(url: string): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(url, { clientId: `rec-${process.pid}-${Date.now()}`, clean: true, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = { raw: payload.toString('utf8') }; // e.g. a malformed command a test sends on purpose
    }
    messages.push({ deviceId: parts[3] ?? '', leaf: parts[4] ?? '', payload: parsed });
  });
  await client.subscribeAsync('poly/v1/devices/+/+', { qos: 1 });
  return { client, messages };
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
