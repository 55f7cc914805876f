// The live stream: one socket.io connection with the token (its tenant's events only, chosen by the
// server), events handed to the views by name. The socket.io client is served by the service itself.
import { io } from '/socket.io/socket.io.esm.min.js';

const handlers = new Map(); // event name -> Set<fn>
const anyHandlers = new Set();
let socket = null;

export const EVENTS = [
  'device.status',
  'device.presence',
  'alert.firing',
  'alert.resolved',
  'ticket.created',
  'ticket.updated',
  'diagnostics.progress',
  'diagnostics.result',
  'rollout.progress',
  'ingest.rate',
];

export function on(name, fn) {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name).add(fn);
  return () => handlers.get(name)?.delete(fn);
}

/** Every event (the event log panel). */
export function onAny(fn) {
  anyHandlers.add(fn);
  return () => anyHandlers.delete(fn);
}

function dispatch(name, event) {
  for (const fn of handlers.get(name) ?? []) {
    try {
      fn(event);
    } catch (err) {
      console.error(`handler of ${name} failed`, err);
    }
  }
  for (const fn of anyHandlers) {
    try {
      fn(name, event);
    } catch (err) {
      console.error('event log handler failed', err);
    }
  }
}

/**
 * Connects. `status(state, detail)` hears 'connecting' | 'live' | 'reconnecting' | 'refused';
 * `resync()` is called after a reconnect (state is reloaded by REST: presence is not replayed).
 */
export function connect(token, { status, resync }) {
  disconnect();
  status('connecting');
  // WebSocket first; long-polling where a proxy does not let WebSockets through.
  const s = io({ auth: { token }, transports: ['websocket', 'polling'], tryAllTransports: true, reconnectionDelayMax: 5000 });
  socket = s;
  let connectedOnce = false;
  s.on('connect', () => {
    status('live');
    if (connectedOnce) resync();
    connectedOnce = true;
  });
  s.on('disconnect', () => status('reconnecting'));
  s.on('connect_error', (err) => {
    if (err && err.message === 'unauthorized') {
      status('refused', 'The stream refused this token');
      s.disconnect();
    } else {
      status('reconnecting', err ? err.message : '');
    }
  });
  for (const name of EVENTS) s.on(name, (e) => dispatch(name, e));
  s.on('stream.gap', () => resync());
}

export function disconnect() {
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
  }
}
