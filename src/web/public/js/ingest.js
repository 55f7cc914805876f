// The ingest rate as a chart: GET /fleet/ingest-rate for the last two minutes, then `ingest.rate`
// once a second (noc: the global rate, partnerId null; a partner: its own devices' rate). It draws
// `avgPerSecond`, the rate over a sliding window: devices report every few seconds, so the count of
// each single second (`perSecond`) is mostly 0 for a small fleet and would draw a comb.
import { api } from './api.js';
import { LineChart } from './chart.js';
import { h, num, setText } from './dom.js';
import { markDirty, register } from './frame.js';
import { session } from './state.js';
import * as stream from './stream.js';

let chart = null;
let value = null;
let kpi = null;
let windowEl = null;
let last = null; // { ts, rate, windowS }

// Two significant digits below 10 msg/s (0.033, 0.2, 3.3: a few devices), whole numbers above.
const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });
const rateText = (n) => (n < 10 ? small.format(n) : num(Math.round(n)));

export function mountIngest(container, kpiEl) {
  const canvas = h('canvas.chart', { id: 'ingest-chart' });
  value = h('span.big', { id: 'ingest-value', text: '–' });
  kpi = kpiEl;
  const scope = session.me?.role === 'noc' ? 'all partners' : 'your devices';
  windowEl = h('span.unit', { id: 'ingest-window' });
  container.replaceChildren(h('div.panel-head', null, h('h2', null, 'Ingest rate'), h('span.sub', { text: `messages accepted per second, ${scope}` })), h('div.ingest-now', null, value, h('span.unit', { text: ' msg/s' }), windowEl), canvas);
  chart = new LineChart(canvas, { color: '#4fc3f7', windowMs: 120_000, decimals: 'auto' });
  register('ingest', render);
  void load();
}

async function load() {
  try {
    const res = await api('/fleet/ingest-rate');
    chart.set(res.samples.map((s) => [s.ts, s.avgPerSecond]));
    const s = res.samples.at(-1);
    if (s) last = { ts: s.ts, rate: s.avgPerSecond, windowS: s.avgWindowS };
  } catch {
    // The chart fills from the stream.
  }
  markDirty('ingest');
}

export function subscribeIngest() {
  stream.on('ingest.rate', (e) => {
    // noc gets every partner's rate too; it draws the global one.
    const mine = session.me?.role === 'noc' ? e.partnerId === null : e.partnerId === session.me?.partnerId;
    if (!mine || !chart) return;
    chart.push(e.ts, e.avgPerSecond, 600);
    last = { ts: e.ts, rate: e.avgPerSecond, windowS: e.avgWindowS };
    markDirty('ingest');
  });
}

function render() {
  if (!chart) return;
  // Nothing for a few seconds means nothing arrived (an idle partner gets no events).
  const fresh = last && Date.now() - last.ts < 5000;
  const rate = fresh ? rateText(last.rate) : '0';
  setText(value, rate);
  if (kpi) setText(kpi, rate);
  setText(windowEl, fresh ? ` · ${last.windowS} s average` : '');
  chart.draw();
}

export function tick() {
  markDirty('ingest');
}
