// Alerts and tickets over time: alert transitions (measurement `alert`) by rule and severity, ticket
// transitions (measurement `ticket`) by change, priority and queue, the open-ticket balance, time
// to resolve, and the latest alert transitions.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetwatchDashboard, finish, row } from './dashboard-kit.js';
import { Select, tagIs } from './influxql-select.js';
import { barGauge, booleanText, q, stat, table, timeseries, warnAbove } from './panels.js';
import { tenantFilter, tenantVariables } from './variables.js';

export function alertsTickets(): Dashboard {
  // Tickets carry partner, customer and site (no device tag: a ticket may cover a whole site).
  const tenant = tenantFilter('site');
  const alerts = (firing: boolean, ...fields: string[]) => Select.of(...fields).from('alert').where(`"firing" = ${firing}`, ...tenant);
  const tickets = (...fields: string[]) => Select.of(...fields).from('ticket').where(...tenant);
  const ticketsWith = (change: string, ...fields: string[]) => tickets(...fields).where(tagIs('change', change));

  const b = fleetwatchDashboard('alerts-tickets', 'Fleetwatch: alerts and tickets', 'Alerts fired and resolved, tickets opened, acknowledged, escalated and resolved, over time.')
    .variables(tenantVariables('site'))
    .withRow(row('In the selected range'))
    .withPanel(stat('Alerts fired', { w: 4, h: 4, calc: 'sum', thresholds: warnAbove(1) }, q(alerts(true, 'count("summary")'))))
    .withPanel(stat('Alerts resolved', { w: 4, h: 4, calc: 'sum' }, q(alerts(false, 'count("summary")'))))
    .withPanel(stat('Tickets opened', { w: 4, h: 4, calc: 'sum', thresholds: warnAbove(1) }, q(ticketsWith('created', 'sum("count")'))))
    .withPanel(stat('Tickets acknowledged', { w: 4, h: 4, calc: 'sum' }, q(ticketsWith('acknowledged', 'sum("count")'))))
    .withPanel(stat('Tickets resolved', { w: 4, h: 4, calc: 'sum' }, q(ticketsWith('resolved', 'sum("count")'))))
    .withPanel(stat('Time to resolve (mean)', { w: 4, h: 4, unit: 's', description: 'From opening to resolution, tickets resolved in the range.' }, q(ticketsWith('resolved', 'mean("age_s")'))))
    .withRow(row('Alerts over time'))
    .withPanel(timeseries('Alerts fired per rule', { w: 12, h: 8, min: 0, bars: true, stacked: true }, q(alerts(true, 'count("summary")').byTime().by('rule'), { alias: '$tag_rule' })))
    .withPanel(timeseries('Alerts fired per severity', { w: 12, h: 8, min: 0, bars: true, stacked: true }, q(alerts(true, 'count("summary")').byTime().by('severity'), { alias: '$tag_severity' })))
    .withPanel(barGauge('Alerts fired per rule (range)', { w: 12, h: 8 }, q(alerts(true, 'count("summary")').by('rule'), { alias: '$tag_rule' })))
    .withPanel(barGauge('Alerts fired per site (range)', { w: 12, h: 8 }, q(alerts(true, 'count("summary")').by('site'), { alias: '$tag_site' })))
    .withRow(row('Tickets over time'))
    .withPanel(timeseries('Tickets opened per priority', { w: 12, h: 8, min: 0, bars: true, stacked: true }, q(ticketsWith('created', 'sum("count")').byTime().by('priority'), { alias: '$tag_priority' })))
    .withPanel(timeseries('Ticket transitions per change', { w: 12, h: 8, min: 0, bars: true, stacked: true, description: 'created, reopened, acknowledged, assigned, escalated, resolved, merged, replacement and onsite steps, …' }, q(tickets('sum("count")').byTime().by('change'), { alias: '$tag_change' })))
    .withPanel(
      timeseries(
        'Open-ticket balance',
        { w: 12, h: 8, decimals: 0, description: 'Opened (and reopened) minus resolved (and merged) since the start of the range: a rising line is a growing backlog.' },
        q(tickets('cumulative_sum(sum("delta"))').byTime(), { alias: 'balance' }),
      ),
    )
    .withPanel(timeseries('Time to resolve per priority (mean)', { w: 12, h: 8, unit: 's', min: 0 }, q(ticketsWith('resolved', 'mean("age_s")').byTime().by('priority'), { alias: '$tag_priority' })))
    .withPanel(barGauge('Tickets opened per queue (range)', { w: 12, h: 8 }, q(ticketsWith('created', 'sum("count")').by('queue'), { alias: '$tag_queue' })))
    .withPanel(barGauge('Tickets opened per site (range)', { w: 12, h: 8 }, q(ticketsWith('created', 'sum("count")').by('site'), { alias: '$tag_site' })))
    .withRow(row('Latest'))
    .withPanel(
      table(
        'Alert transitions',
        { w: 24, h: 10, mappings: booleanText('firing', 'resolved', false) },
        q(Select.of('"firing"', '"rule"', '"severity"', '"summary"', '"value"', '"device"', '"site"').from('alert').where(...tenant).newestFirst(200), { table: true }),
      ),
    );
  return finish(b);
}
