// Registry seed files (CONTRACT section 4): a fleet described as code, loaded at start (FLEET_SEED)
// or by a test. Errors name the file and the exact field, because a person edits these by hand.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ID_PATTERN, MIN_TOKEN_LENGTH, ROLES, type Registry } from './registry.js';

const id = (kind: string) =>
  z
    .string()
    .regex(ID_PATTERN, { error: `${kind} id must match ${ID_PATTERN.source} (letters, digits, . _ -; 1-64 chars)` });
const ref = (kind: string) => z.string().min(1, { error: `must name a ${kind}` });
const text = z.string().trim().min(1, { error: 'must not be empty' }).max(200);
const country = z.string().regex(/^[A-Z]{2}$/, { error: 'must be an ISO 3166-1 alpha-2 code like "DE"' });
const timezone = z.string().refine(isTimeZone, { error: 'must be an IANA time zone like "Europe/Berlin"' });

const partnerSchema = z.object({ id: id('partner'), name: text, timezone, country: country.optional() });
const customerSchema = z.object({ id: id('customer'), partnerId: ref('partner'), name: text, country });
const siteSchema = z.object({ id: id('site'), customerId: ref('customer'), name: text, country, timezone });
const deviceSchema = z.object({
  id: id('device'),
  model: text,
  siteId: ref('site'),
  coverage: z.object({
    plan: text,
    // Last covered day; omitted or null = open-ended.
    until: z.iso
      .date({ error: 'must be a date YYYY-MM-DD' })
      .nullish()
      .transform((v) => v ?? null),
    onsite: z.boolean().default(false),
  }),
});
const userSchema = z.object({
  name: text,
  role: z.enum(['noc', 'partner_admin', 'partner_user'], { error: `must be one of ${ROLES.join(', ')}` }),
  partnerId: ref('partner').nullish().transform((v) => v ?? null),
  token: z.string().min(MIN_TOKEN_LENGTH, { error: `must be at least ${MIN_TOKEN_LENGTH} characters` }),
});

/** Unknown keys are ignored (stripped), so seed files can carry notes or newer fields. */
export const SeedSchema = z.object({
  partners: z.array(partnerSchema).default([]),
  customers: z.array(customerSchema).default([]),
  sites: z.array(siteSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  users: z.array(userSchema).default([]),
});

/**
 * A parsed seed:
 * { partners: {id,name,timezone}[]; customers: {id,partnerId,name,country}[];
 *   sites: {id,customerId,name,country,timezone}[];
 *   devices: {id,model,siteId,coverage:{plan,until: string|null,onsite: boolean}}[];
 *   users: {name, role, partnerId: string|null, token}[] }
 */
export type Seed = z.output<typeof SeedSchema>;

export interface SeedCounts {
  partners: number;
  customers: number;
  sites: number;
  devices: number;
  users: number;
}
export interface LoadSeedResult extends SeedCounts {
  /** Rows inserted or updated; 0 when the registry already matched the seed. */
  changed: number;
}

export interface SeedIssue {
  /** e.g. `devices[3].siteId`. */
  path: string;
  message: string;
}

/** A seed that cannot be used. message: one line per issue, `SOURCE: PATH: MESSAGE`. */
export class SeedError extends Error {
  constructor(
    readonly source: string,
    readonly issues: SeedIssue[],
  ) {
    super(issues.map((i) => `${source}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'));
    this.name = 'SeedError';
  }
}

const MAX_REPORTED_ISSUES = 20;

/**
 * Reads and validates a seed file (.json, .yaml or .yml). References must resolve within the file,
 * or in `registry` when one is given. Throws SeedError naming the file and the field.
 */
export function readSeedFile(path: string, opts: { registry?: Registry } = {}): Seed {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SeedError(path, [{ path: '', message: `cannot read file (${(err as Error).message})` }]);
  }
  const ext = extname(path).toLowerCase();
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(textContent);
    } catch (err) {
      throw new SeedError(path, [{ path: '', message: `invalid JSON: ${(err as Error).message}` }]);
    }
  } else if (ext === '.yaml' || ext === '.yml') {
    try {
      data = parseYaml(textContent);
    } catch (err) {
      const where =
        err instanceof YAMLParseError && err.linePos
          ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}`
          : '';
      const first = ((err as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new SeedError(path, [{ path: '', message: `invalid YAML${where}: ${first}` }]);
    }
  } else {
    throw new SeedError(path, [{ path: '', message: 'unknown seed file type; use .json, .yaml or .yml' }]);
  }
  return parseSeed(data, { source: path, registry: opts.registry });
}

/**
 * Validates seed data already in memory (shape, duplicates, references). `source` prefixes error
 * messages. References may point into `registry` when one is given.
 */
export function parseSeed(data: unknown, opts: { source?: string; registry?: Registry | undefined } = {}): Seed {
  const source = opts.source ?? 'seed';
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SeedError(source, [
      { path: '', message: 'must be an object with partners, customers, sites, devices, users' },
    ]);
  }
  const parsed = SeedSchema.safeParse(data, {
    error: (iss) => {
      if (iss.code !== 'invalid_type') return undefined;
      if (iss.input === undefined) return 'is required';
      // YAML reads an unquoted serial like 123456789012 as a number.
      if (iss.expected === 'string' && typeof iss.input === 'number') {
        return `must be a string, got the number ${iss.input} (quote it in YAML)`;
      }
      return undefined;
    },
  });
  if (!parsed.success) {
    throw new SeedError(
      source,
      parsed.error.issues
        .slice(0, MAX_REPORTED_ISSUES)
        .map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  const issues = checkConsistency(parsed.data, opts.registry);
  if (issues.length > 0) throw new SeedError(source, issues.slice(0, MAX_REPORTED_ISSUES));
  return parsed.data;
}

/**
 * Upserts the whole seed in ONE transaction (all or nothing). Idempotent: loading the same seed
 * twice changes nothing. References are re-checked against the registry first. Users are matched
 * by token: a changed token adds a user, it does not rotate the old one (nothing is ever deleted).
 */
export function loadSeed(registry: Registry, seed: Seed, source = 'seed'): LoadSeedResult {
  return registry.transaction(() => {
    // Inside the transaction, so the references checked are the ones the upserts will see.
    const issues = checkConsistency(seed, registry);
    if (issues.length > 0) throw new SeedError(source, issues.slice(0, MAX_REPORTED_ISSUES));
    let changed = 0;
    for (const p of seed.partners) if (registry.upsertPartner(p)) changed++;
    for (const c of seed.customers) if (registry.upsertCustomer(c)) changed++;
    for (const s of seed.sites) if (registry.upsertSite(s)) changed++;
    for (const d of seed.devices) if (registry.upsertDevice(d)) changed++;
    for (const u of seed.users) if (registry.upsertUserByToken(u)) changed++;
    return {
      partners: seed.partners.length,
      customers: seed.customers.length,
      sites: seed.sites.length,
      devices: seed.devices.length,
      users: seed.users.length,
      changed,
    };
  });
}

/** Duplicate ids/tokens and references that resolve neither in the seed nor in the registry. */
function checkConsistency(seed: Seed, registry: Registry | undefined): SeedIssue[] {
  const issues: SeedIssue[] = [];
  const index = <T>(kind: string, items: T[], key: (t: T) => string, label: (t: T) => string) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first !== undefined) {
        issues.push({ path: `${kind}[${i}]`, message: `duplicate ${label(item)} (also ${kind}[${first}])` });
      } else seen.set(k, i);
    });
    return seen;
  };
  const partners = index('partners', seed.partners, (p) => p.id, (p) => `id "${p.id}"`);
  const customers = index('customers', seed.customers, (c) => c.id, (c) => `id "${c.id}"`);
  const sites = index('sites', seed.sites, (s) => s.id, (s) => `id "${s.id}"`);
  index('devices', seed.devices, (d) => d.id, (d) => `id "${d.id}"`);
  index('users', seed.users, (u) => u.token, () => 'token');

  const has = (inFile: Map<string, number>, id: string, inDb?: (id: string) => unknown) =>
    inFile.has(id) || (inDb !== undefined && inDb(id) !== undefined);

  seed.customers.forEach((c, i) => {
    if (!has(partners, c.partnerId, registry && ((x) => registry.getPartner(x)))) {
      issues.push({ path: `customers[${i}].partnerId`, message: `partner "${c.partnerId}" is not defined` });
    }
  });
  seed.sites.forEach((s, i) => {
    if (!has(customers, s.customerId, registry && ((x) => registry.getCustomer(x)))) {
      issues.push({ path: `sites[${i}].customerId`, message: `customer "${s.customerId}" is not defined` });
    }
  });
  seed.devices.forEach((d, i) => {
    if (!has(sites, d.siteId, registry && ((x) => registry.getSite(x)))) {
      issues.push({ path: `devices[${i}].siteId`, message: `site "${d.siteId}" is not defined` });
    }
  });
  seed.users.forEach((u, i) => {
    if (u.role === 'noc') {
      if (u.partnerId !== null) {
        issues.push({ path: `users[${i}].partnerId`, message: 'a noc user belongs to no partner; remove partnerId' });
      }
    } else if (u.partnerId === null) {
      issues.push({ path: `users[${i}].partnerId`, message: `is required for role ${u.role}` });
    } else if (!has(partners, u.partnerId, registry && ((x) => registry.getPartner(x)))) {
      issues.push({ path: `users[${i}].partnerId`, message: `partner "${u.partnerId}" is not defined` });
    }
  });
  return issues;
}

/** ['devices', 3, 'siteId'] -> 'devices[3].siteId'. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}
