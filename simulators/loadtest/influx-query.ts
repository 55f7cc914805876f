/**
 * A minimal InfluxDB 1.x query client over its HTTP API (`/query`, times as epoch ms), so that the
 * load test reads exactly what a user's query would. Credentials in the URL become `u` and `p`.
 */

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

const TIMEOUT_MS = 10_000;

/** A string literal of InfluxQL ('…' with ' and \ escaped). */
export function influxString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class InfluxQuery {
  private readonly base: URL;

  constructor(
    url: string,
    readonly db: string,
  ) {
    const u = new URL(url);
    this.base = new URL(u.origin);
    this.base.pathname = `${u.pathname.replace(/\/$/, '')}/query`;
    if (u.username) this.base.searchParams.set('u', decodeURIComponent(u.username));
    if (u.password) this.base.searchParams.set('p', decodeURIComponent(u.password));
  }

  /** Runs one statement; throws on an HTTP or InfluxQL error. */
  async query(q: string, db: string | null = this.db): Promise<InfluxSeries[]> {
    const url = new URL(this.base);
    if (db !== null) url.searchParams.set('db', db);
    url.searchParams.set('epoch', 'ms');
    url.searchParams.set('q', q);
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    let body: { error?: string; results?: Array<{ error?: string; series?: InfluxSeries[] }> };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`InfluxDB answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    const err = body.error ?? body.results?.[0]?.error;
    if (err) throw new Error(`InfluxDB: ${err}`);
    if (!res.ok) throw new Error(`InfluxDB answered HTTP ${res.status}`);
    return body.results?.[0]?.series ?? [];
  }

  /** Whether the database exists (throws when InfluxDB does not answer). */
  async hasDatabase(): Promise<boolean> {
    const series = await this.query('SHOW DATABASES', null);
    return series.some((s) => s.values.some((v) => v[0] === this.db));
  }
}
