import { describe, expect, it } from 'vitest';
import {
  requestShipment,
  transition,
  type Shipment,
  type ShipmentEventType,
  type ShipmentStatus,
} from '../../../alerting/replacement/lifecycle.js';

const T0 = Date.parse('2026-03-11T10:00:00Z');
const HOUR = 3_600_000;

/** A shipment walked through `events`, one hour apart, by a partner engineer. */
function after(events: ShipmentEventType[]): Shipment {
  let shipment = requestShipment({ at: new Date(T0), by: 'partner:anna' });
  events.forEach((type, i) => {
    const result = transition(shipment, { type, at: new Date(T0 + (i + 1) * HOUR), by: 'partner:anna' });
    if (result.error) throw new Error(`setup failed: ${result.error}`);
    shipment = result.state;
  });
  return shipment;
}

const PATH_TO: Record<ShipmentStatus, ShipmentEventType[]> = {
  requested: [],
  shipped: ['ship'],
  delivered: ['ship', 'deliver'],
  installed: ['ship', 'deliver', 'install'],
  returned: ['ship', 'deliver', 'install', 'return'],
  cancelled: ['cancel'],
};
const LATER = new Date(T0 + 24 * HOUR);

describe('shipment lifecycle: legal moves', () => {
  // [from, event, to]
  const legal: Array<[ShipmentStatus, ShipmentEventType, ShipmentStatus]> = [
    ['requested', 'ship', 'shipped'],
    ['shipped', 'deliver', 'delivered'],
    ['delivered', 'install', 'installed'],
    ['installed', 'return', 'returned'],
    ['requested', 'cancel', 'cancelled'],
    ['shipped', 'cancel', 'cancelled'],
  ];
  it.each(legal)('%s --%s--> %s', (from, type, to) => {
    const current = after(PATH_TO[from]);
    const result = transition(current, { type, at: LATER, by: 'partner:anna', data: { note: 'x' } });
    expect(result.error).toBeUndefined();
    expect(result.state.status).toBe(to);
    expect(result.state.history.at(-1)).toEqual({ status: to, at: LATER, by: 'partner:anna', data: { note: 'x' } });
    expect(result.state.freight).toBe('prepaid');
    expect(current.status).toBe(from); // the input is not changed
  });

  it('walks the whole advance-replacement path and keeps every step', () => {
    const done = after(['ship', 'deliver', 'install', 'return']);
    expect(done.status).toBe('returned');
    expect(done.freight).toBe('prepaid');
    expect(done.history.map((s) => s.status)).toEqual(['requested', 'shipped', 'delivered', 'installed', 'returned']);
  });

  it('starts requested, freight prepaid, with the request as the first step', () => {
    const s = requestShipment({ at: new Date(T0), by: 'system', data: { deviceId: 'X50-1' } });
    expect(s).toEqual({
      status: 'requested',
      freight: 'prepaid',
      history: [{ status: 'requested', at: new Date(T0), by: 'system', data: { deviceId: 'X50-1' } }],
    });
  });
});

describe('shipment lifecycle: illegal moves are refused and change nothing', () => {
  // [from, event, error]
  const illegal: Array<[ShipmentStatus, ShipmentEventType, string]> = [
    ['requested', 'deliver', 'cannot mark delivered: shipment is not shipped yet'],
    ['requested', 'install', 'cannot mark installed: shipment is not delivered yet'],
    ['shipped', 'install', 'cannot mark installed: shipment is not delivered yet'],
    ['requested', 'return', 'cannot mark returned: replacement is not installed yet'],
    ['delivered', 'return', 'cannot mark returned: replacement is not installed yet'],
    ['shipped', 'ship', 'cannot mark shipped: shipment is already shipped'],
    ['delivered', 'ship', 'cannot mark shipped: shipment is already delivered'],
    ['installed', 'deliver', 'cannot mark delivered: shipment is already installed'],
    ['returned', 'return', 'cannot mark returned: shipment is already returned'],
    ['delivered', 'cancel', 'cannot cancel: shipment is already delivered'],
    ['installed', 'cancel', 'cannot cancel: shipment is already installed'],
    ['returned', 'cancel', 'cannot cancel: shipment is already returned'],
    ['cancelled', 'ship', 'cannot mark shipped: shipment is cancelled'],
    ['cancelled', 'cancel', 'cannot cancel: shipment is cancelled'],
  ];
  it.each(illegal)('%s --%s--> "%s"', (from, type, error) => {
    const current = after(PATH_TO[from]);
    const result = transition(current, { type, at: LATER, by: 'partner:anna' });
    expect(result.error).toBe(error);
    expect(result.state).toBe(current);
  });

  it('installation must be confirmed by the partner, not by the system', () => {
    const result = transition(after(['ship', 'deliver']), { type: 'install', at: LATER, by: 'system' });
    expect(result.error).toBe('cannot mark installed: installation must be confirmed by the partner, not by the system');
    expect(result.state.status).toBe('delivered');
  });

  it('refuses a step dated before the previous one', () => {
    const shipped = after(['ship']); // shipped at T0 + 1h
    const result = transition(shipped, { type: 'deliver', at: new Date(T0), by: 'carrier' });
    expect(result.error).toBe(
      'cannot mark delivered: 2026-03-11T10:00:00.000Z is before the last step (shipped at 2026-03-11T11:00:00.000Z)',
    );
  });

  it('refuses an event without an actor or with an invalid time', () => {
    const requested = after([]);
    expect(transition(requested, { type: 'ship', at: LATER, by: ' ' }).error).toBe(
      'cannot mark shipped: the event does not say who did it',
    );
    expect(transition(requested, { type: 'cancel', at: new Date('nope'), by: 'system' }).error).toBe(
      'cannot cancel: the event time is not a valid instant',
    );
  });
});
