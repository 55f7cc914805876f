import { describe, expect, it } from 'vitest';
import { addWorkingTime, workingTimeBetween, type WorkingCalendar } from '../../../alerting/escalation/business-time.js';
import { BERLIN, HOUR, MIN, NEW_YORK, local, ms, show } from './clock.js';

const berlinHours: WorkingCalendar = { kind: 'business_hours', timezone: BERLIN, country: 'DE', open: '08:00', close: '18:00' };
const newYorkHours: WorkingCalendar = { kind: 'business_hours', timezone: NEW_YORK, country: 'US', open: '08:00', close: '18:00' };
const always: WorkingCalendar = { kind: '24x7' };

describe('addWorkingTime on business hours (Berlin, Mon–Fri 08:00–18:00, DE public holidays)', () => {
  const cases: Array<[start: string, duration: string, deadline: string, why: string]> = [
    ['Tue 2025-06-10 09:00', '2h', 'Tue 2025-06-10 11:00', 'inside business hours: plain addition'],
    ['Tue 2025-06-10 08:00', '10h', 'Tue 2025-06-10 18:00', 'one business day is 10 hours'],
    ['Tue 2025-06-10 06:00', '1h', 'Tue 2025-06-10 09:00', 'before opening: the clock starts at 08:00'],
    ['Tue 2025-06-10 19:00', '1h', 'Wed 2025-06-11 09:00', 'after closing: the clock starts next morning'],
    ['Sat 2025-06-14 10:00', '1h', 'Mon 2025-06-16 09:00', 'weekend: the clock starts Monday'],
    ['Tue 2025-06-10 17:30', '30m', 'Tue 2025-06-10 18:00', 'ending exactly at closing is closing time, not next morning'],
    ['Tue 2025-06-10 17:30', '31m', 'Wed 2025-06-11 08:01', 'one minute more carries over'],
    ['Fri 2025-06-13 17:30', '4h', 'Mon 2025-06-16 11:30', '30 min on Friday, 3.5 h on Monday'],
    ['Thu 2025-04-17 16:00', '4h', 'Tue 2025-04-22 10:00', 'Good Friday and Easter Monday are closed'],
    ['Mon 2025-04-21 09:00', '4h', 'Tue 2025-04-22 12:00', 'opened on Easter Monday: starts Tuesday 08:00'],
    ['Fri 2025-06-06 17:00', '2h', 'Tue 2025-06-10 09:00', 'Whit Monday is closed'],
    ['Wed 2025-12-24 17:00', '2h', 'Mon 2025-12-29 09:00', 'Christmas Eve is only a bank holiday (open); 25th, 26th public'],
    ['Thu 2025-05-01 10:00', '1h', 'Fri 2025-05-02 09:00', 'Labour Day'],
  ];
  it.each(cases)('%s + %s = %s (%s)', (start, duration, deadline) => {
    const from = local(BERLIN, start);
    const to = addWorkingTime(from, ms(duration), berlinHours);
    expect(show(BERLIN, to)).toBe(deadline);
    expect(workingTimeBetween(from, to, berlinHours)).toBe(ms(duration));
  });

  it('a zero duration is the start itself, even outside business hours', () => {
    const saturday = local(BERLIN, '2025-06-14 10:00');
    expect(addWorkingTime(saturday, 0, berlinHours)).toEqual(saturday);
  });
});

describe('business hours across DST changes: 08:00 stays 08:00 local, the UTC offset moves', () => {
  const cases: Array<[what: string, calendar: WorkingCalendar, startUtc: string, deadlineUtc: string]> = [
    // Fri 16:00 CET (+01) + 4 business hours = 2 h Friday + Mon 08:00–10:00 CEST (+02).
    ['Berlin, last Sunday of March', berlinHours, '2025-03-28T15:00:00.000Z', '2025-03-31T08:00:00.000Z'],
    // Fri 16:00 CEST (+02) -> Mon 10:00 CET (+01).
    ['Berlin, last Sunday of October', berlinHours, '2025-10-24T14:00:00.000Z', '2025-10-27T09:00:00.000Z'],
    // Fri 16:00 EST (-05) -> Mon 10:00 EDT (-04); US DST began Sun 2025-03-09.
    ['New York, second Sunday of March', newYorkHours, '2025-03-07T21:00:00.000Z', '2025-03-10T14:00:00.000Z'],
    // Fri 16:00 EDT (-04) -> Mon 10:00 EST (-05); US DST ended Sun 2025-11-02.
    ['New York, first Sunday of November', newYorkHours, '2025-10-31T20:00:00.000Z', '2025-11-03T15:00:00.000Z'],
  ];
  it.each(cases)('%s: 4 business hours from Friday 16:00 end Monday 10:00 local', (_what, calendar, startUtc, deadlineUtc) => {
    const start = new Date(startUtc);
    const deadline = addWorkingTime(start, 4 * HOUR, calendar);
    expect(deadline.toISOString()).toBe(deadlineUtc);
    expect(workingTimeBetween(start, deadline, calendar)).toBe(4 * HOUR);
  });

  it.each([
    [BERLIN, berlinHours, '2025-03-28 08:00', '2025-03-31 18:00'],
    [BERLIN, berlinHours, '2025-10-24 08:00', '2025-10-27 18:00'],
    [NEW_YORK, newYorkHours, '2025-03-07 08:00', '2025-03-10 18:00'],
    [NEW_YORK, newYorkHours, '2025-10-31 08:00', '2025-11-03 18:00'],
  ])('%s: Friday 08:00 to Monday 18:00 around the change is exactly 20 business hours (%s)', (zone, calendar, a, b) => {
    expect(workingTimeBetween(local(zone, a), local(zone, b), calendar)).toBe(20 * HOUR);
  });
});

describe('24x7 counts elapsed time, not wall-clock time', () => {
  it.each([
    ['spring forward: 01:30 CET + 1 h is 03:30 CEST', '2025-03-30 01:30', HOUR, 'Sun 2025-03-30 03:30'],
    ['fall back: 01:30 CEST + 2 h is 02:30 CET (02:00–03:00 happens twice)', '2025-10-26 01:30', 2 * HOUR, 'Sun 2025-10-26 02:30'],
  ])('%s', (_what, start, durationMs, expected) => {
    expect(show(BERLIN, addWorkingTime(local(BERLIN, start), durationMs, always))).toBe(expected);
  });

  it.each([
    ['2025-03-30', '2025-03-31', '23h'],
    ['2025-10-26', '2025-10-27', '25h'],
  ])('the local day %s in Berlin lasts %s', (day, next, length) => {
    expect(workingTimeBetween(local(BERLIN, `${day} 00:00`), local(BERLIN, `${next} 00:00`), always)).toBe(ms(length));
  });
});

describe('workingTimeBetween', () => {
  it.each([
    ['Fri 2025-06-13 17:30', 'Mon 2025-06-16 11:30', '4h'],
    ['Sat 2025-06-14 00:00', 'Sun 2025-06-15 23:59', '0'],
    ['Thu 2025-04-17 08:00', 'Thu 2025-04-24 08:00', '30h'], // Thu, Tue, Wed: Easter took Fri and Mon
    ['Tue 2025-06-10 12:00', 'Tue 2025-06-10 09:00', '0'], // b before a
  ])('%s -> %s = %s', (a, b, expected) => {
    expect(workingTimeBetween(local(BERLIN, a), local(BERLIN, b), berlinHours)).toBe(ms(expected));
  });

  it('is the inverse of addWorkingTime for any start, including weekends, nights, Easter and DST', () => {
    // Every 97 minutes over five weeks around Easter 2025 and the March DST change.
    const first = local(BERLIN, '2025-03-20 00:00').getTime();
    for (let t = first; t < first + 35 * 24 * HOUR; t += 97 * MIN) {
      for (const d of [0, 1, 45 * MIN, 10 * HOUR, 23 * HOUR + 7 * MIN]) {
        const start = new Date(t);
        expect(workingTimeBetween(start, addWorkingTime(start, d, berlinHours), berlinHours)).toBe(d);
      }
    }
  });
});

describe('calendars that cannot be used are refused', () => {
  const start = local(BERLIN, '2025-06-10 09:00');
  it.each<[string, WorkingCalendar, RegExp]>([
    ['an unknown zone', { ...berlinHours, timezone: 'Europe/Atlantis' }, /unknown time zone/],
    ['an unknown country', { ...berlinHours, country: 'XX' }, /unknown holiday country "XX"/],
    ['open after close', { ...berlinHours, open: '18:00', close: '08:00' }, /before close/],
    ['a malformed time', { ...berlinHours, open: '8:00' }, /HH:MM/],
  ])('%s', (_what, calendar, message) => {
    expect(() => addWorkingTime(start, HOUR, calendar)).toThrow(message);
  });

  it('a negative duration', () => {
    expect(() => addWorkingTime(start, -1, berlinHours)).toThrow(/>= 0/);
  });
});
