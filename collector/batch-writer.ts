// Moves lines from the journal to the telemetry store in batches, one batch in flight, and commits
// each batch only after the store took it. While the store is down the batch is retried with
// backoff and the journal grows; when it returns the backlog drains at full batch size.
import type { Logger } from 'pino';
import type { Journal } from './journal.js';
import { RejectedWriteError, type TelemetryStore } from '../src/telemetry/telemetry-store.js';
import type { CollectorMetrics } from './metrics.js';

export interface BatchWriterOptions {
  maxPoints: number;
  /** How long a part-full batch waits for more lines before it is written anyway. */
  maxWaitMs: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface RejectedBatch {
  body: string;
  reason: string;
}

export class BatchWriter {
  private running = false;
  private draining = false;
  private loop: Promise<void> | undefined;
  private backoffMs: number;
  private lastError: string | undefined;
  private lastWarnedMs = 0;
  private stopWaiting: (() => void) | undefined;
  /** False while writes fail (InfluxDB down or unreachable). */
  storeHealthy = true;

  constructor(
    private readonly journal: Journal,
    private readonly store: TelemetryStore,
    private readonly options: BatchWriterOptions,
    private readonly metrics: CollectorMetrics,
    private readonly log: Logger,
    private readonly onRejected: (batch: RejectedBatch) => void,
  ) {
    this.backoffMs = options.minBackoffMs ?? 100;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops after writing what the journal holds, or after deadlineMs; whatever is left stays in the
   * journal and is written at the next start.
   */
  async stop(deadlineMs: number): Promise<{ drained: boolean }> {
    if (!this.running) return { drained: this.journal.pendingBytes === 0 };
    this.draining = true;
    this.stopWaiting?.(); // cut a batching pause short: write what is there now
    const deadline = Date.now() + deadlineMs;
    while (this.journal.pendingBytes > 0 && Date.now() < deadline && this.storeHealthy) {
      await sleep(20);
    }
    this.running = false;
    this.stopWaiting?.();
    await this.loop;
    return { drained: this.journal.pendingBytes === 0 };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = this.journal.read(this.options.maxPoints);
      if (!batch) {
        await this.idle(this.journal.waitForData(250));
        continue;
      }
      const started = performance.now();
      try {
        await this.store.write(batch.body);
        this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
        this.metrics.batchPoints.observe(batch.lines);
        this.metrics.pointsWritten.inc(batch.lines);
        this.journal.commit(batch);
        this.healthy();
      } catch (err) {
        if (err instanceof RejectedWriteError) {
          // Whatever InfluxDB could take of this batch it has written; the rest is set aside.
          this.log.error({ err: err.message }, 'InfluxDB rejected points of a batch; set aside as a dead letter');
          this.metrics.batchesRejected.inc();
          this.onRejected({ body: batch.body, reason: err.message });
          this.journal.commit(batch);
          this.healthy();
          continue;
        }
        this.journal.rewind();
        this.failed(err as Error);
        // Someone dropped the database under us: create it again rather than retry forever.
        if (/database not found/i.test((err as Error).message)) await this.store.ensureSchema().catch(() => undefined);
        await this.idle(sleep(this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
        continue;
      }
      // A part-full batch: let a few more lines arrive so writes stay large.
      if (batch.lines < this.options.maxPoints && this.options.maxWaitMs > 0 && !this.draining) {
        await this.idle(sleep(this.options.maxWaitMs));
      }
    }
  }

  private healthy(): void {
    if (!this.storeHealthy) {
      this.storeHealthy = true;
      if (this.lastError) this.log.info('InfluxDB writes are going through again');
      this.lastError = undefined;
    }
    this.backoffMs = this.options.minBackoffMs ?? 100;
  }

  private failed(err: Error): void {
    this.metrics.writeFailures.inc();
    const now = Date.now();
    if (this.storeHealthy || now - this.lastWarnedMs >= 30_000) {
      this.lastWarnedMs = now;
      this.log.warn({ err: err.message, pendingBytes: this.journal.pendingBytes }, 'InfluxDB write failed; points wait in the journal');
    }
    this.storeHealthy = false;
    this.lastError = err.message;
  }

  /** Waits for `p`, or until stop() is called. */
  private idle(p: Promise<unknown>): Promise<unknown> {
    return Promise.race([p, new Promise<void>((resolve) => (this.stopWaiting = resolve))]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
