// Public holidays of a country as instants, for the business-hours clock. Only type 'public' counts:
// bank holidays, observances and school holidays are working days for a support desk.

import Holidays from 'date-holidays';

/** [startMs, endMs) of one public holiday. */
export type HolidayInterval = readonly [start: number, end: number];

// Building a Holidays instance parses the country's rules; a deadline computation asks for the
// same (country, zone, year) over and over, so results are memoised. Pure: same input, same output.
const cache = new Map<string, readonly HolidayInterval[]>();
let countries: ReadonlySet<string> | undefined;

/** True when date-holidays knows the country (ISO 3166-1 alpha-2, upper case). */
export function isSupportedCountry(country: string): boolean {
  countries ??= new Set(Object.keys(new Holidays().getCountries()));
  return countries.has(country);
}

/**
 * Nationwide public holidays of `country` in `year`, as instants in `timezone` (so a holiday is
 * the partner's local day, whatever the server's zone). Regional holidays (one German state, one
 * US state) are not included. Throws for a country date-holidays does not know: silently having
 * no holidays would move every deadline.
 */
export function publicHolidays(country: string, timezone: string, year: number): readonly HolidayInterval[] {
  const key = `${country}|${timezone}|${year}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (!isSupportedCountry(country)) throw new RangeError(`unknown holiday country "${country}"`);
  const intervals = new Holidays(country, { timezone, types: ['public'] })
    .getHolidays(year)
    .filter((h) => h.type === 'public')
    .map((h): HolidayInterval => [h.start.getTime(), h.end.getTime()]);
  cache.set(key, intervals);
  return intervals;
}
