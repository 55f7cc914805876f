// Registry seeds for tests with two partners (A in Germany, B in the US), one customer and site
// each: enough to check that one partner never sees the other's data.
import { writeFileSync } from 'node:fs';

export interface TwoPartnerOptions {
  /** Device ids at partner A's site and at partner B's site. */
  devicesA: string[];
  devicesB: string[];
  users?: Array<{ name: string; role: 'noc' | 'partner_admin' | 'partner_user'; partnerId?: 'p-a' | 'p-b'; token: string }>;
}

export function writeTwoPartnerSeed(path: string, o: TwoPartnerOptions): void {
  const device = (id: string, siteId: string) => ({ id, model: 'Studio X50', siteId, coverage: { plan: 'poly-plus', until: '2030-12-31', onsite: false } });
  writeFileSync(
    path,
    JSON.stringify({
      partners: [{ id: 'p-a', name: 'Partner A', timezone: 'Europe/Berlin', country: 'DE' }, { id: 'p-b', name: 'Partner B', timezone: 'America/New_York', country: 'US' }],
      customers: [{ id: 'c-a', partnerId: 'p-a', name: 'A customer', country: 'DE' }, { id: 'c-b', partnerId: 'p-b', name: 'B customer', country: 'US' }],
      sites: [{ id: 's-a', customerId: 'c-a', name: 'A site', country: 'DE', timezone: 'Europe/Berlin' }, { id: 's-b', customerId: 'c-b', name: 'B site', country: 'US', timezone: 'America/New_York' }],
      devices: [...o.devicesA.map((id) => device(id, 's-a')), ...o.devicesB.map((id) => device(id, 's-b'))],
      users: o.users ?? [],
    }),
  );
}
