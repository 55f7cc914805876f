import { describe, expect, it } from 'vitest';
import { shipBy, type ShipByInput } from '../../../alerting/replacement/ship-by.js';

const BERLIN = { country: 'DE', timezone: 'Europe/Berlin' };
const LONDON = { country: 'GB', timezone: 'Europe/London' };
const NEW_YORK = { country: 'US', timezone: 'America/New_York' };

interface Row {
  what: string;
  /** The request instant, with the offset in force at the site. */
  at: string;
  site: Omit<ShipByInput, 'requestedAt'>;
  ship: string;
  deliver: string;
  /** The whole reason, or a part of it. */
  reason: string | RegExp;
}

// Rule: a request on a business day before the cut-off ships that day and is delivered the next
// business day; otherwise it ships the next business day and is delivered the one after that.
const table: Row[] = [
  {
    what: 'Wednesday before the cut-off in DE ships the same day',
    at: '2026-03-11T10:15:00+01:00',
    site: BERLIN,
    ship: '2026-03-11',
    deliver: '2026-03-12',
    reason:
      'requested Wed 2026-03-11 10:15 Europe/Berlin before the 15:00 cut-off; ships Wed 2026-03-11, delivered Thu 2026-03-12',
  },
  {
    what: 'Friday after the cut-off in DE ships Monday, delivered Tuesday',
    at: '2026-03-13T16:20:00+01:00',
    site: BERLIN,
    ship: '2026-03-16',
    deliver: '2026-03-17',
    reason:
      'requested Fri 2026-03-13 16:20 Europe/Berlin after the 15:00 cut-off; ships Mon 2026-03-16, delivered Tue 2026-03-17',
  },
  {
    what: 'request on a Saturday ships Monday',
    at: '2026-03-14T10:00:00+01:00',
    site: BERLIN,
    ship: '2026-03-16',
    deliver: '2026-03-17',
    reason: 'requested Sat 2026-03-14 10:00 Europe/Berlin on a weekend; ships Mon 2026-03-16, delivered Tue 2026-03-17',
  },
  {
    what: 'exactly at the cut-off minute counts as after it',
    at: '2026-03-11T15:00:00+01:00',
    site: BERLIN,
    ship: '2026-03-12',
    deliver: '2026-03-13',
    reason: /at the 15:00 cut-off, which is too late for same-day shipping/,
  },
  {
    what: 'one second before the cut-off still ships the same day',
    at: '2026-03-11T14:59:59+01:00',
    site: BERLIN,
    ship: '2026-03-11',
    deliver: '2026-03-12',
    reason: /14:59 Europe\/Berlin before the 15:00 cut-off/,
  },
  {
    what: 'a later partner cut-off (17:00) keeps a 16:30 request same-day',
    at: '2026-03-11T16:30:00+01:00',
    site: { ...BERLIN, cutoffHour: 17 },
    ship: '2026-03-11',
    deliver: '2026-03-12',
    reason: /before the 17:00 cut-off/,
  },
  // Easter 2027 in DE: Good Friday 26 Mar and Easter Monday 29 Mar.
  {
    what: 'Thursday before Easter, before the cut-off: ships Thursday, delivery pushed past Easter Monday',
    at: '2027-03-25T10:00:00+01:00',
    site: BERLIN,
    ship: '2027-03-25',
    deliver: '2027-03-30',
    reason:
      'requested Thu 2027-03-25 10:00 Europe/Berlin before the 15:00 cut-off; public holidays: Fri 2027-03-26 Good Friday, Mon 2027-03-29 Easter Monday; ships Thu 2027-03-25, delivered Tue 2027-03-30',
  },
  {
    what: 'Thursday before Easter, after the cut-off: ships Tuesday after Easter Monday',
    at: '2027-03-25T15:30:00+01:00',
    site: BERLIN,
    ship: '2027-03-30',
    deliver: '2027-03-31',
    reason: /after the 15:00 cut-off; public holidays: Fri 2027-03-26 Good Friday, Mon 2027-03-29 Easter Monday; ships Tue 2027-03-30/,
  },
  {
    what: 'request on Easter Monday itself (summer time has begun)',
    at: '2027-03-29T09:00:00+02:00',
    site: BERLIN,
    ship: '2027-03-30',
    deliver: '2027-03-31',
    reason: 'requested Mon 2027-03-29 09:00 Europe/Berlin on a public holiday (Easter Monday); ships Tue 2027-03-30, delivered Wed 2027-03-31',
  },
  // Christmas 2026 in GB: 25 Dec is a Friday, Boxing Day a Saturday, substituted on Monday 28 Dec.
  {
    what: 'GB Christmas Eve before the cut-off: delivered after the substitute Boxing Day',
    at: '2026-12-24T10:00:00Z',
    site: LONDON,
    ship: '2026-12-24',
    deliver: '2026-12-29',
    reason:
      'requested Thu 2026-12-24 10:00 Europe/London before the 15:00 cut-off; public holidays: Fri 2026-12-25 Christmas Day, Mon 2026-12-28 Boxing Day (substitute day); ships Thu 2026-12-24, delivered Tue 2026-12-29',
  },
  {
    what: 'GB Christmas Eve after the cut-off: ships Tuesday 29th',
    at: '2026-12-24T16:00:00Z',
    site: LONDON,
    ship: '2026-12-29',
    deliver: '2026-12-30',
    reason: /after the 15:00 cut-off; public holidays: Fri 2026-12-25 Christmas Day, Mon 2026-12-28 Boxing Day \(substitute day\)/,
  },
  {
    what: 'GB request on Christmas Day',
    at: '2026-12-25T11:00:00Z',
    site: LONDON,
    ship: '2026-12-29',
    deliver: '2026-12-30',
    reason:
      'requested Fri 2026-12-25 11:00 Europe/London on a public holiday (Christmas Day); Mon 2026-12-28 Boxing Day (substitute day) is a public holiday; ships Tue 2026-12-29, delivered Wed 2026-12-30',
  },
  {
    what: 'DE Christmas Eve after the cut-off: Germany has no substitute day, ships Monday 28th',
    at: '2026-12-24T16:20:00+01:00',
    site: BERLIN,
    ship: '2026-12-28',
    deliver: '2026-12-29',
    reason: /Fri 2026-12-25 Christmas Day is a public holiday; ships Mon 2026-12-28, delivered Tue 2026-12-29$/,
  },
  // Thanksgiving 2026 in the US: Thursday 26 Nov; the day after is a business day.
  {
    what: 'US Wednesday before Thanksgiving, before the cut-off: delivered Friday',
    at: '2026-11-25T10:00:00-05:00',
    site: NEW_YORK,
    ship: '2026-11-25',
    deliver: '2026-11-27',
    reason: /Thu 2026-11-26 Thanksgiving Day is a public holiday; ships Wed 2026-11-25, delivered Fri 2026-11-27/,
  },
  {
    what: 'US Wednesday before Thanksgiving, after the cut-off: ships Friday, delivered Monday',
    at: '2026-11-25T16:00:00-05:00',
    site: NEW_YORK,
    ship: '2026-11-27',
    deliver: '2026-11-30',
    reason: /after the 15:00 cut-off; Thu 2026-11-26 Thanksgiving Day is a public holiday; ships Fri 2026-11-27/,
  },
  // Regions: Epiphany (6 Jan) is a holiday in Bavaria, not in Germany as a whole.
  {
    what: 'Bavarian site after the cut-off on Monday 5 Jan: Epiphany pushes shipping to Wednesday',
    at: '2026-01-05T16:00:00+01:00',
    site: { ...BERLIN, region: 'BY' },
    ship: '2026-01-07',
    deliver: '2026-01-08',
    reason: /Tue 2026-01-06 Epiphany is a public holiday/,
  },
  {
    what: 'the same request without a region ships on Epiphany',
    at: '2026-01-05T16:00:00+01:00',
    site: BERLIN,
    ship: '2026-01-06',
    deliver: '2026-01-07',
    reason: /ships Tue 2026-01-06, delivered Wed 2026-01-07$/,
  },
  {
    what: 'an unknown region falls back to national holidays and says so',
    at: '2026-01-05T16:00:00+01:00',
    site: { ...BERLIN, region: 'ZZ' },
    ship: '2026-01-06',
    deliver: '2026-01-07',
    reason: /no holiday calendar for region "ZZ" of DE, national holidays only/,
  },
  {
    what: 'an unknown country skips weekends only and says so',
    at: '2026-12-25T10:00:00Z',
    site: { country: 'XX', timezone: 'UTC' },
    ship: '2026-12-25',
    deliver: '2026-12-28',
    reason: /no holiday calendar for country "XX", only weekends skipped; ships Fri 2026-12-25, delivered Mon 2026-12-28/,
  },
];

describe('shipBy', () => {
  it.each(table)('$what', ({ at, site, ship, deliver, reason }) => {
    const result = shipBy({ requestedAt: new Date(at), ...site });
    expect({ ship: result.shipByDate, deliver: result.deliverByDate }).toEqual({ ship, deliver });
    if (typeof reason === 'string') expect(result.reason).toBe(reason);
    else expect(result.reason).toMatch(reason);
  });
});

describe('shipBy for customers in another country than the partner: same instant, different answers', () => {
  // [what, instant, DE answer, US answer]
  const table: Array<[string, string, [string, string], [string, string]]> = [
    [
      // 14:00 on a Thursday in Berlin; 08:00 on Thanksgiving in New York.
      'Thanksgiving: a business day in DE, a holiday in the US',
      '2026-11-26T13:00:00Z',
      ['2026-11-26', '2026-11-27'],
      ['2026-11-27', '2026-11-30'],
    ],
    [
      // 15:30 in Berlin (after the cut-off), 10:30 in New York (US summer time began 8 March).
      'time zones: after the cut-off in Berlin, before it in New York',
      '2026-03-11T14:30:00Z',
      ['2026-03-12', '2026-03-13'],
      ['2026-03-11', '2026-03-12'],
    ],
    [
      // 14:00 on Friday 3 July in Berlin; 08:00 in New York, where Independence Day (Saturday 4th)
      // is observed that Friday.
      'a US substitute holiday: Friday 3 July 2026',
      '2026-07-03T12:00:00Z',
      ['2026-07-03', '2026-07-06'],
      ['2026-07-06', '2026-07-07'],
    ],
    [
      // 16:30 on Christmas Eve in Berlin (after the cut-off; 25th and 26th are holidays) vs 10:30 in
      // New York (before it; only the 25th is a holiday).
      'Christmas Eve 2026 in the afternoon',
      '2026-12-24T15:30:00Z',
      ['2026-12-28', '2026-12-29'],
      ['2026-12-24', '2026-12-28'],
    ],
  ];
  it.each(table)('%s', (_what, at, [deShip, deDeliver], [usShip, usDeliver]) => {
    const requestedAt = new Date(at);
    const de = shipBy({ requestedAt, ...BERLIN });
    const us = shipBy({ requestedAt, ...NEW_YORK });
    expect([de.shipByDate, de.deliverByDate]).toEqual([deShip, deDeliver]);
    expect([us.shipByDate, us.deliverByDate]).toEqual([usShip, usDeliver]);
  });
});

describe('shipBy refuses caller mistakes', () => {
  const at = new Date('2026-03-11T10:00:00Z');
  it('an unknown time zone', () => {
    expect(() => shipBy({ requestedAt: at, country: 'DE', timezone: 'Europe/Atlantis' })).toThrow(/unknown time zone/);
  });
  it.each([-1, 25, 15.5, Number.NaN])('a cut-off hour of %s', (cutoffHour) => {
    expect(() => shipBy({ requestedAt: at, ...BERLIN, cutoffHour })).toThrow(/whole hour from 0 to 24/);
  });
  it('an invalid instant', () => {
    expect(() => shipBy({ requestedAt: new Date('nope'), ...BERLIN })).toThrow(/not a valid instant/);
  });
});
