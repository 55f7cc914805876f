// Registry seed files made in code (CONTRACT section 4): a fleet as code for tests and benchmarks.
import { writeFileSync } from 'node:fs';

export interface FleetDevice {
  id: string;
  model?: string;
  /** Default: poly-plus until 2030-12-31, no onsite option. */
  coverage?: { plan?: string; until?: string | null; onsite?: boolean };
}

/**
 * Writes a seed with one partner, customer and site holding `devices`, all covered (poly-plus to
 * 2030), ids prefixed with `tag` (p-TAG, c-TAG, s-TAG). Returns the path.
 */
export function writeSingleSiteSeed(path: string, tag: string, devices: FleetDevice[]): string {
  writeFileSync(
    path,
    JSON.stringify({
      partners: [{ id: `p-${tag}`, name: `${tag} AV`, timezone: 'Europe/Berlin', country: 'DE' }],
      customers: [{ id: `c-${tag}`, partnerId: `p-${tag}`, name: `${tag} customer`, country: 'DE' }],
      sites: [{ id: `s-${tag}`, customerId: `c-${tag}`, name: `${tag} HQ`, country: 'DE', timezone: 'Europe/Berlin' }],
      devices: devices.map((d) => ({
        id: d.id,
        model: d.model ?? 'Studio X50',
        siteId: `s-${tag}`,
        coverage: { plan: d.coverage?.plan ?? 'poly-plus', until: d.coverage?.until === undefined ? '2030-12-31' : d.coverage.until, onsite: d.coverage?.onsite ?? false },
      })),
      users: [],
    }),
  );
  return path;
}
