// What every Fleetwatch dashboard shares: uid prefix, tag, time range, refresh, crosshair, the link
// menu to the other Fleetwatch dashboards, and panel ids (unique, in order) given at the end.
import { DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

export const DASHBOARD_TAG = 'fleetwatch';

/** Dashboard uids are `fleetwatch-<slug>`: stable, so links and bookmarks survive re-provisioning. */
export const dashboardUid = (slug: string) => `fleetwatch-${slug}`;

/** Tables of devices link here, with the device variable set to the row's device. */
export const DEVICE_DETAIL_UID = dashboardUid('device-detail');

export function fleetwatchDashboard(slug: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(dashboardUid(slug))
    .description(description)
    .tags([DASHBOARD_TAG])
    .editable()
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(new DashboardLinkBuilder('Fleetwatch').type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true).includeVars(true).keepTime(true).icon('external link').tooltip('').targetBlank(false));
}

/** A section heading across the full width; the panels after it (withPanel) belong to it. */
export function row(title: string): RowBuilder {
  return new RowBuilder(title).collapsed(false);
}

/** Builds the dashboard and numbers its panels 1, 2, … top to bottom (rows included). */
export function finish(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  (dashboard.panels ?? []).forEach((p, i) => (p.id = i + 1));
  // The SDK puts links in the controls menu, which only recent Grafana versions have; the classic
  // place (next to the variables) works everywhere.
  for (const link of dashboard.links ?? []) delete link.placement;
  return dashboard;
}
