// The port the collector writes through. InfluxDB 1.x is the adapter today (influx1.ts);
// a 2.x/3.x adapter on @influxdata/influxdb-client would implement the same interface.

export interface TelemetryStore {
  /** Creates the database, retention policies and rollups if missing. Idempotent. */
  ensureSchema(): Promise<void>;
  /** Writes newline-terminated line-protocol lines with millisecond timestamps. */
  write(body: string): Promise<void>;
  /** True when the server answers. */
  ping(timeoutMs: number): Promise<boolean>;
}

/** The store answered that the data itself is wrong (HTTP 400): retrying would not help. */
export class RejectedWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedWriteError';
  }
}
