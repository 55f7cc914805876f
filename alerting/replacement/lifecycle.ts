// The life of one advance-replacement shipment, as a pure state machine:
//
//   requested -> shipped -> delivered -> installed -> returned
//        \           \
//         +-----------+--> cancelled
//
// "Advance" means the replacement leaves before the faulty part comes back, so `returned` (the
// faulty part received back) is the last step, after the partner has installed the new part.
// Once delivered a shipment can no longer be cancelled: the part is at the customer's site.

export { isEligibleForReplacement } from './eligibility.js';

export type ShipmentStatus = 'requested' | 'shipped' | 'delivered' | 'installed' | 'returned' | 'cancelled';
export type ShipmentEventType = 'ship' | 'deliver' | 'install' | 'return' | 'cancel';

export interface ShipmentEvent {
  type: ShipmentEventType;
  at: Date;
  /** Who did it: 'system' or a user name, as in ticket events. */
  by: string;
  /** Free details, e.g. { carrier, trackingNumber } for ship or { reason } for cancel. */
  data?: Readonly<Record<string, string>>;
}

export interface ShipmentStep {
  status: ShipmentStatus;
  at: Date;
  by: string;
  data?: Readonly<Record<string, string>>;
}

export interface Shipment {
  status: ShipmentStatus;
  /** Poly+ freight is prepaid both ways and never changes, hence a literal type. */
  freight: 'prepaid';
  /** Every step so far, oldest first; the first one is always 'requested'. */
  history: readonly ShipmentStep[];
}

export interface TransitionResult {
  /** The new shipment, or the unchanged one when the event was refused. */
  state: Shipment;
  error?: string;
}

/** The happy path in order; cancelled is outside it. */
const PATH: readonly ShipmentStatus[] = ['requested', 'shipped', 'delivered', 'installed', 'returned'];
const TARGET: Readonly<Record<ShipmentEventType, ShipmentStatus>> = {
  ship: 'shipped',
  deliver: 'delivered',
  install: 'installed',
  return: 'returned',
  cancel: 'cancelled',
};
const CANCELLABLE: ReadonlySet<ShipmentStatus> = new Set(['requested', 'shipped']);

/** A new shipment in state 'requested'. */
export function requestShipment(request: { at: Date; by: string; data?: Readonly<Record<string, string>> }): Shipment {
  const step: ShipmentStep = { status: 'requested', at: request.at, by: request.by };
  if (request.data !== undefined) step.data = request.data;
  return { status: 'requested', freight: 'prepaid', history: [step] };
}

/** Applies one event; an illegal one leaves the shipment as it was and says why. */
export function transition(current: Shipment, event: ShipmentEvent): TransitionResult {
  const error = refusal(current, event);
  if (error !== undefined) return { state: current, error };
  const target = TARGET[event.type];
  const step: ShipmentStep = { status: target, at: event.at, by: event.by };
  if (event.data !== undefined) step.data = event.data;
  return { state: { ...current, status: target, history: [...current.history, step] } };
}

function refusal(current: Shipment, event: ShipmentEvent): string | undefined {
  const target = TARGET[event.type];
  const action = event.type === 'cancel' ? 'cannot cancel' : `cannot mark ${target}`;
  if (Number.isNaN(event.at.getTime())) return `${action}: the event time is not a valid instant`;
  if (event.by.trim() === '') return `${action}: the event does not say who did it`;
  const last = current.history[current.history.length - 1];
  if (last !== undefined && event.at.getTime() < last.at.getTime()) {
    return `${action}: ${event.at.toISOString()} is before the last step (${last.status} at ${last.at.toISOString()})`;
  }

  if (current.status === 'cancelled') return `${action}: shipment is cancelled`;
  if (event.type === 'cancel') {
    return CANCELLABLE.has(current.status) ? undefined : `${action}: shipment is already ${current.status}`;
  }
  const from = PATH.indexOf(current.status);
  const to = PATH.indexOf(target);
  if (from >= to) return `${action}: shipment is already ${current.status}`;
  if (from < to - 1) {
    const needed = PATH[to - 1] ?? 'requested';
    return `${action}: ${event.type === 'return' ? 'replacement' : 'shipment'} is not ${needed} yet`;
  }
  // The partner installs parts, so only a person at the partner can confirm it, not automation.
  if (event.type === 'install' && event.by.trim().toLowerCase() === 'system') {
    return `${action}: installation must be confirmed by the partner, not by the system`;
  }
  return undefined;
}
