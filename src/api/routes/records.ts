// Records people read: the audit log (their partner's), dead letters (noc), the software catalog.
import { z } from 'zod';
import { MIN_FIRMWARE } from '../../../alerting/rules/firmware-catalog.js';
import { documentsFor } from '../../catalog/documents.js';
import type { ApiDeps } from '../deps.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Id } from '../schemas.js';

export function recordRoutes(d: ApiDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/audit',
      tag: 'audit',
      summary: 'The audit log: every automatic and human action, hash-chained (newest first)',
      query: z.object({ subject: z.string().max(200).optional(), action: z.string().max(64).optional(), sinceMs: z.coerce.number().int().optional(), beforeSeq: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(z.object({ seq: z.number(), tsMs: z.number(), actor: z.string(), action: z.string(), subject: z.string(), partnerId: z.string().nullable(), data: z.record(z.string(), z.unknown()), hash: z.string() })) }),
      handler: ({ principal, query }) => {
        // Partners see their own entries only, never the NOC's (partnerId null); the filter is in the query.
        const partnerId = principal.role === 'noc' ? undefined : principal.partnerId!;
        const items = d.alerting.audit.query({ partnerId, subject: query.subject, action: query.action, sinceMs: query.sinceMs, beforeSeq: query.beforeSeq, limit: query.limit, order: 'desc' });
        return { items: items.map((e) => ({ seq: e.seq, tsMs: e.tsMs, actor: e.actor, action: e.action, subject: e.subject, partnerId: e.partnerId, data: e.data, hash: e.hash })) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/dead-letters',
      tag: 'operations',
      summary: 'Messages set aside as bad input, with the reason (newest first)',
      roles: ['noc'],
      query: z.object({ deviceId: Id.optional(), beforeId: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      response: z.object({ items: z.array(z.object({ id: z.number(), receivedMs: z.number(), topic: z.string(), deviceId: z.string().nullable(), reasonCode: z.string(), reason: z.string(), size: z.number(), payload: z.string() })) }),
      handler: ({ query }) => ({
        items: d.deadLetters.list({ limit: query.limit, beforeId: query.beforeId, deviceId: query.deviceId }).map((l) => ({
          id: l.id,
          receivedMs: l.receivedMs,
          topic: l.topic,
          deviceId: l.deviceId,
          reasonCode: l.reasonCode,
          reason: l.reason,
          size: l.size,
          // Shown as text where it is text; the first 4 KiB are enough to see what went wrong.
          payload: l.payload.subarray(0, 4096).toString('utf8'),
        })),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/documents',
      tag: 'software',
      summary: 'Documents metadata (datasheets, guides, release notes), for a model or all',
      query: z.object({ model: z.string().max(64).optional() }),
      response: z.object({ items: z.array(z.object({ id: z.string(), title: z.string(), kind: z.string(), language: z.string(), models: z.array(z.string()), version: z.string().nullable() })) }),
      handler: ({ query }) => ({ items: documentsFor(query.model) }),
    }),
    defineRoute({
      method: 'get',
      path: '/software/catalog',
      tag: 'software',
      summary: 'The software catalog: the minimum firmware per model (below it, devices raise an alert)',
      response: z.object({ items: z.array(z.object({ model: z.string(), minimumFirmware: z.string() })) }),
      handler: () => ({ items: Object.entries(MIN_FIRMWARE).map(([model, minimumFirmware]) => ({ model, minimumFirmware })) }),
    }),
  ];
}
