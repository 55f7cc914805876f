/**
 * The warm-up: when the fleet connects, every device announces itself (one retained presence
 * message each), and the service takes that burst (presence points, alert state, stream events)
 * before it is back to steady state. Measuring from the first status message would mix that burst
 * into the latency and CPU figures, so the load test first waits, on the service's /metrics, until
 * every presence message was received, the journal has (almost) nothing left to write to InfluxDB,
 * and /metrics answers promptly (the event loop is free), for about a second; and reports how long
 * that took. (Work the service schedules later, such as alerts clearing a minute after the devices
 * came back, can still fall into the run: the latency-over-time chart shows it.)
 */
import { serviceState, type ServiceMetrics } from './service-metrics.js';

/** Consecutive polls (250 ms apart) the service must be at rest: about a second. */
const CALM_POLLS = 4;

export interface WarmupResult {
  /** Presence messages the fleet sent on connect. */
  presence: number;
  /** Time from the fleet being connected until the service had taken the burst (or the wait ended). */
  tookMs: number;
  /** Whether the service was seen to take it all; else `note` says why not. */
  absorbed: boolean;
  note?: string;
}

export interface WarmupOptions {
  apiUrl: string;
  /** /metrics before the fleet connected (undefined: no /metrics, nothing to wait on). */
  baseline: ServiceMetrics | undefined;
  presence: number;
  maxMs: number;
  everyMs?: number;
  onStatus?: (text: string) => void;
  signal?: AbortSignal;
}

export async function waitForWarmup(o: WarmupOptions): Promise<WarmupResult> {
  const t0 = performance.now();
  const took = () => performance.now() - t0;
  const base = o.baseline?.presenceReceived;
  if (o.maxMs <= 0) return { presence: o.presence, tookMs: 0, absorbed: false, note: 'skipped (--warmup 0)' };
  if (base === undefined) return { presence: o.presence, tookMs: 0, absorbed: false, note: `skipped: no presence counter in the service's /metrics (${o.baseline ? 'an older service?' : `no /metrics at ${o.apiUrl}`})` };
  let calm = 0;
  for (;;) {
    if (o.signal?.aborted) return { presence: o.presence, tookMs: took(), absorbed: false, note: 'interrupted' };
    const { metrics: m, atRest } = await serviceState(o.apiUrl, Math.max(1000, o.maxMs - took()));
    const got = m?.presenceReceived !== undefined ? m.presenceReceived - base : 0;
    calm = got >= o.presence && atRest ? calm + 1 : 0;
    if (calm >= CALM_POLLS) return { presence: o.presence, tookMs: took(), absorbed: true };
    o.onStatus?.(`warming up: the service took ${Math.min(got, o.presence)} of ${o.presence} presence messages`);
    if (took() >= o.maxMs) {
      const why =
        got < o.presence
          ? `${got} of ${o.presence} presence messages received`
          : `the service still busy (${m?.journalPendingBytes ?? '?'} journal bytes to write, or /metrics slow to answer)`;
      return { presence: o.presence, tookMs: took(), absorbed: false, note: `gave up after ${(o.maxMs / 1000).toFixed(0)} s: ${why}` };
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 250));
  }
}
