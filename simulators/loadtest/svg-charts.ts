/**
 * Inline SVG charts for the report: lines over time, horizontal bars, a histogram. Plain strings,
 * no script, nothing fetched, so the report is one self-contained file.
 */
import { niceStep, type Histogram } from './percentiles.js';

export type XY = [number, number];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Short number for axis labels: 1200 -> 1.2k. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  if (a >= 10 || a === 0) return String(Math.round(v));
  return String(+v.toFixed(2));
}

function ticks(max: number, count = 5): number[] {
  const step = niceStep(max / count);
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const v = +(k * step).toFixed(10);
    out.push(v);
    if (v >= max) return out;
  }
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(width: number, height: number): Frame {
  return { width, height, left: 56, right: 16, top: 34, bottom: 40 };
}

function open(kind: string, title: string, f: Frame): string {
  return (
    `<svg class="chart" data-chart="${escapeXml(kind)}" xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" ` +
    `viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<text x="${f.width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`
  );
}

export interface LineSeries {
  name: string;
  color: string;
  points: XY[];
  dashed?: boolean;
  /** Points as dots, not joined (samples rather than a series). */
  dots?: boolean;
}

export interface LineChartOptions {
  kind: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions): string {
  const f = frame(o.width ?? 720, o.height ?? 280);
  const pw = f.width - f.left - f.right;
  const ph = f.height - f.top - f.bottom;
  let xMax = 0;
  let yMax = 0;
  for (const s of o.series) {
    for (const [x, y] of s.points) {
      if (x > xMax) xMax = x;
      if (y > yMax) yMax = y;
    }
  }
  const xt = ticks(xMax || 1);
  const yt = ticks(yMax || 1);
  const xTop = xt.at(-1)!;
  const yTop = yt.at(-1)!;
  const sx = (x: number) => f.left + (x / xTop) * pw;
  const sy = (y: number) => f.top + ph - (y / yTop) * ph;
  const parts: string[] = [open(o.kind, o.title, f)];
  for (const v of yt) {
    parts.push(`<line x1="${f.left}" x2="${f.left + pw}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${f.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${shortNumber(v)}</text>`);
  }
  for (const v of xt) parts.push(`<text x="${sx(v).toFixed(1)}" y="${f.top + ph + 16}" text-anchor="middle">${shortNumber(v)}</text>`);
  parts.push(`<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.top + ph}" stroke="#888"/>`);
  parts.push(`<line x1="${f.left}" x2="${f.left + pw}" y1="${f.top + ph}" y2="${f.top + ph}" stroke="#888"/>`);
  parts.push(`<text x="${f.left + pw / 2}" y="${f.height - 6}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="12" y="${f.top + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${f.top + ph / 2})">${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    if (s.dots) {
      for (const [x, y] of s.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${escapeXml(s.color)}"/>`);
    } else if (s.points.length > 0) {
      const d = s.points.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escapeXml(s.name)}</title></path>`);
    }
    const lx = f.left + 8 + i * 170;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${f.top - 6}" y2="${f.top - 6}" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 22}" y="${f.top - 2}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  /** undefined: no figure (the text says why). */
  value: number | undefined;
  color?: string;
  /** Shown after the bar; default: the value. */
  text?: string;
}

export interface BarChartOptions {
  kind: string;
  title: string;
  unit: string;
  bars: Bar[];
  width?: number;
}

export function barChart(o: BarChartOptions): string {
  const rowH = 26;
  const labelW = 190;
  const f: Frame = { width: o.width ?? 720, height: 0, left: labelW, right: 170, top: 34, bottom: 22 };
  f.height = f.top + f.bottom + rowH * Math.max(1, o.bars.length);
  const pw = f.width - f.left - f.right;
  const max = Math.max(0, ...o.bars.map((b) => b.value ?? 0)) || 1;
  const parts: string[] = [open(o.kind, o.title, f)];
  o.bars.forEach((b, i) => {
    const y = f.top + i * rowH;
    parts.push(`<text x="${f.left - 8}" y="${y + 16}" text-anchor="end">${escapeXml(b.label)}</text>`);
    const w = b.value === undefined ? 0 : Math.max(b.value > 0 ? 1 : 0, (b.value / max) * pw);
    if (b.value !== undefined) parts.push(`<rect x="${f.left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${escapeXml(b.color ?? '#4e79a7')}"/>`);
    const text = b.text ?? (b.value === undefined ? 'n/a' : `${shortNumber(b.value)} ${o.unit}`);
    parts.push(`<text x="${f.left + w + 6}" y="${y + 16}">${escapeXml(text)}</text>`);
  });
  parts.push(`<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="#888"/>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface HistogramOptions {
  kind: string;
  title: string;
  xLabel: string;
  hist: Histogram;
  color: string;
  /** Vertical lines, e.g. p50 / p99. */
  markers?: Array<{ label: string; value: number }>;
  width?: number;
  height?: number;
}

export function histogramChart(o: HistogramOptions): string {
  const f = frame(o.width ?? 720, o.height ?? 260);
  const pw = f.width - f.left - f.right;
  const ph = f.height - f.top - f.bottom;
  const { edges, counts } = o.hist;
  const xTop = edges.at(-1) || 1;
  const yt = ticks(Math.max(1, ...counts));
  const yTop = yt.at(-1)!;
  const sx = (x: number) => f.left + (x / xTop) * pw;
  const sy = (y: number) => f.top + ph - (y / yTop) * ph;
  const parts: string[] = [open(o.kind, o.title, f)];
  for (const v of yt) {
    parts.push(`<line x1="${f.left}" x2="${f.left + pw}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${f.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${shortNumber(v)}</text>`);
  }
  counts.forEach((c, i) => {
    const x0 = sx(edges[i]!);
    const x1 = sx(edges[i + 1]!);
    parts.push(
      `<rect x="${(x0 + 0.5).toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 1).toFixed(1)}" height="${(f.top + ph - sy(c)).toFixed(1)}" fill="${escapeXml(o.color)}">` +
        `<title>${shortNumber(edges[i]!)}-${shortNumber(edges[i + 1]!)}: ${c}</title></rect>`,
    );
  });
  const step = Math.max(1, Math.ceil(edges.length / 10));
  edges.forEach((e, i) => {
    if (i % step === 0) parts.push(`<text x="${sx(e).toFixed(1)}" y="${f.top + ph + 16}" text-anchor="middle">${shortNumber(e)}</text>`);
  });
  (o.markers ?? []).forEach((m, i) => {
    const x = sx(Math.min(m.value, xTop));
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${f.top}" y2="${f.top + ph}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(x + 3).toFixed(1)}" y="${f.top + 10 + i * 12}" fill="#c0392b">${escapeXml(m.label)}</text>`);
  });
  parts.push(`<line x1="${f.left}" x2="${f.left + pw}" y1="${f.top + ph}" y2="${f.top + ph}" stroke="#888"/>`);
  parts.push(`<text x="${f.left + pw / 2}" y="${f.height - 6}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
