// Collector health: the collector's own measurement `collector_stats` (every 10 s per instance) —
// messages in, points out, invalid messages, journal backlog, InfluxDB write latency and batch size,
// failures, memory.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetwatchDashboard, finish, row } from './dashboard-kit.js';
import { Select, tagMatches } from './influxql-select.js';
import { q, stat, timeseries, warnAbove } from './panels.js';
import { instanceVariable } from './variables.js';

export function collectorHealth(): Dashboard {
  const stats = (...fields: string[]) => Select.of(...fields).from('collector_stats').where(tagMatches('instance', 'instance'));
  const perInstance = (expr: string, label = '') => q(stats(expr).byTime().by('instance'), { alias: label ? `${label} $tag_instance` : '$tag_instance' });

  const b = fleetwatchDashboard('collector-health', 'Fleetwatch: collector health', 'The collector itself: intake, writes to InfluxDB, journal backlog, latency, failures, memory (measurement collector_stats).')
    .variables([instanceVariable()])
    .withRow(row('Now'))
    .withPanel(stat('Messages received', { w: 4, h: 4, unit: 'reqps', decimals: 1 }, q(stats('last("received_rate")'))))
    .withPanel(stat('Points written', { w: 4, h: 4, unit: 'wps', decimals: 1 }, q(stats('last("written_rate")'))))
    .withPanel(stat('Invalid messages', { w: 4, h: 4, unit: 'reqps', decimals: 2, thresholds: warnAbove(1, 0.01) }, q(stats('last("invalid_rate")'))))
    .withPanel(stat('Journal backlog', { w: 4, h: 4, unit: 'bytes', thresholds: warnAbove(64 * 1024 * 1024, 1024 * 1024), description: 'Bytes journaled and not yet in InfluxDB: grows while InfluxDB is away.' }, q(stats('last("journal_bytes")'))))
    .withPanel(stat('Write latency', { w: 4, h: 4, unit: 'ms', decimals: 1, thresholds: warnAbove(1000, 250) }, q(stats('last("write_ms")'))))
    .withPanel(stat('Memory (RSS)', { w: 4, h: 4, unit: 'bytes' }, q(stats('last("rss_bytes")'))))
    .withRow(row('Throughput'))
    .withPanel(
      timeseries(
        'Messages received and points written per second',
        { w: 12, h: 8, unit: 'short', min: 0 },
        perInstance('mean("received_rate")', 'received'),
        perInstance('mean("written_rate")', 'written'),
      ),
    )
    .withPanel(timeseries('Invalid messages per second', { w: 12, h: 8, unit: 'short', min: 0, description: 'Set aside as dead letters (GET /dead-letters tells why).' }, perInstance('mean("invalid_rate")')))
    .withRow(row('Writes to InfluxDB'))
    .withPanel(timeseries('Write latency per batch', { w: 8, h: 8, unit: 'ms', min: 0 }, perInstance('mean("write_ms")', 'mean'), perInstance('max("write_ms")', 'worst')))
    .withPanel(timeseries('Points per batch', { w: 8, h: 8, min: 0 }, perInstance('mean("batch_points")')))
    .withPanel(timeseries('Journal backlog', { w: 8, h: 8, unit: 'bytes', min: 0 }, perInstance('max("journal_bytes")')))
    .withRow(row('Failures and process'))
    .withPanel(
      timeseries(
        'Failures since the collector started',
        { w: 12, h: 8, min: 0, decimals: 0, description: 'Cumulative counts: failed writes (retried from the journal), batches InfluxDB refused, waits on a full journal.' },
        perInstance('max("write_failures")', 'write failures'),
        perInstance('max("batches_rejected")', 'rejected batches'),
        perInstance('max("journal_full_waits")', 'journal full'),
      ),
    )
    .withPanel(timeseries('Memory', { w: 12, h: 8, unit: 'bytes', min: 0 }, perInstance('max("rss_bytes")', 'rss'), perInstance('max("heap_used_bytes")', 'heap')));
  return finish(b);
}
