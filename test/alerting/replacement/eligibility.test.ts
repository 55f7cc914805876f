import { describe, expect, it } from 'vitest';
import {
  HARDWARE_FAULTS,
  isEligibleForReplacement,
  type EligibilityInput,
} from '../../../alerting/replacement/eligibility.js';
import { isEligibleForReplacement as fromLifecycle } from '../../../alerting/replacement/lifecycle.js';

const covered = (until: string | null) => ({ plan: 'poly-plus', until, onsite: false });
const at = (iso: string) => new Date(iso);

describe('isEligibleForReplacement', () => {
  // [what, input, eligible, reason]
  const table: Array<[string, EligibilityInput, boolean, string | RegExp]> = [
    [
      'hardware fault, coverage running',
      { coverage: covered('2027-12-31'), faultKind: 'camera', at: at('2026-06-01T10:00:00Z') },
      true,
      'camera fault on a device covered by poly-plus until 2027-12-31 (inclusive)',
    ],
    [
      'open-ended coverage',
      { coverage: covered(null), faultKind: 'fan', at: at('2040-01-01T00:00:00Z') },
      true,
      'fan fault on a device covered by poly-plus, open-ended',
    ],
    [
      'last day of coverage',
      { coverage: covered('2026-06-30'), faultKind: 'display', at: at('2026-06-30T23:59:59Z') },
      true,
      /until 2026-06-30 \(inclusive\)/,
    ],
    [
      'the day after the last day: expired',
      { coverage: covered('2026-06-30'), faultKind: 'display', at: at('2026-07-01T00:00:00Z') },
      false,
      'coverage poly-plus ended 2026-06-30; fault reported 2026-07-01',
    ],
    [
      'long expired coverage',
      { coverage: covered('2024-01-31'), faultKind: 'power', at: at('2026-06-01T10:00:00Z') },
      false,
      'coverage poly-plus ended 2024-01-31; fault reported 2026-06-01',
    ],
    [
      '00:30 on 1 July in Berlin is past a 30 June end at that site',
      { coverage: covered('2026-06-30'), faultKind: 'speaker', at: at('2026-06-30T22:30:00Z'), timezone: 'Europe/Berlin' },
      false,
      /ended 2026-06-30; fault reported 2026-07-01/,
    ],
    [
      'the same instant read in UTC (the default) is still the last day',
      { coverage: covered('2026-06-30'), faultKind: 'speaker', at: at('2026-06-30T22:30:00Z') },
      true,
      /until 2026-06-30/,
    ],
    [
      'device without coverage (null)',
      { coverage: null, faultKind: 'camera', at: at('2026-06-01T10:00:00Z') },
      false,
      'device has no coverage',
    ],
    [
      'device without coverage (undefined)',
      { coverage: undefined, faultKind: 'camera', at: at('2026-06-01T10:00:00Z') },
      false,
      'device has no coverage',
    ],
    [
      'not a hardware fault',
      { coverage: covered(null), faultKind: 'firmware', at: at('2026-06-01T10:00:00Z') },
      false,
      '"firmware" is not a hardware fault; advance replacement covers camera, microphone, speaker, display, fan, overheating, power',
    ],
    [
      'network trouble is not replaced',
      { coverage: covered(null), faultKind: 'network_link_down', at: at('2026-06-01T10:00:00Z') },
      false,
      /is not a hardware fault/,
    ],
    [
      'a malformed coverage end is refused, not guessed',
      { coverage: covered('30.06.2026'), faultKind: 'camera', at: at('2026-06-01T10:00:00Z') },
      false,
      'coverage end "30.06.2026" is not a date YYYY-MM-DD',
    ],
  ];
  it.each(table)('%s', (_what, input, eligible, reason) => {
    const result = isEligibleForReplacement(input);
    expect(result.eligible).toBe(eligible);
    if (typeof reason === 'string') expect(result.reason).toBe(reason);
    else expect(result.reason).toMatch(reason);
  });

  it.each([...HARDWARE_FAULTS])('a %s fault is a hardware fault', (faultKind) => {
    expect(isEligibleForReplacement({ coverage: covered(null), faultKind, at: at('2026-06-01T10:00:00Z') }).eligible).toBe(true);
  });

  it('is also exported from the lifecycle module', () => {
    expect(fromLifecycle).toBe(isEligibleForReplacement);
  });
});
