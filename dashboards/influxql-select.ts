// InfluxQL SELECT statements for the dashboards, composed instead of pasted, so every panel has the
// same shape: the Grafana time filter, GROUP BY time($__interval) with fill(none), tag filters as
// regular expressions (which is how Grafana expands multi-value and "All" variables).
// Measurements are the public schema of CONTRACT section 3 (docs/influxdb.md).

/** Measurements in the default `raw` retention policy. */
export type RawMeasurement = 'device_status' | 'device_event' | 'device_presence' | 'alert' | 'ticket' | 'collector_stats';
/** The 5-minute rollup of device_status, in the `rollup` retention policy. */
export const ROLLUP_5M = '"rollup"."device_status_5m"';
export type Source = RawMeasurement | typeof ROLLUP_5M | Select;

export type Fill = 'none' | 'null' | 'previous' | 'linear' | number;

/** `"tag" =~ /^$variable$/`: matches what Grafana puts in for one value, several, or All (`.*`). */
export function tagMatches(tag: string, variable: string): string {
  return `"${tag}" =~ /^$${variable}$/`;
}

/** `"tag" = 'value'` for a fixed value (a string literal). */
export function tagIs(tag: string, value: string): string {
  return `"${tag}" = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class Select {
  private source: Source = 'device_status';
  private readonly conditions: string[] = [];
  private timeFiltered = true;
  private groupTime: string | undefined;
  private readonly groupTags: string[] = [];
  private fillWith: Fill | undefined;
  private order: 'ASC' | 'DESC' | undefined;
  private limitRows: number | undefined;

  private constructor(private readonly fields: string[]) {}

  /** `SELECT a, b …`: expressions as InfluxQL writes them (`mean("temp_c") AS "temp_c"`). */
  static of(...fields: string[]): Select {
    if (fields.length === 0) throw new Error('a SELECT needs at least one field');
    return new Select(fields);
  }

  from(source: Source): this {
    this.source = source;
    return this;
  }

  /** Conditions are joined with AND; `$timeFilter` is added unless allTime() was called. */
  where(...conditions: string[]): this {
    this.conditions.push(...conditions);
    return this;
  }

  /** No `$timeFilter`: the latest value whenever it was written (presence changes rarely). */
  allTime(): this {
    this.timeFiltered = false;
    return this;
  }

  /** `GROUP BY time($__interval)` and fill(none) unless fill() says otherwise. */
  byTime(interval = '$__interval'): this {
    this.groupTime = interval;
    this.fillWith ??= 'none';
    return this;
  }

  by(...tags: string[]): this {
    this.groupTags.push(...tags);
    return this;
  }

  fill(fill: Fill): this {
    this.fillWith = fill;
    return this;
  }

  newestFirst(limit?: number): this {
    this.order = 'DESC';
    this.limitRows = limit;
    return this;
  }

  toString(): string {
    const from = this.source instanceof Select ? `(${this.source.toString()})` : this.source.startsWith('"') ? this.source : `"${this.source}"`;
    const where = [...this.conditions, ...(this.timeFiltered ? ['$timeFilter'] : [])];
    let q = `SELECT ${this.fields.join(', ')} FROM ${from}`;
    if (where.length > 0) q += ` WHERE ${where.join(' AND ')}`;
    const groups = [...(this.groupTime ? [`time(${this.groupTime})`] : []), ...this.groupTags.map((t) => `"${t}"`)];
    if (groups.length > 0) q += ` GROUP BY ${groups.join(', ')}`;
    if (this.fillWith !== undefined && this.groupTime) q += ` fill(${this.fillWith})`;
    if (this.order) q += ` ORDER BY time ${this.order}`;
    if (this.limitRows !== undefined) q += ` LIMIT ${this.limitRows}`;
    return q;
  }
}
