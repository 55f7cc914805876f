// Template variables: partner, customer, site and device, each narrowed by the ones before it
// (SHOW TAG VALUES … WITH KEY = … WHERE …), and the collector instance. Queries filter with
// tagMatches(), which works for one value, several, and "All" (allValue `.*`).
import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './datasource.js';
import { tagMatches } from './influxql-select.js';

export const TENANT_LEVELS = ['partner', 'customer', 'site', 'device'] as const;
export type TenantLevel = (typeof TENANT_LEVELS)[number];

const LABELS: Record<TenantLevel, string> = { partner: 'Partner', customer: 'Customer', site: 'Site', device: 'Device' };
const ALL = { text: 'All', value: '$__all' };

function showTagValues(measurement: string, key: string, parents: readonly string[]): string {
  const where = parents.length > 0 ? ` WHERE ${parents.map((p) => tagMatches(p, p)).join(' AND ')}` : '';
  return `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${key}"${where}`;
}

/**
 * The tenant variables down to `deepest`. device: 'multi' (with All) or 'single' (one device,
 * for the device detail dashboard).
 */
export function tenantVariables(deepest: TenantLevel, device: 'multi' | 'single' = 'multi'): QueryVariableBuilder[] {
  const levels = TENANT_LEVELS.slice(0, TENANT_LEVELS.indexOf(deepest) + 1);
  return levels.map((level, i) => {
    const query = showTagValues('device_status', level, levels.slice(0, i));
    const v = new QueryVariableBuilder(level)
      .label(LABELS[level])
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc);
    if (level === 'device' && device === 'single') return v.multi(false).includeAll(false);
    return v.multi(true).includeAll(true).allValue('.*').current(ALL);
  });
}

/** The collector instances that wrote collector_stats (host/MQTT client id). */
export function instanceVariable(): QueryVariableBuilder {
  const query = 'SHOW TAG VALUES FROM "collector_stats" WITH KEY = "instance"';
  return new QueryVariableBuilder('instance')
    .label('Collector')
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current(ALL);
}

/** Conditions matching the tenant variables down to `deepest` (tickets have no device tag). */
export function tenantFilter(deepest: TenantLevel = 'site'): string[] {
  return TENANT_LEVELS.slice(0, TENANT_LEVELS.indexOf(deepest) + 1).map((level) => tagMatches(level, level));
}
