// Status snapshot decoder: bytes -> StatusSnapshot or a Rejection. Pure; runs once per message,
// so it checks fields by hand (no schema library) and builds exactly one result object.
import { decodeV1, DEFAULT_TIME_WINDOW, finiteNumber, isObject, type TimeWindow } from './decode-json.js';
import { PERIPHERAL_KINDS, PERIPHERAL_STATES, PLATFORMS, type Peripheral, type PeripheralKind, type PeripheralState, type Platform, type StatusSnapshot } from './messages.js';
import { Rejection } from './rejection.js';

const PRINTABLE_64 = /^[\x20-\x7E]{1,64}$/;
const platforms: ReadonlySet<string> = new Set(PLATFORMS);
const peripheralKinds: ReadonlySet<string> = new Set(PERIPHERAL_KINDS);
const peripheralStates: ReadonlySet<string> = new Set(PERIPHERAL_STATES);

function requiredText(obj: Record<string, unknown>, name: string): string | Rejection {
  const v = obj[name];
  if (v === undefined) return new Rejection('missing_field', `required field "${name}" is missing`);
  if (typeof v !== 'string' || !PRINTABLE_64.test(v)) {
    return new Rejection('bad_field', `"${name}" must be 1-64 printable ASCII characters`);
  }
  return v;
}

export function decodeStatus(payload: Buffer, nowMs: number, window: TimeWindow = DEFAULT_TIME_WINDOW): StatusSnapshot | Rejection {
  const envelope = decodeV1(payload, nowMs, window);
  if (envelope instanceof Rejection) return envelope;
  const { obj, ts } = envelope;
  const seq = obj.seq;
  if (seq === undefined) return new Rejection('missing_field', 'required field "seq" is missing');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return new Rejection('bad_field', '"seq" must be a non-negative integer');
  }
  const model = requiredText(obj, 'model');
  if (model instanceof Rejection) return model;
  const firmware = requiredText(obj, 'firmware');
  if (firmware instanceof Rejection) return firmware;

  // Optional fields: a wrong type drops that field only, so one bad sensor does not lose the snapshot.
  let dropped = 0;
  const num = (v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = finiteNumber(v);
    if (n === undefined) dropped++;
    return n;
  };
  const bool = (v: unknown): boolean | undefined => {
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    dropped++;
    return undefined;
  };
  const platform = (v: unknown): Platform | undefined => {
    if (v === undefined) return undefined;
    if (typeof v === 'string' && platforms.has(v)) return v as Platform;
    dropped++;
    return undefined;
  };
  const section = (v: unknown): Record<string, unknown> | undefined => {
    if (v === undefined) return undefined;
    if (isObject(v)) return v;
    dropped++;
    return undefined;
  };

  const network = section(obj.network);
  const call = section(obj.call);
  const cloud = section(obj.cloud);
  let linkUp: boolean | undefined;
  if (network?.link !== undefined) {
    if (network.link === 'up' || network.link === 'down') linkUp = network.link === 'up';
    else dropped++;
  }
  let ip: string | undefined;
  if (network?.ip !== undefined) {
    if (typeof network.ip === 'string' && network.ip.length <= 64) ip = network.ip;
    else dropped++;
  }

  let peripherals: Peripheral[] | undefined;
  let peripheralsFailed: number | undefined;
  if (obj.peripherals !== undefined) {
    if (Array.isArray(obj.peripherals)) {
      peripherals = [];
      peripheralsFailed = 0;
      for (const p of obj.peripherals as unknown[]) {
        if (!isObject(p) || typeof p.state !== 'string' || !peripheralStates.has(p.state)) {
          dropped++;
          continue;
        }
        const kind = (typeof p.kind === 'string' && peripheralKinds.has(p.kind) ? p.kind : 'other') as PeripheralKind;
        const state = p.state as PeripheralState;
        if (state === 'failed' || state === 'disconnected') peripheralsFailed++;
        peripherals.push({ kind, model: typeof p.model === 'string' ? p.model.slice(0, 64) : undefined, state });
      }
    } else {
      dropped++;
    }
  }

  return {
    ts,
    seq,
    model,
    firmware,
    uptimeS: num(obj.uptimeS),
    cpuPct: num(obj.cpuPct),
    memPct: num(obj.memPct),
    tempC: num(obj.tempC),
    fanRpm: num(obj.fanRpm),
    linkUp,
    ip,
    rttMs: num(network?.rttMs),
    jitterMs: num(network?.jitterMs),
    lossPct: num(network?.lossPct),
    inCall: bool(call?.active),
    callPlatform: platform(call?.platform),
    mos: num(call?.mos),
    cloudProvider: platform(cloud?.provider),
    cloudRegistered: bool(cloud?.registered),
    peripherals,
    peripheralsFailed,
    droppedFields: dropped,
  };
}
