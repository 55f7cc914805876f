// The device list, virtualized: only the rows in view (plus a few) exist in the DOM, recycled while
// scrolling, whatever the fleet's size. Rows come page by page from GET /fleet/devices (compact,
// filtered and counted server-side); device.presence and device.status events patch the rows in
// place, and a filtered view (offline, problems, alerting) is refetched at most once a second.
import { api } from './api.js';
import { ago, h, num, setData, setText, throttle } from './dom.js';
import { markDirty, register } from './frame.js';
import { nameOf } from './state.js';
import * as stream from './stream.js';

export const ROW_HEIGHT = 34;
const PAGE = 100;
const OVERSCAN = 6;

const filter = { state: 'all', q: '', customerId: null, siteId: null };
let total = 0;
let generation = 0;
let loadedOnce = false;
let loadError = null;
const pages = new Map(); // page index -> { rows, requestedAt, generation }
const inflight = new Set(); // page indexes being fetched
/** Live state from the stream, newer than the page it would patch: id -> { online, health, reasons, at }. */
const live = new Map();

let els = null;
const pool = [];

export function mountDevices(container) {
  const viewport = h('div.vlist', { tabindex: '0' });
  const spacer = h('div.vlist-spacer');
  const win = h('div.vlist-window');
  const msg = h('div.empty', { hidden: true });
  viewport.append(spacer, win, msg);
  const count = h('span.count', { id: 'device-count' });
  const search = h('input.search', { type: 'search', placeholder: 'Find device or model', 'aria-label': 'Find device or model' });
  const scopeChip = h('button.chip', { type: 'button', hidden: true, title: 'Show the whole fleet again' });
  const tabs = h(
    'div.tabs',
    { role: 'tablist' },
    ...[
      ['all', 'All'],
      ['problem', 'Problems'],
      ['offline', 'Offline'],
      ['alerting', 'Alerting'],
    ].map(([state, label]) => h('button.tab', { type: 'button', dataset: { state }, onclick: () => setFilter({ state }) }, label)),
  );
  const header = h(
    'div.vhead',
    null,
    h('span.c-dot'),
    h('span.c-id', { text: 'Device' }),
    h('span.c-model', { text: 'Model' }),
    h('span.c-where', { text: 'Customer / site' }),
    h('span.c-health', { text: 'Health' }),
    h('span.c-alerts', { text: 'Alerts' }),
    h('span.c-seen', { text: 'Last status' }),
  );
  container.replaceChildren(
    h('div.panel-head', null, h('h2', null, 'Devices ', count), tabs, scopeChip, search),
    header,
    viewport,
  );
  els = { viewport, spacer, win, msg, count, search, scopeChip, tabs };
  search.value = filter.q; // the filter outlives a visit to a device page
  pool.length = 0;
  let typing = null;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter({ q: search.value.trim() }), 200);
  });
  scopeChip.addEventListener('click', () => setFilter({ customerId: null, siteId: null }));
  viewport.addEventListener('scroll', () => markDirty('devices'), { passive: true });
  new ResizeObserver(() => markDirty('devices')).observe(viewport);
  viewport.addEventListener('click', (e) => {
    const r = e.target.closest('.vrow');
    if (r && r.dataset.deviceId) location.hash = `#/device/${encodeURIComponent(r.dataset.deviceId)}`;
  });
  register('devices', render);
  reload();
}

export function subscribeDevices() {
  const patch = (e, next) => {
    if (!e.deviceId) return;
    const prev = live.get(e.deviceId);
    live.set(e.deviceId, { ...(prev ?? {}), ...next, at: Date.now() });
    if (filter.state !== 'all') refetchFiltered();
    markDirty('devices');
  };
  stream.on('device.presence', (e) => patch(e, e.online ? { online: 'online', offlineReason: null } : { online: 'offline', offlineReason: e.reason ?? null, health: 'critical', reasons: ['offline'] }));
  stream.on('device.status', (e) => patch(e, { online: e.summary.online ? 'online' : 'offline', health: e.summary.health, reasons: e.summary.reasons, lastStatusAtMs: e.ts }));
  // The alert count of a row comes with its page: refetch what is visible (at most once a second).
  stream.on('alert.firing', refetchVisibleSoon);
  stream.on('alert.resolved', refetchVisibleSoon);
}

/** Filters by customer or site (a click in the health tree), state tab or search text. */
export function setFilter(next) {
  Object.assign(filter, next);
  if (next.customerId) filter.siteId = null;
  if (next.siteId) filter.customerId = null;
  if (els) els.viewport.scrollTop = 0;
  reload();
}

/** Starts over: drops every page (a new filter, or a reconnect of the stream). */
export function reload() {
  generation++;
  pages.clear();
  inflight.clear();
  live.clear();
  loadedOnce = false;
  void fetchPage(0);
  markDirty('devices');
}

const refetchFiltered = throttle(() => refetchVisible(), 1000);
export const refetchVisibleSoon = throttle(() => refetchVisible(), 1000);
function refetchVisible() {
  // Keep showing what we have; replace it page by page as answers come.
  const { first, last } = visibleRange();
  const firstPage = Math.floor(first / PAGE);
  const lastPage = Math.floor(Math.max(first, last - 1) / PAGE);
  for (const k of [...pages.keys()]) if (k < firstPage || k > lastPage) pages.delete(k);
  for (let p = firstPage; p <= lastPage; p++) void fetchPage(p, true);
}

function query(page) {
  const q = new URLSearchParams({ state: filter.state, offset: String(page * PAGE), limit: String(PAGE) });
  if (filter.q) q.set('q', filter.q);
  if (filter.customerId) q.set('customerId', filter.customerId);
  if (filter.siteId) q.set('siteId', filter.siteId);
  return `/fleet/devices?${q}`;
}

async function fetchPage(page, force = false) {
  if (inflight.has(page) || (!force && pages.has(page))) return;
  const gen = generation;
  const requestedAt = Date.now();
  inflight.add(page);
  try {
    const res = await api(query(page));
    if (gen !== generation) return;
    total = res.total;
    loadedOnce = true;
    loadError = null;
    pages.set(page, { rows: res.items, requestedAt });
    // Live patches older than this answer are in it now.
    for (const r of res.items) {
      const l = live.get(r.id);
      if (l && l.at < requestedAt) live.delete(r.id);
    }
  } catch (err) {
    if (gen !== generation) return;
    loadError = err;
    if (err.status === 429) setTimeout(() => void fetchPage(page, force), err.retryAfterMs ?? 1000);
  } finally {
    if (gen === generation) inflight.delete(page);
    markDirty('devices');
  }
}

function visibleRange() {
  if (!els) return { first: 0, last: 0 };
  const top = els.viewport.scrollTop;
  const height = els.viewport.clientHeight || 600;
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  return { first, last };
}

function rowAt(i) {
  const page = pages.get(Math.floor(i / PAGE));
  if (!page) return undefined;
  const r = page.rows[i % PAGE];
  if (!r) return undefined;
  const l = live.get(r.id);
  return l ? { ...r, ...l } : r;
}

function makeRow() {
  return h(
    'div.vrow',
    { role: 'row' },
    h('span.c-dot'),
    h('span.c-id'),
    h('span.c-model'),
    h('span.c-where'),
    h('span.c-health'),
    h('span.c-alerts'),
    h('span.c-seen'),
  );
}

function fill(el, r, now) {
  const c = el.children;
  setData(el, 'deviceId', r.id);
  setData(el, 'online', r.online);
  setData(el, 'health', r.health);
  setText(c[1], r.id);
  setText(c[2], r.model);
  setText(c[3], `${nameOf('customer', r.customerId)} / ${nameOf('site', r.siteId)}`);
  const health = r.online === 'offline' ? offlineText(r.offlineReason) : r.health === 'unknown' ? 'no data' : r.reasons?.length ? r.reasons.join(', ').replaceAll('_', ' ') : r.health;
  setText(c[4], health);
  if (c[4].title !== health) c[4].title = health; // the column is narrow: the whole text on hover
  setText(c[5], r.alerts > 0 ? String(r.alerts) : '');
  setText(c[6], r.lastStatusAtMs ? ago(r.lastStatusAtMs, now) : '–');
}

function render() {
  if (!els) return;
  const { viewport, spacer, win, count } = els;
  for (const t of els.tabs.children) setData(t, 'active', t.dataset.state === filter.state ? 'yes' : 'no');
  const scope = filter.siteId ? `site ${nameOf('site', filter.siteId)}` : filter.customerId ? `customer ${nameOf('customer', filter.customerId)}` : null;
  els.scopeChip.hidden = !scope;
  if (scope) setText(els.scopeChip, `${scope} ✕`);
  setText(count, loadedOnce ? `(${num(total)})` : '');
  spacer.style.height = `${total * ROW_HEIGHT}px`;
  const { first, last } = visibleRange();
  const n = Math.max(0, last - first);
  while (pool.length < n) pool.push(makeRow());
  // Pooled rows beyond what is needed leave the DOM (kept for reuse).
  while (win.childElementCount > n) win.lastElementChild.remove();
  while (win.childElementCount < n) win.append(pool[win.childElementCount]);
  win.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
  const now = Date.now();
  const missing = new Set();
  for (let k = 0; k < n; k++) {
    const el = pool[k];
    const r = rowAt(first + k);
    if (r) {
      el.classList.remove('loading');
      fill(el, r, now);
    } else {
      el.classList.add('loading');
      setData(el, 'deviceId', '');
      setData(el, 'online', 'unknown');
      for (let j = 1; j < el.children.length; j++) setText(el.children[j], j === 1 ? '…' : '');
      missing.add(Math.floor((first + k) / PAGE));
    }
  }
  for (const p of missing) void fetchPage(p);
  const message = loadedOnce && total === 0 ? (filter.state === 'all' && !filter.q && !scope ? 'No devices.' : 'No device matches.') : !loadedOnce && loadError ? `Devices unavailable: ${loadError.message}` : '';
  els.msg.hidden = !message;
  setText(els.msg, message);
  els.msg.classList.toggle('error', Boolean(loadError) && !loadedOnce);
  setData(viewport, 'rows', n);
}

/** Called by the one-second ticker: "last status" ages move on. */
export function tick() {
  markDirty('devices');
}

/** Why a device is offline, as the NOC reads it (the API's and the stream's `offlineReason`). */
function offlineText(reason) {
  if (reason === 'missed_intervals') return 'OFFLINE · missed reports';
  if (reason === 'never_reported') return 'OFFLINE · never reported';
  if (reason === 'last_will') return 'OFFLINE · connection lost';
  return 'OFFLINE';
}
