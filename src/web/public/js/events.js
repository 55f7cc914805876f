// The live event stream: the last MAX events of the tenant (presence, health changes, alerts,
// tickets, network tools, rollouts), newest on top. A burst of thousands of events in one frame
// turns into at most MAX nodes: only the newest are drawn.
import { clock, h } from './dom.js';
import { markDirty, register } from './frame.js';
import * as stream from './stream.js';

const MAX = 100;
/** The newest MAX events, oldest first; kept while the page shows something else. */
let recent = [];
let undrawn = 0; // how many of `recent` (the newest) are not in the list yet
let list = null;
let paused = false;
let seen = 0;

export function mountEvents(container) {
  list = h('div.list.events', { id: 'event-list' });
  const pause = h('button.chip', { type: 'button', title: 'Stop the list from moving while you read' }, 'Pause');
  pause.addEventListener('click', () => {
    paused = pause.classList.toggle('on');
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) markDirty('events');
  });
  container.replaceChildren(h('div.panel-head', null, h('h2', null, 'Live events'), pause), list);
  undrawn = recent.length;
  register('events', render);
  markDirty('events');
}

export function subscribeEvents() {
  stream.onAny((name, e) => {
    if (name === 'ingest.rate') return;
    seen++;
    recent.push([name, e]);
    if (recent.length > 2 * MAX) recent = recent.slice(-MAX);
    undrawn++;
    markDirty('events');
  });
}

export const eventsSeen = () => seen;

function describe(name, e) {
  const dev = e.deviceId ?? '';
  switch (name) {
    case 'device.presence':
      return { kind: e.online ? 'ok' : 'bad', text: `${dev} ${e.online ? 'came online' : 'went offline'}` };
    case 'device.status':
      return { kind: e.summary?.health === 'ok' ? 'ok' : e.summary?.health === 'degraded' ? 'warn' : 'bad', text: `${dev} health ${e.summary?.health}${e.summary?.reasons?.length ? ` (${e.summary.reasons.join(', ').replaceAll('_', ' ')})` : ''}` };
    case 'alert.firing':
      return { kind: e.alert?.severity === 'critical' ? 'bad' : 'warn', text: `${e.alert?.severity} ${e.alert?.rule?.replaceAll('_', ' ')} ${dev}: ${e.alert?.summary ?? ''}` };
    case 'alert.resolved':
      return { kind: 'ok', text: `resolved ${e.alert?.rule?.replaceAll('_', ' ')} ${dev}` };
    case 'ticket.created':
      return { kind: 'warn', text: `ticket #${e.ticket?.id} ${e.ticket?.priority} opened: ${e.ticket?.title}` };
    case 'ticket.updated':
      return { kind: 'info', text: `ticket #${e.ticket?.id} ${String(e.change ?? 'updated').replaceAll('_', ' ')} (${e.ticket?.status})` };
    case 'diagnostics.progress':
      return { kind: 'info', text: `${e.tool} ${e.target} on ${dev}: step ${(e.step?.seq ?? 0) + 1}` };
    case 'diagnostics.result':
      return { kind: e.status === 'ok' ? 'ok' : 'bad', text: `${e.tool} ${e.target} on ${dev}: ${e.status}` };
    case 'rollout.progress':
      return { kind: 'info', text: `rollout ${e.rolloutId ?? e.sourceId ?? ''} ${e.state ?? ''}` };
    default:
      return { kind: 'info', text: `${name} ${dev}` };
  }
}

function render() {
  if (!list || paused || undrawn === 0) return;
  const batch = recent.slice(-Math.min(undrawn, MAX));
  undrawn = 0;
  const frag = document.createDocumentFragment();
  for (let i = batch.length - 1; i >= 0; i--) {
    const [name, e] = batch[i];
    const d = describe(name, e);
    const line = h(`div.erow.k-${d.kind}`, { dataset: { event: name, deviceId: e.deviceId ?? '' } }, h('span.t', { text: clock(e.ts ?? Date.now()) }), h('span.n', { text: name }), h('span.x', { text: d.text }));
    if (e.deviceId) line.addEventListener('click', () => (location.hash = `#/device/${encodeURIComponent(e.deviceId)}`));
    frag.append(line);
  }
  list.prepend(frag);
  while (list.childElementCount > MAX) list.lastElementChild.remove();
}
