// The registry: who owns which device (partner > customer > site > device), its coverage, and the
// API users with their tokens. The tenant of a device always comes from here, never from the device.

import { createHash } from 'node:crypto';
import type { Database, Statement } from './database.js';

/** Ids that appear in topics and URLs: the Poly serial-number alphabet (CONTRACT section 1). */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Bearer tokens shorter than this are refused (guessable). */
export const MIN_TOKEN_LENGTH = 16;

export type Role = 'noc' | 'partner_admin' | 'partner_user';
export const ROLES: readonly Role[] = ['noc', 'partner_admin', 'partner_user'];

export interface Coverage {
  plan: string;
  /** Last covered day, YYYY-MM-DD; null = open-ended. */
  until: string | null;
  onsite: boolean;
}

export interface DeviceTenant {
  deviceId: string;
  partnerId: string;
  customerId: string;
  siteId: string;
  model: string;
  coverage: { plan: string; until: string | null; onsite: boolean };
}

export interface DeviceRecord extends DeviceTenant {
  /** ISO timestamp of the first registration. */
  registeredAt: string;
}

export interface Partner {
  id: string;
  name: string;
  timezone: string;
  /** ISO 3166-1 alpha-2; whose public holidays pause business-hours escalation. Optional in seeds. */
  country?: string | null;
}
export interface Customer {
  id: string;
  partnerId: string;
  name: string;
  country: string;
}
export interface Site {
  id: string;
  customerId: string;
  name: string;
  country: string;
  timezone: string;
}
export interface DeviceInput {
  id: string;
  model: string;
  siteId: string;
  coverage: Coverage;
}
export interface User {
  id: number;
  name: string;
  role: Role;
  /** null for noc. */
  partnerId: string | null;
}
export interface NewUser {
  name: string;
  role: Role;
  partnerId: string | null | undefined;
  token: string;
}
export interface RegistryCounts {
  partners: number;
  customers: number;
  sites: number;
  devices: number;
  users: number;
}

/** How tokens are stored: sha256 hex. A stolen database file then yields no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

interface DeviceRow {
  device_id: string;
  partner_id: string;
  customer_id: string;
  site_id: string;
  model: string;
  coverage_plan: string;
  coverage_until: string | null;
  coverage_onsite: number;
  registered_at: string;
}
interface UserRow {
  id: number;
  name: string;
  role: Role;
  partner_id: string | null;
}

const DEVICE_SELECT = `
  SELECT d.id AS device_id, p.id AS partner_id, c.id AS customer_id, s.id AS site_id, d.model,
         d.coverage_plan, d.coverage_until, d.coverage_onsite, d.registered_at
    FROM devices d
    JOIN sites s ON s.id = d.site_id
    JOIN customers c ON c.id = s.customer_id
    JOIN partners p ON p.id = c.partner_id`;

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    partnerId: row.partner_id,
    customerId: row.customer_id,
    siteId: row.site_id,
    model: row.model,
    coverage: { plan: row.coverage_plan, until: row.coverage_until, onsite: row.coverage_onsite === 1 },
    registeredAt: row.registered_at,
  };
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, role: row.role, partnerId: row.partner_id };
}

export class Registry {
  private readonly listeners: Array<() => void> = [];
  /** Depth of registry.transaction() calls, so events wait for the outermost commit. */
  private txDepth = 0;
  /** A tenant-relevant row changed inside the current transaction. */
  private pendingChange = false;

  private readonly stmt: {
    allDevices: Statement<DeviceRow>;
    device: Statement<DeviceRow>;
    partner: Statement<Partner>;
    customer: Statement<Customer>;
    site: Statement<Site>;
    partners: Statement<Partner>;
    customers: Statement<Customer>;
    customersOf: Statement<Customer>;
    sites: Statement<Site>;
    sitesOf: Statement<Site>;
    upsertPartner: Statement;
    upsertCustomer: Statement;
    upsertSite: Statement;
    upsertDevice: Statement;
    userByHash: Statement<UserRow>;
    insertUser: Statement;
    upsertUser: Statement;
    counts: Statement<RegistryCounts>;
  };

  constructor(readonly db: Database) {
    // Upserts only write when a value actually differs (WHERE … IS DISTINCT FROM), so `changes`
    // tells whether anything changed and loading the same seed twice writes nothing.
    this.stmt = {
      allDevices: db.prepare(DEVICE_SELECT),
      device: db.prepare(`${DEVICE_SELECT} WHERE d.id = ?`),
      partner: db.prepare('SELECT id, name, timezone, country FROM partners WHERE id = ?'),
      customer: db.prepare('SELECT id, partner_id AS partnerId, name, country FROM customers WHERE id = ?'),
      site: db.prepare(
        'SELECT id, customer_id AS customerId, name, country, timezone FROM sites WHERE id = ?',
      ),
      partners: db.prepare('SELECT id, name, timezone, country FROM partners ORDER BY id'),
      customers: db.prepare('SELECT id, partner_id AS partnerId, name, country FROM customers ORDER BY id'),
      customersOf: db.prepare(
        'SELECT id, partner_id AS partnerId, name, country FROM customers WHERE partner_id = ? ORDER BY id',
      ),
      sites: db.prepare('SELECT id, customer_id AS customerId, name, country, timezone FROM sites ORDER BY id'),
      sitesOf: db.prepare(
        'SELECT id, customer_id AS customerId, name, country, timezone FROM sites WHERE customer_id = ? ORDER BY id',
      ),
      upsertPartner: db.prepare(`
        INSERT INTO partners (id, name, timezone, country) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, country = excluded.country
        WHERE partners.name IS DISTINCT FROM excluded.name
           OR partners.timezone IS DISTINCT FROM excluded.timezone
           OR partners.country IS DISTINCT FROM excluded.country`),
      upsertCustomer: db.prepare(`
        INSERT INTO customers (id, partner_id, name, country) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET partner_id = excluded.partner_id, name = excluded.name,
                                       country = excluded.country
        WHERE customers.partner_id IS DISTINCT FROM excluded.partner_id
           OR customers.name IS DISTINCT FROM excluded.name
           OR customers.country IS DISTINCT FROM excluded.country`),
      upsertSite: db.prepare(`
        INSERT INTO sites (id, customer_id, name, country, timezone) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, name = excluded.name,
                                       country = excluded.country, timezone = excluded.timezone
        WHERE sites.customer_id IS DISTINCT FROM excluded.customer_id
           OR sites.name IS DISTINCT FROM excluded.name
           OR sites.country IS DISTINCT FROM excluded.country
           OR sites.timezone IS DISTINCT FROM excluded.timezone`),
      // registered_at is set on first insert only: re-registering keeps the original date.
      upsertDevice: db.prepare(`
        INSERT INTO devices (id, model, site_id, coverage_plan, coverage_until, coverage_onsite, registered_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET model = excluded.model, site_id = excluded.site_id,
                                       coverage_plan = excluded.coverage_plan,
                                       coverage_until = excluded.coverage_until,
                                       coverage_onsite = excluded.coverage_onsite
        WHERE devices.model IS DISTINCT FROM excluded.model
           OR devices.site_id IS DISTINCT FROM excluded.site_id
           OR devices.coverage_plan IS DISTINCT FROM excluded.coverage_plan
           OR devices.coverage_until IS DISTINCT FROM excluded.coverage_until
           OR devices.coverage_onsite IS DISTINCT FROM excluded.coverage_onsite`),
      userByHash: db.prepare('SELECT id, name, role, partner_id FROM users WHERE token_hash = ?'),
      insertUser: db.prepare('INSERT INTO users (name, role, partner_id, token_hash) VALUES (?, ?, ?, ?)'),
      // Seeds identify a user by its token (names are not unique across partners).
      upsertUser: db.prepare(`
        INSERT INTO users (name, role, partner_id, token_hash) VALUES (?, ?, ?, ?)
        ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name, role = excluded.role,
                                               partner_id = excluded.partner_id
        WHERE users.name IS DISTINCT FROM excluded.name
           OR users.role IS DISTINCT FROM excluded.role
           OR users.partner_id IS DISTINCT FROM excluded.partner_id`),
      counts: db.prepare(`
        SELECT (SELECT COUNT(*) FROM partners) AS partners, (SELECT COUNT(*) FROM customers) AS customers,
               (SELECT COUNT(*) FROM sites) AS sites, (SELECT COUNT(*) FROM devices) AS devices,
               (SELECT COUNT(*) FROM users) AS users`),
    };
  }

  // ---- change notification -------------------------------------------------------------------

  /**
   * Called after partners, customers, sites or devices changed (once per committed upsert or seed
   * load, not for no-op upserts), so holders of deviceTenants() can reload. Returns an unsubscribe.
   * The change is committed even if a listener throws; the first listener error is rethrown after
   * all listeners ran.
   */
  onDevicesChanged(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Runs fn in one transaction; device-change listeners fire once after the outermost commit
   * (and not at all on rollback).
   */
  transaction<T>(fn: () => T): T {
    const outermost = this.txDepth === 0;
    this.txDepth++;
    let result: T;
    try {
      result = this.db.transaction(fn);
    } catch (err) {
      if (outermost) this.pendingChange = false;
      throw err;
    } finally {
      this.txDepth--;
    }
    if (outermost && this.pendingChange) {
      this.pendingChange = false;
      this.emitDevicesChanged();
    }
    return result;
  }

  private changed(changes: number): boolean {
    if (changes === 0) return false;
    if (this.txDepth > 0) this.pendingChange = true;
    else this.emitDevicesChanged();
    return true;
  }

  private emitDevicesChanged(): void {
    let firstError: unknown;
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  // ---- devices ---------------------------------------------------------------------------------

  /** Devices page by page, filtered in SQL (the partner scope of an API caller goes here). */
  listDevices(f: { partnerId?: string; customerId?: string; siteId?: string; limit: number; offset: number }): DeviceRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (f.partnerId !== undefined) (where.push('c.partner_id = ?'), params.push(f.partnerId));
    if (f.customerId !== undefined) (where.push('s.customer_id = ?'), params.push(f.customerId));
    if (f.siteId !== undefined) (where.push('d.site_id = ?'), params.push(f.siteId));
    params.push(f.limit, f.offset);
    const sql = `${DEVICE_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY d.id LIMIT ? OFFSET ?`;
    return this.db.prepare<DeviceRow>(sql).all(...params).map(toDevice);
  }

  /** Every registered device with its tenant and coverage, in one query. Keyed by deviceId. */
  deviceTenants(): Map<string, DeviceTenant> {
    const map = new Map<string, DeviceTenant>();
    for (const row of this.stmt.allDevices.all()) {
      const { registeredAt: _ignored, ...tenant } = toDevice(row);
      map.set(row.device_id, tenant);
    }
    return map;
  }

  getDevice(id: string): DeviceRecord | undefined {
    const row = this.stmt.device.get(id);
    return row ? toDevice(row) : undefined;
  }

  /** Registers or updates a device. Returns true if anything changed. */
  upsertDevice(device: DeviceInput): boolean {
    checkId('device', device.id);
    if (!this.getSite(device.siteId)) throw new Error(`site "${device.siteId}" is not defined`);
    const c = device.coverage;
    return this.changed(
      this.stmt.upsertDevice.run(
        device.id,
        device.model,
        device.siteId,
        c.plan,
        c.until,
        c.onsite ? 1 : 0,
        new Date().toISOString(),
      ).changes,
    );
  }

  // ---- tenancy ---------------------------------------------------------------------------------

  getPartner(id: string): Partner | undefined {
    return this.stmt.partner.get(id);
  }
  getCustomer(id: string): Customer | undefined {
    return this.stmt.customer.get(id);
  }
  getSite(id: string): Site | undefined {
    return this.stmt.site.get(id);
  }
  listPartners(): Partner[] {
    return this.stmt.partners.all();
  }
  listCustomers(partnerId?: string): Customer[] {
    return partnerId === undefined ? this.stmt.customers.all() : this.stmt.customersOf.all(partnerId);
  }
  listSites(customerId?: string): Site[] {
    return customerId === undefined ? this.stmt.sites.all() : this.stmt.sitesOf.all(customerId);
  }

  upsertPartner(p: Partner): boolean {
    checkId('partner', p.id);
    return this.changed(this.stmt.upsertPartner.run(p.id, p.name, p.timezone, p.country ?? null).changes);
  }

  upsertCustomer(c: Customer): boolean {
    checkId('customer', c.id);
    if (!this.getPartner(c.partnerId)) throw new Error(`partner "${c.partnerId}" is not defined`);
    return this.changed(this.stmt.upsertCustomer.run(c.id, c.partnerId, c.name, c.country).changes);
  }

  upsertSite(s: Site): boolean {
    checkId('site', s.id);
    if (!this.getCustomer(s.customerId)) throw new Error(`customer "${s.customerId}" is not defined`);
    return this.changed(this.stmt.upsertSite.run(s.id, s.customerId, s.name, s.country, s.timezone).changes);
  }

  // ---- users -----------------------------------------------------------------------------------

  /** The user a bearer token belongs to. Looked up by the token's hash; the token is never stored. */
  findUserByToken(token: string): User | undefined {
    if (token.length === 0) return undefined;
    const row = this.stmt.userByHash.get(hashToken(token));
    return row ? toUser(row) : undefined;
  }

  /** Creates a user. Throws if the token is too short, already in use, or the partner is unknown. */
  addUser(user: NewUser): User {
    const partnerId = this.checkUser(user);
    const id = this.stmt.insertUser.run(user.name, user.role, partnerId, hashToken(user.token)).lastInsertRowid;
    return { id: Number(id), name: user.name, role: user.role, partnerId };
  }

  /**
   * Creates the user, or updates name/role/partner of the user that already has this token
   * (what seed loading uses). Returns true if anything changed.
   */
  upsertUserByToken(user: NewUser): boolean {
    const partnerId = this.checkUser(user);
    return this.stmt.upsertUser.run(user.name, user.role, partnerId, hashToken(user.token)).changes > 0;
  }

  private checkUser(user: NewUser): string | null {
    if (!ROLES.includes(user.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
    if (user.token.length < MIN_TOKEN_LENGTH) {
      throw new Error(`token must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    const partnerId = user.partnerId ?? null;
    if (user.role === 'noc') {
      if (partnerId !== null) throw new Error('a noc user belongs to no partner');
    } else {
      if (partnerId === null) throw new Error(`a ${user.role} user needs a partnerId`);
      if (!this.getPartner(partnerId)) throw new Error(`partner "${partnerId}" is not defined`);
    }
    return partnerId;
  }

  counts(): RegistryCounts {
    const row = this.stmt.counts.get();
    if (!row) throw new Error('registry counts query returned nothing');
    return row;
  }
}

function checkId(kind: string, id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`${kind} id "${id}" must match ${ID_PATTERN.source}`);
}
