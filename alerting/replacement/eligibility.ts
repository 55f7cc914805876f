// Whether a fault qualifies for an advance hardware replacement under the device's coverage.
// Only hardware faults do: software, configuration, network or cloud trouble is fixed in place.

import { DateTime } from 'luxon';

/** The hardware faults Poly+ replaces in advance. `overheating` means the hardware fault. */
export const HARDWARE_FAULTS = ['camera', 'microphone', 'speaker', 'display', 'fan', 'overheating', 'power'] as const;
export type HardwareFault = (typeof HARDWARE_FAULTS)[number];

export interface ReplacementCoverage {
  plan: string;
  /** Last covered day, YYYY-MM-DD, inclusive; null = open-ended. */
  until: string | null;
  onsite: boolean;
}

export interface EligibilityInput {
  /** null or undefined: the device has no coverage (e.g. not registered). */
  coverage: ReplacementCoverage | null | undefined;
  faultKind: string;
  /** When the fault was reported. */
  at: Date;
  /**
   * IANA zone of the site, whose calendar `until` is in; default UTC. Matters around midnight:
   * 00:30 on 1 July in Berlin is still 30 June in UTC.
   */
  timezone?: string;
}

export interface Eligibility {
  eligible: boolean;
  reason: string;
}

const isHardwareFault = (kind: string): kind is HardwareFault =>
  (HARDWARE_FAULTS as readonly string[]).includes(kind);

export function isEligibleForReplacement(input: EligibilityInput): Eligibility {
  const { coverage, faultKind, at } = input;
  const timezone = input.timezone ?? 'UTC';
  if (coverage === null || coverage === undefined) {
    return { eligible: false, reason: 'device has no coverage' };
  }
  if (!isHardwareFault(faultKind)) {
    return {
      eligible: false,
      reason: `"${faultKind}" is not a hardware fault; advance replacement covers ${HARDWARE_FAULTS.join(', ')}`,
    };
  }
  if (coverage.until === null) {
    return { eligible: true, reason: `${faultKind} fault on a device covered by ${coverage.plan}, open-ended` };
  }
  const until = DateTime.fromISO(coverage.until, { zone: timezone });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(coverage.until) || !until.isValid) {
    // Refuse rather than guess: a person has to fix the registry entry.
    return { eligible: false, reason: `coverage end "${coverage.until}" is not a date YYYY-MM-DD` };
  }
  const local = DateTime.fromJSDate(at, { zone: timezone });
  if (!local.isValid) throw new RangeError(`cannot read ${String(at)} in time zone "${timezone}"`);
  // Compare calendar days: the whole `until` day is covered.
  const today = local.toISODate();
  if (today > coverage.until) {
    return { eligible: false, reason: `coverage ${coverage.plan} ended ${coverage.until}; fault reported ${today}` };
  }
  return {
    eligible: true,
    reason: `${faultKind} fault on a device covered by ${coverage.plan} until ${coverage.until} (inclusive)`,
  };
}
