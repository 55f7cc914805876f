// The one Grafana data source every dashboard queries: Fleetwatch's InfluxDB, with a fixed uid so
// the dashboards and provisioning/datasources/fleetwatch-influxdb.yaml find each other.
import type * as common from '@grafana/grafana-foundation-sdk/common';

export const DATASOURCE_UID = 'fleetwatch-influxdb';
export const DATASOURCE_NAME = 'Fleetwatch InfluxDB';
export const DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: DATASOURCE_UID };

/**
 * Smallest $__interval Grafana picks (the data source's "Min time interval", `timeInterval` in the
 * provisioning file): collector_stats come every 10 s, device status every 30 s by default.
 */
export const MIN_INTERVAL = '10s';

/** Panels on the 5-minute rollup never group finer than the rollup itself. */
export const ROLLUP_INTERVAL = '5m';
