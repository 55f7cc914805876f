// A calendar day at the customer's site, without time or zone: "2026-12-28". Shipping promises are
// made in days, so dates travel as plain YYYY-MM-DD strings and all arithmetic is done in UTC,
// where every day has 24 hours (no DST surprises when stepping from one day to the next).

import { DateTime } from 'luxon';

/** A calendar date, YYYY-MM-DD. */
export type LocalDate = string;

const FORMAT = /^\d{4}-\d{2}-\d{2}$/;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** Parses a YYYY-MM-DD date; throws a RangeError naming the bad value (a caller bug, not data). */
export function parseLocalDate(date: LocalDate): DateTime<true> {
  const dt = FORMAT.test(date) ? DateTime.fromISO(date, { zone: 'utc' }) : null;
  if (dt === null || !dt.isValid) throw new RangeError(`not a date YYYY-MM-DD: "${date}"`);
  return dt;
}

/** The date `days` later (negative: earlier). */
export function addDays(date: LocalDate, days: number): LocalDate {
  return parseLocalDate(date).plus({ days }).toISODate();
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: LocalDate): number {
  return parseLocalDate(date).weekday;
}

/** "Mon", "Tue", … in English whatever the process locale, so messages are stable. */
export function weekdayShort(date: LocalDate): string {
  return WEEKDAYS[isoWeekday(date) - 1] ?? '???';
}
