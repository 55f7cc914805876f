// What the diagnostics service tells the layers above it (streams, webhooks) about a network-tool run:
// one 'progress' per step the device reports, one 'result' when the run ends (final reply or timeout).
// The streams layer adds its own `id` and forwards them as `diagnostics.progress` / `diagnostics.result`
// (CONTRACT section 2), to the tenant that owns the device.
import { EventEmitter } from 'node:events';

/** The network tools of CONTRACT section 1 (`params.tool` of a `diagnostics` command). */
export const DIAGNOSTIC_TOOLS = ['ping', 'traceroute', 'dns', 'bandwidth', 'port'] as const;
export type DiagnosticTool = (typeof DIAGNOSTIC_TOOLS)[number];

/** A run's state: `pending` (sent, no reply yet), `running` (steps arriving), then one of the end states. */
export const DIAGNOSTIC_STATUSES = ['pending', 'running', 'ok', 'error', 'timeout'] as const;
export type DiagnosticStatus = (typeof DIAGNOSTIC_STATUSES)[number];

/** One step the device reported (a non-final reply): one per ping, one per hop, ... */
export interface DiagnosticStep {
  seq: number;
  status: 'running' | 'ok' | 'error';
  data: Record<string, unknown>;
}

export interface DiagnosticsEventPayload {
  /** Tenant of the device, from the registry when the run started (null: none). */
  partnerId: string | null;
  customerId: string | null;
  deviceId: string;
  /** The run id (also the command id sent to the device). */
  diagnosticsId: string;
  tool: DiagnosticTool;
  target: string;
  /** Epoch ms of the change: when the reply arrived, or when the run timed out. */
  ts: number;
  /** 'progress': the step just reported. */
  step?: DiagnosticStep;
  /** 'progress': 'running'. 'result': 'ok' | 'error' | 'timeout'. */
  status?: DiagnosticStatus;
  /** 'result': the final reply's data (null on timeout or when the command could not be sent). */
  result?: Record<string, unknown> | null;
}

export interface DiagnosticsEventMap {
  progress: [payload: DiagnosticsEventPayload];
  result: [payload: DiagnosticsEventPayload];
}

export class DiagnosticsEvents extends EventEmitter<DiagnosticsEventMap> {}
