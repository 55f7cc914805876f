// The collector's Prometheus metrics, served at /metrics. Label children are created once here so
// the hot path only increments.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RejectionCode } from './rejection.js';
import type { TopicKind } from './topic.js';

export class CollectorMetrics {
  readonly received: Record<TopicKind, Counter.Internal>;
  private readonly invalidCounter: Counter;
  private readonly invalidByCode = new Map<RejectionCode, Counter.Internal>();
  readonly unknownTopic: Counter.Internal;
  readonly unknownDeviceMessages: Counter;
  readonly droppedFields: Counter;
  readonly pointsWritten: Counter;
  readonly writeFailures: Counter;
  readonly batchesRejected: Counter;
  readonly writeSeconds: Histogram;
  readonly batchPoints: Histogram;
  readonly journalWaits: Counter;

  constructor(
    readonly registry: Registry,
    journalDepth: () => number,
  ) {
    const received = new Counter({
      name: 'fleetwatch_messages_received_total',
      help: 'MQTT messages received, by topic kind (invalid ones included)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.received = {
      status: received.labels('status'),
      events: received.labels('events'),
      presence: received.labels('presence'),
      replies: received.labels('replies'),
      commands: received.labels('commands'),
    };
    this.unknownTopic = received.labels('other');
    this.invalidCounter = new Counter({
      name: 'fleetwatch_messages_invalid_total',
      help: 'Messages set aside in the dead-letter store, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.unknownDeviceMessages = new Counter({
      name: 'fleetwatch_messages_unknown_device_total',
      help: 'Messages from devices the registry does not know (stored with unknown tags)',
      registers: [registry],
    });
    this.droppedFields = new Counter({
      name: 'fleetwatch_status_fields_dropped_total',
      help: 'Optional status fields left out because of a wrong type or value',
      registers: [registry],
    });
    this.pointsWritten = new Counter({
      name: 'fleetwatch_points_written_total',
      help: 'Points written to InfluxDB',
      registers: [registry],
    });
    this.writeFailures = new Counter({
      name: 'fleetwatch_write_failures_total',
      help: 'InfluxDB writes that failed and will be retried from the journal',
      registers: [registry],
    });
    this.batchesRejected = new Counter({
      name: 'fleetwatch_batches_rejected_total',
      help: 'Batches InfluxDB refused in part (HTTP 400); set aside as dead letters',
      registers: [registry],
    });
    this.writeSeconds = new Histogram({
      name: 'fleetwatch_write_duration_seconds',
      help: 'Duration of one batch write to InfluxDB',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.batchPoints = new Histogram({
      name: 'fleetwatch_batch_points',
      help: 'Points per batch written to InfluxDB',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    });
    this.journalWaits = new Counter({
      name: 'fleetwatch_journal_full_waits_total',
      help: 'Times the collector stopped acknowledging because the journal was full',
      registers: [registry],
    });
    new Gauge({
      name: 'fleetwatch_journal_pending_bytes',
      help: 'Bytes in the journal not yet written to InfluxDB',
      registers: [registry],
      collect() {
        this.set(journalDepth());
      },
    });
  }

  invalid(code: RejectionCode): Counter.Internal {
    let child = this.invalidByCode.get(code);
    if (!child) {
      child = this.invalidCounter.labels(code);
      this.invalidByCode.set(code, child);
    }
    return child;
  }
}
