// Fleet overview: how the fleet of a partner, customer or site is doing — devices reporting and
// online, temperatures and load per site, events, the device list, and the long-range trend from
// the 5-minute rollup.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetwatchDashboard, finish, row } from './dashboard-kit.js';
import { ROLLUP_INTERVAL } from './datasource.js';
import { ROLLUP_5M, Select, tagIs } from './influxql-select.js';
import { barGauge, booleanText, linkToDevice, q, stat, table, timeseries, warnAbove } from './panels.js';
import { tenantFilter, tenantVariables } from './variables.js';

export function fleetOverview(): Dashboard {
  const tenant = tenantFilter('site');
  const status = (...fields: string[]) => Select.of(...fields).from('device_status').where(...tenant);
  /** The last snapshot of every device in the range: the basis of "devices" counts. */
  const lastPerDevice = (...tags: string[]) => status('last("seq") AS "seq"').by('device', ...tags);

  const b = fleetwatchDashboard('fleet-overview', 'Fleetwatch: fleet overview', 'Devices reporting and online, temperature and load per site, events, and the device list (InfluxDB, measurements of CONTRACT section 3).')
    .variables(tenantVariables('site'))
    .withRow(row('Fleet in the selected range'))
    .withPanel(stat('Devices reporting', { w: 4, h: 4, description: 'Devices that sent at least one status snapshot in the range.' }, q(Select.of('count("seq")').from(lastPerDevice()))))
    .withPanel(
      stat(
        'Online now',
        { w: 4, h: 4, description: 'Devices whose latest presence message (whenever it came) says online.' },
        q(Select.of('count("online")').from(Select.of('last("online") AS "online"').from('device_presence').where(...tenant).allTime().by('device')).where('"online" = true').allTime()),
      ),
    )
    .withPanel(stat('Status snapshots', { w: 4, h: 4, calc: 'sum' }, q(status('count("seq")'))))
    .withPanel(stat('Mean temperature', { w: 4, h: 4, unit: 'celsius', decimals: 1, thresholds: warnAbove(70, 60) }, q(status('mean("temp_c")'))))
    .withPanel(stat('Alerts fired', { w: 4, h: 4, calc: 'sum', thresholds: warnAbove(1) }, q(Select.of('count("summary")').from('alert').where('"firing" = true', ...tenant))))
    .withPanel(stat('Tickets opened', { w: 4, h: 4, calc: 'sum', thresholds: warnAbove(1) }, q(Select.of('sum("count")').from('ticket').where(tagIs('change', 'created'), ...tenant))))
    .withRow(row('Over time'))
    .withPanel(
      timeseries(
        'Devices reporting per site',
        { w: 12, h: 8, min: 0, decimals: 0, description: 'Devices with at least one status snapshot in each interval.' },
        q(Select.of('count("seq")').from(status('last("seq") AS "seq"').byTime().by('device', 'site')).byTime().by('site'), { alias: '$tag_site' }),
      ),
    )
    .withPanel(timeseries('Status snapshots per site', { w: 12, h: 8, min: 0, bars: true, stacked: true }, q(status('count("seq")').byTime().by('site'), { alias: '$tag_site' })))
    .withPanel(timeseries('Temperature per site (mean)', { w: 12, h: 8, unit: 'celsius' }, q(status('mean("temp_c")').byTime().by('site'), { alias: '$tag_site' })))
    .withPanel(timeseries('CPU per site (mean)', { w: 12, h: 8, unit: 'percent', min: 0 }, q(status('mean("cpu_pct")').byTime().by('site'), { alias: '$tag_site' })))
    .withPanel(
      timeseries(
        'Device events by type',
        { w: 12, h: 8, min: 0, bars: true, stacked: true, description: 'Events from the devices (device_event): reboots, peripheral changes, faults, calls ended, software updates.' },
        q(Select.of('count("data")').from('device_event').where(...tenant).byTime().by('type'), { alias: '$tag_type' }),
      ),
    )
    .withPanel(
      timeseries(
        'Presence messages by state',
        { w: 12, h: 8, min: 0, bars: true, stacked: true, description: 'Online and offline presence messages (connects, clean disconnects, Last Wills).' },
        q(Select.of('count("online")').from('device_presence').where('"online" = true', ...tenant).byTime(), { alias: 'online' }),
        q(Select.of('count("online")').from('device_presence').where('"online" = false', ...tenant).byTime(), { alias: 'offline' }),
      ),
    )
    .withRow(row('Devices'))
    .withPanel(
      table(
        'Devices (latest snapshot in the range)',
        { w: 24, h: 10, hideTime: true, description: 'Click a device for its detail dashboard.' },
        q(
          status('last("firmware") AS "firmware"', 'last("uptime_s") AS "uptime_s"', 'last("temp_c") AS "temp_c"', 'last("cpu_pct") AS "cpu_pct"', 'last("rtt_ms") AS "rtt_ms"', 'last("loss_pct") AS "loss_pct"', 'last("peripherals_failed") AS "peripherals_failed"').by(
            'device',
            'model',
            'customer',
            'site',
          ),
          { table: true },
        ),
      ).overrideByName('device', linkToDevice()),
    )
    .withPanel(table('Hottest devices', { w: 8, h: 9, unit: 'celsius' }, q(status('top("temp_c", "device", 10) AS "temp_c"'), { table: true })))
    .withPanel(barGauge('Devices per model', { w: 8, h: 9, calc: 'lastNotNull' }, q(Select.of('count("seq")').from(lastPerDevice('model')).by('model'), { alias: '$tag_model' })))
    .withPanel(
      table(
        'Latest presence per device',
        { w: 8, h: 9, mappings: booleanText('online', 'offline') },
        q(Select.of('last("online") AS "online"').from('device_presence').where(...tenant).allTime().by('device', 'site'), { table: true }),
      ),
    )
    .withRow(row('Long range (5-minute rollup)'))
    .withPanel(
      timeseries(
        'Temperature per customer (rollup)',
        { w: 12, h: 8, unit: 'celsius', interval: ROLLUP_INTERVAL, description: 'From rollup.device_status_5m (kept 400 days by default): use for ranges beyond the raw retention (30 days).' },
        q(Select.of('mean("temp_c")').from(ROLLUP_5M).where(...tenant).byTime().by('customer'), { alias: '$tag_customer' }),
      ),
    )
    .withPanel(
      timeseries(
        'Status snapshots per customer (rollup)',
        { w: 12, h: 8, min: 0, interval: ROLLUP_INTERVAL, bars: true, stacked: true },
        q(Select.of('sum("snapshots")').from(ROLLUP_5M).where(...tenant).byTime().by('customer'), { alias: '$tag_customer' }),
      ),
    );
  return finish(b);
}
