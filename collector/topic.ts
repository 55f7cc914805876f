// Device topics of CONTRACT section 1: poly/v1/devices/{deviceId}/{kind}.
import { Rejection } from './rejection.js';

export type TopicKind = 'status' | 'events' | 'presence' | 'replies' | 'commands';

export interface DeviceTopic {
  deviceId: string;
  kind: TopicKind;
}

const PREFIX = 'poly/v1/devices/';
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const KINDS: ReadonlySet<string> = new Set(['status', 'events', 'presence', 'replies', 'commands']);

/** Everything under poly/v1/, so that topics outside the table reach us and are set aside, not ignored. */
export const SUBSCRIPTION = 'poly/v1/#';

export function statusTopic(deviceId: string): string {
  return `${PREFIX}${deviceId}/status`;
}

export function deviceTopic(deviceId: string, kind: TopicKind): string {
  return `${PREFIX}${deviceId}/${kind}`;
}

/** Splits with indexOf rather than a regex or split(): this runs once per message. */
export function parseTopic(topic: string): DeviceTopic | Rejection {
  if (!topic.startsWith(PREFIX)) return new Rejection('unknown_topic', `topic "${topic}" is not a device topic`);
  const slash = topic.indexOf('/', PREFIX.length);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) {
    return new Rejection('unknown_topic', `topic "${topic}" is not poly/v1/devices/{deviceId}/{kind}`);
  }
  const deviceId = topic.slice(PREFIX.length, slash);
  const kind = topic.slice(slash + 1);
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    return new Rejection('bad_device_id', `device id "${deviceId.slice(0, 80)}" does not match ${DEVICE_ID_PATTERN.source}`);
  }
  if (!KINDS.has(kind)) return new Rejection('unknown_topic', `unknown message kind "${kind.slice(0, 40)}"`);
  return { deviceId, kind: kind as TopicKind };
}
