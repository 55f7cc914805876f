// Business days for the next-business-day promise: Monday to Friday, except the public holidays of
// the customer's country (and region) as the date-holidays package knows them.
//
// Documented behaviour:
// - Only holidays of type 'public' count. 'bank' (e.g. DE Christmas Eve and New Year's Eve, both
//   from 14:00), 'optional' (US Christmas Eve) and 'observance' (US day after Thanksgiving) days
//   are business days.
// - Substitute days count: date-holidays lists them as their own 'public' entry with
//   `substitute: true` ("Boxing Day (substitute day)", GB 2026-12-28), next to the original date.
// - Public holidays that start during the day (a few countries have afternoon-only ones) do not
//   make the day a holiday; holidays lasting several days (P2D, P3D rules) block every day.
// - Unknown country: weekends only. date-holidays does not refuse an unknown code (its init()
//   returns true and it then knows no holidays), so we check the code ourselves and report it
//   through holidayCalendarScope() = 'weekends-only'.
// - Unknown region: date-holidays silently falls back to the national calendar; so do we, and
//   holidayCalendarScope() says 'country'. Regions are ISO 3166-2 subdivision codes ("BY" or
//   "DE-BY"), which date-holidays calls states; its finer sub-state regions are not used.
// - Weekends are Saturday and Sunday everywhere, also where the local weekend differs: the
//   promise is made on carrier working days in the markets served.

import Holidays from 'date-holidays';
import { addDays, isoWeekday, parseLocalDate, type LocalDate } from './local-date.js';

export type { LocalDate } from './local-date.js';

/** Which holiday calendar a country/region gets: its region's, its country's, or none. */
export type HolidayCalendarScope = 'region' | 'country' | 'weekends-only';

interface Calendar {
  scope: HolidayCalendarScope;
  /** null when the country is unknown. */
  holidays: Holidays | null;
  /** year -> (date -> English holiday name), built on first use. */
  years: Map<number, ReadonlyMap<LocalDate, string>>;
}

// Memo only: constructing a Holidays instance parses the rules for a country and is slow, and
// answers never change for a given key, so caching keeps the functions pure from the outside.
const calendars = new Map<string, Calendar>();
let directory: Holidays | undefined;

const DAY_MS = 24 * 60 * 60 * 1000;
// A loop guard only: no calendar has this many non-business days in a row.
const MAX_SEARCH_DAYS = 60;

function normalise(country: string, region: string | undefined): { country: string; region?: string } {
  const c = country.trim().toUpperCase();
  let r = region?.trim().toUpperCase();
  if (r !== undefined && r.startsWith(`${c}-`)) r = r.slice(c.length + 1);
  return r ? { country: c, region: r } : { country: c };
}

function calendarFor(country: string, region: string | undefined): Calendar {
  const key = normalise(country, region);
  const cacheKey = `${key.country}|${key.region ?? ''}`;
  const cached = calendars.get(cacheKey);
  if (cached) return cached;

  directory ??= new Holidays();
  let calendar: Calendar;
  if (!Object.hasOwn(directory.getCountries(), key.country)) {
    calendar = { scope: 'weekends-only', holidays: null, years: new Map() };
  } else if (key.region !== undefined && Object.hasOwn(directory.getStates(key.country) ?? {}, key.region)) {
    calendar = { scope: 'region', holidays: new Holidays(key.country, key.region), years: new Map() };
  } else if (key.region === undefined) {
    calendar = { scope: 'country', holidays: new Holidays(key.country), years: new Map() };
  } else {
    // Unknown region: share the national calendar rather than build a second copy of it.
    calendar = calendarFor(key.country, undefined);
  }
  calendars.set(cacheKey, calendar);
  return calendar;
}

function holidaysIn(calendar: Calendar, year: number): ReadonlyMap<LocalDate, string> {
  const cached = calendar.years.get(year);
  if (cached) return cached;
  const days = new Map<LocalDate, string>();
  if (calendar.holidays) {
    // The year before too: a multi-day holiday starting on 31 Dec runs into this year.
    const listed = [...calendar.holidays.getHolidays(year - 1, 'en'), ...calendar.holidays.getHolidays(year, 'en')];
    for (const h of listed) {
      // `date` is the local start, "YYYY-MM-DD hh:mm:ss" (sometimes with an offset after it).
      if (h.type !== 'public' || h.date.slice(11, 19) !== '00:00:00') continue;
      const start = h.date.slice(0, 10);
      const length = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / DAY_MS));
      for (let i = 0; i < length; i++) {
        const day = addDays(start, i);
        if (day.startsWith(`${year}-`) && !days.has(day)) days.set(day, h.name);
      }
    }
  }
  calendar.years.set(year, days);
  return days;
}

/** Which calendar isBusinessDay() uses for this country/region (see the notes at the top). */
export function holidayCalendarScope(country: string, region?: string): HolidayCalendarScope {
  return calendarFor(country, region).scope;
}

/** The English name of the public holiday on `date`, or undefined (also on weekends without one). */
export function publicHolidayName(date: LocalDate, country: string, region?: string): string | undefined {
  return holidaysIn(calendarFor(country, region), parseLocalDate(date).year).get(date);
}

/** Monday to Friday and not a public holiday. Throws a RangeError for a malformed date. */
export function isBusinessDay(date: LocalDate, country: string, region?: string): boolean {
  return isoWeekday(date) <= 5 && publicHolidayName(date, country, region) === undefined;
}

/** The first business day strictly after `date`. */
export function nextBusinessDay(date: LocalDate, country: string, region?: string): LocalDate {
  let day = date;
  for (let i = 0; i < MAX_SEARCH_DAYS; i++) {
    day = addDays(day, 1);
    if (isBusinessDay(day, country, region)) return day;
  }
  throw new Error(`no business day within ${MAX_SEARCH_DAYS} days after ${date} in ${country}`);
}
