// A device's page (#/device/ID): its live state, recent telemetry from InfluxDB as charts, open
// alerts and tickets, and the network tools: Run posts /devices/{id}/diagnostics, each step is
// appended as its diagnostics.progress arrives, and the summary shows on diagnostics.result.
import { api } from './api.js';
import { LineChart } from './chart.js';
import { ago, clock, countdown, h, setData, setText } from './dom.js';
import { markDirty, register, unregister } from './frame.js';
import { nameOf } from './state.js';
import * as stream from './stream.js';

const TELEMETRY_MINUTES = 60;
const SERIES = [
  ['tempC', 'Temperature', ' °C', '#ff8a65', 0],
  ['cpuPct', 'CPU', ' %', '#4fc3f7', 0],
  ['rttMs', 'Round trip', ' ms', '#ba68c8', 0],
  ['lossPct', 'Packet loss', ' %', '#ffd54f', 1],
];
const TOOLS = { ping: 'teams.microsoft.com', traceroute: 'zoom.us', dns: 'teams.microsoft.com', bandwidth: 'speed.example.net', port: 'teams.microsoft.com' };

let current = null; // { id, device, els, charts, run, off[], timer }

export function unmountDevicePage() {
  if (!current) return;
  for (const off of current.off) off();
  clearInterval(current.timer);
  unregister('device');
  current = null;
}

export function mountDevicePage(container, id) {
  unmountDevicePage();
  const els = {
    title: h('h1.dev-title', { text: id }),
    pill: h('span.pill', { id: 'device-online', text: '…' }),
    sub: h('div.dev-sub'),
    facts: h('div.facts'),
    charts: h('div.charts'),
    alerts: h('div.list', { id: 'device-alerts' }),
    tickets: h('div.list', { id: 'device-tickets' }),
    runs: h('div.list.runs', { id: 'device-runs' }),
  };
  const tool = h('select', { id: 'diag-tool', 'aria-label': 'Network tool' }, ...Object.keys(TOOLS).map((t) => h('option', { value: t, text: t })));
  const target = h('input', { id: 'diag-target', type: 'text', value: TOOLS.ping, 'aria-label': 'Target host', spellcheck: 'false' });
  const port = h('input', { id: 'diag-port', type: 'number', min: '1', max: '65535', value: '443', 'aria-label': 'Port', hidden: true });
  const runBtn = h('button.run', { id: 'diag-run', type: 'button' }, 'Run');
  const status = h('span.diag-status', { id: 'diag-status' });
  const steps = h('ol.steps', { id: 'diag-steps' });
  const summary = h('div.diag-summary', { id: 'diag-summary', hidden: true });
  tool.addEventListener('change', () => {
    target.value = TOOLS[tool.value];
    port.hidden = tool.value !== 'port';
  });
  runBtn.addEventListener('click', () => void runTool(tool.value, target.value.trim(), Number(port.value)));
  target.addEventListener('keydown', (e) => e.key === 'Enter' && runBtn.click());

  const chartEls = SERIES.map(([key, label]) => {
    const canvas = h('canvas.chart.small', { dataset: { series: key } });
    return [key, h('div.chartbox', null, h('div.clabel', null, label, h('span.cval', { dataset: { series: key } })), canvas), canvas];
  });
  els.charts.replaceChildren(...chartEls.map(([, box]) => box));
  const charts = new Map(chartEls.map(([key, , canvas], i) => [key, new LineChart(canvas, { color: SERIES[i][3], unit: SERIES[i][2].trim() === '%' ? '%' : '', windowMs: TELEMETRY_MINUTES * 60_000, decimals: SERIES[i][4] })]));

  container.replaceChildren(
    h(
      'div.device-page',
      { dataset: { deviceId: id } },
      h('div.dev-head', null, h('a.back', { href: '#/', text: '← Fleet' }), els.title, els.pill, els.sub),
      h('section.panel.p-facts', null, h('div.panel-head', null, h('h2', null, 'Latest status')), els.facts),
      h('section.panel.p-charts', null, h('div.panel-head', null, h('h2', null, `Telemetry, last ${TELEMETRY_MINUTES} minutes`), h('span.sub', { text: 'from InfluxDB' })), els.charts),
      h(
        'section.panel.p-tool',
        null,
        h('div.panel-head', null, h('h2', null, 'Network tool')),
        h('div.toolbar', null, tool, target, port, runBtn, status),
        steps,
        summary,
        h('h3', { text: 'Recent runs' }),
        els.runs,
      ),
      h('section.panel.p-dalerts', null, h('div.panel-head', null, h('h2', null, 'Open alerts')), els.alerts),
      h('section.panel.p-dtickets', null, h('div.panel-head', null, h('h2', null, 'Tickets')), els.tickets),
    ),
  );

  current = { id, device: null, els, charts, run: null, busy: false, pending: new Map(), off: [], timer: null, tool: { runBtn, status, steps, summary } };
  const c = current;
  register('device', render);

  c.off.push(
    stream.on('device.presence', (e) => {
      if (e.deviceId !== id || !c.device) return;
      c.device.status.online = e.online ? 'online' : 'offline';
      markDirty('device');
    }),
    stream.on('device.status', (e) => {
      if (e.deviceId !== id || !c.device) return;
      c.summary = e.summary;
      c.device.status.online = e.summary.online ? 'online' : 'offline';
      c.device.status.lastStatusAtMs = e.ts;
      markDirty('device');
    }),
    stream.on('diagnostics.progress', (e) => onDiagnostics(c, 'progress', e)),
    stream.on('diagnostics.result', (e) => onDiagnostics(c, 'result', e)),
    stream.on('alert.firing', (e) => e.deviceId === id && void loadDevice(c)),
    stream.on('alert.resolved', (e) => e.deviceId === id && void loadDevice(c)),
    stream.on('ticket.created', (e) => e.deviceId === id && void loadTickets(c)),
    stream.on('ticket.updated', (e) => e.deviceId === id && void loadTickets(c)),
  );
  void loadDevice(c).then(() => {
    if (current === c && c.device) void Promise.all([loadTelemetry(c), loadTickets(c), loadRuns(c)]);
  });
  // Telemetry points arrive every status interval (device.status only tells of health changes):
  // reload the snapshot and the charts now and then.
  c.timer = setInterval(() => {
    if (current === c && c.device) void Promise.all([loadDevice(c), loadTelemetry(c)]);
  }, 10_000);
}

async function loadDevice(c) {
  try {
    c.device = await api(`/devices/${encodeURIComponent(c.id)}`);
    c.error = null;
  } catch (err) {
    c.error = err;
  }
  markDirty('device');
}

async function loadTelemetry(c) {
  try {
    const res = await api(`/devices/${encodeURIComponent(c.id)}/telemetry?minutes=${TELEMETRY_MINUTES}`);
    // The window follows the data (at least 2 minutes): a device seen for 3 minutes fills the chart.
    const span = res.points.length ? Date.now() - res.points[0].ts : 0;
    const windowMs = Math.min(TELEMETRY_MINUTES * 60_000, Math.max(2 * 60_000, Math.ceil((span * 1.1) / 60_000) * 60_000));
    for (const [key, chart] of c.charts) {
      chart.opts.windowMs = windowMs;
      chart.set(res.points.filter((p) => p[key] !== null).map((p) => [p.ts, p[key]]));
    }
    c.telemetry = res;
  } catch (err) {
    c.telemetryError = err;
  }
  markDirty('device');
}

async function loadTickets(c) {
  try {
    c.tickets = (await api(`/tickets?deviceId=${encodeURIComponent(c.id)}&limit=20`)).items;
  } catch {
    c.tickets = c.tickets ?? [];
  }
  markDirty('device');
}

async function loadRuns(c) {
  try {
    c.runs = (await api(`/devices/${encodeURIComponent(c.id)}/diagnostics`)).items.slice(0, 8);
  } catch {
    c.runs = c.runs ?? [];
  }
  markDirty('device');
}

// ---- network tool ------------------------------------------------------------------------------

async function runTool(tool, target, port) {
  const c = current;
  if (!c) return;
  const t = c.tool;
  c.busy = true;
  t.runBtn.disabled = true;
  t.steps.replaceChildren();
  t.summary.hidden = true;
  t.summary.replaceChildren();
  setData(t.steps, 'state', 'pending');
  setText(t.status, `sending ${tool} to the device…`);
  c.pending.clear();
  c.run = null;
  try {
    const body = { tool, target, ...(tool === 'port' ? { port } : {}) };
    const run = await api(`/devices/${encodeURIComponent(c.id)}/diagnostics`, { method: 'POST', body });
    if (current !== c) return;
    c.run = { id: run.id, tool, target, steps: new Set(), started: Date.now(), done: false };
    setText(t.status, `${tool} ${target}: waiting for the device…`);
    setData(t.steps, 'runId', run.id);
    // Events that beat the POST answer.
    for (const [kind, e] of c.pending.get(run.id) ?? []) onDiagnostics(c, kind, e);
    c.pending.clear();
  } catch (err) {
    if (current !== c) return;
    c.busy = false;
    t.runBtn.disabled = false;
    setText(t.status, err.code === 'busy' ? 'A run is already going on this device; wait for it to end.' : `Could not start: ${err.message}`);
    setData(t.steps, 'state', 'error');
  }
}

function stepText(tool, step) {
  const d = step.data ?? {};
  if (tool === 'ping') return d.lost ? `echo ${d.seq}: lost` : `echo ${d.seq}: ${d.rttMs} ms (ttl ${d.ttl})`;
  if (tool === 'traceroute') return `hop ${d.hop}: ${d.host}${d.rttMs === null || d.rttMs === undefined ? '' : `  ${d.rttMs} ms`}`;
  if (tool === 'dns') return `${d.query} via ${d.server}: ${d.rcode} ${(d.answers ?? []).join(', ')} (${d.rttMs} ms)`;
  if (tool === 'bandwidth') return `${d.phase ?? ''} ${d.pct ?? ''}% ${d.mbps ?? d.downMbps ?? d.upMbps ?? ''} Mbit/s`.trim();
  return Object.entries(d)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : v}`)
    .join(' · ');
}

function summaryText(tool, status, r) {
  if (!r) return status === 'timeout' ? 'The device did not answer in time.' : `Ended: ${status}`;
  if (tool === 'ping') return `${r.received}/${r.sent} received, loss ${r.lossPct} %, rtt min/avg/max ${r.rttMinMs ?? '–'} / ${r.rttAvgMs ?? '–'} / ${r.rttMaxMs ?? '–'} ms`;
  if (tool === 'traceroute') return `${r.hops} hops, ${r.reached ? 'reached' : 'did not reach'} ${r.destination ?? ''}`;
  return Object.entries(r)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`)
    .join(' · ');
}

function onDiagnostics(c, kind, e) {
  if (e.deviceId !== c.id) return;
  const runId = e.runId ?? e.diagnosticsId;
  if (!c.run || c.run.id !== runId) {
    // Not ours, or the POST has not answered yet: keep it until it does.
    if (!c.run && c.busy) {
      if (!c.pending.has(runId)) c.pending.set(runId, []);
      c.pending.get(runId).push([kind, e]);
    }
    return;
  }
  const t = c.tool;
  if (kind === 'progress' && e.step) {
    if (c.run.steps.has(e.step.seq)) return;
    c.run.steps.add(e.step.seq);
    const li = h('li.step', { dataset: { seq: e.step.seq, status: e.step.status } }, h('span.t', { text: clock(e.ts) }), h('span.x', { text: stepText(c.run.tool, e.step) }));
    // In seq order, also if the broker reorders.
    const after = [...t.steps.children].find((el) => Number(el.dataset.seq) > e.step.seq);
    t.steps.insertBefore(li, after ?? null);
    setData(t.steps, 'state', 'running');
    setText(t.status, `${c.run.tool} ${c.run.target}: ${c.run.steps.size} step${c.run.steps.size === 1 ? '' : 's'}…`);
  } else if (kind === 'result') {
    c.run.done = true;
    c.busy = false;
    t.runBtn.disabled = false;
    setData(t.steps, 'state', e.status);
    t.summary.hidden = false;
    t.summary.dataset.status = e.status;
    t.summary.replaceChildren(h('strong', { text: e.status === 'ok' ? 'Done' : e.status === 'timeout' ? 'Timed out' : 'Failed' }), ' ', summaryText(c.run.tool, e.status, e.result));
    setText(t.status, `${c.run.tool} ${c.run.target}: ${e.status} after ${countdown(Date.now() - c.run.started)}`);
    void loadRuns(c);
  }
}

// ---- render ------------------------------------------------------------------------------------

function fact(label, value, warn = false) {
  return h(`div.fact${warn ? '.warn' : ''}`, null, h('span.fl', { text: label }), h('span.fv', { text: value ?? '–' }));
}

function render() {
  const c = current;
  if (!c) return;
  const { els } = c;
  if (c.error) {
    setText(els.pill, c.error.status === 404 ? 'not found' : 'error');
    setData(els.pill, 'state', 'unknown');
    setText(els.sub, c.error.status === 404 ? `Device ${c.id} was not found (or is not yours).` : `Cannot load the device: ${c.error.message}`);
    c.tool.runBtn.disabled = true;
    return;
  }
  const d = c.device;
  if (!d) return;
  const online = d.status.online;
  setText(els.pill, online === 'unknown' ? 'no data yet' : online);
  setData(els.pill, 'state', online);
  const health = c.summary?.health;
  setText(els.sub, `${d.model} · ${nameOf('customer', d.customerId)} / ${nameOf('site', d.siteId)} · coverage ${d.coverage.plan}${d.coverage.until ? ` until ${d.coverage.until}` : ''}${health ? ` · health ${health}` : ''} · last status ${d.status.lastStatusAtMs ? `${ago(d.status.lastStatusAtMs)} ago` : '–'}`);
  const s = d.status.snapshot ?? {};
  const n = (v, unit, dec = 1) => (typeof v === 'number' ? `${v.toFixed(dec)}${unit}` : '–');
  els.facts.replaceChildren(
    fact('Firmware', s.firmware),
    fact('CPU', n(s.cpuPct, ' %')),
    fact('Memory', n(s.memPct, ' %')),
    fact('Temperature', n(s.tempC, ' °C'), s.tempC > 75),
    fact('Link', s.linkUp === undefined ? '–' : s.linkUp ? 'up' : 'DOWN', s.linkUp === false),
    fact('Round trip', n(s.rttMs, ' ms'), s.rttMs > 300),
    fact('Jitter', n(s.jitterMs, ' ms'), s.jitterMs > 40),
    fact('Loss', n(s.lossPct, ' %', 2), s.lossPct > 5),
    fact('In call', s.inCall === undefined ? '–' : s.inCall ? `yes (${s.callPlatform ?? ''})` : 'no'),
    fact('MOS', n(s.mos, '', 2), s.inCall && s.mos < 3.5),
    fact('Cloud', s.cloudRegistered === undefined ? '–' : s.cloudRegistered ? `registered (${s.cloudProvider ?? ''})` : 'NOT registered', s.cloudRegistered === false),
    fact('Peripherals failed', s.peripheralsFailed === undefined ? '–' : String(s.peripheralsFailed), s.peripheralsFailed > 0),
  );
  for (const [key, chart] of c.charts) {
    chart.draw();
    const last = chart.points.at(-1);
    const el = els.charts.querySelector(`.cval[data-series="${key}"]`);
    if (el) setText(el, last ? ` ${last[1]}` : '');
  }
  els.alerts.replaceChildren(
    ...(d.openAlerts.length
      ? d.openAlerts.map((a) => h(`div.arow.nodev.sev-${a.severity}`, null, h('span.sev', { text: a.severity }), h('span.rule', { text: a.rule.replaceAll('_', ' ') }), h('span.summary', { text: a.summary }), h('span.age', { text: ago(a.startedMs) })))
      : [h('div.empty.calm', { text: 'No open alerts.' })]),
  );
  const tickets = c.tickets ?? [];
  els.tickets.replaceChildren(
    ...(tickets.length
      ? tickets.map((t) =>
          h(
            `div.trow.pri-${t.priority}`,
            { dataset: { ticketId: t.id, status: t.status } },
            h('span.pri', { text: t.priority }),
            h('div.tmain', null, h('div.ttitle', null, h('span.tid', { text: `#${t.id} ` }), t.title), h('div.tmeta', null, h('span.queue', { text: t.status }), t.shipment ? h('span.ship', { text: `replacement ${t.shipment.status}, deliver by ${t.shipment.deliverBy}` }) : null)),
          ),
        )
      : [h('div.empty.calm', { text: 'No tickets.' })]),
  );
  const runs = c.runs ?? [];
  els.runs.replaceChildren(
    ...(runs.length
      ? runs.map((r) => h('div.rrow', { dataset: { status: r.status } }, h('span.t', { text: clock(r.createdMs) }), h('span.x', { text: `${r.tool} ${r.target}` }), h('span.s', { text: r.status }), h('span.by', { text: r.requestedBy })))
      : [h('div.empty', { text: 'No runs yet.' })]),
  );
  c.tool.runBtn.disabled = Boolean(c.busy);
}

export function tick() {
  if (current) markDirty('device');
}
