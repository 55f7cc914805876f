// Alerts, alert groups and silences.
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../errors.js';
import { canSee, partnerScope } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Alert, Id, NumericIdParams } from '../schemas.js';

const Silence = z.object({
  id: z.number(),
  kind: z.enum(['silence', 'maintenance']),
  partnerId: z.string().nullable(),
  customerId: z.string().nullable(),
  siteId: z.string().nullable(),
  deviceId: z.string().nullable(),
  rule: z.string().nullable(),
  startsMs: z.number(),
  endsMs: z.number(),
  createdBy: z.string(),
  comment: z.string(),
});

export function alertRoutes(d: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/alerts',
      tag: 'alerts',
      summary: 'Alerts, newest first',
      query: z.object({ state: z.enum(['firing', 'resolved']).optional(), deviceId: Id.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(Alert) }),
      handler: ({ principal, query }) => ({ items: d.alerting.alerts.list({ partnerId: partnerScope(principal), state: query.state, deviceId: query.deviceId, limit: query.limit }) }),
    }),
    defineRoute({
      method: 'get',
      path: '/alerts/groups',
      tag: 'alerts',
      summary: 'Firing alerts grouped by customer, site and rule',
      response: z.object({ items: z.array(z.object({ key: z.string(), partnerId: z.string().nullable(), customerId: z.string().nullable(), siteId: z.string().nullable(), rule: z.string(), severity: z.string(), firing: z.number(), devices: z.array(z.string()), since: z.number() })) }),
      handler: ({ principal }) => ({ items: d.alerting.alerts.groups({ partnerId: partnerScope(principal) }) }),
    }),
    defineRoute({
      method: 'get',
      path: '/silences',
      tag: 'alerts',
      summary: 'Silences and maintenance windows',
      query: z.object({ active: z.enum(['true', 'false']).optional() }),
      response: z.object({ items: z.array(Silence) }),
      handler: ({ principal, query }) => ({
        items: d.alerting.silences.list({ ...(partnerScope(principal) !== undefined ? { partnerId: partnerScope(principal)! } : {}), ...(query.active === 'true' ? { activeAt: d.clock() } : {}) }),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/silences',
      tag: 'alerts',
      summary: 'Create a silence or maintenance window; it always has an end time',
      roles: ['noc', 'partner_admin', 'partner_user'],
      body: z.object({
        kind: z.enum(['silence', 'maintenance']).default('silence'),
        customerId: Id.optional(),
        siteId: Id.optional(),
        deviceId: Id.optional(),
        rule: z.string().max(64).optional(),
        startsAt: z.iso.datetime().optional(),
        endsAt: z.iso.datetime(),
        comment: z.string().min(1).max(500),
      }),
      response: Silence,
      status: 201,
      handler: ({ principal, body }) => {
        const startsMs = body.startsAt ? Date.parse(body.startsAt) : d.clock();
        const endsMs = Date.parse(body.endsAt);
        if (endsMs <= startsMs) throw badRequest('body.endsAt: must be after the start');
        if (endsMs - startsMs > 30 * 86_400_000) throw badRequest('body.endsAt: a silence lasts 30 days at most');
        // A partner's silence is always bounded to its own partner; noc may silence across partners.
        const partnerId = principal.role === 'noc' ? undefined : principal.partnerId!;
        if (body.deviceId) {
          const dev = d.registry.getDevice(body.deviceId);
          if (!dev || !canSee(principal, dev.partnerId)) throw notFound(`device ${body.deviceId}`);
        }
        if (body.customerId) {
          const c = d.registry.getCustomer(body.customerId);
          if (!c || !canSee(principal, c.partnerId)) throw notFound(`customer ${body.customerId}`);
        }
        if (body.siteId) {
          const s = d.registry.getSite(body.siteId);
          const c = s && d.registry.getCustomer(s.customerId);
          if (!c || !canSee(principal, c.partnerId)) throw notFound(`site ${body.siteId}`);
        }
        if (partnerId === undefined && !body.customerId && !body.siteId && !body.deviceId && !body.rule) throw badRequest('body: give at least one of customerId, siteId, deviceId, rule');
        const silence = d.alerting.silences.add({ kind: body.kind, partnerId, customerId: body.customerId, siteId: body.siteId, deviceId: body.deviceId, rule: body.rule, startsMs, endsMs, createdBy: principal.name, comment: body.comment });
        d.alerting.audit.append({ actor: principal.name, action: `${body.kind}.created`, subject: `silence:${silence.id}`, partnerId: silence.partnerId, data: { ...body } });
        return silence;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/silences/:id',
      tag: 'alerts',
      summary: 'End a silence now',
      params: NumericIdParams,
      response: Silence,
      handler: ({ principal, params }) => {
        const s = d.alerting.silences.get(params.id);
        if (!s || !(principal.role === 'noc' || (s.partnerId !== null && canSee(principal, s.partnerId)))) throw notFound(`silence ${params.id}`);
        d.alerting.silences.expire(params.id);
        d.alerting.audit.append({ actor: principal.name, action: 'silence.expired', subject: `silence:${s.id}`, partnerId: s.partnerId, data: {} });
        return d.alerting.silences.get(params.id)!;
      },
    }),
  ];
}
