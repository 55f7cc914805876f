// Panel factories on the SDK's panel builders: every panel queries the Fleetwatch data source, has
// its size set (the dashboard builder places panels left to right, 24 columns a line), and gets
// its queries' refIds (A, B, …) here, so a dashboard module only says what to show.
import { ReduceDataOptionsBuilder, StackingConfigBuilder, VizLegendOptionsBuilder, VizTooltipOptionsBuilder, BigValueColorMode, BigValueGraphMode, BigValueTextMode, GraphDrawStyle, LegendDisplayMode, LegendPlacement, StackingMode, TooltipDisplayMode, SortOrder, BarGaugeDisplayMode, VizOrientation } from '@grafana/grafana-foundation-sdk/common';
import { MappingType, ThresholdsConfigBuilder, ThresholdsMode, type DynamicConfigValue, type Threshold, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DEVICE_DETAIL_UID } from './dashboard-kit.js';
import { DATASOURCE } from './datasource.js';
import { InfluxQLQueryBuilder } from './influxql-query.js';
import type { Select } from './influxql-select.js';

export interface PanelOptions {
  /** Width in grid columns (of 24) and height in grid rows. */
  w: number;
  h: number;
  unit?: string;
  description?: string;
  decimals?: number;
  min?: number;
  max?: number;
  /** Smallest $__interval for this panel (the rollup panels: 5m). */
  interval?: string;
  /** Colour steps: the base colour, then [value, colour] pairs. */
  thresholds?: Threshold[];
  mappings?: ValueMapping[];
}

/** One InfluxQL target. `alias` names the series, e.g. `$tag_site`; table: rows instead of series. */
export function q(select: Select | string, o: { alias?: string; table?: boolean } = {}): InfluxQLQueryBuilder {
  const b = new InfluxQLQueryBuilder('A', select).datasource(DATASOURCE);
  if (o.alias) b.alias(o.alias);
  if (o.table) b.table();
  return b;
}

/** Green, then red at `red` (and orange at `orange` when given). Lower is better. */
export function warnAbove(red: number, orange?: number): Threshold[] {
  return [{ value: null, color: 'green' }, ...(orange === undefined ? [] : [{ value: orange, color: 'orange' }]), { value: red, color: 'red' }];
}

/** Red, then green at `green` (and orange from `orange`). Higher is better (MOS). */
export function warnBelow(green: number, orange?: number): Threshold[] {
  return [{ value: null, color: 'red' }, ...(orange === undefined ? [] : [{ value: orange, color: 'orange' }]), { value: green, color: 'green' }];
}

/** Shows booleans as words with colours (presence, link, call). */
export function booleanText(whenTrue: string, whenFalse: string, trueIsGood = true): ValueMapping[] {
  const good = trueIsGood ? 'green' : 'red';
  const bad = trueIsGood ? 'red' : 'green';
  return [{ type: MappingType.ValueToText, options: { true: { text: whenTrue, color: good, index: 0 }, false: { text: whenFalse, color: bad, index: 1 } } }];
}

/** Field override: the value (a device id) links to the device detail dashboard, keeping the time range. */
export function linkToDevice(): DynamicConfigValue[] {
  return [{ id: 'links', value: [{ title: 'Device detail', url: `/d/${DEVICE_DETAIL_UID}?var-device=\${__value.raw}&\${__url_time_range}` }] }];
}

interface CommonPanel<T> {
  title(t: string): T;
  description(d: string): T;
  datasource(d: typeof DATASOURCE): T;
  span(w: number): T;
  height(h: number): T;
  unit(u: string): T;
  decimals(d: number): T;
  min(m: number): T;
  max(m: number): T;
  interval(i: string): T;
  thresholds(t: ThresholdsConfigBuilder): T;
  mappings(m: ValueMapping[]): T;
  withTarget(t: InfluxQLQueryBuilder): T;
}

function common<T extends CommonPanel<T>>(panel: T, title: string, o: PanelOptions, targets: InfluxQLQueryBuilder[]): T {
  panel.title(title).datasource(DATASOURCE).span(o.w).height(o.h);
  if (o.description) panel.description(o.description);
  if (o.unit) panel.unit(o.unit);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.interval) panel.interval(o.interval);
  if (o.thresholds) panel.thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(o.thresholds));
  if (o.mappings) panel.mappings(o.mappings);
  targets.forEach((t, i) => panel.withTarget(t.refId(String.fromCharCode(65 + i))));
  return panel;
}

export function timeseries(title: string, o: PanelOptions & { bars?: boolean; stacked?: boolean }, ...targets: InfluxQLQueryBuilder[]): TimeseriesBuilder {
  const p = common(new TimeseriesBuilder(), title, o, targets)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .fillOpacity(o.bars ? 80 : 10)
    .lineWidth(1)
    .spanNulls(false);
  if (o.bars) p.drawStyle(GraphDrawStyle.Bars);
  if (o.stacked) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  return p;
}

/** One number (or text) per series: the last non-null value unless `calc` says otherwise. */
export function stat(title: string, o: PanelOptions & { calc?: 'lastNotNull' | 'sum' | 'mean' | 'max'; textField?: string }, ...targets: InfluxQLQueryBuilder[]): StatBuilder {
  // A string or boolean field (firmware, presence) is only shown when named; by default a stat shows numeric fields.
  return common(new StatBuilder(), title, o, targets)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs([o.calc ?? 'lastNotNull']).values(false).fields(o.textField ? `/^${o.textField}$/` : ''))
    .graphMode(o.textField ? BigValueGraphMode.None : BigValueGraphMode.Area)
    .colorMode(o.thresholds || o.mappings ? BigValueColorMode.Value : BigValueColorMode.None)
    .textMode(BigValueTextMode.Value);
}

/** `hideTime`: the rows are per device over the range, and InfluxDB's time column says nothing (the range start, or 1970 for several selectors). */
export function table(title: string, o: PanelOptions & { hideTime?: boolean }, ...targets: InfluxQLQueryBuilder[]): TableBuilder {
  const t = common(new TableBuilder(), title, o, targets).showHeader(true).filterable(true);
  if (o.hideTime) t.withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } });
  return t;
}

/** One bar per series (GROUP BY a tag), the series reduced to `calc`. */
export function barGauge(title: string, o: PanelOptions & { calc?: 'sum' | 'lastNotNull' | 'max' }, ...targets: InfluxQLQueryBuilder[]): BarGaugeBuilder {
  return common(new BarGaugeBuilder(), title, o, targets)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs([o.calc ?? 'sum']).values(false))
    .displayMode(BarGaugeDisplayMode.Gradient)
    .orientation(VizOrientation.Horizontal)
    .showUnfilled(true);
}

/** States over time (presence: online/offline). */
export function stateTimeline(title: string, o: PanelOptions, ...targets: InfluxQLQueryBuilder[]): StateTimelineBuilder {
  return common(new StateTimelineBuilder(), title, o, targets);
}
