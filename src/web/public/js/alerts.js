// Active alerts: GET /alerts?state=firing once, then alert.firing / alert.resolved from the stream.
// At most MAX rows are drawn (the most severe, then the newest); the header counts all of them.
import { api } from './api.js';
import { ago, h, num, setText } from './dom.js';
import { markDirty, register } from './frame.js';
import { nameOf } from './state.js';
import * as stream from './stream.js';

const MAX = 100; // rows drawn; the header counts all
const SEVERITY = { critical: 0, warning: 1, info: 2 };
const firing = new Map(); // fingerprint -> alert
let loaded = false;
let error = null;
let list = null;
let count = null;

export function mountAlerts(container) {
  list = h('div.list', { id: 'alert-list' });
  count = h('span.count');
  container.replaceChildren(h('div.panel-head', null, h('h2', null, 'Active alerts ', count)), list);
  register('alerts', render);
  void load();
}

export async function load() {
  try {
    const res = await api(`/alerts?state=firing&limit=1000`);
    firing.clear();
    for (const a of res.items) firing.set(a.fingerprint, a);
    loaded = true;
    error = null;
  } catch (err) {
    error = err;
  }
  markDirty('alerts');
}

export function subscribeAlerts() {
  stream.on('alert.firing', (e) => {
    if (e.alert) firing.set(e.alert.fingerprint, e.alert);
    markDirty('alerts');
  });
  stream.on('alert.resolved', (e) => {
    if (e.alert) firing.delete(e.alert.fingerprint);
    markDirty('alerts');
  });
}

function render() {
  if (!list) return;
  setText(count, loaded ? `(${num(firing.size)})` : '');
  if (error && !loaded) return list.replaceChildren(h('div.empty.error', { text: `Alerts unavailable: ${error.message}` }));
  if (!loaded) return;
  if (firing.size === 0) return list.replaceChildren(h('div.empty.calm', { text: 'No active alerts.' }));
  const now = Date.now();
  const sorted = [...firing.values()].sort((a, b) => (SEVERITY[a.severity] ?? 3) - (SEVERITY[b.severity] ?? 3) || b.startedMs - a.startedMs);
  const rows = sorted.slice(0, MAX).map((a) =>
    h(
      `div.arow.sev-${a.severity}`,
      { dataset: { fingerprint: a.fingerprint, deviceId: a.deviceId ?? '' } },
      h('span.sev', { text: a.severity }),
      h('span.rule', { text: a.rule.replaceAll('_', ' ') }),
      a.deviceId ? h('a.dev', { href: `#/device/${encodeURIComponent(a.deviceId)}`, text: a.deviceId }) : h('span.dev', { text: a.siteId ? nameOf('site', a.siteId) : nameOf('customer', a.customerId) }),
      h('span.summary', { text: a.summary }),
      h('span.age', { dataset: { since: a.startedMs }, text: ago(a.startedMs, now) }),
    ),
  );
  if (sorted.length > MAX) rows.push(h('div.more', { text: `and ${num(sorted.length - MAX)} more` }));
  list.replaceChildren(...rows);
}

export function tick() {
  if (!list) return;
  const now = Date.now();
  for (const el of list.querySelectorAll('.age')) setText(el, ago(Number(el.dataset.since), now));
}
