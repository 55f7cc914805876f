// A Grafana InfluxDB (InfluxQL) query target, built like the SDK's own query builders. The SDK
// (@grafana/grafana-foundation-sdk 0.0.21) has none for InfluxDB; this implements its Dataquery
// interface with the fields Grafana's InfluxDB data source reads from a raw InfluxQL target:
// refId, datasource, rawQuery, query, resultFormat and alias.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';

/** time_series: one frame per series (GROUP BY tags); table: rows, tags as columns; logs: log lines. */
export type ResultFormat = 'time_series' | 'table' | 'logs';

export interface InfluxQLQuery extends cog.Dataquery {
  refId: string;
  datasource?: common.DataSourceRef;
  /** Always true: the query text is InfluxQL as written, not the visual editor's model. */
  rawQuery: true;
  query: string;
  resultFormat: ResultFormat;
  /** Series name pattern: `$tag_site`, `$col`, `$m` (Grafana's InfluxDB alias syntax). */
  alias?: string;
  hide?: boolean;
}

export class InfluxQLQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfluxQLQuery;

  constructor(refId: string, query: string | { toString(): string }) {
    this.internal = { refId, rawQuery: true, query: String(query), resultFormat: 'time_series', _implementsDataqueryVariant: () => undefined };
  }

  build(): InfluxQLQuery {
    return { ...this.internal };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  datasource(datasource: common.DataSourceRef): this {
    this.internal.datasource = datasource;
    return this;
  }

  resultFormat(resultFormat: ResultFormat): this {
    this.internal.resultFormat = resultFormat;
    return this;
  }

  /** Shorthand for resultFormat('table'). */
  table(): this {
    return this.resultFormat('table');
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  hide(hide: boolean): this {
    this.internal.hide = hide;
    return this;
  }
}
