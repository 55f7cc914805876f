// Request and response shapes shared by several routes.
import { z } from 'zod';

export const Id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1-64)');
export const IdParams = z.object({ id: Id });
export const NumericIdParams = z.object({ id: z.coerce.number().int().positive() });

/** Pages are capped: a client asks for at most 500 at a time. */
export const Page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const Coverage = z.object({ plan: z.string(), until: z.string().nullable(), onsite: z.boolean() });

export const Alert = z.object({
  fingerprint: z.string(),
  rule: z.string(),
  deviceId: z.string().nullable(),
  partnerId: z.string().nullable(),
  customerId: z.string().nullable(),
  siteId: z.string().nullable(),
  severity: z.enum(['info', 'warning', 'critical']),
  state: z.enum(['firing', 'resolved']),
  summary: z.string(),
  value: z.number().nullable(),
  startedMs: z.number(),
  resolvedMs: z.number().nullable(),
  ticketId: z.number().nullable(),
  incidentId: z.number().nullable(),
});

export const Ticket = z.object({
  id: z.number(),
  kind: z.enum(['alert', 'manual', 'cloud_incident']),
  dedupKey: z.string().nullable(),
  partnerId: z.string().nullable(),
  customerId: z.string().nullable(),
  siteId: z.string().nullable(),
  deviceId: z.string().nullable(),
  title: z.string(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4']),
  status: z.enum(['open', 'acknowledged', 'escalated', 'resolved']),
  queue: z.string(),
  coverage: z.enum(['covered', 'uncovered', 'unknown']),
  openedMs: z.number(),
  updatedMs: z.number(),
  resolvedMs: z.number().nullable(),
  acknowledgedMs: z.number().nullable(),
  reopened: z.number(),
  owner: z.string().nullable(),
});

export const TicketEvent = z.object({ id: z.number(), tsMs: z.number(), actor: z.string(), type: z.string(), body: z.string(), data: z.record(z.string(), z.unknown()).nullable() });

/** Why a device counts as offline: its Last Will, missed reporting intervals, or it never reported. */
export const OfflineReason = z.enum(['last_will', 'missed_intervals', 'never_reported']);

export const DeviceStatus = z.object({
  online: z.enum(['online', 'offline', 'unknown']),
  /** Set when `online` is `offline`. */
  offlineReason: OfflineReason.nullable(),
  lastStatusAtMs: z.number().nullable(),
  snapshot: z.record(z.string(), z.unknown()).nullable(),
});

export const Device = z.object({
  id: z.string(),
  model: z.string(),
  partnerId: z.string(),
  customerId: z.string(),
  siteId: z.string(),
  coverage: Coverage,
  registeredAt: z.string(),
  status: DeviceStatus,
  openAlerts: z.array(Alert),
});

/** A network tool run as a ticket shows it (GET /tickets/{id}, POST /tickets/{id}/diagnostics). */
export const TicketDiagnostic = z.object({
  runId: z.string(),
  deviceId: z.string(),
  tool: z.string(),
  target: z.string(),
  state: z.enum(['pending', 'running', 'ok', 'error', 'timeout']),
  /** The device's final reply (e.g. sent, received, lossPct, rttAvg); null until the run ends, or on timeout. */
  summary: z.record(z.string(), z.unknown()).nullable(),
  requestedBy: z.string(),
  createdMs: z.number(),
  finishedMs: z.number().nullable(),
});
