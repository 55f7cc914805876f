// What the collector tells the layers above it (alerting, streams) about each accepted message.
// Lower layers publish here; they never import the layers that listen.
import { EventEmitter } from 'node:events';
import type { OfflineReason } from './device-state.js';
import type { CommandReply, DeviceEvent, StatusSnapshot } from './messages.js';
import type { Attribution } from './tenant-tags.js';

export interface IngestEventMap {
  /** `derived`: not a report from the device but the last one patched by an event (a peripheral changed). */
  status: [deviceId: string, attribution: Attribution, snapshot: StatusSnapshot, previous: StatusSnapshot | undefined, receivedMs: number, derived?: boolean];
  event: [deviceId: string, attribution: Attribution, event: DeviceEvent, receivedMs: number];
  /** `reason`: why the device counts as offline (undefined when online). */
  presence: [deviceId: string, attribution: Attribution, online: boolean, receivedMs: number, reason?: OfflineReason];
  reply: [deviceId: string, attribution: Attribution, reply: CommandReply, receivedMs: number];
  /** First message of a device the registry does not know, since start. */
  'unknown-device': [deviceId: string, model: string | undefined, receivedMs: number];
}

export class IngestEvents extends EventEmitter<IngestEventMap> {}
