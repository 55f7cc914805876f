// Durations as people write them in a policy file: "15m", "2h", "1h30m", "90s", "0".
// No days: "1d" would be ambiguous on a business-hours clock (24 h or one 10-hour business day?),
// so a business day is written in hours ("10h").

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds of a duration like "1h30m", or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const m = DURATION.exec(t);
  if (!m || t === '') return undefined;
  const [, h = '0', min = '0', s = '0'] = m;
  return ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000;
}
