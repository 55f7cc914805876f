/** The summary table printed at the end of a load test (stdout), from its result. */
import type { LatencyFigures, LoadtestResult } from './result.js';

export function fmtMs(v: number): string {
  return v < 10 ? v.toFixed(1) : v.toFixed(0);
}

export function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

export function latencyText(l: LatencyFigures): string {
  if (l.unavailable !== undefined) return `not measured: ${l.unavailable}`;
  const d = l.distribution;
  const counts = `${fmtInt(l.samples)} of ${fmtInt(l.probes)} probes${l.missing > 0 ? `, ${fmtInt(l.missing)} never seen` : ''}`;
  if (!d) return `no sample (${counts})`;
  return `p50 ${fmtMs(d.p50)} ms, p90 ${fmtMs(d.p90)} ms, p99 ${fmtMs(d.p99)} ms, max ${fmtMs(d.max)} ms (${counts})`;
}

export function settleText(r: LoadtestResult): string {
  const t = (r.settleMs / 1000).toFixed(1);
  if (r.settleEnded === 'all stored') return `all there ${t} s after the last publish`;
  if (r.settleEnded === 'quiet') return `count stopped growing ${t} s after the last publish`;
  return `counting gave up ${t} s after the last publish (--settle), the service still busy: missing messages may still be on their way`;
}

export function warmupText(r: LoadtestResult): string {
  const w = r.warmup;
  if (w.absorbed) return `the service took the fleet's ${fmtInt(w.presence)} connect presence messages in ${(w.tookMs / 1000).toFixed(1)} s (not in the figures below)`;
  return `${w.note ?? 'none'}${w.tookMs > 0 ? ` (${(w.tookMs / 1000).toFixed(1)} s)` : ''}`;
}

/** Rows of the summary: [figure, value]. */
export function summaryRows(r: LoadtestResult): Array<[string, string]> {
  const s = r.settings;
  const d = r.delivery;
  const fleetRate = s.targetRate - s.probeRate;
  const rows: Array<[string, string]> = [
    [
      'target',
      `${fmtInt(s.targetRate)} msg/s for ${s.durationS} s: ${fmtInt(s.devices)} devices every ${+s.intervalS.toFixed(3)} s (${+fleetRate.toFixed(2)} msg/s, ` +
        `${s.connections} connection${s.connections === 1 ? '' : 's'}) + ${s.probeDevices} probe devices (${+s.probeRate.toFixed(2)} msg/s), QoS ${s.qos}`,
    ],
    ['warm-up', warmupText(r)],
    ['achieved rate', `${r.achievedRate.toFixed(1)} msg/s (${fmtInt(d.published)} published in ${r.windowS.toFixed(1)} s, ${((r.achievedRate / s.targetRate) * 100).toFixed(1)} % of the target)`],
    ['acknowledged', `${fmtInt(d.acked)} (${fmtInt(d.unacked)} unacknowledged, ${fmtInt(r.publishErrors)} publish errors)`],
    [
      'stored in InfluxDB',
      `${fmtInt(d.storedDistinct)} distinct messages in ${fmtInt(d.storedPoints)} points: ${fmtInt(d.lost)} lost, ${fmtInt(d.duplicates)} duplicates ` +
        `(${settleText(r)}${d.devicesMissing > 0 ? `; ${fmtInt(d.devicesMissing)} devices short` : ''})`,
    ],
    ['publish -> InfluxDB', latencyText(r.influxLatency)],
    ['publish -> socket.io', latencyText(r.streamLatency)],
  ];
  for (const c of r.cpu) {
    const value =
      c.usPerMsg !== undefined
        ? `${c.usPerMsg.toFixed(1)} µs/msg (${fmtInt(c.cpuMs ?? 0)} ms CPU; ${c.process}, ${c.source})${c.note ? `; ${c.note}` : ''}`
        : `n/a: ${c.note ?? 'not measured'}`;
    rows.push([`CPU ${c.roles}`, value]);
  }
  rows.push(['verdict', r.verdict.pass ? 'PASS' : `FAIL: ${r.verdict.failures.join('; ')}`]);
  return rows;
}

export function formatSummary(r: LoadtestResult): string {
  const rows = summaryRows(r);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}
