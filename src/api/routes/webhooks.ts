// Outbound webhooks of a partner (to feed its own ticketing) and their delivery log.
import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../webhooks/payload.js';
import { WebhookInputError, type WebhookStore } from '../../webhooks/webhook-store.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../errors.js';
import type { Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { NumericIdParams } from '../schemas.js';

const Webhook = z.object({ id: z.number(), partnerId: z.string(), url: z.string(), events: z.array(z.string()), enabled: z.boolean(), createdMs: z.number() });

export function webhookRoutes(d: ApiDeps & { webhooks: WebhookStore }): AnyRoute[] {
  /** A partner's own webhook; noc has no webhooks of its own but may read any. */
  const owned = (p: Principal, id: number) => {
    const w = d.webhooks.get(id);
    if (!w || (p.role !== 'noc' && w.partnerId !== p.partnerId)) throw notFound(`webhook ${id}`);
    return w;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/webhooks',
      tag: 'webhooks',
      summary: 'Your outbound webhooks',
      roles: ['partner_admin'],
      response: z.object({ items: z.array(Webhook) }),
      handler: ({ principal }) => ({ items: d.webhooks.list(principal.partnerId!) }),
    }),
    defineRoute({
      method: 'post',
      path: '/webhooks',
      tag: 'webhooks',
      summary: 'Add a webhook; the answer carries its signing secret, shown this once',
      roles: ['partner_admin'],
      body: z.object({ url: z.string().max(2048), events: z.array(z.enum(WEBHOOK_EVENTS)).min(1) }),
      response: z.object({ webhook: Webhook, secret: z.string() }),
      status: 201,
      handler: ({ principal, body }) => {
        try {
          const created = d.webhooks.create({ partnerId: principal.partnerId!, url: body.url, events: body.events });
          d.alerting.audit.append({ actor: principal.name, action: 'webhook.created', subject: `webhook:${created.webhook.id}`, partnerId: principal.partnerId, data: { url: body.url, events: body.events } });
          return created;
        } catch (err) {
          if (err instanceof WebhookInputError) throw badRequest(`body.${err.field}: ${err.message}`);
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/webhooks/:id',
      tag: 'webhooks',
      summary: 'Remove a webhook (and its delivery log)',
      roles: ['partner_admin'],
      params: NumericIdParams,
      response: z.object({ deleted: z.literal(true) }),
      handler: ({ principal, params }) => {
        owned(principal, params.id);
        d.webhooks.delete(params.id, principal.partnerId!);
        d.alerting.audit.append({ actor: principal.name, action: 'webhook.deleted', subject: `webhook:${params.id}`, partnerId: principal.partnerId, data: {} });
        return { deleted: true as const };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/webhooks/:id/deliveries',
      tag: 'webhooks',
      summary: 'The delivery log of a webhook, newest first',
      roles: ['partner_admin', 'noc'],
      params: NumericIdParams,
      query: z.object({ beforeId: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: z.object({ items: z.array(z.object({ id: z.number(), eventId: z.string(), event: z.string(), status: z.string(), attempts: z.number(), lastStatus: z.number().nullable(), lastError: z.string().nullable(), createdMs: z.number(), updatedMs: z.number() })) }),
      handler: ({ principal, params, query }) => {
        owned(principal, params.id);
        return { items: d.webhooks.deliveries({ webhookId: params.id, limit: query.limit, ...(query.beforeId ? { beforeId: query.beforeId } : {}) }) };
      },
    }),
  ];
}
