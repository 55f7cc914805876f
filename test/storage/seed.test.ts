import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { Registry } from '../../src/storage/registry.js';
import { SeedError, loadSeed, parseSeed, readSeedFile } from '../../src/storage/seed.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

const base = () => ({
  partners: [{ id: 'p-acme', name: 'Acme AV', timezone: 'Europe/Berlin' }],
  customers: [{ id: 'c-globex', partnerId: 'p-acme', name: 'Globex', country: 'DE' }],
  sites: [{ id: 's-berlin', customerId: 'c-globex', name: 'Berlin HQ', country: 'DE', timezone: 'Europe/Berlin' }],
  devices: [
    { id: '8L2129E0A1B2', model: 'Studio X50', siteId: 's-berlin', coverage: { plan: 'poly-plus', until: '2027-12-31', onsite: true } },
  ] as Array<Record<string, unknown>>,
  users: [{ name: 'ops', role: 'partner_admin', partnerId: 'p-acme', token: 'ops-token-0123456789' }] as Array<
    Record<string, unknown>
  >,
});

function writeSeed(name: string, content: string): string {
  const file = join(tmp(), name);
  writeFileSync(file, content);
  return file;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SeedError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('readSeedFile', () => {
  it('reads the contract example as JSON and as YAML', () => {
    const json = readSeedFile(writeSeed('fleet.json', JSON.stringify(base())));
    const yaml = readSeedFile(
      writeSeed(
        'fleet.yaml',
        `# a fleet as code
partners:
  - { id: p-acme, name: Acme AV, timezone: Europe/Berlin, note: ignored }
customers:
  - { id: c-globex, partnerId: p-acme, name: Globex, country: DE }
sites:
  - { id: s-berlin, customerId: c-globex, name: Berlin HQ, country: DE, timezone: Europe/Berlin }
devices:
  - id: 8L2129E0A1B2
    model: Studio X50
    siteId: s-berlin
    coverage: { plan: poly-plus, until: 2027-12-31, onsite: true }
users:
  - { name: ops, role: partner_admin, partnerId: p-acme, token: ops-token-0123456789 }
`,
      ),
    );
    expect(yaml).toEqual(json);
    expect(json.devices[0]?.coverage).toEqual({ plan: 'poly-plus', until: '2027-12-31', onsite: true });
    expect(json.partners[0]).not.toHaveProperty('note');
  });

  it('defaults missing arrays and optional coverage fields', () => {
    const seed = readSeedFile(
      writeSeed('partial.yml', 'partners:\n  - { id: p-1, name: P, timezone: UTC }\n'),
    );
    expect(seed).toEqual({
      partners: [{ id: 'p-1', name: 'P', timezone: 'UTC' }],
      customers: [],
      sites: [],
      devices: [],
      users: [],
    });
    const d = parseSeed({
      ...base(),
      devices: [{ id: 'D1', model: 'TC10', siteId: 's-berlin', coverage: { plan: 'poly-plus' } }],
    }).devices[0];
    expect(d?.coverage).toEqual({ plan: 'poly-plus', until: null, onsite: false });
  });

  const withDevice = (patch: Record<string, unknown>) => {
    const s = base();
    s.devices.push({ id: 'D2', model: 'TC10', siteId: 's-berlin', coverage: { plan: 'poly-plus', until: '2027-01-31', onsite: false }, ...patch });
    return s;
  };
  const withUser = (patch: Record<string, unknown>) => {
    const s = base();
    s.users.push({ name: 'u', role: 'partner_user', partnerId: 'p-acme', token: 'user-token-0123456789', ...patch });
    return s;
  };

  const cases: Array<{ name: string; file: string; content: string; expected: string | RegExp }> = [
    {
      name: 'unknown site reference',
      file: 'bad.json',
      content: JSON.stringify(withDevice({ siteId: 's-x' })),
      expected: 'bad.json: devices[1].siteId: site "s-x" is not defined',
    },
    {
      name: 'unknown partner reference',
      file: 'bad.json',
      content: JSON.stringify({ ...base(), customers: [{ id: 'c-globex', partnerId: 'p-x', name: 'G', country: 'DE' }] }),
      expected: 'bad.json: customers[0].partnerId: partner "p-x" is not defined',
    },
    {
      name: 'bad device id',
      file: 'bad.json',
      content: JSON.stringify(withDevice({ id: 'has space/slash' })),
      expected: /bad\.json: devices\[1\]\.id: device id must match/,
    },
    {
      name: 'bad role',
      file: 'bad.json',
      content: JSON.stringify(withUser({ role: 'root' })),
      expected: 'bad.json: users[1].role: must be one of noc, partner_admin, partner_user',
    },
    {
      name: 'short token',
      file: 'bad.json',
      content: JSON.stringify(withUser({ token: 'abc' })),
      expected: 'bad.json: users[1].token: must be at least 16 characters',
    },
    {
      name: 'bad date',
      file: 'bad.json',
      content: JSON.stringify(withDevice({ coverage: { plan: 'poly-plus', until: '2027-02-30', onsite: false } })),
      expected: 'bad.json: devices[1].coverage.until: must be a date YYYY-MM-DD',
    },
    {
      name: 'missing field',
      file: 'bad.json',
      content: JSON.stringify(withDevice({ model: undefined })),
      expected: 'bad.json: devices[1].model: is required',
    },
    {
      name: 'partner user without partner',
      file: 'bad.json',
      content: JSON.stringify(withUser({ partnerId: undefined })),
      expected: 'bad.json: users[1].partnerId: is required for role partner_user',
    },
    {
      name: 'duplicate device id',
      file: 'bad.json',
      content: JSON.stringify(withDevice({ id: '8L2129E0A1B2' })),
      expected: 'bad.json: devices[1]: duplicate id "8L2129E0A1B2" (also devices[0])',
    },
    {
      name: 'bad time zone',
      file: 'bad.json',
      content: JSON.stringify({ ...base(), partners: [{ id: 'p-acme', name: 'A', timezone: 'Europe/Berlni' }] }),
      expected: 'bad.json: partners[0].timezone: must be an IANA time zone like "Europe/Berlin"',
    },
    {
      name: 'numeric id in YAML',
      file: 'bad.yaml',
      content: 'devices:\n  - { id: 123456789012, model: TC10, siteId: s, coverage: { plan: p } }\n',
      expected: 'bad.yaml: devices[0].id: must be a string, got the number 123456789012 (quote it in YAML)',
    },
    {
      name: 'YAML parse error',
      file: 'bad.yaml',
      content: 'partners:\n  - id: p-1\n    name: [unclosed\n',
      expected: /bad\.yaml: invalid YAML at line \d+, column \d+: /,
    },
    {
      name: 'JSON parse error',
      file: 'bad.json',
      content: '{"partners": [}',
      expected: /bad\.json: invalid JSON: /,
    },
    {
      name: 'not an object',
      file: 'bad.json',
      content: '[]',
      expected: 'bad.json: must be an object with partners, customers, sites, devices, users',
    },
    {
      name: 'unknown extension',
      file: 'bad.toml',
      content: '',
      expected: /bad\.toml: unknown seed file type/,
    },
  ];

  it.each(cases)('$name', ({ file, content, expected }) => {
    const path = writeSeed(file, content);
    const message = errorOf(() => readSeedFile(path));
    // The message starts with the file path the caller passed.
    expect(message.startsWith(`${path}: `)).toBe(true);
    if (typeof expected === 'string') expect(message.split('\n')).toContain(`${path.slice(0, -file.length)}${expected}`);
    else expect(message).toMatch(expected);
  });

  it('names a missing file', () => {
    expect(errorOf(() => readSeedFile('/nonexistent/fleet.json'))).toMatch(/^\/nonexistent\/fleet\.json: cannot read file/);
  });

  it('resolves references against the registry when given one', () => {
    const r = new Registry(openDatabase('sqlite::memory:'));
    loadSeed(r, parseSeed(base()));
    const extra = writeSeed(
      'extra.json',
      JSON.stringify({ devices: [{ id: 'EXTRA1', model: 'CCX 400', siteId: 's-berlin', coverage: { plan: 'poly-plus' } }] }),
    );
    expect(errorOf(() => readSeedFile(extra))).toContain('devices[0].siteId: site "s-berlin" is not defined');
    const seed = readSeedFile(extra, { registry: r });
    expect(loadSeed(r, seed)).toEqual({ partners: 0, customers: 0, sites: 0, devices: 1, users: 0, changed: 1 });
    expect(r.getDevice('EXTRA1')?.customerId).toBe('c-globex');
    r.db.close();
  });
});
