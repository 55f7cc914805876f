// What the collector tells the layers above it (alerting, streams) about each accepted message.
// Lower layers publish here; they never import the layers that listen.
import { EventEmitter } from 'node:events';
import type { CommandReply, DeviceEvent, StatusSnapshot } from './messages.js';
import type { Attribution } from './tenant-tags.js';

export interface IngestEventMap {
  status: [deviceId: string, attribution: Attribution, snapshot: StatusSnapshot, previous: StatusSnapshot | undefined, receivedMs: number];
  event: [deviceId: string, attribution: Attribution, event: DeviceEvent, receivedMs: number];
  presence: [deviceId: string, attribution: Attribution, online: boolean, receivedMs: number];
  reply: [deviceId: string, attribution: Attribution, reply: CommandReply, receivedMs: number];
  /** First message of a device the registry does not know, since start. */
  'unknown-device': [deviceId: string, model: string | undefined, receivedMs: number];
}

export class IngestEvents extends EventEmitter<IngestEventMap> {}
