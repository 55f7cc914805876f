// Fleet health at a glance: the KPI tiles and the partner -> customer -> site tree, from
// GET /fleet/health (counted server-side; the page never needs one row per device for this).
// Refetched at most once a second while presence, status and alert events arrive.
import { api } from './api.js';
import { h, num, setData, setText, throttle } from './dom.js';
import { markDirty, register } from './frame.js';
import { names } from './state.js';
import * as stream from './stream.js';

let data = null;
let error = null;
let root = null;
let kpis = null;
const rows = new Map(); // key -> row element
const collapsed = new Set(); // keys of customers whose sites are folded
let defaultsApplied = false;
let onPick = () => {};

export function mountHealth(kpiEl, treeEl, { pick }) {
  kpis = kpiEl;
  root = treeEl;
  onPick = pick;
  rows.clear();
  register('health', render);
  void load();
}

export async function load() {
  try {
    data = await api('/fleet/health');
    error = null;
    for (const p of data.partners) {
      names.partner.set(p.id, p.name);
      for (const c of p.customers) {
        names.customer.set(c.id, c.name);
        for (const s of c.sites) names.site.set(s.id, s.name);
      }
    }
  } catch (err) {
    error = err;
  }
  markDirty('health');
  markDirty('devices'); // rows show customer and site names
}

export const refresh = throttle(() => void load(), 1000);

export function subscribeHealth() {
  for (const name of ['device.presence', 'device.status', 'alert.firing', 'alert.resolved']) stream.on(name, refresh);
}

export const totals = () => data?.totals ?? null;

function bar(counts) {
  const total = Math.max(1, counts.devices);
  const seg = (cls, n) => {
    const el = h(`span.seg.${cls}`);
    el.style.width = `${(100 * n) / total}%`;
    return el;
  };
  return h('span.bar', null, seg('online', counts.online), seg('offline', counts.offline), seg('unknown', counts.unknown));
}

function renderKpis() {
  const t = data?.totals;
  for (const key of ['devices', 'online', 'offline', 'unknown', 'alerting', 'critical']) {
    const tile = kpis.querySelector(`[data-kpi="${key}"] .kpi-value`);
    if (tile) setText(tile, t ? num(t[key]) : '–');
  }
  if (t) setData(kpis, 'offline', t.offline > 0 ? 'yes' : 'no');
}

function row(key, kind, id, name, counts, depth) {
  let el = rows.get(key);
  if (!el) {
    const toggle = h('button.toggle', { title: 'Fold or unfold', type: 'button' });
    el = h(
      `div.hrow.depth${depth}`,
      { dataset: { kind, id } },
      toggle,
      h('span.hname'),
      h('span.hbar'),
      h('span.hnum.c-online', { title: 'online' }),
      h('span.hnum.c-offline', { title: 'offline' }),
      h('span.hnum.c-alerting', { title: 'devices with firing alerts' }),
    );
    el.querySelector('.hname').addEventListener('click', () => onPick(kind, id));
    toggle.addEventListener('click', () => {
      if (collapsed.has(key)) collapsed.delete(key);
      else collapsed.add(key);
      markDirty('health');
    });
    rows.set(key, el);
  }
  setText(el.querySelector('.hname'), name);
  el.querySelector('.hname').title = `${name} (${id}): show its devices`;
  const b = el.querySelector('.hbar');
  b.replaceChildren(bar(counts));
  setText(el.querySelector('.c-online'), `${num(counts.online)}/${num(counts.devices)}`);
  setText(el.querySelector('.c-offline'), counts.offline > 0 ? `${num(counts.offline)} off` : '');
  setText(el.querySelector('.c-alerting'), counts.alerting > 0 ? `${num(counts.alerting)} ⚠` : '');
  setData(el, 'state', counts.offline > 0 || counts.critical > 0 ? 'bad' : counts.alerting > 0 || counts.degraded > 0 ? 'warn' : counts.online > 0 ? 'ok' : 'idle');
  setData(el, 'offline', counts.offline);
  return el;
}

function render() {
  if (!root) return;
  renderKpis();
  if (error) {
    root.replaceChildren(h('div.empty.error', { text: `Fleet health unavailable: ${error.message}` }));
    rows.clear();
    return;
  }
  if (!data) return;
  // Large registries start with customers folded: a few hundred rows at most, never one per device.
  if (!defaultsApplied) {
    defaultsApplied = true;
    const sites = data.partners.reduce((n, p) => n + p.customers.reduce((m, c) => m + c.sites.length, 0), 0);
    if (sites > 60) for (const p of data.partners) for (const c of p.customers) collapsed.add(`c:${c.id}`);
  }
  const out = [];
  for (const p of data.partners) {
    const prow = row(`p:${p.id}`, 'partner', p.id, p.name, p.counts, 0);
    setData(prow, 'folded', collapsed.has(`p:${p.id}`) ? 'yes' : 'no');
    out.push(prow);
    if (collapsed.has(`p:${p.id}`)) continue;
    for (const c of p.customers) {
      const ck = `c:${c.id}`;
      const crow = row(ck, 'customer', c.id, c.name, c.counts, 1);
      setData(crow, 'folded', collapsed.has(ck) ? 'yes' : 'no');
      out.push(crow);
      if (collapsed.has(ck)) continue;
      for (const s of c.sites) out.push(row(`s:${s.id}`, 'site', s.id, s.name, s.counts, 2));
    }
  }
  if (out.length === 0) out.push(h('div.empty', { text: 'No devices registered yet.' }));
  root.replaceChildren(...out);
}
