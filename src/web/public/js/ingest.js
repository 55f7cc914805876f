// The ingest rate as a chart: GET /fleet/ingest-rate for the last two minutes, then `ingest.rate`
// once a second (noc: the global rate, partnerId null; a partner: its own devices' rate).
import { api } from './api.js';
import { LineChart } from './chart.js';
import { h, num, setText } from './dom.js';
import { markDirty, register } from './frame.js';
import { session } from './state.js';
import * as stream from './stream.js';

let chart = null;
let value = null;
let kpi = null;
let last = null; // { ts, perSecond }

export function mountIngest(container, kpiEl) {
  const canvas = h('canvas.chart', { id: 'ingest-chart' });
  value = h('span.big', { id: 'ingest-value', text: '–' });
  kpi = kpiEl;
  const scope = session.me?.role === 'noc' ? 'all partners' : 'your devices';
  container.replaceChildren(h('div.panel-head', null, h('h2', null, 'Ingest rate'), h('span.sub', { text: `messages accepted per second, ${scope}` })), h('div.ingest-now', null, value, h('span.unit', { text: ' msg/s' })), canvas);
  chart = new LineChart(canvas, { color: '#4fc3f7', windowMs: 120_000 });
  register('ingest', render);
  void load();
}

async function load() {
  try {
    const res = await api('/fleet/ingest-rate');
    chart.set(res.samples.map((s) => [s.ts, s.perSecond]));
    const s = res.samples.at(-1);
    if (s) last = { ts: s.ts, perSecond: s.perSecond };
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
    chart.push(e.ts, e.perSecond, 600);
    last = { ts: e.ts, perSecond: e.perSecond };
    markDirty('ingest');
  });
}

function render() {
  if (!chart) return;
  // Nothing for a few seconds means nothing arrived (an idle partner gets no events).
  const rate = last && Date.now() - last.ts < 5000 ? last.perSecond : 0;
  setText(value, num(rate));
  if (kpi) setText(kpi, num(rate));
  chart.draw();
}

export function tick() {
  markDirty('ingest');
}
