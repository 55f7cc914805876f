/** The figures of one load test run: what the summary prints and the HTML report draws. */
import type { CpuRow } from './cpu-usage.js';
import type { Distribution, Histogram } from './percentiles.js';
import type { DeliveryReport } from './stored.js';
import type { WarmupResult } from './warmup.js';

/** A point of a time series: seconds since the run started, value. */
export type Point = [number, number];

export interface LatencyFigures {
  /** Why the path was not measured; the rest is empty then. */
  unavailable?: string;
  /** Probe messages published (the samples there could have been). */
  probes: number;
  samples: number;
  /** Probe messages never seen on this path. */
  missing: number;
  distribution?: Distribution;
  histogram?: Histogram;
  /** How exact each figure is, in words. */
  resolution: string;
  /** The raw samples, ms. */
  raw: number[];
  /** Each sample at the time its message was published: [seconds since the start, ms]. */
  overTime: Point[];
}

export interface LoadtestResult {
  startedAt: string;
  settings: {
    mqttUrl: string;
    influxUrl: string;
    influxDb: string;
    apiUrl: string;
    targetRate: number;
    durationS: number;
    devices: number;
    connections: number;
    intervalS: number;
    probeDevices: number;
    probeRate: number;
    qos: 0 | 1;
    seed: number;
    registry?: string;
  };
  /** The wait for the service to take the fleet's connect burst, before the first status. */
  warmup: WarmupResult;
  /** Publishing window actually run (s) and the achieved rate: messages published in it / its length. */
  windowS: number;
  achievedRate: number;
  timeline: {
    /** Messages handed to mqtt.js, per second (by their ts). */
    published: Point[];
    /** Acknowledged by the broker per second (sampled every second). */
    acked: Point[];
    /** The service's points written per second (its /metrics; every device of the service). */
    serviceWritten?: Point[];
    /** Points in InfluxDB per second of their time (the run's devices when they can be told apart). */
    stored?: Point[];
    storedNote?: string;
  };
  delivery: DeliveryReport;
  /** Time from the end of publishing until the stored count settled. */
  settleMs: number;
  /** Why the counting stopped (stored.ts): 'timeout' means InfluxDB may not have had everything yet. */
  settleEnded: 'all stored' | 'quiet' | 'timeout';
  influxLatency: LatencyFigures;
  streamLatency: LatencyFigures;
  cpu: CpuRow[];
  /** Messages the CPU figures are divided by (acknowledged status messages). */
  cpuMessages: number;
  cpuWindowS: number;
  publishErrors: number;
  lastError?: string;
  verdict: Verdict;
}

export interface Verdict {
  pass: boolean;
  /** One sentence per criterion missed. */
  failures: string[];
}
