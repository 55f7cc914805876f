// Wall-clock helpers for the escalation specs: write and read instants as a partner would.

import { DateTime } from 'luxon';
import { parseDuration } from '../../../alerting/escalation/duration.js';

export const BERLIN = 'Europe/Berlin';
export const NEW_YORK = 'America/New_York';

/**
 * The instant of a local wall-clock time: local(BERLIN, 'Fri 2025-06-13 17:30'). The weekday is
 * optional and checked, so a spec cannot claim a Friday that is not one.
 */
export function local(zone: string, text: string): Date {
  const format = /^[A-Z][a-z]{2} /.test(text) ? 'ccc yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm';
  const dt = DateTime.fromFormat(text, format, { zone, locale: 'en' });
  if (!dt.isValid) throw new Error(`bad local time "${text}" in ${zone}: ${dt.invalidExplanation ?? ''}`);
  return dt.toJSDate();
}

/** An instant as local wall-clock time with the weekday, e.g. 'Mon 2025-06-16 11:30'. */
export function show(zone: string, d: Date): string {
  return DateTime.fromJSDate(d, { zone }).setLocale('en').toFormat('ccc yyyy-MM-dd HH:mm');
}

/** Milliseconds of "4h", "1h30m", "0". */
export function ms(text: string): number {
  const v = parseDuration(text);
  if (v === undefined) throw new Error(`bad duration "${text}"`);
  return v;
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;
