// Devices and the registry: register a product, list and read devices with their latest status
// and open alerts, customers, sites, coverage lookup.
import { z } from 'zod';
import { compareVersions, MIN_FIRMWARE } from '../../../alerting/rules/firmware-catalog.js';
import type { DeviceRecord } from '../../storage/registry.js';
import type { ApiDeps } from '../deps.js';
import { forbidden, notFound } from '../errors.js';
import { canSee, partnerScope, type Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Coverage, Device, Id, IdParams, Page } from '../schemas.js';

export function deviceRoutes(d: ApiDeps): AnyRoute[] {
  const view = (r: DeviceRecord, withAlerts: boolean) => {
    const live = d.liveState.get(r.deviceId);
    return {
      id: r.deviceId,
      model: r.model,
      partnerId: r.partnerId,
      customerId: r.customerId,
      siteId: r.siteId,
      coverage: r.coverage,
      registeredAt: r.registeredAt,
      status: { online: live?.presence ?? 'unknown', lastStatusAtMs: live?.lastStatusAtMs || null, snapshot: (live?.lastStatus as unknown as Record<string, unknown>) ?? null },
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
      summary: 'One timeline of a device: telemetry summary and events from InfluxDB, alerts, tickets, replacements, firmware against the catalog',
      params: IdParams,
      query: z.object({ hours: z.coerce.number().int().min(1).max(24 * 30).default(24) }),
      response: z.object({
        deviceId: z.string(),
        sinceMs: z.number(),
        telemetry: z.record(z.string(), z.unknown()).nullable(),
        firmware: z.object({ current: z.string().nullable(), minimum: z.string().nullable(), belowMinimum: z.boolean() }),
        alerts: z.array(z.record(z.string(), z.unknown())),
        tickets: z.array(z.record(z.string(), z.unknown())),
        replacements: z.array(z.record(z.string(), z.unknown())),
        commands: z.array(z.record(z.string(), z.unknown())),
      }),
      handler: async ({ principal, params, query }) => {
        const r = visibleDevice(principal, params.id);
        const sinceMs = d.clock() - query.hours * 3_600_000;
        // InfluxDB down must not take the rest of the timeline with it.
        const telemetry = await d.telemetry.deviceSummary(r.deviceId, sinceMs).catch(() => null);
        const current = d.liveState.get(r.deviceId)?.lastStatus?.firmware ?? telemetry?.lastFirmware ?? null;
        const minimum = MIN_FIRMWARE[r.model] ?? null;
        return {
          deviceId: r.deviceId,
          sinceMs,
          telemetry: telemetry as unknown as Record<string, unknown> | null,
          firmware: { current, minimum, belowMinimum: current !== null && minimum !== null && compareVersions(current, minimum) < 0 },
          alerts: d.alerting.alerts.list({ deviceId: r.deviceId, limit: 100 }).filter((x) => x.updatedMs >= sinceMs || x.state === 'firing') as unknown as Array<Record<string, unknown>>,
          tickets: d.alerting.tickets.list({ deviceId: r.deviceId, limit: 100 }) as unknown as Array<Record<string, unknown>>,
          replacements: d.alerting.replacements.forDevice(r.deviceId).map((x) => ({ id: x.id, ticketId: x.ticketId, fault: x.fault, status: x.status, shipBy: x.shipBy, deliverBy: x.deliverBy })),
          commands: (d.diagnostics?.list({ deviceId: r.deviceId, limit: 50 }) ?? [])
            .filter((x) => x.createdMs >= sinceMs)
            .map((x) => ({ id: x.id, type: 'diagnostics', tool: x.tool, target: x.target, status: x.status, requestedBy: x.requestedBy, createdMs: x.createdMs, finishedMs: x.finishedMs })),
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
