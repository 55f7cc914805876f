// Every dashboard Fleetwatch ships, with the file it is generated into (dashboards/generated/).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsTickets } from './alerts-tickets.js';
import { collectorHealth } from './collector-health.js';
import { deviceDetail } from './device-detail.js';
import { fleetOverview } from './fleet-overview.js';
import { networkCallQuality } from './network-call-quality.js';

export interface DashboardFile {
  file: string;
  build: () => Dashboard;
}

export const DASHBOARDS: readonly DashboardFile[] = [
  { file: 'fleet-overview.json', build: fleetOverview },
  { file: 'device-detail.json', build: deviceDetail },
  { file: 'network-call-quality.json', build: networkCallQuality },
  { file: 'alerts-tickets.json', build: alertsTickets },
  { file: 'collector-health.json', build: collectorHealth },
];

/** The JSON as written to the file: two-space indent, trailing newline (stable diffs). */
export function renderDashboard(d: DashboardFile): string {
  return JSON.stringify(d.build(), null, 2) + '\n';
}
