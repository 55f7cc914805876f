// The rules Fleetwatch ships. Numbers come from Poly's operating ranges and common UC quality
// targets; every one can be changed in a rules file, for everyone or per partner (docs/alerting.md).
import type { RuleInput } from './rule-schema.js';

export const DEFAULT_RULES: RuleInput[] = [
  { name: 'device_offline', kind: 'offline', severity: 'critical', missedIntervals: 3, defaultInterval: '30s', clearFor: '2m', flapWindow: '10m', summary: 'Device offline: {reason}{flaps}' },
  { name: 'overheating', kind: 'threshold', field: 'tempC', op: '>', fire: 75, clear: 70, for: '60s', clearFor: '2m', severity: 'critical', replacement: 'hardware', fault: 'overheating', inCallOnly: false, summary: 'Temperature {value} °C above {threshold} °C' },
  { name: 'fan_stopped', kind: 'threshold', field: 'fanRpm', op: '<', fire: 300, clear: 1000, for: '30s', clearFor: '1m', severity: 'critical', replacement: 'hardware', fault: 'fan', inCallOnly: false, summary: 'Fan at {value} rpm' },
  { name: 'peripheral_failed', kind: 'threshold', field: 'peripheralsFailed', op: '>', fire: 0, clear: 0, for: '0s', clearFor: '1m', severity: 'warning', replacement: 'hardware', inCallOnly: false, summary: '{value} peripheral(s) failed or disconnected' },
  { name: 'packet_loss', kind: 'threshold', field: 'lossPct', op: '>', fire: 5, clear: 2, for: '60s', clearFor: '2m', severity: 'warning', inCallOnly: false, summary: 'Packet loss {value} % above {threshold} %' },
  { name: 'jitter_high', kind: 'threshold', field: 'jitterMs', op: '>', fire: 40, clear: 25, for: '60s', clearFor: '2m', severity: 'warning', inCallOnly: false, summary: 'Jitter {value} ms above {threshold} ms' },
  { name: 'latency_high', kind: 'threshold', field: 'rttMs', op: '>', fire: 300, clear: 200, for: '60s', clearFor: '2m', severity: 'warning', inCallOnly: false, summary: 'Round trip {value} ms above {threshold} ms' },
  { name: 'poor_call_quality', kind: 'threshold', field: 'mos', op: '<', fire: 3.5, clear: 3.8, for: '30s', clearFor: '1m', severity: 'warning', inCallOnly: true, summary: 'Call quality MOS {value} below {threshold}' },
  { name: 'network_link_down', kind: 'flag', field: 'linkUp', bad: false, for: '30s', clearFor: '30s', severity: 'critical', summary: 'Network link down' },
  { name: 'cloud_registration_lost', kind: 'flag', field: 'cloudRegistered', bad: false, for: '30s', clearFor: '1m', severity: 'critical', summary: 'Lost registration with the cloud provider' },
  { name: 'device_fault', kind: 'fault_event', severity: 'critical', minSeverity: 'critical', clearAfter: '24h', replacement: 'hardware', summary: 'Device fault {code} on {component}' },
  { name: 'bad_calls', kind: 'call_quality', severity: 'warning', mosBelow: 3.5, lossAbove: 5, jitterAbove: 40, count: 2, window: '1h', summary: '{value} bad calls in the last hour (MOS, loss or jitter past the limits)' },
  { name: 'reboot_loop', kind: 'reboot_loop', count: 3, window: '30m', severity: 'critical', hardware: false, summary: '{value} reboots in 30 minutes' },
  { name: 'seq_gap', kind: 'seq_gap', window: '10m', severity: 'info', ticket: false, summary: 'Status messages lost on the way ({value} missing)' },
  { name: 'firmware_below_minimum', kind: 'firmware_min', severity: 'warning', priority: 'P4', summary: 'Firmware {firmware} below the catalog minimum {minimum}' },
  { name: 'software_update_failed', kind: 'update_failed', severity: 'warning', summary: 'Software update to {target} failed; the device stays on {firmware}' },
  { name: 'unregistered_device', kind: 'unregistered', severity: 'warning', summary: 'Device is not registered: every active product must be registered and covered' },
  { name: 'coverage_expired', kind: 'uncovered', severity: 'warning', summary: 'Device is active but its coverage has expired' },
];
