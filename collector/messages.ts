// The typed, validated forms of what devices send (CONTRACT section 1). Decoders produce these;
// everything downstream (store, live state, alerting) consumes them and never sees raw JSON.

export const PLATFORMS = ['teams', 'zoom', 'webex', 'sip', 'none'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const PERIPHERAL_KINDS = ['camera', 'microphone', 'speaker', 'display', 'controller', 'headset', 'other'] as const;
export type PeripheralKind = (typeof PERIPHERAL_KINDS)[number];
export const PERIPHERAL_STATES = ['ok', 'degraded', 'failed', 'disconnected'] as const;
export type PeripheralState = (typeof PERIPHERAL_STATES)[number];
export const EVENT_TYPES = ['reboot', 'peripheral_state', 'call_ended', 'fault', 'software_update'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Peripheral {
  kind: PeripheralKind;
  model: string | undefined;
  state: PeripheralState;
}

/**
 * One status snapshot, flattened. Every key is always present (undefined when the device did not
 * report it, or reported it with the wrong type) so all snapshots share one shape.
 */
export interface StatusSnapshot {
  ts: number;
  seq: number;
  model: string;
  firmware: string;
  uptimeS: number | undefined;
  cpuPct: number | undefined;
  memPct: number | undefined;
  tempC: number | undefined;
  fanRpm: number | undefined;
  linkUp: boolean | undefined;
  ip: string | undefined;
  rttMs: number | undefined;
  jitterMs: number | undefined;
  lossPct: number | undefined;
  inCall: boolean | undefined;
  callPlatform: Platform | undefined;
  mos: number | undefined;
  cloudProvider: Platform | undefined;
  cloudRegistered: boolean | undefined;
  peripherals: Peripheral[] | undefined;
  /** failed or disconnected peripherals; undefined when the device reports none. */
  peripheralsFailed: number | undefined;
  /** Optional fields that were present with a wrong type or value and were left out. */
  droppedFields: number;
}

export interface DeviceEvent {
  ts: number;
  type: EventType;
  severity: Severity;
  data: Record<string, unknown>;
}

export interface Presence {
  state: 'online' | 'offline';
  ts: number;
}

export interface CommandReply {
  commandId: string;
  seq: number;
  final: boolean;
  status: 'running' | 'ok' | 'error';
  data: Record<string, unknown>;
}
