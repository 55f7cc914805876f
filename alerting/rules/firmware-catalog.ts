// The software catalog's minimum firmware per model: a device below it misses fixes the partner
// is expected to roll out (Poly ships updates at no extra cost). Versions compare numerically,
// part by part: 4.0.1.340023 < 4.1.0 < 4.10.0.
export const MIN_FIRMWARE: Readonly<Record<string, string>> = {
  'Studio X30': '4.0.0',
  'Studio X50': '4.0.0',
  'Studio X52': '4.0.0',
  'Studio X70': '4.0.0',
  G7500: '4.0.0',
  TC10: '4.0.0',
  'CCX 400': '8.1.0',
  'CCX 500': '8.1.0',
  'CCX 600': '8.1.0',
  'Trio C60': '8.0.0',
};

/** Negative when a < b, 0 when equal, positive when a > b; non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (parseInt(pa[i] ?? '0', 10) || 0) - (parseInt(pb[i] ?? '0', 10) || 0);
    if (d !== 0) return d;
  }
  return 0;
}
