// The headline figures of each bench, as JSON in .data/bench/results/<bench>.json: each bench writes
// its own file at the end of a run (bench/ingest.ts, bench/fault-to-ticket.ts, bench/memory.ts,
// bench/offline-storm.ts) and bench/summary.ts reads them and prints the one headline table
// `npm run bench` ends with. Raw figures stay where each bench puts them (.data/bench/last.json,
// fault-to-ticket.json, memory.json, offline-storm.json).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../../.data/bench/results/', import.meta.url));

/** The ingest ratio (collector / bare subscriber) the issue asks for. */
export const INGEST_GOAL_RATIO = 0.8;
/** Fault-to-ticket p99 under load, ms. */
export const LATENCY_GOAL_P99_MS = 250;
/** The memory bench's own check: per-device state after 10 more snapshots each grows by less than this. */
export const MEMORY_MAX_GROWTH = 0.05;
/** The longest event-loop stall during a mass offline storm, ms: well inside the MQTT keepalive, and the API still answers. */
export const STORM_GOAL_STALL_MS = 1000;

export interface IngestHeadline {
  bench: 'ingest';
  when: string;
  settings: { messages: number; devices: number; rounds: number };
  /** Best of the rounds. */
  bareMsgPerS: number;
  collectorMsgPerS: number;
  ratio: number;
  /** Every round stored every message in InfluxDB. */
  allStored: boolean;
}

export interface LatencyPass {
  faults: number;
  tickets: number;
  p50: number;
  p99: number;
  /** Background status messages the collector took during the faults, per second (loaded pass). */
  backgroundMsgPerS?: number;
}

export interface LatencyHeadline {
  bench: 'latency';
  when: string;
  settings: { load: number; faults: number; spacingMs: number; devices: number };
  idle: LatencyPass;
  /** Absent with --load 0. */
  loaded?: LatencyPass;
}

export interface MemoryStage {
  /** heapUsed after gc, minus heapUsed after gc before anything was held, divided by the devices. */
  heapBytesPerDevice: number;
  /** The same for RSS. */
  rssBytesPerDevice: number;
}

export interface MemorySide {
  /** After one snapshot from every device. */
  first: MemoryStage;
  /** After `more` further snapshots from every device. */
  more: MemoryStage;
}

export interface MemoryHeadline {
  bench: 'memory';
  when: string;
  settings: { devices: number; more: number; intervalS: number };
  /** The last JSON.parse'd message of every device in a Map. */
  baseline: MemorySide;
  /** The state the service holds: live state, attribution, alert evaluator, stream summaries, registry tenants. */
  service: MemorySide;
}

export interface StormBurst {
  /** From the first message published until the service had handled the last one (the storm: every device_offline alert firing), ms. */
  ms: number;
  /** CPU of the service process during it, per device, µs. */
  cpuUsPerDevice: number;
  /** The longest event-loop stall of the service process during it, ms. */
  stallMs: number;
}

export interface StormHeadline {
  bench: 'storm';
  when: string;
  settings: { devices: number; perSite: number; idleS: number };
  /** One status message per device, all at once. */
  baseline: StormBurst;
  /** One offline presence per device, all at once (their Last Wills). */
  storm: StormBurst & {
    /** Measured devices with a firing device_offline alert afterwards (should be all). */
    firing: number;
    /** Times the service's MQTT connection dropped during the bench (0: kept). */
    reconnects: number;
  };
  /** Afterwards, every alert firing, over settings.idleS seconds. */
  idle: { cpuPct: number; stallMs: number };
}

export type Headline = IngestHeadline | LatencyHeadline | MemoryHeadline | StormHeadline;
export type BenchName = Headline['bench'];
export const BENCHES: readonly BenchName[] = ['ingest', 'latency', 'memory', 'storm'];

export function writeHeadline(h: Headline, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${h.bench}.json`);
  writeFileSync(path, JSON.stringify(h, null, 2) + '\n');
  return path;
}

/** The headline a bench wrote last, or undefined when there is none (or it cannot be read). */
export function readHeadline<B extends BenchName>(bench: B, dir = RESULTS_DIR): Extract<Headline, { bench: B }> | undefined {
  try {
    const h = JSON.parse(readFileSync(join(dir, `${bench}.json`), 'utf8')) as Headline;
    return h.bench === bench ? (h as Extract<Headline, { bench: B }>) : undefined;
  } catch {
    return undefined;
  }
}
