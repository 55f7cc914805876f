// The checks every device payload goes through before its kind is looked at.
import { MAX_PAYLOAD_BYTES, Rejection } from './rejection.js';

export type JsonObject = Record<string, unknown>;

export function decodeJsonObject(payload: Buffer): JsonObject | Rejection {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return new Rejection('too_large', `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return new Rejection('not_json', `payload is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new Rejection('not_object', `payload is JSON but not an object (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`);
  }
  return value as JsonObject;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function finiteNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Device timestamps: epoch ms within a window around the collector's clock. */
export interface TimeWindow {
  maxPastMs: number;
  maxFutureMs: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { maxPastMs: 7 * 24 * 3600_000, maxFutureMs: 3600_000 };

export function checkTs(v: unknown, nowMs: number, window: TimeWindow): number | Rejection {
  if (v === undefined) return new Rejection('missing_field', 'required field "ts" is missing');
  if (typeof v !== 'number' || !Number.isFinite(v)) return new Rejection('bad_field', '"ts" must be epoch milliseconds');
  const ts = Math.trunc(v);
  if (ts < nowMs - window.maxPastMs || ts > nowMs + window.maxFutureMs) {
    const hours = ((ts - nowMs) / 3600_000).toFixed(1);
    return new Rejection('ts_out_of_range', `"ts" ${ts} is ${hours} h from the collector's clock (device clock wrong?)`);
  }
  return ts;
}

export function checkVersion(v: unknown): Rejection | undefined {
  if (v === undefined) return new Rejection('missing_field', 'required field "v" is missing');
  if (v !== 1) return new Rejection('unsupported_version', `protocol version ${JSON.stringify(v)} is not supported (v1 only)`);
  return undefined;
}

/** What every v1 status and event carries: the object, its version checked, its ts in the window. */
export interface V1Envelope {
  obj: JsonObject;
  ts: number;
}

export function decodeV1(payload: Buffer, nowMs: number, window: TimeWindow): V1Envelope | Rejection {
  const obj = decodeJsonObject(payload);
  if (obj instanceof Rejection) return obj;
  const badVersion = checkVersion(obj.v);
  if (badVersion) return badVersion;
  const ts = checkTs(obj.ts, nowMs, window);
  if (ts instanceof Rejection) return ts;
  return { obj, ts };
}
