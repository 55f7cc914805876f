// Operational endpoints, without auth (CONTRACT section 2): liveness, readiness, Prometheus metrics.
import { Router } from 'express';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export function opsRoutes(metrics: Registry, checks: ReadinessCheck[]): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results: Record<string, 'ok' | 'down'> = {};
    await Promise.all(
      checks.map(async (c) => {
        let ok = false;
        try {
          ok = await c.check();
        } catch {
          ok = false;
        }
        results[c.name] = ok ? 'ok' : 'down';
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  return router;
}
