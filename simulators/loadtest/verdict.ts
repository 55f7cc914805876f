/**
 * Pass or fail: every acknowledged message stored once, none left unacknowledged, and the achieved
 * rate at least `minRateFraction` (95 %) of the target.
 */
import type { DeliveryReport } from './stored.js';
import type { Verdict } from './result.js';

export const MIN_RATE_FRACTION = 0.95;

export function judge(
  d: DeliveryReport,
  achievedRate: number,
  targetRate: number,
  settleEnded?: 'all stored' | 'quiet' | 'timeout',
  minRateFraction = MIN_RATE_FRACTION,
): Verdict {
  const failures: string[] = [];
  if (d.lost > 0) failures.push(`${d.lost} acknowledged message(s) not in InfluxDB${settleEnded === 'timeout' ? ' when counting gave up (--settle)' : ''}`);
  if (d.duplicates > 0) failures.push(`${d.duplicates} duplicate point(s) (same device and seq at another ts)`);
  if (d.unacked > 0) failures.push(`${d.unacked} message(s) never acknowledged by the broker`);
  if (achievedRate < targetRate * minRateFraction) {
    failures.push(`achieved ${achievedRate.toFixed(1)} msg/s, below ${Math.round(minRateFraction * 100)} % of the target ${targetRate} msg/s`);
  }
  return { pass: failures.length === 0, failures };
}
