/**
 * The HTML report of a load test: one self-contained file (inline CSS and SVG, no script, nothing
 * fetched), with the summary table, the charts and the raw figures as a JSON block at the end.
 */
import type { LatencyFigures, LoadtestResult, Point } from './result.js';
import { summaryRows } from './summary.js';
import { barChart, escapeXml, histogramChart, lineChart, type Bar, type LineSeries } from './svg-charts.js';

const COLORS = { target: '#999999', published: '#4e79a7', acked: '#59a14f', written: '#f28e2b', stored: '#e15759', influx: '#76b7b2', stream: '#b07aa1', cpu: '#edc948' };

function latencyBars(name: string, l: LatencyFigures, color: string): Bar[] {
  const d = l.distribution;
  if (!d) return [{ label: name, value: undefined, text: l.unavailable !== undefined ? `not measured: ${l.unavailable}` : 'no sample' }];
  return (['p50', 'p90', 'p99', 'max'] as const).map((k) => ({ label: `${name} ${k}`, value: d[k], color, text: `${d[k] < 10 ? d[k].toFixed(1) : d[k].toFixed(0)} ms` }));
}

function latencySection(title: string, kind: string, l: LatencyFigures, color: string): string {
  const parts = [`<h3>${escapeXml(title)}</h3>`, `<p class="note">${escapeXml(l.resolution)}</p>`];
  if (l.histogram && l.distribution) {
    parts.push(
      histogramChart({
        kind,
        title: `${title}: histogram (${l.samples} samples)`,
        xLabel: 'latency, ms',
        hist: l.histogram,
        color,
        markers: [
          { label: `p50 ${l.distribution.p50.toFixed(0)}`, value: l.distribution.p50 },
          { label: `p99 ${l.distribution.p99.toFixed(0)}`, value: l.distribution.p99 },
        ],
      }),
    );
  } else {
    parts.push(`<p class="na">${escapeXml(l.unavailable !== undefined ? `Not measured: ${l.unavailable}` : 'No sample.')}</p>`);
  }
  return parts.join('\n');
}

function targetLine(rate: number, seconds: number): Point[] {
  return [
    [0, rate],
    [seconds, rate],
  ];
}

/** JSON that is safe inside a <script type="application/json"> element. */
function jsonBlock(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function buildReport(r: LoadtestResult): string {
  const s = r.settings;
  const d = r.delivery;
  const t = r.timeline;
  const rateSeries: LineSeries[] = [
    { name: `target ${s.targetRate} msg/s`, color: COLORS.target, points: targetLine(s.targetRate, r.windowS), dashed: true },
    { name: 'published / s', color: COLORS.published, points: t.published },
    { name: 'acknowledged / s', color: COLORS.acked, points: t.acked },
  ];
  if (t.serviceWritten) rateSeries.push({ name: 'service wrote / s', color: COLORS.written, points: t.serviceWritten });

  const storedSeries: LineSeries[] = [{ name: 'published / s (by ts)', color: COLORS.published, points: t.published }];
  if (t.stored) storedSeries.push({ name: 'in InfluxDB / s (by time)', color: COLORS.stored, points: t.stored, dashed: true });

  const deliveryBars: Bar[] = [
    { label: 'published', value: d.published, color: COLORS.published },
    { label: 'acknowledged', value: d.acked, color: COLORS.acked },
    { label: 'stored (distinct seq)', value: d.storedDistinct, color: COLORS.stored },
    { label: 'stored points', value: d.storedPoints, color: COLORS.stored },
    { label: 'lost', value: d.lost, color: '#c0392b', text: String(d.lost) },
    { label: 'duplicates', value: d.duplicates, color: '#c0392b', text: String(d.duplicates) },
  ];

  const cpuBars: Bar[] = r.cpu.map((c) => ({
    label: c.roles,
    value: c.usPerMsg,
    color: COLORS.cpu,
    text: c.usPerMsg !== undefined ? `${c.usPerMsg.toFixed(1)} µs/msg (${c.source})` : `n/a: ${c.note ?? ''}`,
  }));

  const rows = summaryRows(r)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join('\n');

  const cpuRows = r.cpu
    .map(
      (c) =>
        `<tr><td>${escapeXml(c.roles)}</td><td>${escapeXml(c.process)}</td><td>${c.cpuMs !== undefined ? c.cpuMs.toFixed(0) : '-'}</td>` +
        `<td>${c.usPerMsg !== undefined ? c.usPerMsg.toFixed(1) : '-'}</td><td>${escapeXml(c.source ?? '')}</td><td>${escapeXml(c.note ?? '')}</td></tr>`,
    )
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Fleetwatch load test ${escapeXml(r.startedAt)}: ${r.verdict.pass ? 'PASS' : 'FAIL'}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 960px; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; }
table { border-collapse: collapse; font-size: 13px; } th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
.pass { color: #1e7d32; font-weight: bold; } .fail { color: #c0392b; font-weight: bold; }
.note { color: #555; font-size: 12px; } .na { color: #999; } svg.chart { display: block; margin: 12px 0; }
</style>
</head>
<body>
<h1>Fleetwatch load test: <span class="${r.verdict.pass ? 'pass' : 'fail'}">${r.verdict.pass ? 'PASS' : 'FAIL'}</span></h1>
<p class="note">Started ${escapeXml(r.startedAt)}. Broker ${escapeXml(s.mqttUrl)}, InfluxDB ${escapeXml(s.influxUrl)} database ${escapeXml(s.influxDb)}, service ${escapeXml(s.apiUrl)}${s.registry ? `, registry ${escapeXml(s.registry)}` : ''}, seed ${s.seed}.</p>
${r.verdict.pass ? '' : `<ul class="fail">${r.verdict.failures.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>`}
<table>
${rows}
</table>

<h2>Send rate</h2>
${lineChart({ kind: 'rate', title: 'Send rate over time: target vs achieved', xLabel: 'seconds since start', yLabel: 'messages / s', series: rateSeries })}
<p class="note">Published: status messages handed to the MQTT client, by the second of their ts. Acknowledged: broker acknowledgements, sampled every second.${t.serviceWritten ? ' Service wrote: the service\'s fleetwatch_points_written_total per second (every point it writes, also of devices outside the test).' : ''}</p>

<h2>Stored vs sent</h2>
${barChart({ kind: 'delivery', title: 'What InfluxDB stored compared with what was sent', unit: 'msgs', bars: deliveryBars })}
${t.stored ? lineChart({ kind: 'stored', title: 'Published and stored per second', xLabel: 'seconds since start', yLabel: 'messages / s', series: storedSeries }) : ''}
<p class="note">Counted in measurement device_status for the run's ${s.devices + s.probeDevices} devices between ${new Date(d.fromTs).toISOString()} and ${new Date(d.toTs).toISOString()}. InfluxDB keeps one point per series and timestamp, so a message delivered twice with the same ts is one point; a duplicate here is a second point with the same seq at another ts. Lost = acknowledged - stored distinct.${t.storedNote ? ` ${escapeXml(t.storedNote)}` : ''}</p>

<h2>Latency</h2>
${barChart({ kind: 'latency', title: 'Latency percentiles, ms', unit: 'ms', bars: [...latencyBars('InfluxDB', r.influxLatency, COLORS.influx), ...latencyBars('socket.io', r.streamLatency, COLORS.stream)] })}
${
  r.influxLatency.overTime.length + r.streamLatency.overTime.length > 0
    ? lineChart({
        kind: 'latency-time',
        title: 'Latency of each probe over the run',
        xLabel: 'published at, seconds since start',
        yLabel: 'ms',
        series: [
          { name: 'publish -> InfluxDB', color: COLORS.influx, points: r.influxLatency.overTime, dots: true },
          { name: 'publish -> socket.io', color: COLORS.stream, points: r.streamLatency.overTime, dots: true },
        ],
      })
    : ''
}
${latencySection('Publish to InfluxDB', 'latency-influx', r.influxLatency, COLORS.influx)}
${latencySection('Publish to socket.io device.status', 'latency-stream', r.streamLatency, COLORS.stream)}

<h2>CPU per message</h2>
${barChart({ kind: 'cpu', title: 'CPU time per acknowledged message, µs', unit: 'µs/msg', bars: cpuBars })}
<table>
<tr><th>role</th><th>process</th><th>CPU ms</th><th>µs/msg</th><th>source</th><th>note</th></tr>
${cpuRows}
</table>
<p class="note">CPU used (user + system) from the first publish until the stored count settled (${r.cpuWindowS.toFixed(1)} s), divided by the ${r.cpuMessages} acknowledged messages. Other work of those processes in that time (other clients, other tests) counts too.</p>

<script type="application/json" id="loadtest-data">${jsonBlock(r)}</script>
</body>
</html>
`;
}
