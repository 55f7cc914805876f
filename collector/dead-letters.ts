// Setting bad input aside: counted, kept with its reason in the dead-letter store (readable through
// the API), and logged at most once per device per minute so a broken device cannot flood the log.
import type { Logger } from 'pino';
import type { DeadLetterStore } from '../src/storage/dead-letters.js';
import type { CollectorMetrics } from './metrics.js';
import type { Rejection } from './rejection.js';

const LOG_EVERY_MS = 60_000;
const MAX_THROTTLE_KEYS = 10_000;

export class DeadLetters {
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly store: DeadLetterStore,
    private readonly metrics: CollectorMetrics,
    private readonly log: Logger,
  ) {}

  setAside(topic: string, deviceId: string | undefined, payload: Buffer, rejection: Rejection, nowMs: number): void {
    this.metrics.invalid(rejection.code).inc();
    this.store.add({ receivedMs: nowMs, topic, deviceId: deviceId ?? null, reasonCode: rejection.code, reason: rejection.message, payload });
    const key = deviceId ?? topic;
    const last = this.lastLogged.get(key);
    if (last === undefined || nowMs - last >= LOG_EVERY_MS) {
      if (this.lastLogged.size >= MAX_THROTTLE_KEYS) this.lastLogged.clear();
      this.lastLogged.set(key, nowMs);
      this.log.warn({ topic: topic.slice(0, 200), deviceId, reason: rejection.code }, `message set aside: ${rejection.message}`);
    }
  }
}
