// Device detail: one device (the device variable, narrowed by partner, customer and site) — its
// latest state, every telemetry field over time, presence, its events and alert transitions.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetwatchDashboard, finish, row } from './dashboard-kit.js';
import { ROLLUP_INTERVAL } from './datasource.js';
import { ROLLUP_5M, Select, tagMatches } from './influxql-select.js';
import { booleanText, q, stat, stateTimeline, table, timeseries, warnAbove } from './panels.js';
import { tenantVariables } from './variables.js';

export function deviceDetail(): Dashboard {
  // Device ids are unique across tenants: the device tag alone selects the device.
  const device = tagMatches('device', 'device');
  const status = (...fields: string[]) => Select.of(...fields).from('device_status').where(device);
  const series = (field: string, alias: string) => q(status(`mean("${field}")`).byTime(), { alias });

  const b = fleetwatchDashboard('device-detail', 'Fleetwatch: device detail', 'One device: latest state, telemetry over time, presence, events and alert transitions.')
    .variables(tenantVariables('device', 'single'))
    .withRow(row('$device now'))
    .withPanel(stat('Firmware', { w: 4, h: 4, textField: 'firmware' }, q(status('last("firmware") AS "firmware"'), { table: true })))
    .withPanel(stat('Uptime', { w: 4, h: 4, unit: 's' }, q(status('last("uptime_s")'))))
    .withPanel(stat('Temperature', { w: 4, h: 4, unit: 'celsius', decimals: 1, thresholds: warnAbove(75, 65) }, q(status('last("temp_c")'))))
    .withPanel(stat('CPU', { w: 4, h: 4, unit: 'percent', decimals: 0, thresholds: warnAbove(90, 75) }, q(status('last("cpu_pct")'))))
    .withPanel(
      stat(
        'Presence',
        { w: 4, h: 4, textField: 'online', mappings: booleanText('Online', 'Offline'), description: 'The latest presence message, whenever it came.' },
        q(Select.of('last("online") AS "online"').from('device_presence').where(device).allTime(), { table: true }),
      ),
    )
    .withPanel(stat('Alerts fired', { w: 4, h: 4, calc: 'sum', thresholds: warnAbove(1) }, q(Select.of('count("summary")').from('alert').where('"firing" = true', device))))
    .withRow(row('Telemetry'))
    .withPanel(timeseries('Temperature', { w: 12, h: 8, unit: 'celsius' }, series('temp_c', 'temperature')))
    .withPanel(timeseries('Fan', { w: 12, h: 8, unit: 'rotrpm', min: 0 }, series('fan_rpm', 'fan')))
    .withPanel(timeseries('CPU and memory', { w: 12, h: 8, unit: 'percent', min: 0, max: 100 }, series('cpu_pct', 'cpu'), series('mem_pct', 'memory')))
    .withPanel(timeseries('Network round trip and jitter', { w: 12, h: 8, unit: 'ms', min: 0 }, series('rtt_ms', 'round trip'), series('jitter_ms', 'jitter')))
    .withPanel(timeseries('Packet loss', { w: 12, h: 8, unit: 'percent', min: 0 }, series('loss_pct', 'loss')))
    .withPanel(timeseries('Call quality (MOS)', { w: 12, h: 8, min: 1, max: 5, decimals: 2, description: 'Only reported while in a call.' }, series('mos', 'MOS')))
    .withPanel(timeseries('Failed or disconnected peripherals', { w: 12, h: 8, min: 0, decimals: 0 }, q(status('max("peripherals_failed")').byTime(), { alias: 'peripherals' })))
    .withPanel(
      stateTimeline(
        'Link, call and cloud registration',
        { w: 12, h: 8, mappings: booleanText('yes', 'no') },
        q(status('last("link_up")').byTime(), { alias: 'link up' }),
        q(status('last("in_call")').byTime(), { alias: 'in call' }),
        q(status('last("cloud_registered")').byTime(), { alias: 'cloud registered' }),
      ),
    )
    .withPanel(stateTimeline('Presence', { w: 24, h: 5, mappings: booleanText('online', 'offline') }, q(Select.of('"online"').from('device_presence').where(device), { alias: 'presence' })))
    .withRow(row('History'))
    .withPanel(
      table(
        'Events',
        { w: 12, h: 10 },
        q(Select.of('"type"', '"severity"', '"code"', '"component"', '"data"').from('device_event').where(device).newestFirst(200), { table: true }),
      ),
    )
    .withPanel(
      table(
        'Alert transitions',
        { w: 12, h: 10, mappings: booleanText('firing', 'resolved', false) },
        q(Select.of('"rule"', '"severity"', '"firing"', '"summary"', '"value"').from('alert').where(device).newestFirst(200), { table: true }),
      ),
    )
    .withRow(row('Long range (5-minute rollup)'))
    .withPanel(
      timeseries(
        'Temperature and CPU (rollup)',
        { w: 24, h: 8, interval: ROLLUP_INTERVAL, description: 'From rollup.device_status_5m: 5-minute means, kept longer than the raw points.' },
        q(Select.of('mean("temp_c")').from(ROLLUP_5M).where(device).byTime(), { alias: 'temperature °C' }),
        q(Select.of('mean("cpu_pct")').from(ROLLUP_5M).where(device).byTime(), { alias: 'cpu %' }),
      ),
    );
  return finish(b);
}

