/**
 * The device side of CONTRACT.md section 1, as types and topic helpers for the simulators.
 * Kept local to simulators/ on purpose: a simulator plays a device and must follow the published
 * contract, not whatever the service happens to accept.
 */

export const DEVICE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export const TOPIC_ROOT = 'poly/v1/devices';

export type DeviceTopic = 'status' | 'events' | 'presence' | 'commands' | 'replies';

export function deviceTopic(deviceId: string, leaf: DeviceTopic): string {
  return `${TOPIC_ROOT}/${deviceId}/${leaf}`;
}

/** `call.platform` and `cloud.provider`. */
export type Platform = 'teams' | 'zoom' | 'webex' | 'sip' | 'none';
export type PeripheralKind = 'camera' | 'microphone' | 'speaker' | 'display' | 'controller' | 'headset' | 'other';
export type PeripheralState = 'ok' | 'degraded' | 'failed' | 'disconnected';
export type PresenceState = 'online' | 'offline';

export interface NetworkStatus {
  link: 'up' | 'down';
  ip?: string;
  rttMs?: number;
  jitterMs?: number;
  lossPct?: number;
}

export interface CallStatus {
  active: boolean;
  platform: Platform;
  mos?: number;
}

export interface CloudStatus {
  provider: Platform;
  registered: boolean;
}

export interface PeripheralStatus {
  kind: PeripheralKind;
  model: string;
  state: PeripheralState;
}

/** Status snapshot; only v, ts, seq, model and firmware are required by the contract. */
export interface StatusSnapshot {
  v: 1;
  ts: number;
  seq: number;
  model: string;
  firmware: string;
  uptimeS?: number;
  cpuPct?: number;
  memPct?: number;
  tempC?: number;
  fanRpm?: number;
  network?: NetworkStatus;
  call?: CallStatus;
  cloud?: CloudStatus;
  peripherals?: PeripheralStatus[];
}

export interface PresencePayload {
  state: PresenceState;
  ts: number;
}

/** A command from the service on `poly/v1/devices/{deviceId}/commands`. */
export interface CommandPayload {
  id: string;
  type: string;
  params: Record<string, unknown>;
}

/** A reply on `poly/v1/devices/{deviceId}/replies`; `seq` orders one command's replies from 0. */
export interface ReplyPayload {
  commandId: string;
  seq: number;
  final: boolean;
  status: 'running' | 'ok' | 'error';
  data: Record<string, unknown>;
}

export type EventType = 'reboot' | 'peripheral_state' | 'call_ended' | 'fault' | 'software_update';
export type Severity = 'info' | 'warning' | 'critical';

/** A discrete event on `poly/v1/devices/{deviceId}/events`. */
export interface EventPayload {
  v: 1;
  ts: number;
  type: EventType;
  severity: Severity;
  data: Record<string, unknown>;
}

/** `data` of a `call_ended` event: the quality of the call that just ended, over the statuses sent during it. */
export interface CallEndedData {
  platform: Exclude<Platform, 'none'>;
  /** Whole seconds from the call's start (or, for a call in progress when the run started, its first status). */
  durationS: number;
  /** Average MOS of the call's statuses (2 decimals). */
  mos: number;
  /** Lowest MOS a status of the call reported. */
  mosMin: number;
  /** Average packet loss, percent (2 decimals). */
  lossPct: number;
  /** Average jitter, ms (1 decimal). */
  jitterMs: number;
}

export const FAULT_COMPONENTS = ['camera', 'microphone', 'speaker', 'display', 'fan', 'power', 'software', 'network', 'other'] as const;
export type FaultComponent = (typeof FAULT_COMPONENTS)[number];

/** `data` of a `fault` event (severity critical or warning while active, info once cleared). */
export interface FaultData {
  code: string;
  component: FaultComponent;
  state: 'active' | 'cleared';
  /** Short text for people. */
  message: string;
}
