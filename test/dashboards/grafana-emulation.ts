// What Grafana does to a dashboard's InfluxQL before sending it, done by hand (Grafana itself is
// not installable here): the queries of every panel and variable, and the substitution of
// $timeFilter, $__interval and template variables the way Grafana's InfluxDB data source does it.
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';

export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  refId: string;
  query: string;
  resultFormat: string;
  /** The panel's min interval (rollup panels: 5m), else undefined: the data source's. */
  interval: string | undefined;
}

interface Target {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  resultFormat?: string;
  hide?: boolean;
  datasource?: { type?: string; uid?: string };
}

/** Top-level panels and the panels inside rows (collapsed rows keep theirs inside). */
export function allPanels(d: Dashboard): Array<Panel | RowPanel> {
  const out: Array<Panel | RowPanel> = [];
  for (const p of d.panels ?? []) {
    out.push(p);
    if (p.type === 'row') out.push(...((p as RowPanel).panels ?? []));
  }
  return out;
}

export function targetsOf(p: Panel | RowPanel): Target[] {
  return p.type === 'row' ? [] : (((p as Panel).targets ?? []) as unknown as Target[]);
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of targetsOf(p)) {
      if (t.hide) continue;
      out.push({ panelId: p.id ?? -1, panelTitle: (p as Panel).title ?? '', refId: t.refId ?? '', query: t.query ?? '', resultFormat: t.resultFormat ?? '', interval: (p as Panel).interval });
    }
  }
  return out;
}

export function variables(d: Dashboard): VariableModel[] {
  return d.templating.list ?? [];
}

/** Names used as $name, ${name} or [[name]], Grafana's built-ins ($timeFilter, $__interval, …) left out. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g)) {
    const name = m[1] ?? m[2] ?? m[3]!;
    if (name === 'timeFilter' || name.startsWith('__')) continue;
    names.add(name);
  }
  return [...names];
}

/** A variable's value: 'All' (its allValue) or the values picked. */
export type VariableValue = 'All' | string[];

export interface Interpolation {
  fromMs: number;
  toMs: number;
  /** $__interval; Grafana takes range / max data points, at least the panel's or data source's min interval. */
  interval: string;
  values: Record<string, VariableValue>;
  variables: VariableModel[];
}

/** Grafana's escapeRegex (@grafana/data), which the InfluxDB data source applies to multi-value variables. */
function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/**
 * Replaces $timeFilter, $__interval and the template variables. For an InfluxDB data source Grafana
 * puts the custom allValue (`.*`) in for All, the value as it is for a single-value variable, and
 * for a multi-value one the regex-escaped values, several as `(a|b)`.
 */
export function interpolate(query: string, o: Interpolation): string {
  let q = query.replaceAll('$timeFilter', `time >= ${o.fromMs}ms and time <= ${o.toMs}ms`).replaceAll('$__interval', o.interval);
  for (const v of [...o.variables].sort((a, b) => b.name.length - a.name.length)) {
    const value = o.values[v.name];
    if (value === undefined) continue;
    let text: string;
    if (value === 'All') {
      if (!v.includeAll) throw new Error(`variable ${v.name} has no All option`);
      text = v.allValue ?? `(${value})`;
    } else if (!v.multi && !v.includeAll) {
      if (value.length !== 1) throw new Error(`variable ${v.name} takes one value`);
      text = value[0]!;
    } else {
      const escaped = value.map(escapeRegex);
      text = escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
    }
    q = q.replace(new RegExp(`\\$\\{${v.name}\\}|\\[\\[${v.name}\\]\\]|\\$${v.name}(?!\\w)`, 'g'), () => text);
  }
  return q;
}
