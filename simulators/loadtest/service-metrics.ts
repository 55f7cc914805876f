/**
 * The service's Prometheus `/metrics` (no auth, CONTRACT section 2), read for a few figures:
 * its CPU (prom-client's process_cpu_seconds_total), what its collector received (status and
 * presence messages apart), wrote, and has not written yet (journal).
 * These are counters of the whole service: they include traffic of devices outside the load test.
 */

export const METRICS = {
  cpuSeconds: 'process_cpu_seconds_total',
  received: 'fleetwatch_messages_received_total',
  written: 'fleetwatch_points_written_total',
  journalPendingBytes: 'fleetwatch_journal_pending_bytes',
} as const;

export type ServiceMetrics = Record<keyof typeof METRICS | 'presenceReceived' | 'statusReceived', number | undefined>;

/** Sum of every sample of each wanted metric (labels summed over), from Prometheus text format. */
export function parseMetrics(text: string): ServiceMetrics {
  const sums = new Map<string, number>();
  let presenceReceived: number | undefined;
  let statusReceived: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + v);
    if (m[1] === METRICS.received && m[2] !== undefined) {
      if (/\bkind="presence"/.test(m[2])) presenceReceived = v;
      else if (/\bkind="status"/.test(m[2])) statusReceived = v;
    }
  }
  return {
    cpuSeconds: sums.get(METRICS.cpuSeconds),
    received: sums.get(METRICS.received),
    presenceReceived,
    statusReceived,
    written: sums.get(METRICS.written),
    journalPendingBytes: sums.get(METRICS.journalPendingBytes),
  };
}

/** Reads the service's /metrics; undefined when it does not answer. */
export async function scrapeMetrics(apiUrl: string, timeoutMs = 3000): Promise<ServiceMetrics | undefined> {
  const r = await readMetrics(apiUrl, timeoutMs);
  return 'metrics' in r ? r.metrics : undefined;
}

/** /metrics, or why not: nothing listens there ('refused'), or it does not answer in time or well ('no answer'). */
async function readMetrics(apiUrl: string, timeoutMs: number): Promise<{ metrics: ServiceMetrics } | { failed: 'refused' | 'no answer'; why: string }> {
  try {
    const res = await fetch(new URL('/metrics', apiUrl), { signal: AbortSignal.timeout(Math.max(1, Math.round(timeoutMs))) });
    if (!res.ok) return { failed: 'refused', why: `HTTP ${res.status}` };
    return { metrics: parseMetrics(await res.text()) };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { failed: 'refused', why: code };
    return { failed: 'no answer', why: (err as Error).name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (err as Error).message };
  }
}

/**
 * /metrics, waiting while the service is there but does not answer (its event loop busy, e.g.
 * still taking the end of a previous run): undefined at once when nothing listens, or after maxMs.
 */
export async function waitForMetrics(apiUrl: string, maxMs: number, onWait?: (why: string) => void): Promise<ServiceMetrics | undefined> {
  const until = performance.now() + maxMs;
  for (;;) {
    const r = await readMetrics(apiUrl, 5000);
    if ('metrics' in r) return r.metrics;
    if (r.failed === 'refused' || performance.now() >= until) return undefined;
    onWait?.(`the service does not answer /metrics yet (${r.why}): waiting`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Journal bytes not yet in InfluxDB that still count as "at rest" (other devices' traffic). */
export const AT_REST_BYTES = 64 * 1024;
/** A /metrics answer slower than this means the service's event loop is still busy. */
export const PROMPT_MS = 200;

export interface ServiceState {
  metrics: ServiceMetrics | undefined;
  /** The journal has (almost) nothing left for InfluxDB and /metrics answered within PROMPT_MS. */
  atRest: boolean;
}

/** Reads /metrics and tells whether the service is at rest (nothing much to write, event loop free). */
export async function serviceState(apiUrl: string, timeoutMs = 3000): Promise<ServiceState> {
  const asked = performance.now();
  const metrics = await scrapeMetrics(apiUrl, timeoutMs);
  const prompt = performance.now() - asked <= PROMPT_MS;
  const written = metrics !== undefined && (metrics.journalPendingBytes === undefined || metrics.journalPendingBytes <= AT_REST_BYTES);
  return { metrics, atRest: prompt && written };
}
