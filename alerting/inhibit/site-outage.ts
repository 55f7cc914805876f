// Inhibition: when half or more of a site's devices (at least two) are offline or without a
// network link, the site's network is down. One site alert and ticket say so; the per-device
// network alerts under it are inhibited (recorded, not announced, no ticket of their own), and
// device tickets opened before it was clear are merged into the site ticket. When the site
// recovers below the threshold, device alerts still firing are announced on their own.
import type { AlertStore } from '../alerts/alert-store.js';

/** Device rules whose firing counts towards a site outage. */
export const SITE_DOWN_RULES: ReadonlySet<string> = new Set(['device_offline', 'network_link_down']);
/** Device rules a site outage explains, and so inhibits. */
export const INHIBITED_BY_SITE_OUTAGE: ReadonlySet<string> = new Set([
  'device_offline',
  'network_link_down',
  'packet_loss',
  'jitter_high',
  'latency_high',
  'poor_call_quality',
  'cloud_registration_lost',
]);

export const SITE_RULE = 'site_network_down';

export function siteFingerprint(siteId: string): string {
  return `${SITE_RULE}/site:${siteId}`;
}

export interface SiteOutageOptions {
  /** Share of the site's registered devices that must be down. */
  fraction: number;
  minDevices: number;
}

export class SiteOutages {
  constructor(
    private readonly alerts: AlertStore,
    /** Registered devices per site. */
    private readonly devicesAt: (siteId: string) => number,
    private readonly options: SiteOutageOptions = { fraction: 0.5, minDevices: 2 },
  ) {}

  /** Devices of the site with a firing site-down alert. */
  downCount(siteId: string): number {
    return this.alerts.firingDevicesAtSite(siteId, [...SITE_DOWN_RULES]);
  }

  isDown(siteId: string): boolean {
    const total = this.devicesAt(siteId);
    const down = this.downCount(siteId);
    return down >= this.options.minDevices && down >= Math.ceil(this.options.fraction * total);
  }

  /** The site alert is firing now (what inhibits). */
  isInhibiting(siteId: string | null, rule: string): boolean {
    if (siteId === null || !INHIBITED_BY_SITE_OUTAGE.has(rule)) return false;
    return this.alerts.get(siteFingerprint(siteId))?.state === 'firing';
  }
}
