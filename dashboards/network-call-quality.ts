// Network and call quality: round trip, jitter, packet loss and link state per site, MOS and calls
// in progress, the devices with the worst network, and the long-range trend from the rollup.
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetwatchDashboard, finish, row } from './dashboard-kit.js';
import { ROLLUP_INTERVAL } from './datasource.js';
import { ROLLUP_5M, Select } from './influxql-select.js';
import { linkToDevice, q, stat, table, timeseries, warnAbove, warnBelow } from './panels.js';
import { tenantFilter, tenantVariables } from './variables.js';

export function networkCallQuality(): Dashboard {
  const tenant = tenantFilter('device');
  const status = (...fields: string[]) => Select.of(...fields).from('device_status').where(...tenant);
  const perSite = (expr: string) => q(status(expr).byTime().by('site'), { alias: '$tag_site' });
  const rollupPerSite = (expr: string) => q(Select.of(expr).from(ROLLUP_5M).where(...tenant).byTime().by('site'), { alias: '$tag_site' });

  const b = fleetwatchDashboard('network-call-quality', 'Fleetwatch: network and call quality', 'Round trip, jitter, packet loss and link state per site; call quality (MOS) and calls in progress; the devices with the worst network.')
    .variables(tenantVariables('device'))
    .withRow(row('In the selected range'))
    .withPanel(stat('Round trip (mean)', { w: 6, h: 4, unit: 'ms', decimals: 0, thresholds: warnAbove(300, 150) }, q(status('mean("rtt_ms")'))))
    .withPanel(stat('Jitter (mean)', { w: 6, h: 4, unit: 'ms', decimals: 1, thresholds: warnAbove(40, 25) }, q(status('mean("jitter_ms")'))))
    .withPanel(stat('Packet loss (worst)', { w: 6, h: 4, unit: 'percent', decimals: 1, thresholds: warnAbove(5, 2) }, q(status('max("loss_pct")'))))
    .withPanel(stat('MOS (mean, in calls)', { w: 6, h: 4, decimals: 2, thresholds: warnBelow(3.8, 3.5) }, q(status('mean("mos")'))))
    .withRow(row('Network per site'))
    .withPanel(timeseries('Round trip per site (mean)', { w: 12, h: 8, unit: 'ms', min: 0 }, perSite('mean("rtt_ms")')))
    .withPanel(timeseries('Jitter per site (mean)', { w: 12, h: 8, unit: 'ms', min: 0 }, perSite('mean("jitter_ms")')))
    .withPanel(
      timeseries(
        'Packet loss per site',
        { w: 12, h: 8, unit: 'percent', min: 0 },
        q(status('mean("loss_pct")').byTime().by('site'), { alias: 'mean $tag_site' }),
        q(status('max("loss_pct")').byTime().by('site'), { alias: 'worst $tag_site' }),
      ),
    )
    .withPanel(
      timeseries(
        'Snapshots with the link down',
        { w: 12, h: 8, min: 0, bars: true, stacked: true, description: 'Status snapshots reporting network.link "down" (sent once the link is back, or over another interface).' },
        q(status('count("link_up")').where('"link_up" = false').byTime().by('site'), { alias: '$tag_site' }),
      ),
    )
    .withRow(row('Calls'))
    .withPanel(timeseries('MOS per site (mean)', { w: 12, h: 8, min: 1, max: 5, decimals: 2 }, perSite('mean("mos")')))
    .withPanel(
      timeseries(
        'Devices in a call',
        { w: 12, h: 8, min: 0, decimals: 0, bars: true, stacked: true, description: 'Devices whose last snapshot in each interval reported an active call.' },
        q(
          Select.of('count("in_call")')
            .from(status('last("in_call") AS "in_call"').byTime().by('device', 'site'))
            .where('"in_call" = true')
            .byTime()
            .by('site'),
          { alias: '$tag_site' },
        ),
      ),
    )
    .withPanel(
      table(
        'Devices by network quality (worst loss first)',
        { w: 24, h: 10, hideTime: true, description: 'Per device over the range. Click a device for its detail dashboard.' },
        q(
          status('max("loss_pct") AS "worst_loss_pct"', 'mean("loss_pct") AS "loss_pct"', 'mean("jitter_ms") AS "jitter_ms"', 'mean("rtt_ms") AS "rtt_ms"', 'min("mos") AS "worst_mos"', 'count("seq") AS "snapshots"').by('device', 'site'),
          { table: true },
        ),
      )
        .sortBy([new TableSortByFieldStateBuilder().displayName('worst_loss_pct').desc(true)])
        .overrideByName('device', linkToDevice()),
    )
    .withRow(row('Long range (5-minute rollup)'))
    .withPanel(timeseries('Round trip per site (rollup)', { w: 12, h: 8, unit: 'ms', min: 0, interval: ROLLUP_INTERVAL }, rollupPerSite('mean("rtt_ms")')))
    .withPanel(timeseries('Jitter per site (rollup)', { w: 12, h: 8, unit: 'ms', min: 0, interval: ROLLUP_INTERVAL }, rollupPerSite('mean("jitter_ms")')))
    .withPanel(timeseries('Packet loss per site (rollup)', { w: 12, h: 8, unit: 'percent', min: 0, interval: ROLLUP_INTERVAL }, rollupPerSite('mean("loss_pct")')))
    .withPanel(timeseries('MOS per site (rollup)', { w: 12, h: 8, min: 1, max: 5, interval: ROLLUP_INTERVAL }, rollupPerSite('mean("mos")')));
  return finish(b);
}
