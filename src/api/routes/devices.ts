// Devices and the registry: register a product, list and read devices with their latest status
// and open alerts, customers, sites, coverage lookup.
import { z } from 'zod';
import { compareVersions, MIN_FIRMWARE } from '../../../alerting/rules/firmware-catalog.js';
import { reachabilityOf } from '../../../collector/device-state.js';
import type { DeviceRecord } from '../../storage/registry.js';
import type { ApiDeps } from '../deps.js';
import { decodeCursor, deviceTimeline, TimelineEntry } from '../device-timeline.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { canSee, partnerScope, type Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Coverage, Device, Id, IdParams, Page } from '../schemas.js';

const MAX_TIMELINE_WINDOW_MS = 30 * 24 * 3_600_000;

/** A point in time in a query: epoch ms, or an ISO 8601 date-time with its offset. */
const Instant = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

const TimelineParams = z.object({
  /** The window when `from` is not given: this many hours before `to`. */
  hours: z.coerce.number().int().min(1).max(24 * 30).default(24),
  from: Instant.optional(),
  /** Default: now. */
  to: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** `nextCursor` of the page before. */
  cursor: z
    .string()
    .max(512)
    .transform((text, ctx) => decodeCursor(text) ?? (ctx.addIssue({ code: 'custom', message: 'not a cursor this endpoint gave out' }), z.NEVER))
    .optional(),
});

export function deviceRoutes(d: ApiDeps): AnyRoute[] {
  const view = (r: DeviceRecord, withAlerts: boolean) => {
    const live = d.liveState.get(r.deviceId);
    const reach = reachabilityOf(live, d.liveState.restored);
    return {
      id: r.deviceId,
      model: r.model,
      partnerId: r.partnerId,
      customerId: r.customerId,
      siteId: r.siteId,
      coverage: r.coverage,
      registeredAt: r.registeredAt,
      status: { online: reach.online, offlineReason: reach.offlineReason, lastStatusAtMs: live?.lastStatusAtMs || null, snapshot: (live?.lastStatus as unknown as Record<string, unknown>) ?? null },
      openAlerts: withAlerts ? d.alerting.alerts.list({ deviceId: r.deviceId, state: 'firing', limit: 100 }) : [],
    };
  };
  const visibleDevice = (p: Principal, id: string) => {
    const r = d.registry.getDevice(id);
    if (!r || !canSee(p, r.partnerId)) throw notFound(`device ${id}`);
    return r;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/devices',
      tag: 'devices',
      summary: 'List devices with their latest status and open alerts',
      query: Page.extend({ customerId: Id.optional(), siteId: Id.optional() }),
      response: z.object({ items: z.array(Device), limit: z.number(), offset: z.number() }),
      handler: ({ principal, query }) => {
        const rows = d.registry.listDevices({ partnerId: partnerScope(principal), customerId: query.customerId, siteId: query.siteId, limit: query.limit, offset: query.offset });
        return { items: rows.map((r) => view(r, true)), limit: query.limit, offset: query.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/devices/:id',
      tag: 'devices',
      summary: 'A device with its latest status and open alerts',
      params: IdParams,
      response: Device,
      handler: ({ principal, params }) => view(visibleDevice(principal, params.id), true),
    }),
    defineRoute({
      method: 'post',
      path: '/devices',
      tag: 'devices',
      summary: 'Register a product (or update its registration) at one of your sites',
      roles: ['noc', 'partner_admin'],
      body: z.object({ id: Id, model: z.string().min(1).max(64), siteId: Id, coverage: z.object({ plan: z.string().min(1).max(32), until: z.iso.date().nullable(), onsite: z.boolean() }) }),
      response: Device,
      status: 201,
      handler: ({ principal, body }) => {
        const site = d.registry.getSite(body.siteId);
        const customer = site && d.registry.getCustomer(site.customerId);
        if (!site || !customer || !canSee(principal, customer.partnerId)) throw notFound(`site ${body.siteId}`);
        const existing = d.registry.getDevice(body.id);
        if (existing && !canSee(principal, existing.partnerId)) throw forbidden(`device ${body.id} is registered to another partner; ask the NOC`);
        d.registry.upsertDevice({ id: body.id, model: body.model, siteId: body.siteId, coverage: body.coverage });
        d.alerting.audit.append({ actor: principal.name, action: 'device.registered', subject: `device:${body.id}`, partnerId: customer.partnerId, data: { siteId: body.siteId, model: body.model, coverage: body.coverage } });
        return view(d.registry.getDevice(body.id)!, false);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/devices/:id/coverage',
      tag: 'devices',
      summary: 'Coverage and license of a device: plan, end date, onsite option, and whether it is in force today',
      params: IdParams,
      response: z.object({ deviceId: z.string(), coverage: Coverage, covered: z.boolean() }),
      handler: ({ principal, params }) => {
        const r = visibleDevice(principal, params.id);
        const today = new Date(d.clock()).toISOString().slice(0, 10);
        return { deviceId: r.deviceId, coverage: r.coverage, covered: r.coverage.until === null || r.coverage.until >= today };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/devices/:id/timeline',
      tag: 'devices',
      summary:
        'One history of a device, newest first and paged: telemetry summary, device events and firmware changes from InfluxDB, alerts firing and resolved, ticket history, commands sent and their results, replacement shipment states',
      params: IdParams,
      query: TimelineParams,
      response: z.object({
        deviceId: z.string(),
        /** The window the entries are from, [fromMs, toMs]. */
        fromMs: z.number(),
        toMs: z.number(),
        /** The device's firmware now against the catalog minimum of its model. */
        firmware: z.object({ current: z.string().nullable(), minimum: z.string().nullable(), belowMinimum: z.boolean() }),
        /** false: InfluxDB could not be read; its entries are missing (alerts come from the relational store). */
        telemetryAvailable: z.boolean(),
        entries: z.array(TimelineEntry),
        /** Pass as `cursor` for the next (older) page; null: this was the last. */
        nextCursor: z.string().nullable(),
      }),
      handler: async ({ principal, params, query }) => {
        const r = visibleDevice(principal, params.id);
        const toMs = query.to ?? d.clock();
        const fromMs = query.from ?? toMs - query.hours * 3_600_000;
        if (fromMs > toMs) throw badRequest('query.from: must not be after `to`');
        if (toMs - fromMs > MAX_TIMELINE_WINDOW_MS) throw badRequest('query.from: the window is at most 30 days');
        const minimum = MIN_FIRMWARE[r.model] ?? null;
        const page = await deviceTimeline(
          { telemetry: d.telemetry, history: d.deviceHistory, alerts: d.alerting.alerts, tickets: d.alerting.tickets, replacements: d.alerting.replacements, diagnostics: d.diagnostics },
          { deviceId: r.deviceId, minimumFirmware: minimum, fromMs, toMs, limit: query.limit, cursor: query.cursor },
        );
        // Live state first; after a restart, what InfluxDB saw last (the summary is on the first page only).
        const summary = page.entries.find((e) => e.kind === 'telemetry_summary');
        const current =
          d.liveState.get(r.deviceId)?.lastStatus?.firmware ??
          (summary ? summary.lastFirmware : ((await d.telemetry.deviceSummary(r.deviceId, fromMs, toMs).catch(() => null))?.lastFirmware ?? null));
        return {
          deviceId: r.deviceId,
          fromMs,
          toMs,
          firmware: { current, minimum, belowMinimum: current !== null && minimum !== null && compareVersions(current, minimum) < 0 },
          telemetryAvailable: page.telemetryAvailable,
          entries: page.entries,
          nextCursor: page.nextCursor,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/customers',
      tag: 'registry',
      summary: 'Your customers',
      response: z.object({ items: z.array(z.object({ id: z.string(), partnerId: z.string(), name: z.string(), country: z.string() })) }),
      handler: ({ principal }) => ({ items: d.registry.listCustomers(partnerScope(principal)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/sites',
      tag: 'registry',
      summary: 'Your sites',
      query: z.object({ customerId: Id.optional() }),
      response: z.object({ items: z.array(z.object({ id: z.string(), customerId: z.string(), name: z.string(), country: z.string(), timezone: z.string() })) }),
      handler: ({ principal, query }) => {
        const customers = new Map(d.registry.listCustomers(partnerScope(principal)).map((c) => [c.id, c]));
        if (query.customerId !== undefined && !customers.has(query.customerId)) return { items: [] };
        return { items: d.registry.listSites(query.customerId).filter((s) => customers.has(s.customerId)) };
      },
    }),
  ];
}
