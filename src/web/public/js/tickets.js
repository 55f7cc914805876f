// The ticket queue: open, acknowledged and escalated tickets with their acknowledge deadline counting
// down every second (client-side, from ackDueMs), the next escalation step, and the advance
// replacement shipment. Ticket events patch the queue at once; deadlines and shipments are reloaded
// at most once a second.
import { api } from './api.js';
import { countdown, h, num, setData, setText, throttle } from './dom.js';
import { markDirty, register } from './frame.js';
import { nameOf } from './state.js';
import * as stream from './stream.js';

const FETCH = 200; // per status
const MAX = 100; // rows drawn; the header counts all
const LEVEL = { partner_l1: 'partner L1', poly_support: 'Poly support', poly_specialist: 'Poly specialist' };
const SHIPMENT = { requested: 'replacement requested', shipped: 'replacement shipped', delivered: 'replacement delivered', installed: 'replacement installed', returned: 'faulty unit returned', cancelled: 'replacement cancelled' };
const tickets = new Map(); // id -> ticket
let loaded = false;
let error = null;
let list = null;
let count = null;

export function mountTickets(container) {
  list = h('div.list', { id: 'ticket-list' });
  count = h('span.count');
  container.replaceChildren(h('div.panel-head', null, h('h2', null, 'Ticket queue ', count)), list);
  register('tickets', render);
  void load();
}

export async function load() {
  try {
    const parts = await Promise.all(['open', 'escalated', 'acknowledged'].map((s) => api(`/tickets?status=${s}&limit=${FETCH}`)));
    tickets.clear();
    for (const p of parts) for (const t of p.items) tickets.set(t.id, t);
    loaded = true;
    error = null;
  } catch (err) {
    error = err;
  }
  markDirty('tickets');
}

const reload = throttle(() => void load(), 1000);

export function subscribeTickets() {
  const patch = (e) => {
    const t = e.ticket;
    if (!t) return;
    if (t.status === 'resolved') tickets.delete(t.id);
    else tickets.set(t.id, { ...tickets.get(t.id), ...t });
    markDirty('tickets');
    reload(); // deadlines and shipment come with the list
  };
  stream.on('ticket.created', patch);
  stream.on('ticket.updated', patch);
}

/** Not acknowledged first (earliest deadline first), then escalated, then acknowledged. */
function order(a, b) {
  const rank = (t) => (t.acknowledgedMs ? 2 : t.status === 'escalated' ? 1 : 0);
  return rank(a) - rank(b) || (a.ackDueMs ?? Infinity) - (b.ackDueMs ?? Infinity) || b.id - a.id;
}

async function acknowledge(t, button) {
  button.disabled = true;
  try {
    const updated = await api(`/tickets/${t.id}/acknowledge`, { method: 'POST', body: { comment: 'Acknowledged on the NOC page' } });
    tickets.set(t.id, { ...tickets.get(t.id), ...updated });
  } catch (err) {
    button.disabled = false;
    button.title = err.message;
  }
  markDirty('tickets');
}

function deadline(t, now) {
  if (t.acknowledgedMs) return { text: 'acknowledged', state: 'done' };
  if (!t.ackDueMs) return { text: 'no deadline', state: 'none' };
  const left = t.ackDueMs - now;
  if (left <= 0) return { text: `ack overdue ${countdown(-left)}`, state: 'overdue' };
  return { text: `ack in ${countdown(left)}`, state: left < 15 * 60_000 ? 'soon' : 'ok' };
}

function render() {
  if (!list) return;
  const open = [...tickets.values()].sort(order);
  setText(count, loaded ? `(${num(open.length)})` : '');
  if (error && !loaded) return list.replaceChildren(h('div.empty.error', { text: `Tickets unavailable: ${error.message}` }));
  if (!loaded) return;
  if (open.length === 0) return list.replaceChildren(h('div.empty.calm', { text: 'No open tickets.' }));
  const now = Date.now();
  const rows = open.slice(0, MAX).map((t) => {
    const d = deadline(t, now);
    const ack = t.acknowledgedMs ? null : h('button.ack', { type: 'button', title: 'Acknowledge: stops the clock' }, 'Ack');
    if (ack) ack.addEventListener('click', () => void acknowledge(t, ack));
    const next = t.nextEscalation && !t.acknowledgedMs ? `→ ${LEVEL[t.nextEscalation.level] ?? t.nextEscalation.level}` : '';
    const ship = t.shipment ? h('span.ship', { dataset: { status: t.shipment.status }, text: `${SHIPMENT[t.shipment.status] ?? t.shipment.status} · ship by ${t.shipment.shipBy} · deliver by ${t.shipment.deliverBy}` }) : null;
    return h(
      `div.trow.pri-${t.priority}`,
      { dataset: { ticketId: t.id, status: t.status } },
      h('span.pri', { text: t.priority }),
      h(
        'div.tmain',
        null,
        h('div.ttitle', null, h('span.tid', { text: `#${t.id} ` }), t.title),
        h(
          'div.tmeta',
          null,
          t.deviceId ? h('a.dev', { href: `#/device/${encodeURIComponent(t.deviceId)}`, text: t.deviceId }) : h('span', { text: nameOf('customer', t.customerId) }),
          h('span.queue', { text: `${t.status} · ${LEVEL[t.queue] ?? t.queue.replaceAll('_', ' ')}` }),
          ship,
        ),
      ),
      h('div.tclock', null, h('span.countdown', { dataset: { state: d.state, due: t.ackDueMs ?? '', acked: t.acknowledgedMs ? 'yes' : 'no' }, text: d.text }), h('span.next', { dataset: { due: t.nextEscalation?.dueMs ?? '' }, text: next })),
      ack,
    );
  });
  if (open.length > MAX) rows.push(h('div.more', { text: `and ${num(open.length - MAX)} more` }));
  list.replaceChildren(...rows);
  tick();
}

/** Every second: the countdowns move on without touching anything else. */
export function tick() {
  if (!list) return;
  const now = Date.now();
  for (const row of list.querySelectorAll('.trow')) {
    const t = tickets.get(Number(row.dataset.ticketId));
    if (!t) continue;
    const d = deadline(t, now);
    const el = row.querySelector('.countdown');
    setText(el, d.text);
    setData(el, 'state', d.state);
    const next = row.querySelector('.next');
    if (t.nextEscalation && !t.acknowledgedMs) {
      const left = t.nextEscalation.dueMs - now;
      setText(next, `→ ${LEVEL[t.nextEscalation.level] ?? t.nextEscalation.level} ${left > 0 ? `in ${countdown(left)}` : 'due'}`);
    }
  }
}
