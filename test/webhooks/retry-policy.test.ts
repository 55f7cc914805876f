import { describe, expect, it } from 'vitest';
import { decide, isRetryable, retryDelayMs, type RetryPolicy } from '../../src/webhooks/retry-policy.js';

const policy: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, jitter: 0.2 };
const middle = () => 0.5;

describe('retry policy', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [301, 'retry'],
    [400, 'failed'],
    [401, 'failed'],
    [404, 'failed'],
    [410, 'failed'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [null, 'retry'],
  ] as const)('status %s after the first attempt: %s', (status, kind) => {
    expect(decide({ status }, 1, policy, middle).kind).toBe(kind);
  });

  it('gives up after maxAttempts, and says why', () => {
    expect(decide({ status: 500 }, 7, policy, middle)).toEqual({ kind: 'retry', delayMs: 64_000 });
    expect(decide({ status: 500 }, 8, policy, middle)).toEqual({ kind: 'failed', reason: 'exhausted' });
    expect(decide({ status: null }, 8, policy, middle)).toEqual({ kind: 'failed', reason: 'exhausted' });
    expect(decide({ status: 400 }, 1, policy, middle)).toEqual({ kind: 'failed', reason: 'rejected' });
    expect(decide({ status: 200 }, 8, policy, middle)).toEqual({ kind: 'delivered' });
  });

  it('doubles the wait per attempt: baseDelay * 2^(attempt-1)', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => retryDelayMs(a, policy, middle))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000]);
  });

  it('spreads the wait by ±20 %', () => {
    expect(retryDelayMs(3, policy, () => 0)).toBe(3200);
    expect(retryDelayMs(3, policy, () => 0.999999)).toBe(4800);
    for (let i = 0; i < 1000; i++) {
      const d = retryDelayMs(2, policy);
      expect(d).toBeGreaterThanOrEqual(1600);
      expect(d).toBeLessThanOrEqual(2400);
    }
  });

  it('retries only the 4xx that ask for it', () => {
    expect(isRetryable(408)).toBe(true);
    expect(isRetryable(429)).toBe(true);
    expect(isRetryable(422)).toBe(false);
    expect(isRetryable(502)).toBe(true);
  });
});
