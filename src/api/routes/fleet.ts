// What a fleet-wide screen (the NOC page, src/web) needs without reading 10,000 device rows:
// health counted server-side per partner -> customer -> site, a compact device list that can be
// filtered and paged (for a virtualized list), a device's recent telemetry points from InfluxDB,
// the ingest rate of the last minutes, and who the caller is. Every answer is scoped to the
// caller's partner like the rest of the API.
import { z } from 'zod';
import { reachabilityOf, type DeviceLiveState } from '../../../collector/device-state.js';
import type { StatusSnapshot } from '../../../collector/messages.js';
import type { IngestRate } from '../../streams/ingest-rate.js';
import { summarize, type Health } from '../../streams/device-summary.js';
import type { DeviceTenant } from '../../storage/registry.js';
import type { Influx1Store } from '../../telemetry/influx1.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { canSee, partnerScope, type Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Id, IdParams, OfflineReason } from '../schemas.js';

export interface FleetDeps extends ApiDeps {
  telemetry: Pick<Influx1Store, 'deviceSummary' | 'recentStatus'>;
  ingestRate: Pick<IngestRate, 'history'>;
}

const Counts = z.object({
  devices: z.number(),
  online: z.number(),
  offline: z.number(),
  /** Registered, but nothing heard from it since the service started. */
  unknown: z.number(),
  /** With at least one firing alert. */
  alerting: z.number(),
  critical: z.number(),
  degraded: z.number(),
});
type CountsT = z.infer<typeof Counts>;

const DEVICE_STATES = ['all', 'online', 'offline', 'unknown', 'alerting', 'problem'] as const;

const FleetDevice = z.object({
  id: z.string(),
  model: z.string(),
  partnerId: z.string(),
  customerId: z.string(),
  siteId: z.string(),
  online: z.enum(['online', 'offline', 'unknown']),
  offlineReason: OfflineReason.nullable(),
  health: z.enum(['ok', 'degraded', 'critical', 'unknown']),
  reasons: z.array(z.string()),
  /** Firing alerts of the device. */
  alerts: z.number(),
  lastStatusAtMs: z.number().nullable(),
});
type FleetDeviceT = z.infer<typeof FleetDevice>;

const RateSample = z.object({ ts: z.number(), perSecond: z.number(), avgPerSecond: z.number(), avgWindowS: z.number().int(), status: z.number(), event: z.number(), presence: z.number(), reply: z.number() });

const zero = (): CountsT => ({ devices: 0, online: 0, offline: 0, unknown: 0, alerting: 0, critical: 0, degraded: 0 });

export function fleetRoutes(d: FleetDeps): AnyRoute[] {
  // The registry's devices sorted by id, rebuilt when the registry changes (not per request).
  let devices: DeviceTenant[] | undefined;
  d.registry.onDevicesChanged(() => (devices = undefined));
  const allDevices = (): DeviceTenant[] => (devices ??= [...d.registry.deviceTenants().values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0)));
  const scoped = (p: Principal): DeviceTenant[] => {
    const all = allDevices();
    return p.role === 'noc' ? all : all.filter((t) => t.partnerId === p.partnerId);
  };
  const firingByDevice = (p: Principal): Map<string, number> => d.alerting.alerts.firingCountByDevice(partnerScope(p));
  // A snapshot's health, computed once: each new status is a new object, so the cache follows it.
  const healthCache = new WeakMap<StatusSnapshot, { health: Health; reasons: string[] }>();
  const healthOf = (s: StatusSnapshot) => {
    let h = healthCache.get(s);
    if (!h) {
      const { health, reasons } = summarize(s, true);
      healthCache.set(s, (h = { health, reasons }));
    }
    return h;
  };
  const stateOf = (t: DeviceTenant, firing: Map<string, number>): FleetDeviceT => {
    const live: DeviceLiveState | undefined = d.liveState.get(t.deviceId);
    const { online, offlineReason } = reachabilityOf(live, d.liveState.restored);
    let health: Health | 'unknown' = 'unknown';
    let reasons: string[] = [];
    // A device that never reported is not known to be broken: it may not be installed yet.
    if (online === 'offline') (health = offlineReason === 'never_reported' ? 'unknown' : 'critical'), (reasons = [offlineReason === 'never_reported' ? 'never reported' : 'offline']);
    else if (live?.lastStatus) ({ health, reasons } = healthOf(live.lastStatus));
    return {
      id: t.deviceId,
      model: t.model,
      partnerId: t.partnerId,
      customerId: t.customerId,
      siteId: t.siteId,
      online,
      offlineReason,
      health,
      reasons,
      alerts: firing.get(t.deviceId) ?? 0,
      lastStatusAtMs: live?.lastStatusAtMs || null,
    };
  };
  const add = (c: CountsT, s: FleetDeviceT): void => {
    c.devices++;
    c[s.online]++;
    if (s.alerts > 0) c.alerting++;
    if (s.health === 'critical') c.critical++;
    else if (s.health === 'degraded') c.degraded++;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/me',
      tag: 'session',
      summary: 'Who the token belongs to: name, role, partner',
      response: z.object({ name: z.string(), role: z.enum(['noc', 'partner_admin', 'partner_user']), partnerId: z.string().nullable(), partnerName: z.string().nullable() }),
      handler: ({ principal }) => ({
        name: principal.name,
        role: principal.role,
        partnerId: principal.partnerId,
        partnerName: principal.partnerId ? (d.registry.getPartner(principal.partnerId)?.name ?? null) : null,
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/fleet/health',
      tag: 'fleet',
      summary: 'Fleet health counted per partner, customer and site: online, offline, unknown, alerting, critical, degraded',
      response: z.object({
        generatedMs: z.number(),
        totals: Counts,
        partners: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            counts: Counts,
            customers: z.array(z.object({ id: z.string(), name: z.string(), counts: Counts, sites: z.array(z.object({ id: z.string(), name: z.string(), counts: Counts })) })),
          }),
        ),
      }),
      handler: ({ principal }) => {
        const scope = partnerScope(principal);
        const partners = d.registry.listPartners().filter((p) => scope === undefined || p.id === scope);
        const customers = d.registry.listCustomers(scope);
        const customerIds = new Set(customers.map((c) => c.id));
        const sites = d.registry.listSites().filter((s) => customerIds.has(s.customerId));
        type SiteNode = { id: string; name: string; counts: CountsT };
        type CustomerNode = { id: string; name: string; counts: CountsT; sites: SiteNode[] };
        type PartnerNode = { id: string; name: string; counts: CountsT; customers: CustomerNode[] };
        const pNodes = new Map<string, PartnerNode>(partners.map((p) => [p.id, { id: p.id, name: p.name, counts: zero(), customers: [] }]));
        const cNodes = new Map<string, CustomerNode>();
        for (const c of customers) {
          const node: CustomerNode = { id: c.id, name: c.name, counts: zero(), sites: [] };
          cNodes.set(c.id, node);
          pNodes.get(c.partnerId)?.customers.push(node);
        }
        const sNodes = new Map<string, SiteNode>();
        for (const s of sites) {
          const node: SiteNode = { id: s.id, name: s.name, counts: zero() };
          sNodes.set(s.id, node);
          cNodes.get(s.customerId)?.sites.push(node);
        }
        const totals = zero();
        const firing = firingByDevice(principal);
        for (const t of scoped(principal)) {
          const s = stateOf(t, firing);
          add(totals, s);
          const p = pNodes.get(t.partnerId);
          const c = cNodes.get(t.customerId);
          const site = sNodes.get(t.siteId);
          if (p) add(p.counts, s);
          if (c) add(c.counts, s);
          if (site) add(site.counts, s);
        }
        return { generatedMs: d.clock(), totals, partners: [...pNodes.values()] };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/fleet/devices',
      tag: 'fleet',
      summary: 'Compact device rows with their live state, filtered and paged (sorted by id), with the total that matched',
      query: z.object({
        customerId: Id.optional(),
        siteId: Id.optional(),
        state: z.enum(DEVICE_STATES).default('all'),
        q: z.string().max(64).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      }),
      response: z.object({ total: z.number(), offset: z.number(), limit: z.number(), items: z.array(FleetDevice) }),
      handler: ({ principal, query }) => {
        const firing = firingByDevice(principal);
        const q = query.q?.trim().toLowerCase() || undefined;
        const items: FleetDeviceT[] = [];
        let total = 0;
        for (const t of scoped(principal)) {
          if (query.customerId !== undefined && t.customerId !== query.customerId) continue;
          if (query.siteId !== undefined && t.siteId !== query.siteId) continue;
          if (q !== undefined && !t.deviceId.toLowerCase().includes(q) && !t.model.toLowerCase().includes(q)) continue;
          let s: FleetDeviceT | undefined;
          if (query.state !== 'all') {
            s = stateOf(t, firing);
            const keep =
              query.state === 'alerting' ? s.alerts > 0 : query.state === 'problem' ? s.online === 'offline' || s.alerts > 0 || s.health === 'critical' || s.health === 'degraded' : s.online === query.state;
            if (!keep) continue;
          }
          if (total >= query.offset && items.length < query.limit) items.push(s ?? stateOf(t, firing));
          total++;
        }
        return { total, offset: query.offset, limit: query.limit, items };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/fleet/ingest-rate',
      tag: 'fleet',
      summary: 'Messages accepted per second over the last two minutes: all of them for noc, your own devices\' for a partner',
      response: z.object({ scope: z.enum(['global', 'partner']), partnerId: z.string().nullable(), samples: z.array(RateSample) }),
      handler: ({ principal }) => {
        const partnerId = principal.role === 'noc' ? null : (principal.partnerId ?? '\u0000');
        return { scope: partnerId === null ? ('global' as const) : ('partner' as const), partnerId, samples: d.ingestRate.history(partnerId) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/devices/:id/telemetry',
      tag: 'devices',
      summary: 'A device\'s recent status points from InfluxDB (oldest first): CPU, memory, temperature, RTT, jitter, loss, MOS, link, call',
      params: IdParams,
      query: z.object({ minutes: z.coerce.number().int().min(1).max(24 * 60).default(60), limit: z.coerce.number().int().min(1).max(2000).default(720) }),
      response: z.object({
        deviceId: z.string(),
        sinceMs: z.number(),
        points: z.array(
          z.object({
            ts: z.number(),
            cpuPct: z.number().nullable(),
            memPct: z.number().nullable(),
            tempC: z.number().nullable(),
            rttMs: z.number().nullable(),
            jitterMs: z.number().nullable(),
            lossPct: z.number().nullable(),
            mos: z.number().nullable(),
            linkUp: z.boolean().nullable(),
            inCall: z.boolean().nullable(),
            peripheralsFailed: z.number().nullable(),
          }),
        ),
        /** false when InfluxDB could not be read (the points are then empty). */
        available: z.boolean(),
      }),
      handler: async ({ principal, params, query }) => {
        const r = d.registry.getDevice(params.id);
        if (!r || !canSee(principal, r.partnerId)) throw notFound(`device ${params.id}`);
        const sinceMs = d.clock() - query.minutes * 60_000;
        try {
          return { deviceId: r.deviceId, sinceMs, points: await d.telemetry.recentStatus(r.deviceId, sinceMs, query.limit), available: true };
        } catch {
          return { deviceId: r.deviceId, sinceMs, points: [], available: false };
        }
      },
    }),
  ];
}
