// The HTTP server: operational endpoints now; the partner API, streams and the NOC page mount here.
import { createServer, type Server } from 'node:http';
import express, { type Router } from 'express';
import { listen } from '../listen.js';

export interface HttpServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(routers: Router[], port: number, host: string): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  for (const r of routers) app.use(r);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint' } });
  });
  const server = createServer(app);
  const actualPort = await listen(server, port, host);
  return {
    server,
    url: `http://${host}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
