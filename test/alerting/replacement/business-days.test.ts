import { describe, expect, it } from 'vitest';
import {
  holidayCalendarScope,
  isBusinessDay,
  nextBusinessDay,
  publicHolidayName,
} from '../../../alerting/replacement/business-days.js';

describe('isBusinessDay', () => {
  // [what, date, country, region, business day?]
  const table: Array<[string, string, string, string | undefined, boolean]> = [
    ['an ordinary Wednesday in DE', '2026-03-11', 'DE', undefined, true],
    ['a Saturday', '2026-03-14', 'DE', undefined, false],
    ['a Sunday', '2026-03-15', 'DE', undefined, false],
    ['Easter Monday in DE', '2027-03-29', 'DE', undefined, false],
    ['Good Friday in DE', '2027-03-26', 'DE', undefined, false],
    ['Christmas Eve in DE (a "bank" half day from 14:00, not public)', '2026-12-24', 'DE', undefined, true],
    ['Mon 28 Dec 2026 in DE (Germany has no substitute days)', '2026-12-28', 'DE', undefined, true],
    ['Mon 28 Dec 2026 in GB (Boxing Day substitute day)', '2026-12-28', 'GB', undefined, false],
    ['Christmas Day 2026 in GB', '2026-12-25', 'GB', undefined, false],
    ['Summer bank holiday 2026 in England', '2026-08-31', 'GB', 'ENG', false],
    ['the same day in Scotland, whose summer bank holiday is 3 Aug', '2026-08-31', 'GB', 'SCT', true],
    ['Scottish summer bank holiday', '2026-08-03', 'GB', 'SCT', false],
    ['31 Aug 2026 in GB without a region: the national list lacks it', '2026-08-31', 'GB', undefined, true],
    ['Thanksgiving in the US', '2026-11-26', 'US', undefined, false],
    ['the day after Thanksgiving in the US (an observance)', '2026-11-27', 'US', undefined, true],
    ['the day after Thanksgiving in California (public there)', '2026-11-27', 'US', 'CA', false],
    ['Fri 3 Jul 2026 in the US (Independence Day falls on a Saturday)', '2026-07-03', 'US', undefined, false],
    ['Columbus Day in the US (public in date-holidays)', '2026-10-12', 'US', undefined, false],
    ['Japanese substitute holiday (furikae kyujitsu)', '2026-05-06', 'JP', undefined, false],
    ['Epiphany in Bavaria', '2026-01-06', 'DE', 'BY', false],
    ['Epiphany in Bavaria, region written as ISO 3166-2 "DE-BY"', '2026-01-06', 'DE', 'DE-BY', false],
    ['Epiphany in Germany as a whole', '2026-01-06', 'DE', undefined, true],
    ['lower-case country code', '2026-12-25', 'de', undefined, false],
    ['second day of a two-day holiday (AM New Year, rule "01-01 P2D")', '2026-01-02', 'AM', undefined, false],
    ['Christmas Day in an unknown country: weekends only', '2026-12-25', 'XX', undefined, true],
    ['a Saturday in an unknown country', '2026-12-26', 'XX', undefined, false],
  ];
  it.each(table)('%s: %s %s/%s -> %s', (_what, date, country, region, expected) => {
    expect(isBusinessDay(date, country, region)).toBe(expected);
  });

  it.each(['2026-3-11', '2026-02-30', '11.03.2026', ''])('refuses the malformed date "%s"', (date) => {
    expect(() => isBusinessDay(date, 'DE')).toThrow(RangeError);
  });
});

describe('nextBusinessDay', () => {
  // [what, date, country, region, next business day]
  const table: Array<[string, string, string, string | undefined, string]> = [
    ['Wednesday -> Thursday', '2026-03-11', 'DE', undefined, '2026-03-12'],
    ['Friday -> Monday', '2026-03-13', 'DE', undefined, '2026-03-16'],
    ['Saturday -> Monday', '2026-03-14', 'DE', undefined, '2026-03-16'],
    ['Thursday before Easter DE -> Tuesday', '2027-03-25', 'DE', undefined, '2027-03-30'],
    ['Christmas Eve GB -> Tuesday after the substitute Monday', '2026-12-24', 'GB', undefined, '2026-12-29'],
    ['Christmas Eve DE -> Monday 28th', '2026-12-24', 'DE', undefined, '2026-12-28'],
    ['Wednesday before Thanksgiving US -> Friday', '2026-11-25', 'US', undefined, '2026-11-27'],
    ['New Year\'s Eve -> Mon 4 Jan across the year end (1 Jan, weekend)', '2026-12-31', 'DE', undefined, '2027-01-04'],
    ['Friday in an unknown country -> Monday', '2026-12-25', 'XX', undefined, '2026-12-28'],
  ];
  it.each(table)('%s (%s %s)', (_what, date, country, region, expected) => {
    expect(nextBusinessDay(date, country, region)).toBe(expected);
  });
});

describe('holidayCalendarScope', () => {
  const table: Array<[string, string | undefined, string]> = [
    ['DE', undefined, 'country'],
    ['DE', 'BY', 'region'],
    ['gb', 'gb-sct', 'region'],
    ['DE', 'ZZ', 'country'], // unknown region: national holidays only
    ['XX', undefined, 'weekends-only'],
    ['XX', 'BY', 'weekends-only'],
  ];
  it.each(table)('%s/%s -> %s', (country, region, expected) => {
    expect(holidayCalendarScope(country, region)).toBe(expected);
  });
});

describe('publicHolidayName', () => {
  it('names substitute days the way date-holidays does, in English', () => {
    expect(publicHolidayName('2026-12-28', 'GB')).toBe('Boxing Day (substitute day)');
    expect(publicHolidayName('2027-03-29', 'DE')).toBe('Easter Monday');
  });
  it('is undefined for working days, bank half days and unknown countries', () => {
    expect(publicHolidayName('2026-03-11', 'DE')).toBeUndefined();
    expect(publicHolidayName('2026-12-24', 'DE')).toBeUndefined();
    expect(publicHolidayName('2026-12-25', 'XX')).toBeUndefined();
  });
});
