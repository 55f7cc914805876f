// Discrete device events (CONTRACT section 1, "Events").
import { decodeV1, DEFAULT_TIME_WINDOW, isObject, type TimeWindow } from './decode-json.js';
import { EVENT_TYPES, SEVERITIES, type DeviceEvent, type EventType, type Severity } from './messages.js';
import { Rejection } from './rejection.js';

const eventTypes: ReadonlySet<string> = new Set(EVENT_TYPES);
const severities: ReadonlySet<string> = new Set(SEVERITIES);

export function decodeEvent(payload: Buffer, nowMs: number, window: TimeWindow = DEFAULT_TIME_WINDOW): DeviceEvent | Rejection {
  const envelope = decodeV1(payload, nowMs, window);
  if (envelope instanceof Rejection) return envelope;
  const { obj, ts } = envelope;
  if (obj.type === undefined) return new Rejection('missing_field', 'required field "type" is missing');
  // Event types become an InfluxDB tag, so only the contract's values are accepted (bounded cardinality).
  if (typeof obj.type !== 'string' || !eventTypes.has(obj.type)) {
    return new Rejection('bad_field', `"type" must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (obj.severity === undefined) return new Rejection('missing_field', 'required field "severity" is missing');
  if (typeof obj.severity !== 'string' || !severities.has(obj.severity)) {
    return new Rejection('bad_field', `"severity" must be one of ${SEVERITIES.join(', ')}`);
  }
  if (obj.data !== undefined && !isObject(obj.data)) return new Rejection('bad_field', '"data" must be an object');
  return { ts, type: obj.type as EventType, severity: obj.severity as Severity, data: (obj.data as Record<string, unknown>) ?? {} };
}
