// Shared pieces of the stream tests: snapshots, principals, a real registry with two partners,
// real socket.io clients that record what they receive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import type { StatusSnapshot } from '../../collector/messages.js';
import type { Principal } from '../../src/api/principal.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { Registry } from '../../src/storage/registry.js';
import { loadSeed, parseSeed } from '../../src/storage/seed.js';

export function snapshot(extra: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    ts: Date.now(),
    seq: 1,
    model: 'Studio X50',
    firmware: '4.1.0.123',
    uptimeS: 1000,
    cpuPct: 10,
    memPct: 30,
    tempC: 45.2,
    fanRpm: 3000,
    linkUp: true,
    ip: '10.0.0.5',
    rttMs: 20,
    jitterMs: 3,
    lossPct: 0,
    inCall: true,
    callPlatform: 'teams',
    mos: 4.3,
    cloudProvider: 'teams',
    cloudRegistered: true,
    peripherals: [{ kind: 'camera', model: undefined, state: 'ok' }],
    peripheralsFailed: 0,
    droppedFields: 0,
    ...extra,
  };
}

export const NOC: Principal = { userId: 1, name: 'noc', role: 'noc', partnerId: null };
export const ADMIN_A: Principal = { userId: 2, name: 'a', role: 'partner_admin', partnerId: 'pA' };
export const USER_B: Principal = { userId: 3, name: 'b', role: 'partner_user', partnerId: 'pB' };

export const TOKENS = {
  noc: 'noc-token-0123456789abcdef',
  adminA: 'partner-a-admin-token-0123456789',
  userB: 'partner-b-user-token-0123456789',
} as const;

/** Two partners (pA, pB), a customer and site each (pA has two customers), devices A1, A2, A3 (pA) and B1 (pB). */
export function twoPartnerRegistry(): { registry: Registry; db: Database; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fw-streams-'));
  const db = openDatabase(`sqlite:${join(dir, 'fleetwatch.db')}`);
  const registry = new Registry(db);
  const coverage = { plan: 'poly-plus', until: null, onsite: false };
  loadSeed(
    registry,
    parseSeed({
      partners: [
        { id: 'pA', name: 'Partner A', timezone: 'Europe/Berlin', country: 'DE' },
        { id: 'pB', name: 'Partner B', timezone: 'America/New_York', country: 'US' },
      ],
      customers: [
        { id: 'cA', partnerId: 'pA', name: 'Customer A', country: 'DE' },
        { id: 'cA2', partnerId: 'pA', name: 'Customer A2', country: 'DE' },
        { id: 'cB', partnerId: 'pB', name: 'Customer B', country: 'US' },
      ],
      sites: [
        { id: 'sA', customerId: 'cA', name: 'Site A', country: 'DE', timezone: 'Europe/Berlin' },
        { id: 'sA2', customerId: 'cA2', name: 'Site A2', country: 'DE', timezone: 'Europe/Berlin' },
        { id: 'sB', customerId: 'cB', name: 'Site B', country: 'US', timezone: 'America/New_York' },
      ],
      devices: [
        { id: 'A1', model: 'Studio X50', siteId: 'sA', coverage },
        { id: 'A2', model: 'Studio X50', siteId: 'sA', coverage },
        { id: 'A3', model: 'CCX 600', siteId: 'sA2', coverage },
        { id: 'B1', model: 'Studio X50', siteId: 'sB', coverage },
      ],
      users: [
        { name: 'NOC', role: 'noc', token: TOKENS.noc },
        { name: 'Admin A', role: 'partner_admin', partnerId: 'pA', token: TOKENS.adminA },
        { name: 'User B', role: 'partner_user', partnerId: 'pB', token: TOKENS.userB },
      ],
    }),
  );
  return {
    registry,
    db,
    cleanup() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  name: string;
  payload: Record<string, unknown> & { id: string; partnerId: string | null; deviceId: string | null };
}

/** A real socket.io client that records every event it receives, in order. */
export class Recorder {
  readonly events: Received[] = [];
  private waiters: Array<{ pred: (e: Received) => boolean; resolve: (e: Received) => void }> = [];

  constructor(readonly socket: ClientSocket) {
    socket.onAny((name: string, payload: Received['payload']) => {
      const e = { name, payload };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }

  /** The first recorded event matching pred (already received, or the next one to arrive). */
  waitFor(pred: (e: Received) => boolean, timeoutMs = 5000, what = 'event'): Promise<Received> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${what}; got ${this.events.map((e) => `${e.name}:${e.payload.deviceId}`).join(', ')}`));
      }, timeoutMs);
      const done = (e: Received) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  names(): string[] {
    return this.events.map((e) => e.name);
  }

  close(): void {
    this.socket.disconnect();
  }
}

export interface ConnectOptions {
  token?: string | undefined;
  lastEventId?: string | undefined;
  subscribe?: Record<string, unknown> | undefined;
}

/** Connects over WebSocket (no polling, no automatic reconnection). Resolves once connected. */
export async function connect(url: string, o: ConnectOptions): Promise<Recorder> {
  const auth: Record<string, unknown> = {};
  if (o.token !== undefined) auth.token = o.token;
  if (o.lastEventId !== undefined) auth.lastEventId = o.lastEventId;
  if (o.subscribe !== undefined) auth.subscribe = o.subscribe;
  const socket = connectClient(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  const rec = new Recorder(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
  return rec;
}

/** The connect_error a refused handshake produces. */
export async function refused(url: string, o: ConnectOptions): Promise<Error & { data?: unknown }> {
  try {
    const rec = await connect(url, o);
    rec.close();
  } catch (err) {
    return err as Error & { data?: unknown };
  }
  throw new Error('the connection was accepted');
}

export function emitWithAck<T>(socket: ClientSocket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<T>;
}
