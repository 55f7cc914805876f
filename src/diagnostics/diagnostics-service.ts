// Network tools on a device (CONTRACT section 1, `diagnostics` command): a partner asks for a ping,
// traceroute, dns lookup, bandwidth test or port check; the service checks the request, stores the run
// (table `diagnostics`, schema 5), sends the command to the device over MQTT (QoS 1), and follows the
// device's replies: each non-final reply is a step (stored, announced as 'progress'), the final one
// ends the run with its summary ('result'). A run the device never finishes ends as `timeout`.
//
// - Replies are matched by command id AND device: a reply carrying a known id from another device is
//   ignored (a device must not be able to write into another device's run).
// - Delivery is at least once: a step whose seq was already seen is ignored; steps are kept in seq order.
// - One run at a time per device; a per-partner rate limit per minute.
// - A run can be the evidence of a ticket (`ticket_id`, schema 8): given at the start or attached
//   later, one ticket per run; what the ticket records about it is in ticket-diagnostics.ts.
// - Timers survive nothing: at construction, runs left pending/running by an earlier process are
//   ended as `timeout` when their time is up, or followed again (with a timer for what is left).
import { randomUUID } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { AuditSink } from '../../alerting/alerts/alert-manager.js';
import type { IngestEvents } from '../../collector/ingest-events.js';
import type { CommandReply } from '../../collector/messages.js';
import type { Attribution } from '../../collector/tenant-tags.js';
import type { Database, Statement } from '../storage/database.js';
import type { DeviceTenant } from '../storage/registry.js';
import {
  DIAGNOSTIC_TOOLS,
  type DiagnosticStatus,
  type DiagnosticStep,
  type DiagnosticsEventPayload,
  type DiagnosticsEvents,
  type DiagnosticTool,
} from './diagnostics-events.js';

/** Per-tool time a run may take, from start to final reply. */
export const DEFAULT_TIMEOUTS_MS: Readonly<Record<DiagnosticTool, number>> = {
  ping: 20_000,
  traceroute: 60_000,
  dns: 15_000,
  bandwidth: 60_000,
  port: 15_000,
};
export const DEFAULT_MAX_RUNS_PER_PARTNER_PER_MINUTE = 30;
/** Echoes of a ping when `count` is not given, and the most a request may ask for. */
export const DEFAULT_PING_COUNT = 4;
export const MAX_PING_COUNT = 20;
/** Steps kept per run; a device sending more has the rest ignored (the final reply still ends the run). */
export const MAX_STEPS = 256;
const MAX_TARGET_LENGTH = 253;
const LIST_DEFAULT = 50;
const LIST_MAX = 500;
const HISTORY_MAX = 1000;
const RATE_WINDOW_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEVICE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
// Host names: letters, digits, hyphen (and underscore, for service names like _sip._tcp.example.com),
// labels of 1-63 characters not starting or ending with a hyphen, an optional trailing dot.
const LABEL_RE = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

export type DiagnosticsErrorCode = 'bad_request' | 'not_found' | 'busy' | 'rate_limited' | 'conflict';

/** HTTP status the API answers with for each error code. */
export const DIAGNOSTICS_ERROR_STATUS: Readonly<Record<DiagnosticsErrorCode, number>> = {
  bad_request: 400,
  not_found: 404,
  busy: 409,
  rate_limited: 429,
  conflict: 409,
};

/** Why a run was refused; `status` is the HTTP status for the API. */
export class DiagnosticsError extends Error {
  readonly status: number;

  constructor(
    readonly code: DiagnosticsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DiagnosticsError';
    this.status = DIAGNOSTICS_ERROR_STATUS[code];
  }
}

/** What a caller asks for. `port` only for the port tool (required there), `count` only for ping. */
export interface DiagnosticsRequest {
  tool: string;
  target: string;
  port?: number | undefined;
  count?: number | undefined;
}

/** The `params` of the command sent to the device (and stored with the run). */
export interface DiagnosticParams {
  tool: DiagnosticTool;
  target: string;
  port?: number;
  count?: number;
}

export interface RequestedBy {
  /** User name (or 'system'); recorded in the run and the audit log. */
  name: string;
  /** The requester's partner; null for the NOC. */
  partnerId: string | null;
}

export interface Diagnostic {
  id: string;
  deviceId: string;
  partnerId: string | null;
  customerId: string | null;
  tool: DiagnosticTool;
  target: string;
  params: DiagnosticParams;
  status: DiagnosticStatus;
  /** The device's non-final replies, in seq order. */
  steps: DiagnosticStep[];
  /** The final reply's data; null while running, on timeout, or when the command could not be sent. */
  result: Record<string, unknown> | null;
  requestedBy: string;
  createdMs: number;
  finishedMs: number | null;
  /** The ticket the run is evidence for (given at the start or attached later); null: none. */
  ticketId: number | null;
  /** When the run times out if the device has not finished it (epoch ms). */
  deadlineMs: number;
}

export interface DiagnosticsListQuery {
  deviceId?: string | undefined;
  /** Only runs on this partner's devices (scope of a partner user). */
  partnerId?: string | undefined;
  /** Only runs attached to this ticket. */
  ticketId?: number | undefined;
  /** Newest first; default 50, clamped to 1..500. */
  limit?: number | undefined;
}

export interface DiagnosticsServiceDeps {
  db: Database;
  ingest: IngestEvents;
  /** Publishes to the broker with QoS 1; resolves once the broker has it (PUBACK). */
  publish: (topic: string, payload: string) => Promise<void>;
  /** The device's tenant from the registry; undefined for a device the registry does not know. */
  resolveTenant: (deviceId: string) => DeviceTenant | undefined;
  audit: AuditSink;
  events: DiagnosticsEvents;
  log: Logger;
  clock?: () => number;
  /** One timeout for every tool (ms); default: DEFAULT_TIMEOUTS_MS per tool (ping grows with count). */
  timeoutMs?: number | Partial<Record<DiagnosticTool, number>>;
  /** Runs a partner (or the NOC, as one) may start per minute; default 30. */
  maxRunsPerPartnerPerMinute?: number;
}

interface Row {
  id: string;
  device_id: string;
  partner_id: string | null;
  customer_id: string | null;
  tool: DiagnosticTool;
  target: string;
  params: string;
  status: DiagnosticStatus;
  steps: string;
  result: string | null;
  requested_by: string;
  created_ms: number;
  finished_ms: number | null;
  ticket_id: number | null;
}

/** What start() records besides the run itself. */
export interface StartOptions {
  /** The ticket the run is for; the caller has checked that it fits (src/diagnostics/ticket-diagnostics.ts). */
  ticketId?: number | undefined;
  /** Runs inside the transaction that stores the run, so what the caller records with it (the ticket's history) commits with it or not at all. */
  alsoRecord?: ((run: Diagnostic) => void) | undefined;
}

/** A run that is still waiting for its device. */
interface Active {
  run: Diagnostic;
  seen: Set<number>;
  timer: NodeJS.Timeout | undefined;
}

const TOOLS: ReadonlySet<string> = new Set(DIAGNOSTIC_TOOLS);
const COLUMNS = 'id, device_id, partner_id, customer_id, tool, target, params, status, steps, result, requested_by, created_ms, finished_ms, ticket_id';

/** Checks a request and returns the command params, or throws DiagnosticsError('bad_request'). */
export function validateRequest(req: DiagnosticsRequest): DiagnosticParams {
  if (req === null || typeof req !== 'object') throw bad('the request must be an object');
  const { tool, target, port, count } = req;
  if (typeof tool !== 'string' || !TOOLS.has(tool)) throw bad(`tool must be one of ${DIAGNOSTIC_TOOLS.join(', ')}`);
  const t = tool as DiagnosticTool;
  if (typeof target !== 'string' || target.length === 0) throw bad('target is required: a host name or an IPv4/IPv6 address');
  if (target.length > MAX_TARGET_LENGTH) throw bad(`target must be at most ${MAX_TARGET_LENGTH} characters`);
  if (!isValidTarget(target)) throw bad('target must be a host name or an IPv4/IPv6 address (no spaces or special characters)');
  const params: DiagnosticParams = { tool: t, target };
  if (t === 'port') {
    if (port === undefined || port === null) throw bad('port is required for the port tool');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('port must be an integer from 1 to 65535');
    params.port = port;
  } else if (port !== undefined && port !== null) {
    throw bad('port is only for the port tool');
  }
  if (count !== undefined && count !== null) {
    if (t !== 'ping') throw bad('count is only for the ping tool');
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_PING_COUNT) {
      throw bad(`count must be an integer from 1 to ${MAX_PING_COUNT}`);
    }
    params.count = count;
  }
  return params;
}

/** A host name (RFC 1123 labels, underscores allowed), or an IPv4 or IPv6 literal (no zone id). */
export function isValidTarget(target: string): boolean {
  if (target.length === 0 || target.length > MAX_TARGET_LENGTH) return false;
  if (isIPv4(target)) return true;
  if (target.includes(':')) return !target.includes('%') && isIPv6(target);
  const name = target.endsWith('.') ? target.slice(0, -1) : target;
  if (name.length === 0) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL_RE.test(l))) return false;
  // A last label of digits only is a malformed IPv4 address (999.1.1.1, 10.1), not a host name.
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

function bad(message: string): DiagnosticsError {
  return new DiagnosticsError('bad_request', message);
}

export class DiagnosticsService {
  private readonly clock: () => number;
  private readonly maxRuns: number;
  /** Runs not yet finished, by id. */
  private readonly active = new Map<string, Active>();
  /** Device id -> id of its active run. */
  private readonly byDevice = new Map<string, string>();
  /** Partner key ('' for the NOC) -> start times within the last minute, oldest first. */
  private readonly recent = new Map<string, number[]>();
  private closed = false;

  private readonly insertStmt: Statement;
  private readonly progressStmt: Statement;
  private readonly finishStmt: Statement;
  private readonly getStmt: Statement<Row>;
  private readonly onReply = (deviceId: string, _a: Attribution, reply: CommandReply, receivedMs: number): void => {
    try {
      this.handleReply(deviceId, reply, receivedMs);
    } catch (err) {
      this.d.log.error({ err, deviceId, commandId: reply.commandId }, 'diagnostics: handling a reply failed');
    }
  };

  constructor(private readonly d: DiagnosticsServiceDeps) {
    this.clock = d.clock ?? Date.now;
    this.maxRuns = d.maxRunsPerPartnerPerMinute ?? DEFAULT_MAX_RUNS_PER_PARTNER_PER_MINUTE;
    const db = d.db;
    this.insertStmt = db.prepare(
      `INSERT INTO diagnostics (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', '[]', NULL, ?, ?, NULL, ?)`,
    );
    this.progressStmt = db.prepare(`UPDATE diagnostics SET status = 'running', steps = ? WHERE id = ? AND status IN ('pending', 'running')`);
    this.finishStmt = db.prepare(
      `UPDATE diagnostics SET status = ?, steps = ?, result = ?, finished_ms = ? WHERE id = ? AND status IN ('pending', 'running')`,
    );
    this.getStmt = db.prepare<Row>(`SELECT ${COLUMNS} FROM diagnostics WHERE id = ?`);
    this.recover();
    d.ingest.on('reply', this.onReply);
  }

  /**
   * Starts a run: checks the request, the device and the limits, stores the run (pending), sends the
   * command and audits it. Throws DiagnosticsError (bad_request, not_found, busy, rate_limited).
   */
  start(deviceId: string, request: DiagnosticsRequest, requestedBy: RequestedBy, options: StartOptions = {}): Diagnostic {
    if (this.closed) throw new Error('diagnostics service is closed');
    const params = validateRequest(request);
    const tenant = typeof deviceId === 'string' && DEVICE_ID_RE.test(deviceId) ? this.d.resolveTenant(deviceId) : undefined;
    // A partner asking about another partner's device learns nothing more than for an unknown one.
    if (!tenant || (requestedBy.partnerId !== null && tenant.partnerId !== requestedBy.partnerId)) {
      throw new DiagnosticsError('not_found', `device ${String(deviceId)} not found`);
    }
    const running = this.byDevice.get(deviceId);
    if (running !== undefined) {
      throw new DiagnosticsError('busy', `device ${deviceId} is already running diagnostics ${running}; try again when it has finished`);
    }
    const now = this.clock();
    const key = requestedBy.partnerId ?? '';
    const times = (this.recent.get(key) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    if (times.length >= this.maxRuns) {
      this.recent.set(key, times);
      const retryS = Math.max(1, Math.ceil((times[0]! + RATE_WINDOW_MS - now) / 1000));
      throw new DiagnosticsError('rate_limited', `at most ${this.maxRuns} diagnostics per minute; try again in ${retryS} s`);
    }
    times.push(now);
    this.recent.set(key, times);

    const run: Diagnostic = {
      id: randomUUID(),
      deviceId,
      partnerId: tenant.partnerId,
      customerId: tenant.customerId,
      tool: params.tool,
      target: params.target,
      params,
      status: 'pending',
      steps: [],
      result: null,
      requestedBy: requestedBy.name,
      createdMs: now,
      finishedMs: null,
      ticketId: options.ticketId ?? null,
      deadlineMs: now + this.timeoutFor(params),
    };
    // The run and its audit entry together, or neither.
    this.d.db.transaction(() => {
      this.insertStmt.run(run.id, deviceId, run.partnerId, run.customerId, run.tool, run.target, JSON.stringify(params), run.requestedBy, now, run.ticketId);
      this.d.audit.append({
        actor: requestedBy.name,
        action: 'diagnostics.started',
        subject: `device:${deviceId}`,
        partnerId: run.partnerId,
        data: { diagnosticsId: run.id, ...params, ...(run.ticketId !== null ? { ticketId: run.ticketId } : {}) },
      });
      options.alsoRecord?.(copy(run));
    });
    this.track(run, new Set());
    const command = JSON.stringify({ id: run.id, type: 'diagnostics', params });
    this.d.publish(`poly/v1/devices/${deviceId}/commands`, command).then(
      () => this.d.log.debug({ deviceId, diagnosticsId: run.id, tool: run.tool }, 'diagnostics command sent'),
      (err: unknown) => {
        this.d.log.warn({ deviceId, diagnosticsId: run.id, err: (err as Error)?.message ?? String(err) }, 'diagnostics: cannot send the command');
        const a = this.active.get(run.id);
        if (a) this.finish(a, 'error', { error: 'command_not_sent', message: `the command could not be sent to the device: ${(err as Error)?.message ?? String(err)}` }, this.clock());
      },
    );
    return copy(run);
  }

  get(id: string): Diagnostic | undefined {
    if (typeof id !== 'string') return undefined;
    const a = this.active.get(id);
    if (a) return copy(a.run);
    const row = this.getStmt.get(id);
    return row ? this.fromRow(row) : undefined;
  }

  /** Runs newest first, optionally of one device and/or one partner. */
  list(q: DiagnosticsListQuery = {}): Diagnostic[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.deviceId !== undefined) {
      where.push('device_id = ?');
      args.push(q.deviceId);
    }
    if (q.partnerId !== undefined) {
      where.push('partner_id = ?');
      args.push(q.partnerId);
    }
    if (q.ticketId !== undefined) {
      where.push('ticket_id = ?');
      args.push(q.ticketId);
    }
    const limit = Math.min(LIST_MAX, Math.max(1, Math.floor(q.limit ?? LIST_DEFAULT) || LIST_DEFAULT));
    const sql = `SELECT ${COLUMNS} FROM diagnostics${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT ?`;
    return this.d.db
      .prepare<Row>(sql)
      .all(...args, limit)
      .map((r) => {
        const a = this.active.get(r.id);
        return a ? copy(a.run) : this.fromRow(r);
      });
  }

  /**
   * Runs of a device that started (`by: 'created'`) or ended (`by: 'finished'`) in [fromMs, toMs],
   * newest by that moment first, at most `limit`: a device's timeline pages over both moments.
   */
  history(deviceId: string, by: 'created' | 'finished', fromMs: number, toMs: number, limit: number): Diagnostic[] {
    const column = by === 'created' ? 'created_ms' : 'finished_ms';
    const n = Math.min(HISTORY_MAX, Math.max(1, Math.floor(limit) || 1));
    return this.d.db
      .prepare<Row>(`SELECT ${COLUMNS} FROM diagnostics WHERE device_id = ? AND ${column} >= ? AND ${column} <= ? ORDER BY ${column} DESC, id DESC LIMIT ?`)
      .all(deviceId, fromMs, toMs, n)
      .map((r) => {
        const a = this.active.get(r.id);
        return a ? copy(a.run) : this.fromRow(r);
      });
  }

  /**
   * Attaches a run to a ticket (the caller has checked that the ticket fits). Idempotent for the
   * same ticket (`attached: false`); a run already on another ticket is a conflict: a run is the
   * evidence of one ticket. `alsoRecord` runs in the same transaction (the ticket's history).
   */
  attachTicket(id: string, ticketId: number, alsoRecord?: (run: Diagnostic) => void): { run: Diagnostic; attached: boolean } {
    const out = this.d.db.transaction(() => {
      const current = this.get(id);
      if (!current) throw new DiagnosticsError('not_found', `diagnostics run ${id} not found`);
      if (current.ticketId === ticketId) return { run: current, attached: false };
      if (current.ticketId !== null) throw new DiagnosticsError('conflict', `diagnostics run ${id} is already attached to ticket ${current.ticketId}`);
      this.d.db.prepare(`UPDATE diagnostics SET ticket_id = ? WHERE id = ? AND ticket_id IS NULL`).run(ticketId, id);
      const run = { ...current, ticketId };
      alsoRecord?.(copy(run));
      return { run, attached: true };
    });
    // Once committed: a run still waiting for its device must find the ticket when its result lands.
    const a = this.active.get(id);
    if (a && out.attached) a.run.ticketId = ticketId;
    return out;
  }

  /** Runs still waiting for their device. */
  get activeCount(): number {
    return this.active.size;
  }

  /** Stops listening and clears the timers; unfinished runs stay pending/running in the database (see recover). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.d.ingest.off('reply', this.onReply);
    for (const a of this.active.values()) if (a.timer) clearTimeout(a.timer);
    this.active.clear();
    this.byDevice.clear();
  }

  // ---- internals ----

  private timeoutFor(params: DiagnosticParams): number {
    const t = this.d.timeoutMs;
    if (typeof t === 'number') return t;
    const given = t?.[params.tool];
    if (given !== undefined) return given;
    const base = DEFAULT_TIMEOUTS_MS[params.tool];
    // About one echo a second: a long ping needs longer than the default.
    if (params.tool === 'ping') return Math.max(base, ((params.count ?? DEFAULT_PING_COUNT) + 10) * 1000);
    return base;
  }

  /** Runs an earlier process left unfinished: ended as timeout when their time is up, otherwise followed again. */
  private recover(): void {
    const now = this.clock();
    const rows = this.d.db.prepare<Row>(`SELECT ${COLUMNS} FROM diagnostics WHERE status IN ('pending', 'running') ORDER BY created_ms DESC`).all();
    let timedOut = 0;
    // Newest first: should a device have several (one run at a time was broken), the newest is followed.
    for (const row of rows) {
      const run = this.fromRow(row);
      const a: Active = { run, seen: new Set(run.steps.map((s) => s.seq)), timer: undefined };
      if (run.deadlineMs <= now || this.byDevice.has(run.deviceId)) {
        this.finish(a, 'timeout', null, now);
        timedOut++;
      } else {
        this.track(run, a.seen);
      }
    }
    if (rows.length > 0) this.d.log.info({ timedOut, resumed: rows.length - timedOut }, 'diagnostics: runs left unfinished by the previous process');
  }

  private track(run: Diagnostic, seen: Set<number>): void {
    const a: Active = { run, seen, timer: undefined };
    this.active.set(run.id, a);
    this.byDevice.set(run.deviceId, run.id);
    a.timer = setTimeout(() => this.finish(a, 'timeout', null, this.clock()), Math.min(MAX_TIMER_MS, Math.max(0, run.deadlineMs - this.clock())));
    a.timer.unref?.();
  }

  private handleReply(deviceId: string, reply: CommandReply, receivedMs: number): void {
    const a = this.active.get(reply.commandId);
    if (!a) return; // not ours (another command, or a run already finished)
    const run = a.run;
    if (deviceId !== run.deviceId) {
      this.d.log.warn({ deviceId, expected: run.deviceId, diagnosticsId: run.id }, 'diagnostics: reply from another device ignored');
      return;
    }
    if (reply.final) {
      this.finish(a, reply.status === 'error' ? 'error' : 'ok', reply.data, receivedMs);
      return;
    }
    if (a.seen.has(reply.seq)) return; // redelivered
    if (run.steps.length >= MAX_STEPS) return;
    a.seen.add(reply.seq);
    const step: DiagnosticStep = { seq: reply.seq, status: reply.status, data: reply.data };
    // Usually in order; a redelivered older reply goes where its seq says.
    let i = run.steps.length;
    while (i > 0 && run.steps[i - 1]!.seq > step.seq) i--;
    run.steps.splice(i, 0, step);
    run.status = 'running';
    this.progressStmt.run(JSON.stringify(run.steps), run.id);
    this.emit('progress', { ...this.eventBase(run, receivedMs), step, status: 'running' });
  }

  private finish(a: Active, status: 'ok' | 'error' | 'timeout', result: Record<string, unknown> | null, now: number): void {
    const run = a.run;
    if (a.timer) clearTimeout(a.timer);
    if (this.active.get(run.id) === a) this.active.delete(run.id);
    if (this.byDevice.get(run.deviceId) === run.id) this.byDevice.delete(run.deviceId);
    run.status = status;
    run.result = result;
    run.finishedMs = now;
    this.finishStmt.run(status, JSON.stringify(run.steps), result === null ? null : JSON.stringify(result), now, run.id);
    if (status === 'timeout') this.d.log.info({ deviceId: run.deviceId, diagnosticsId: run.id, tool: run.tool, steps: run.steps.length }, 'diagnostics timed out');
    this.emit('result', { ...this.eventBase(run, now), status, result });
  }

  /** A listener that throws (streams, webhooks) must not break the run or, from a timer, the process. */
  private emit(name: 'progress' | 'result', payload: DiagnosticsEventPayload): void {
    try {
      this.d.events.emit(name, payload);
    } catch (err) {
      this.d.log.error({ err, diagnosticsId: payload.diagnosticsId, event: name }, 'diagnostics: an event listener failed');
    }
  }

  private eventBase(run: Diagnostic, ts: number): DiagnosticsEventPayload {
    return { partnerId: run.partnerId, customerId: run.customerId, deviceId: run.deviceId, diagnosticsId: run.id, tool: run.tool, target: run.target, ts };
  }

  private fromRow(r: Row): Diagnostic {
    const params = parseJson<DiagnosticParams>(r.params, { tool: r.tool, target: r.target });
    return {
      id: r.id,
      deviceId: r.device_id,
      partnerId: r.partner_id,
      customerId: r.customer_id,
      tool: r.tool,
      target: r.target,
      params,
      status: r.status,
      steps: parseJson<DiagnosticStep[]>(r.steps, []),
      result: r.result === null ? null : parseJson<Record<string, unknown> | null>(r.result, null),
      requestedBy: r.requested_by,
      createdMs: r.created_ms,
      finishedMs: r.finished_ms,
      ticketId: r.ticket_id,
      deadlineMs: r.created_ms + this.timeoutFor(params),
    };
  }
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Callers get a snapshot, never the live object the service keeps updating. */
function copy(run: Diagnostic): Diagnostic {
  return { ...run, params: { ...run.params }, steps: run.steps.slice() };
}
