/**
 * A time zone's offset from UTC, so simulated devices follow their site's working day (calls in
 * local business hours). Taken once per zone at the start of a run: a run across a DST change keeps
 * the offset it started with.
 */
const cache = new Map<string, number | undefined>();

/** Minutes to add to UTC for local time in `timezone` at `atMs`; undefined for an unknown zone. */
export function utcOffsetMinutes(timezone: string, atMs: number = Date.now()): number | undefined {
  // Per zone and UTC day: a fleet of 100,000 devices in a few zones makes a few formatters, not 100,000.
  const key = `${timezone}|${Math.floor(atMs / 86_400_000)}`;
  if (cache.has(key)) return cache.get(key);
  let offset: number | undefined;
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    }).formatToParts(new Date(atMs));
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
    offset = Math.round((local - Math.floor(atMs / 60_000) * 60_000) / 60_000);
  } catch {
    offset = undefined; // RangeError: not a zone Intl knows
  }
  cache.set(key, offset);
  return offset;
}
