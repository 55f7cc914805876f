// Outbound webhooks: alert and ticket events of the bus (alerting/events.ts) to the partners' own
// ticketing systems.
//
//   bus event (partnerId set) ──> one `pending` row per enabled, subscribed webhook of that partner
//                                 (webhook_deliveries: the queue and the partner's delivery log)
//                             ──> POST, signed (signature.ts), at most N in flight per webhook, oldest first
//                             ──> 2xx: delivered | 4xx but 408/429: failed | else retry with backoff
//                                 (retry-policy.ts) until maxAttempts, then failed
//
// The emitter is never blocked and never sees an error: a listener only serializes the event and
// buffers it; the rows are written in one transaction on the next turn of the event loop. Events
// without a partner (NOC-only, e.g. cloud incidents) go nowhere, and a partner's webhooks only ever
// get that partner's events. Pending rows survive a restart: start() and a timer every second pick up
// what is due. Order: each webhook's deliveries are sent in id order (= event order); with several in
// flight, or after a retry, a later event can still arrive first, so receivers order by `ts`/`id`.
import type { Logger } from 'pino';
import type { AlertEventMap, AlertEvents } from '../../alerting/events.js';
import type { Database } from '../storage/database.js';
import { DeliveryQueue, type DueDelivery } from './delivery-queue.js';
import { buildPayload, WEBHOOK_EVENTS, type WebhookEvent } from './payload.js';
import { decide, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { sign } from './signature.js';
import type { Webhook, WebhookStore } from './webhook-store.js';

export interface WebhookDispatcherOptions {
  db: Database;
  store: WebhookStore;
  events: AlertEvents;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  clock?: () => number;
  fetch?: typeof globalThis.fetch;
  /** Attempts per delivery, the first included (8). */
  maxAttempts?: number;
  /** Wait after the first failure, doubled after each further one, ±20 % (1000). */
  baseDelayMs?: number;
  /** Per attempt, answer body included (5000). */
  timeoutMs?: number;
  /** Requests in flight per webhook (4). */
  concurrencyPerWebhook?: number;
  /** How often due deliveries are looked for (1000); retries are also woken by their own timer. */
  pollMs?: number;
  /** [0, 1), for the jitter. */
  random?: () => number;
}

export const USER_AGENT = 'Fleetwatch-Webhooks/1';
/** Bytes of a failed answer's body kept in the delivery log. */
const ERROR_BODY_BYTES = 300;

interface Buffered {
  event: WebhookEvent;
  eventId: string;
  partnerId: string;
  payload: string;
}

export class WebhookDispatcher {
  private readonly queue: DeliveryQueue;
  private readonly clock: () => number;
  private readonly fetch: typeof globalThis.fetch;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly random: () => number;

  private running = false;
  private readonly listeners: Array<{ event: WebhookEvent; fn: (e: AlertEventMap[WebhookEvent][0]) => void }> = [];
  private buffer: Buffered[] = [];
  private flushImmediate: NodeJS.Immediate | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Map<number, number>();
  private readonly attempts = new Set<Promise<void>>();

  constructor(private readonly d: WebhookDispatcherOptions) {
    this.queue = new DeliveryQueue(d.db);
    this.clock = d.clock ?? Date.now;
    this.fetch = d.fetch ?? globalThis.fetch;
    this.policy = {
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: positiveInt('maxAttempts', d.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts),
      baseDelayMs: nonNegative('baseDelayMs', d.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs),
    };
    this.timeoutMs = positiveInt('timeoutMs', d.timeoutMs ?? 5000);
    this.concurrency = positiveInt('concurrencyPerWebhook', d.concurrencyPerWebhook ?? 4);
    this.pollMs = positiveInt('pollMs', d.pollMs ?? 1000);
    // Long enough that an attempt in progress is never claimed twice; short enough that one cut off
    // by a crash goes out again soon after the restart.
    this.leaseMs = this.timeoutMs + 30_000;
    this.random = d.random ?? Math.random;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const event of WEBHOOK_EVENTS) {
      const fn = (e: AlertEventMap[WebhookEvent][0]): void => this.onEvent(event, e);
      this.d.events.on(event, fn);
      this.listeners.push({ event, fn });
    }
    this.pollTimer = setInterval(() => this.pumpAll(), this.pollMs);
    this.pollTimer.unref();
    this.pumpAll();
  }

  /**
   * Stops listening and sending. Events already received are queued (sent after the next start);
   * resolves when the attempts in flight have finished and been recorded (within timeoutMs). Await it
   * before closing the database.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const { event, fn } of this.listeners.splice(0)) this.d.events.off(event, fn);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flush();
    await Promise.allSettled([...this.attempts]);
  }

  /** Deliveries being attempted right now, all webhooks. */
  get inFlightCount(): number {
    return this.attempts.size;
  }

  // --- bus -> queue ---------------------------------------------------------------------------------

  private onEvent(event: WebhookEvent, e: AlertEventMap[WebhookEvent][0]): void {
    try {
      if (e.partnerId === null) return;
      // Serialized now: the bus hands out live objects that may change after the emit.
      this.buffer.push({ event, eventId: e.id, partnerId: e.partnerId, payload: JSON.stringify(buildPayload(event, e)) });
      this.flushImmediate ??= setImmediate(() => this.flush());
    } catch (err) {
      this.d.log.error({ err, event, eventId: e?.id }, 'webhooks: event could not be queued');
    }
  }

  private flush(): void {
    this.flushImmediate = undefined;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const touched = new Set<number>();
    try {
      const now = this.clock();
      const hooksOf = new Map<string, Webhook[]>();
      this.d.db.transaction(() => {
        for (const b of batch) {
          let hooks = hooksOf.get(b.partnerId);
          if (!hooks) hooksOf.set(b.partnerId, (hooks = this.d.store.list(b.partnerId).filter((w) => w.enabled)));
          for (const w of hooks) {
            if (!w.events.includes(b.event)) continue;
            this.queue.enqueue(w.id, b.eventId, b.event, b.payload, now);
            touched.add(w.id);
          }
        }
      });
    } catch (err) {
      this.d.log.error({ err, events: batch.length }, 'webhooks: deliveries could not be queued; these events are not sent');
      return;
    }
    for (const id of touched) this.pump(id);
  }

  // --- queue -> HTTP --------------------------------------------------------------------------------

  private pumpAll(): void {
    if (!this.running) return;
    try {
      for (const id of this.queue.dueWebhooks(this.clock())) this.pump(id);
    } catch (err) {
      this.d.log.error({ err }, 'webhooks: looking for due deliveries failed');
    }
  }

  /** Starts due deliveries of one webhook, oldest first, up to its free slots. */
  private pump(webhookId: number): void {
    if (!this.running) return;
    try {
      const free = this.concurrency - (this.inFlight.get(webhookId) ?? 0);
      if (free <= 0) return;
      const hook = this.d.store.get(webhookId);
      const secret = this.d.store.signingSecret(webhookId);
      if (!hook?.enabled || secret === undefined) return;
      const now = this.clock();
      for (const delivery of this.queue.due(webhookId, now, free)) {
        if (!this.queue.claim(delivery, now, now + this.leaseMs)) continue;
        this.launch(delivery, hook.url, secret);
      }
    } catch (err) {
      this.d.log.error({ err, webhookId }, 'webhooks: starting deliveries failed');
    }
  }

  private launch(delivery: DueDelivery, url: string, secret: string): void {
    const id = delivery.webhookId;
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
    const p = this.attempt(delivery, url, secret)
      .catch((err: unknown) => this.d.log.error({ err, deliveryId: delivery.id }, 'webhooks: attempt failed unexpectedly'))
      .finally(() => {
        this.attempts.delete(p);
        const left = (this.inFlight.get(id) ?? 1) - 1;
        if (left > 0) this.inFlight.set(id, left);
        else this.inFlight.delete(id);
        this.pump(id);
      });
    this.attempts.add(p);
  }

  private async attempt(delivery: DueDelivery, url: string, secret: string): Promise<void> {
    const timestamp = this.clock();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await this.fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'x-fleetwatch-event': delivery.event,
          'x-fleetwatch-delivery': String(delivery.id),
          'x-fleetwatch-timestamp': String(timestamp),
          'x-fleetwatch-signature': sign(secret, timestamp, delivery.payload),
        },
        body: delivery.payload,
        // A redirect is the receiver's to fix: following it would send the signed event elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      if (res.ok) await res.body?.cancel().catch(() => undefined);
      else error = `HTTP ${status}${await bodySnippet(res)}`;
    } catch (err) {
      error = describeError(err, this.timeoutMs);
    }

    const attempts = delivery.attempts + 1;
    const decision = decide({ status }, attempts, this.policy, this.random);
    const now = this.clock();
    const base = { attempts, lastStatus: status, lastError: decision.kind === 'delivered' ? null : error };
    const log = { webhookId: delivery.webhookId, deliveryId: delivery.id, event: delivery.event, attempts, status, error };
    try {
      switch (decision.kind) {
        case 'delivered':
          this.queue.record(delivery.id, { ...base, status: 'delivered', nextTryMs: null }, now);
          this.d.log.debug(log, 'webhook delivered');
          break;
        case 'retry':
          this.queue.record(delivery.id, { ...base, status: 'pending', nextTryMs: now + decision.delayMs }, now);
          this.d.log.debug({ ...log, retryInMs: decision.delayMs }, 'webhook attempt failed; retrying');
          this.wakeAfter(delivery.webhookId, decision.delayMs);
          break;
        case 'failed':
          this.queue.record(delivery.id, { ...base, status: 'failed', nextTryMs: null }, now);
          this.d.log.warn({ ...log, reason: decision.reason }, decision.reason === 'rejected' ? 'webhook rejected by the receiver; not retried' : 'webhook failed after its last attempt');
          break;
      }
    } catch (err) {
      // The database went away (closing without awaiting stop()): the claim's lease runs out and the
      // delivery is attempted again after the next start.
      this.d.log.error({ err, ...log }, 'webhooks: outcome of an attempt could not be recorded');
    }
  }

  private wakeAfter(webhookId: number, delayMs: number): void {
    if (!this.running) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.pump(webhookId);
    }, delayMs + 1);
    t.unref();
    this.retryTimers.add(t);
  }
}

/** ": <first bytes of the answer>", or "" when it has none (or reading it failed). */
async function bodySnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A timeout while reading the body of an error answer: the status says enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, ERROR_BODY_BYTES)).replace(/\s+/g, ' ').trim();
  return text === '' ? '' : `: ${text}`;
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return cause?.message ?? e?.message ?? String(err);
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`WebhookDispatcher: ${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`WebhookDispatcher: ${name} must be a non-negative number, got ${v}`);
  return v;
}
