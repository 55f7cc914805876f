// Fleetwatch NOC page: sign in with a token, then the fleet at a glance (#/) or one device
// (#/device/ID). Plain ES modules, no build step; see docs/noc-page.md.
import { api, token, whenUnauthorized } from './js/api.js';
import { clock, h, setData, setText } from './js/dom.js';
import { frameCount, unregister } from './js/frame.js';
import { session } from './js/state.js';
import * as stream from './js/stream.js';
import * as health from './js/health.js';
import * as devices from './js/devices.js';
import * as alerts from './js/alerts.js';
import * as tickets from './js/tickets.js';
import * as events from './js/events.js';
import * as ingest from './js/ingest.js';
import { mountDevicePage, tick as deviceTick, unmountDevicePage } from './js/device-page.js';

const app = document.getElementById('app');
const OVERVIEW_VIEWS = ['health', 'devices', 'alerts', 'tickets', 'events', 'ingest'];
let shell = null;
let ticker = null;

// For the browser tests and for curious operators: counters, never data.
window.__fw = { frames: frameCount, eventsSeen: events.eventsSeen };

function showSignIn(message = '') {
  document.body.dataset.view = 'signin';
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', placeholder: 'API token', 'aria-label': 'API token', required: true, spellcheck: 'false' });
  const error = h('p.signin-error', { id: 'signin-error', role: 'alert', text: message, hidden: !message });
  const button = h('button', { id: 'signin-button', type: 'submit' }, 'Sign in');
  const form = h(
    'form.signin',
    { id: 'signin' },
    h('h1', null, h('span.brand-mark', { text: '◉' }), ' Fleetwatch NOC'),
    h('p.hint', { text: 'Sign in with your Fleetwatch API token. It is kept in this browser tab only (session storage) until you sign out or close the tab.' }),
    input,
    button,
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    button.disabled = true;
    error.hidden = true;
    try {
      const me = await api('/me', { tokenOverride: t });
      token.set(t);
      start(me);
    } catch (err) {
      button.disabled = false;
      error.hidden = false;
      error.textContent = err.status === 401 ? 'This token was not accepted. Check it and try again.' : err.status === 429 ? 'Too many attempts; wait a moment.' : `Cannot sign in: ${err.message}`;
      input.select();
    }
  });
  app.replaceChildren(form);
  input.focus();
}

function signOut(message) {
  stream.disconnect();
  token.clear();
  // A fresh start: no data of this session stays in the page's memory.
  if (message) sessionStorage.setItem('fleetwatch.signout-message', message);
  location.replace(location.pathname);
}

function buildShell() {
  const conn = h('span.conn', { id: 'conn', dataset: { state: 'connecting' }, title: 'Live stream' }, h('span.dot'), h('span.ctext', { text: 'connecting' }));
  const now = h('span.clock', { id: 'clock' });
  const me = session.me;
  const scope = me.role === 'noc' ? 'All partners' : (me.partnerName ?? me.partnerId);
  const out = h('button.signout', { id: 'sign-out', type: 'button' }, 'Sign out');
  out.addEventListener('click', () => signOut());
  const top = h(
    'header.topbar',
    null,
    h('a.brand', { href: '#/' }, h('span.brand-mark', { text: '◉' }), ' Fleetwatch NOC'),
    h('span.scope', { id: 'scope', text: scope }),
    conn,
    h('span.spacer'),
    now,
    h('span.user', { id: 'user', text: `${me.name} · ${me.role.replace('_', ' ')}` }),
    out,
  );
  const view = h('main.view', { id: 'view' });
  app.replaceChildren(top, view);
  return { conn, now, view };
}

function streamStatus(state, detail) {
  if (state === 'refused') return signOut('The live stream refused the token; sign in again.');
  if (!shell) return;
  setData(shell.conn, 'state', state);
  setText(shell.conn.querySelector('.ctext'), state === 'live' ? 'live' : state);
  shell.conn.title = detail ? `Live stream: ${state} (${detail})` : `Live stream: ${state}`;
}

function resync() {
  // After a reconnect: what changed meanwhile is reloaded (presence is not replayed).
  void health.load();
  devices.reload();
  void alerts.load();
  void tickets.load();
}

function overview(view) {
  const kpi = (key, label) => h('div.kpi', { dataset: { kpi: key } }, h('span.kpi-value', { text: '–' }), h('span.kpi-label', { text: label }));
  const kpiIngest = h('span.kpi-value', { text: '–' });
  const kpis = h(
    'section.kpis',
    { id: 'kpis' },
    kpi('devices', 'devices'),
    kpi('online', 'online'),
    kpi('offline', 'offline'),
    kpi('unknown', 'no data'),
    kpi('alerting', 'alerting'),
    kpi('critical', 'critical'),
    h('div.kpi', { dataset: { kpi: 'ingest' } }, kpiIngest, h('span.kpi-label', { text: 'msg/s' })),
  );
  const panel = (cls, id) => h(`section.panel.${cls}`, { id });
  const tree = h('div.list.tree', { id: 'health-tree' });
  const pHealth = h('section.panel.p-health', { id: 'panel-health' }, h('div.panel-head', null, h('h2', null, 'Fleet health'), h('span.sub', { text: 'partner › customer › site; click to filter devices' })), tree);
  const pDevices = panel('p-devices', 'panel-devices');
  const pAlerts = panel('p-alerts', 'panel-alerts');
  const pTickets = panel('p-tickets', 'panel-tickets');
  const pEvents = panel('p-events', 'panel-events');
  const pIngest = panel('p-ingest', 'panel-ingest');
  view.replaceChildren(h('div.overview', null, kpis, pHealth, pDevices, pTickets, pAlerts, pIngest, pEvents));
  health.mountHealth(kpis, tree, {
    pick: (kind, id) => devices.setFilter(kind === 'customer' ? { customerId: id } : kind === 'site' ? { siteId: id } : { customerId: null, siteId: null }),
  });
  devices.mountDevices(pDevices);
  alerts.mountAlerts(pAlerts);
  tickets.mountTickets(pTickets);
  events.mountEvents(pEvents);
  ingest.mountIngest(pIngest, kpiIngest);
}

function route() {
  if (!shell) return;
  const m = /^#\/device\/(.+)$/.exec(location.hash);
  document.body.dataset.view = m ? 'device' : 'overview';
  if (m) {
    for (const v of OVERVIEW_VIEWS) unregister(v);
    // Names of customers and sites for the header come from the fleet health.
    if (!health.totals()) void health.load();
    mountDevicePage(shell.view, decodeURIComponent(m[1]));
  } else {
    unmountDevicePage();
    overview(shell.view);
  }
  window.scrollTo(0, 0);
}

function start(me) {
  session.me = me;
  shell = buildShell();
  whenUnauthorized(() => signOut('Your token is no longer accepted; sign in again.'));
  health.subscribeHealth();
  devices.subscribeDevices();
  alerts.subscribeAlerts();
  tickets.subscribeTickets();
  events.subscribeEvents();
  ingest.subscribeIngest();
  stream.connect(token.get(), { status: streamStatus, resync });
  window.addEventListener('hashchange', route);
  route();
  clearInterval(ticker);
  const second = () => {
    setText(shell.now, clock(Date.now()));
    tickets.tick();
    alerts.tick();
    devices.tick();
    ingest.tick();
    deviceTick();
  };
  second();
  ticker = setInterval(second, 1000);
}

async function boot() {
  const message = sessionStorage.getItem('fleetwatch.signout-message') ?? '';
  sessionStorage.removeItem('fleetwatch.signout-message');
  const t = token.get();
  if (!t) return showSignIn(message);
  try {
    start(await api('/me', { tokenOverride: t }));
  } catch (err) {
    if (err.status === 401) {
      token.clear();
      return showSignIn('Your saved token is no longer accepted; sign in again.');
    }
    showSignIn(`Cannot reach the service: ${err.message}`);
  }
}

void boot();
