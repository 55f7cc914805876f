/**
 * Reads just the devices (id, model, and where they are: site and customer) out of a registry seed file (CONTRACT section 4), JSON or YAML.
 * The full seed loader lives in src/storage; the simulator needs only this much and must not depend on it.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { DEVICE_ID_RE } from './protocol.js';

export interface RegistryDevice {
  id: string;
  model: string;
  /** From the seed; scenarios pick devices by site and customer. */
  siteId?: string;
  customerId?: string;
  /** The site's time zone (IANA), for the daily call pattern. */
  timezone?: string;
  /** Last covered day (YYYY-MM-DD) from the seed's coverage; null: open-ended; undefined: none given. */
  coveredUntil?: string | null;
}

// Other keys (partners, coverage, …) are ignored: zod objects strip unknown keys.
const SeedDevices = z.object({
  sites: z.array(z.object({ id: z.string(), customerId: z.string().optional(), timezone: z.string().optional() })).default([]),
  devices: z.array(
    z.object({
      id: z.string().regex(DEVICE_ID_RE, 'must match ^[A-Za-z0-9._-]{1,64}$'),
      model: z.string().min(1),
      siteId: z.string().optional(),
      coverage: z.object({ until: z.string().nullable().optional() }).optional(),
    }),
  ),
});

export function parseRegistryDevices(text: string, source = 'registry', format?: 'json' | 'yaml'): RegistryDevice[] {
  let doc: unknown;
  try {
    // YAML is a superset of JSON, but JSON.parse gives better messages for .json files.
    doc = format === 'json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid ${format === 'json' ? 'JSON' : 'YAML/JSON'}: ${(err as Error).message}`);
  }
  const res = SeedDevices.safeParse(doc);
  if (!res.success) {
    const issues = res.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${source}: invalid registry seed: ${issues}`);
  }
  const seen = new Set<string>();
  const siteOf = new Map(res.data.sites.map((site) => [site.id, site]));
  const out: RegistryDevice[] = [];
  for (const d of res.data.devices) {
    // Two simulated devices with one id would share an MQTT client id and kick each other off.
    if (seen.has(d.id)) throw new Error(`${source}: device id ${d.id} appears more than once`);
    seen.add(d.id);
    const dev: RegistryDevice = { id: d.id, model: d.model };
    if (d.coverage?.until !== undefined) dev.coveredUntil = d.coverage.until;
    if (d.siteId !== undefined) {
      dev.siteId = d.siteId;
      const site = siteOf.get(d.siteId);
      if (site?.customerId !== undefined) dev.customerId = site.customerId;
      if (site?.timezone !== undefined) dev.timezone = site.timezone;
    }
    out.push(dev);
  }
  return out;
}

export async function loadRegistryDevices(path: string): Promise<RegistryDevice[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read registry seed ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseRegistryDevices(text, path, extname(path).toLowerCase() === '.json' ? 'json' : 'yaml');
}
