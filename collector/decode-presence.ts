// Presence: retained, and the device's Last Will when it says "offline".
import { checkTs, decodeJsonObject, DEFAULT_TIME_WINDOW, type TimeWindow } from './decode-json.js';
import type { Presence } from './messages.js';
import { Rejection } from './rejection.js';

// A retained presence may be as old as the device's last connection, so no past limit here.
const PRESENCE_WINDOW: TimeWindow = { maxPastMs: Number.MAX_SAFE_INTEGER, maxFutureMs: DEFAULT_TIME_WINDOW.maxFutureMs };

export function decodePresence(payload: Buffer, nowMs: number): Presence | Rejection {
  const obj = decodeJsonObject(payload);
  if (obj instanceof Rejection) return obj;
  if (obj.state === undefined) return new Rejection('missing_field', 'required field "state" is missing');
  if (obj.state !== 'online' && obj.state !== 'offline') return new Rejection('bad_field', '"state" must be "online" or "offline"');
  const ts = checkTs(obj.ts, nowMs, PRESENCE_WINDOW);
  if (ts instanceof Rejection) return ts;
  return { state: obj.state, ts };
}
