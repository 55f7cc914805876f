import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { Registry, hashToken } from '../../src/storage/registry.js';
import { loadSeed, readSeedFile } from '../../src/storage/seed.js';
import { DEMO_SEED, tempDirs } from './helpers.js';

const tmp = tempDirs();

function memoryRegistry(): Registry {
  return new Registry(openDatabase('sqlite::memory:'));
}

function tenancy(r: Registry): void {
  r.upsertPartner({ id: 'p-1', name: 'Partner One', timezone: 'Europe/Berlin' });
  r.upsertCustomer({ id: 'c-1', partnerId: 'p-1', name: 'Customer', country: 'DE' });
  r.upsertSite({ id: 's-1', customerId: 'c-1', name: 'Berlin', country: 'DE', timezone: 'Europe/Berlin' });
}

describe('Registry', () => {
  it('upserts devices and reads them back with their tenant', () => {
    const r = memoryRegistry();
    tenancy(r);
    expect(
      r.upsertDevice({ id: 'DEV1', model: 'Studio X50', siteId: 's-1', coverage: { plan: 'poly-plus', until: '2027-12-31', onsite: true } }),
    ).toBe(true);
    const d = r.getDevice('DEV1');
    expect(d).toMatchObject({
      deviceId: 'DEV1',
      partnerId: 'p-1',
      customerId: 'c-1',
      siteId: 's-1',
      model: 'Studio X50',
      coverage: { plan: 'poly-plus', until: '2027-12-31', onsite: true },
    });
    expect(Date.parse(d?.registeredAt ?? '')).not.toBeNaN();
    expect(r.getDevice('nope')).toBeUndefined();
    expect(r.deviceTenants().get('DEV1')).toEqual({
      deviceId: 'DEV1',
      partnerId: 'p-1',
      customerId: 'c-1',
      siteId: 's-1',
      model: 'Studio X50',
      coverage: { plan: 'poly-plus', until: '2027-12-31', onsite: true },
    });
    r.db.close();
  });

  it('keeps registeredAt and reports no change for an identical upsert', () => {
    const r = memoryRegistry();
    tenancy(r);
    const dev = { id: 'DEV1', model: 'TC10', siteId: 's-1', coverage: { plan: 'poly-plus', until: null, onsite: false } };
    r.upsertDevice(dev);
    const first = r.getDevice('DEV1');
    expect(r.upsertDevice(dev)).toBe(false);
    expect(r.upsertPartner({ id: 'p-1', name: 'Partner One', timezone: 'Europe/Berlin' })).toBe(false);
    expect(r.upsertDevice({ ...dev, coverage: { ...dev.coverage, until: '2028-01-31' } })).toBe(true);
    expect(r.getDevice('DEV1')?.registeredAt).toBe(first?.registeredAt);
    expect(r.getDevice('DEV1')?.coverage.until).toBe('2028-01-31');
    r.db.close();
  });

  it('rejects bad ids and unknown references with clear errors', () => {
    const r = memoryRegistry();
    tenancy(r);
    const coverage = { plan: 'poly-plus', until: null, onsite: false };
    expect(() => r.upsertDevice({ id: 'bad id', model: 'X', siteId: 's-1', coverage })).toThrow(/device id "bad id"/);
    expect(() => r.upsertDevice({ id: 'D2', model: 'X', siteId: 's-x', coverage })).toThrow('site "s-x" is not defined');
    expect(() => r.upsertSite({ id: 's-2', customerId: 'c-x', name: 'n', country: 'DE', timezone: 'UTC' })).toThrow(
      'customer "c-x" is not defined',
    );
    expect(() => r.upsertCustomer({ id: 'c-2', partnerId: 'p-x', name: 'n', country: 'DE' })).toThrow(
      'partner "p-x" is not defined',
    );
    r.db.close();
  });

  it('fires onDevicesChanged after real changes only, once per transaction', () => {
    const r = memoryRegistry();
    let calls = 0;
    const off = r.onDevicesChanged(() => calls++);
    tenancy(r);
    expect(calls).toBe(3);
    const dev = { id: 'DEV1', model: 'TC10', siteId: 's-1', coverage: { plan: 'poly-plus', until: null, onsite: false } };
    r.upsertDevice(dev);
    expect(calls).toBe(4);
    r.upsertDevice(dev); // no-op
    expect(calls).toBe(4);
    r.transaction(() => {
      r.upsertDevice({ ...dev, id: 'DEV2' });
      r.upsertDevice({ ...dev, id: 'DEV3' });
      expect(calls).toBe(4); // not before commit
    });
    expect(calls).toBe(5);
    expect(() =>
      r.transaction(() => {
        r.upsertDevice({ ...dev, id: 'DEV4' });
        throw new Error('rollback');
      }),
    ).toThrow('rollback');
    expect(calls).toBe(5);
    expect(r.getDevice('DEV4')).toBeUndefined();
    off();
    r.upsertDevice({ ...dev, id: 'DEV5' });
    expect(calls).toBe(5);
    r.db.close();
  });

  it('commits even when a listener throws, and still calls the other listeners', () => {
    const r = memoryRegistry();
    let other = 0;
    r.onDevicesChanged(() => {
      throw new Error('listener bug');
    });
    r.onDevicesChanged(() => other++);
    expect(() => r.upsertPartner({ id: 'p-1', name: 'P', timezone: 'UTC' })).toThrow('listener bug');
    expect(other).toBe(1);
    expect(r.getPartner('p-1')).toBeDefined();
    r.db.close();
  });

  it('counts rows', () => {
    const r = memoryRegistry();
    tenancy(r);
    r.addUser({ name: 'noc', role: 'noc', partnerId: null, token: 'noc-token-0123456789' });
    expect(r.counts()).toEqual({ partners: 1, customers: 1, sites: 1, devices: 0, users: 1 });
    r.db.close();
  });
});

describe('users and tokens', () => {
  it('finds users by token hash and never stores the plain token', () => {
    const file = join(tmp(), 'fleet.db');
    const db = openDatabase(`sqlite:${file}`);
    const r = new Registry(db);
    tenancy(r);
    const token = 'plain-secret-token-7f3a9c1e';
    const added = r.addUser({ name: 'alice', role: 'partner_admin', partnerId: 'p-1', token });
    expect(r.findUserByToken(token)).toEqual({ id: added.id, name: 'alice', role: 'partner_admin', partnerId: 'p-1' });
    expect(r.findUserByToken(`${token}x`)).toBeUndefined();
    expect(r.findUserByToken('')).toBeUndefined();
    expect(db.prepare('SELECT token_hash FROM users').get()).toEqual({ token_hash: hashToken(token) });
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);

    // Check the bytes of every file SQLite wrote (main file and WAL), before and after close.
    const scan = () => {
      for (const name of readdirSync(join(file, '..'))) {
        const bytes = readFileSync(join(file, '..', name));
        expect(bytes.includes(Buffer.from(token)), name).toBe(false);
      }
    };
    scan();
    db.close();
    scan();
    expect(readFileSync(file).includes(Buffer.from(hashToken(token)))).toBe(true);
  });

  it('validates new users', () => {
    const r = memoryRegistry();
    tenancy(r);
    expect(() => r.addUser({ name: 'a', role: 'partner_user', partnerId: 'p-1', token: 'short' })).toThrow(/at least 16/);
    expect(() => r.addUser({ name: 'a', role: 'partner_user', partnerId: null, token: 'x'.repeat(16) })).toThrow(
      /needs a partnerId/,
    );
    expect(() => r.addUser({ name: 'a', role: 'noc', partnerId: 'p-1', token: 'x'.repeat(16) })).toThrow(/no partner/);
    expect(() => r.addUser({ name: 'a', role: 'partner_user', partnerId: 'p-x', token: 'x'.repeat(16) })).toThrow(
      /partner "p-x"/,
    );
    r.addUser({ name: 'a', role: 'partner_user', partnerId: 'p-1', token: 'x'.repeat(16) });
    expect(() => r.addUser({ name: 'b', role: 'partner_user', partnerId: 'p-1', token: 'x'.repeat(16) })).toThrow(
      /UNIQUE/,
    );
    r.db.close();
  });
});

describe('demo seed', () => {
  it('loads, matches the file, and loading twice changes nothing', () => {
    const file = join(tmp(), 'fleet.db');
    const db = openDatabase(`sqlite:${file}`);
    const r = new Registry(db);
    const raw = JSON.parse(readFileSync(DEMO_SEED, 'utf8')) as Record<string, unknown[]>;
    const seed = readSeedFile(DEMO_SEED);
    let events = 0;
    r.onDevicesChanged(() => events++);

    const first = loadSeed(r, seed);
    const expected = {
      partners: raw.partners?.length,
      customers: raw.customers?.length,
      sites: raw.sites?.length,
      devices: raw.devices?.length,
      users: raw.users?.length,
    };
    expect(expected).toEqual({ partners: 2, customers: 4, sites: expected.sites, devices: 48, users: 5 });
    expect(first).toEqual({ ...expected, changed: 2 + 4 + (expected.sites ?? 0) + 48 + 5 });
    expect(r.counts()).toEqual(expected);
    expect(events).toBe(1);

    const snapshot = () =>
      ['partners', 'customers', 'sites', 'devices', 'users'].map((t) =>
        db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all(),
      );
    const before = snapshot();
    const second = loadSeed(r, readSeedFile(DEMO_SEED));
    expect(second.changed).toBe(0);
    expect(snapshot()).toEqual(before);
    expect(events).toBe(1);

    const tenants = r.deviceTenants();
    expect(tenants.size).toBe(48);
    expect(tenants.get('8L2129E0A1B2')).toEqual({
      deviceId: '8L2129E0A1B2',
      partnerId: 'p-acme',
      customerId: 'c-globex',
      siteId: 's-globex-berlin',
      model: 'Studio X70',
      coverage: { plan: 'poly-premier', until: '2027-06-30', onsite: true },
    });
    // Every device's tenant agrees with the file's site -> customer -> partner chain.
    const siteCustomer = new Map(seed.sites.map((s) => [s.id, s.customerId]));
    const customerPartner = new Map(seed.customers.map((c) => [c.id, c.partnerId]));
    for (const d of seed.devices) {
      const t = tenants.get(d.id);
      expect(t?.siteId).toBe(d.siteId);
      expect(t?.customerId).toBe(siteCustomer.get(d.siteId));
      expect(t?.partnerId).toBe(customerPartner.get(t?.customerId ?? ''));
    }
    expect([...tenants.values()].filter((t) => t.coverage.until === '2026-01-31')).toHaveLength(2);

    expect(r.findUserByToken('demo-noc-token-0000000000000000')).toMatchObject({ role: 'noc', partnerId: null });
    expect(r.findUserByToken('demo-acme-admin-token-000000000')).toMatchObject({
      role: 'partner_admin',
      partnerId: 'p-acme',
    });
    expect(r.listCustomers('p-bluewave').map((c) => c.country).sort()).toEqual(['CA', 'US']);
    db.close();
  });

  it('a failing seed load leaves the registry untouched', () => {
    const r = memoryRegistry();
    const seed = readSeedFile(DEMO_SEED);
    const broken = { ...seed, devices: [...seed.devices, { ...seed.devices[0]!, id: 'NEW1', siteId: 's-gone' }] };
    expect(() => loadSeed(r, broken)).toThrow('seed: devices[48].siteId: site "s-gone" is not defined');
    expect(r.counts()).toEqual({ partners: 0, customers: 0, sites: 0, devices: 0, users: 0 });
    r.db.close();
  });
});
