// Webhook tests: a real HTTP receiver (node:http on port 0), a temp SQLite database with two partners,
// and bus events as alerting emits them.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll } from 'vitest';
import type { AlertRecord } from '../../alerting/alerts/alert-store.js';
import { AlertEvents } from '../../alerting/events.js';
import type { Ticket } from '../../alerting/tickets/ticket-store.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { Registry } from '../../src/storage/registry.js';

export const silentLog = pino({ level: 'silent' });

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request was complete. */
  at: number;
}

export interface ReceivedBody {
  event: string;
  id: string;
  partnerId: string | null;
  deviceId: string | null;
  data: unknown;
}

/** An endpoint that records every request, answers `status` (200), and can fail the next N requests. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  status = 200;
  /** Milliseconds to wait before answering. */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  private failures: number[] = [];
  private readonly server: Server;
  private port = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() });
        const status = this.failures.shift() ?? this.status;
        const answer = (): void => {
          this.inFlight--;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `nope ${status}` : 'ok');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
  }

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.port = (r.server.address() as AddressInfo).port;
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/fleetwatch`;
  }

  /** The next n requests are answered with `status`. */
  failNext(n: number, status = 500): void {
    for (let i = 0; i < n; i++) this.failures.push(status);
  }

  bodies(): ReceivedBody[] {
    return this.requests.map((r) => JSON.parse(r.body) as ReceivedBody);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A database file in a temp dir (removed after the test file) with partners p-a and p-b. */
export function tempDatabases(): () => { db: Database; url: string } {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetwatch-webhooks-'));
    dirs.push(dir);
    const url = `sqlite:${join(dir, 'fleetwatch.db')}`;
    const db = openDatabase(url);
    const registry = new Registry(db);
    registry.upsertPartner({ id: 'p-a', name: 'Partner A', timezone: 'Europe/Berlin' });
    registry.upsertPartner({ id: 'p-b', name: 'Partner B', timezone: 'America/New_York' });
    return { db, url };
  };
}

export function alertRecord(partnerId: string | null, deviceId: string, state: 'firing' | 'resolved' = 'firing'): AlertRecord {
  return {
    fingerprint: `overheating/${deviceId}`,
    rule: 'overheating',
    deviceId,
    partnerId,
    customerId: partnerId && `${partnerId}-c1`,
    siteId: partnerId && `${partnerId}-s1`,
    severity: 'critical',
    state,
    summary: 'Temperature 81 °C (above 75 °C)',
    value: 81,
    startedMs: 1_700_000_000_000,
    resolvedMs: state === 'resolved' ? 1_700_000_060_000 : null,
    updatedMs: 1_700_000_000_000,
    notifiedState: state,
    ticketId: 7,
    incidentId: null,
  };
}

export function ticket(partnerId: string | null, deviceId: string | null, id = 7): Ticket {
  return {
    id,
    dedupKey: deviceId && `overheating/${deviceId}`,
    kind: partnerId === null ? 'cloud_incident' : 'alert',
    partnerId,
    customerId: partnerId && `${partnerId}-c1`,
    siteId: partnerId && `${partnerId}-s1`,
    deviceId,
    title: 'Overheating',
    priority: 'P2',
    status: 'open',
    queue: partnerId === null ? 'cloud_partner' : 'partner_l1',
    coverage: 'covered',
    openedMs: 1_700_000_000_000,
    updatedMs: 1_700_000_000_000,
    resolvedMs: null,
    reopened: 0,
    acknowledgedMs: null,
    owner: null,
  };
}

/** Emits alert.firing for a device of the partner, as the alert manager does. Returns the event id. */
export function fireAlert(events: AlertEvents, partnerId: string | null, deviceId: string): string {
  const alert = alertRecord(partnerId, deviceId);
  const meta = events.meta(Date.now(), { partnerId, customerId: alert.customerId, deviceId });
  events.emit('alert.firing', { ...meta, alert });
  return meta.id;
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { AlertEvents };
