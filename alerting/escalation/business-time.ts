// Working-time arithmetic: "4 business hours after Friday 17:30 in Berlin". Deadlines are
// instants (Date); business hours are wall-clock times in the calendar's IANA zone, so a DST
// change moves the UTC offset of 08:00 but never the length of a business day.

import { DateTime, IANAZone } from 'luxon';
import { publicHolidays, type HolidayInterval } from './holidays.js';

export type WorkingCalendar =
  | { kind: '24x7' }
  | {
      kind: 'business_hours';
      /** IANA zone of the business hours, e.g. "Europe/Berlin". */
      timezone: string;
      /** ISO 3166-1 alpha-2 country whose public holidays are closed, e.g. "DE". */
      country: string;
      /** Local opening time "HH:MM", Monday to Friday. */
      open: string;
      /** Local closing time "HH:MM", after `open`. */
      close: string;
    };

export type BusinessHoursCalendar = Extract<WorkingCalendar, { kind: 'business_hours' }>;

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

// Bounds the walk for addWorkingTime: a calendar with almost no working time would otherwise loop
// for ever. Ten years of calendar days is far beyond any escalation delay.
const MAX_DAYS = 3660;

/**
 * The earliest instant at which `durationMs` of working time has passed since `start`.
 * 24x7: plain elapsed time. Business hours: the clock runs only Mon–Fri between open and close,
 * outside public holidays; a start outside business hours starts counting at the next opening.
 * A duration of 0 returns `start` itself, and a duration that ends exactly at closing time
 * returns the closing instant (not the next opening).
 */
export function addWorkingTime(start: Date, durationMs: number, calendar: WorkingCalendar): Date {
  const from = instant(start, 'start');
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new RangeError(`duration must be a finite number of ms >= 0, got ${durationMs}`);
  }
  if (calendar.kind === '24x7' || durationMs === 0) return new Date(from + durationMs);
  let remaining = durationMs;
  for (const [open, close] of workingIntervals(from, calendar, MAX_DAYS)) {
    const begin = Math.max(open, from);
    if (close <= begin) continue;
    if (close - begin >= remaining) return new Date(begin + remaining);
    remaining -= close - begin;
  }
  throw new RangeError(`no ${durationMs} ms of working time within ${MAX_DAYS} days of ${start.toISOString()}`);
}

/** Working time in ms between `a` and `b` (0 when `b` is not after `a`). */
export function workingTimeBetween(a: Date, b: Date, calendar: WorkingCalendar): number {
  const from = instant(a, 'a');
  const to = instant(b, 'b');
  if (to <= from) return 0;
  if (calendar.kind === '24x7') return to - from;
  let total = 0;
  for (const [open, close] of workingIntervals(from, calendar, Infinity)) {
    if (open >= to) break;
    total += Math.max(0, Math.min(close, to) - Math.max(open, from));
  }
  return total;
}

// Zones already found valid. luxon's isValidZone builds an Intl.DateTimeFormat on every call (about
// 25 KB of ICU memory the allocator keeps), and this runs several times per ticket.
const validZones = new Set<string>();

/** Throws unless the calendar can be used (known zone and country, open before close). */
export function checkCalendar(calendar: WorkingCalendar): void {
  if (calendar.kind === '24x7') return;
  if (!validZones.has(calendar.timezone)) {
    if (!IANAZone.isValidZone(calendar.timezone)) throw new RangeError(`unknown time zone "${calendar.timezone}"`);
    validZones.add(calendar.timezone);
  }
  const open = minutesOf(calendar.open, 'open');
  const close = minutesOf(calendar.close, 'close');
  if (open >= close) throw new RangeError(`open ${calendar.open} must be before close ${calendar.close}`);
  publicHolidays(calendar.country, calendar.timezone, 2000); // throws for an unknown country
}

/**
 * The working intervals [openMs, closeMs) of each local day, starting with the local day that
 * contains `from` (its interval may lie partly or wholly before `from`; callers clip).
 */
function* workingIntervals(
  from: number,
  calendar: BusinessHoursCalendar,
  maxDays: number,
): Generator<HolidayInterval> {
  checkCalendar(calendar);
  const open = minutesOf(calendar.open, 'open');
  const close = minutesOf(calendar.close, 'close');
  const firstDay = DateTime.fromMillis(from, { zone: calendar.timezone }).startOf('day');
  for (let i = 0; i < maxDays; i++) {
    // plus({days}) is calendar arithmetic in the zone, so a 23- or 25-hour day is still one day.
    const day = firstDay.plus({ days: i });
    if (day.weekday > 5) continue; // luxon: 1 = Monday … 7 = Sunday
    const window: HolidayInterval = [at(day, open), at(day, close)];
    // The previous year's list too, in case a holiday starting on 31 Dec runs into January.
    const holidays = [
      ...publicHolidays(calendar.country, calendar.timezone, day.year - 1),
      ...publicHolidays(calendar.country, calendar.timezone, day.year),
    ];
    yield* subtract(window, holidays);
  }
}

/** `window` minus every holiday that overlaps it (partial-day holidays leave the rest open). */
function subtract(window: HolidayInterval, holidays: readonly HolidayInterval[]): HolidayInterval[] {
  let pieces: HolidayInterval[] = [window];
  for (const [hs, he] of holidays) {
    if (he <= window[0] || hs >= window[1]) continue;
    pieces = pieces.flatMap(([s, e]): HolidayInterval[] => {
      if (he <= s || hs >= e) return [[s, e]];
      const rest: HolidayInterval[] = [];
      if (hs > s) rest.push([s, hs]);
      if (he < e) rest.push([he, e]);
      return rest;
    });
  }
  return pieces;
}

function at(day: DateTime, minutes: number): number {
  return day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 }).toMillis();
}

function minutesOf(hhmm: string, name: string): number {
  const m = HH_MM.exec(hhmm);
  if (!m) throw new RangeError(`${name} must be "HH:MM" (00:00–23:59), got "${hhmm}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function instant(d: Date, name: string): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid Date`);
  return ms;
}
