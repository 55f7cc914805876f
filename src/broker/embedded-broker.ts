// The zero-install broker: aedes in this process, used when MQTT_URL is not set. It keeps sessions
// and retained messages in memory only, so it suits demos and single-node trials; production
// points MQTT_URL at mosquitto, EMQX or HiveMQ.
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { listen } from '../listen.js';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port: number, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const actualPort = await listen(server, port, host);
  return {
    url: `mqtt://${host}:${actualPort}`,
    async close() {
      // The broker first: it closes the client connections that would keep server.close() waiting.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
