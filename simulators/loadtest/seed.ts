/**
 * A registry seed file for a load test (`--write-seed`): one partner, customer and site holding the
 * fleet's devices (the ids the load test generates, SIM…) and the probe devices (LTPROBE…), all
 * covered, plus a noc user with the given token. Give it to the service as FLEET_SEED and to the
 * load test as --registry, and the load test's devices are registered: no unregistered-device alerts,
 * and a partner or noc token can follow the probes.
 */
import { writeFileSync } from 'node:fs';
import { planDevices } from '../fleet.js';
import { generatedProbeIds } from './probes.js';

export interface LoadtestSeedOptions {
  devices: number;
  probeDevices: number;
  seed?: number;
  /** A noc user with this token (at least 16 characters, as the service requires). */
  token?: string;
}

export async function writeLoadtestSeed(path: string, o: LoadtestSeedOptions): Promise<{ devices: number; probes: number }> {
  const fleet = await planDevices({ devices: o.devices, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  const probes = generatedProbeIds(o.probeDevices).map((id) => ({ id, model: 'Studio X50' }));
  const coverage = { plan: 'poly-plus', until: '2030-12-31', onsite: false };
  const doc = {
    partners: [{ id: 'p-loadtest', name: 'Load test AV', timezone: 'Europe/Berlin', country: 'DE' }],
    customers: [{ id: 'c-loadtest', partnerId: 'p-loadtest', name: 'Load test customer', country: 'DE' }],
    sites: [{ id: 's-loadtest', customerId: 'c-loadtest', name: 'Load test site', country: 'DE', timezone: 'Europe/Berlin' }],
    devices: [...fleet.map((d) => ({ id: d.id, model: d.model })), ...probes].map((d) => ({ ...d, siteId: 's-loadtest', coverage })),
    users: o.token !== undefined ? [{ name: 'loadtest-noc', role: 'noc', token: o.token }] : [],
  };
  writeFileSync(path, `${JSON.stringify(doc)}\n`);
  return { devices: fleet.length, probes: probes.length };
}
