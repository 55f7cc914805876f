// When an advance replacement must ship and arrive to keep the Poly+ promise of next-business-day
// delivery.
//
// The rule, in the customer's time zone and with the customer's business days:
// - requested on a business day before the cut-off (default 15:00 local): ships that day and is
//   delivered the next business day;
// - requested at or after the cut-off, or on a weekend or public holiday: ships the next business
//   day and is delivered the business day after that.
// "Before" is strict: a request at exactly 15:00:00 has missed a 15:00 cut-off.
//
// Only the customer's calendar is used. The depot's own holidays and carrier exceptions are not
// modelled here.

import { DateTime } from 'luxon';
import { holidayCalendarScope, isBusinessDay, nextBusinessDay, publicHolidayName } from './business-days.js';
import { addDays, isoWeekday, weekdayShort, type LocalDate } from './local-date.js';

export const DEFAULT_CUTOFF_HOUR = 15;

export interface ShipByInput {
  /** The instant the replacement was requested. */
  requestedAt: Date;
  /** ISO 3166-1 alpha-2 country of the customer's site. */
  country: string;
  /** ISO 3166-2 subdivision of the site ("BY" or "DE-BY"), for regional holidays. */
  region?: string;
  /** IANA time zone of the customer's site. */
  timezone: string;
  /** Local hour of the same-day shipping cut-off, 0-24; default 15. */
  cutoffHour?: number;
}

export interface ShipByResult {
  /** Local date at the site, YYYY-MM-DD. */
  shipByDate: LocalDate;
  /** Local date at the site, YYYY-MM-DD. */
  deliverByDate: LocalDate;
  /** One sentence for a ticket or a partner: why these dates. */
  reason: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const day = (d: LocalDate) => `${weekdayShort(d)} ${d}`;

/**
 * Ship-by and deliver-by dates for a replacement request. Throws a RangeError for an invalid
 * instant, an unknown time zone or a cut-off outside 0-24 (caller bugs, not business outcomes).
 */
export function shipBy(input: ShipByInput): ShipByResult {
  const { requestedAt, country, region, timezone } = input;
  const cutoffHour = input.cutoffHour ?? DEFAULT_CUTOFF_HOUR;
  if (Number.isNaN(requestedAt.getTime())) throw new RangeError('requestedAt is not a valid instant');
  if (!Number.isInteger(cutoffHour) || cutoffHour < 0 || cutoffHour > 24) {
    throw new RangeError(`cutoffHour must be a whole hour from 0 to 24, got ${cutoffHour}`);
  }
  const local = DateTime.fromJSDate(requestedAt, { zone: timezone });
  if (!local.isValid) throw new RangeError(`unknown time zone "${timezone}"`);

  const today = local.toISODate();
  const businessToday = isBusinessDay(today, country, region);
  // Wall-clock time, not elapsed time since midnight: on DST days the cut-off is still 15:00.
  const secondOfDay = local.hour * 3600 + local.minute * 60 + local.second + local.millisecond / 1000;
  const beforeCutoff = secondOfDay < cutoffHour * 3600;

  const shipByDate = businessToday && beforeCutoff ? today : nextBusinessDay(today, country, region);
  const deliverByDate = nextBusinessDay(shipByDate, country, region);

  const cutoff = `${pad(cutoffHour)}:00`;
  const when = `${day(today)} ${pad(local.hour)}:${pad(local.minute)} ${timezone}`;
  const parts: string[] = [];
  if (!businessToday) {
    const holiday = publicHolidayName(today, country, region);
    parts.push(`requested ${when} on a ${holiday === undefined ? 'weekend' : `public holiday (${holiday})`}`);
  } else if (beforeCutoff) {
    parts.push(`requested ${when} before the ${cutoff} cut-off`);
  } else if (local.hour === cutoffHour && local.minute === 0) {
    parts.push(`requested ${when}, at the ${cutoff} cut-off, which is too late for same-day shipping`);
  } else {
    parts.push(`requested ${when} after the ${cutoff} cut-off`);
  }

  // Weekday holidays that pushed a date out; weekends speak for themselves.
  const skipped: string[] = [];
  for (let d = addDays(today, 1); d < deliverByDate; d = addDays(d, 1)) {
    const holiday = publicHolidayName(d, country, region);
    if (holiday !== undefined && isoWeekday(d) <= 5) skipped.push(`${day(d)} ${holiday}`);
  }
  if (skipped.length === 1) parts.push(`${skipped[0]} is a public holiday`);
  if (skipped.length > 1) parts.push(`public holidays: ${skipped.join(', ')}`);

  const scope = holidayCalendarScope(country, region);
  if (scope === 'weekends-only') parts.push(`no holiday calendar for country "${country}", only weekends skipped`);
  if (scope === 'country' && region !== undefined && region.trim() !== '') {
    parts.push(`no holiday calendar for region "${region}" of ${country}, national holidays only`);
  }

  parts.push(`ships ${day(shipByDate)}, delivered ${day(deliverByDate)}`);
  return { shipByDate, deliverByDate, reason: parts.join('; ') };
}
