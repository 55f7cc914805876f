// What happens to a delivery after an attempt: a pure function of the attempt's result, the number of
// attempts made and the policy, so the dispatcher only carries out the decision.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubled after each further one. */
  baseDelayMs: number;
  /** Spread of the wait, ± this fraction (0.2 = ±20 %), so many deliveries failing together don't retry together. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, jitter: 0.2 };

/** An attempt's result: the HTTP status when there was an answer, else null (network error, timeout). */
export interface AttemptResult {
  status: number | null;
}

export type Decision =
  | { kind: 'delivered' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed'; reason: 'rejected' | 'exhausted' };

/** 2xx is delivered; 408 (timeout) and 429 (slow down) are the 4xx worth another try. */
export function isRetryable(status: number | null): boolean {
  if (status === null) return true;
  if (status >= 400 && status < 500) return status === 408 || status === 429;
  return true;
}

/** baseDelay * 2^(attempt-1), spread by ±jitter. `random` in [0, 1). */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'jitter'>, random: () => number = Math.random): number {
  const nominal = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  return Math.max(0, Math.round(nominal * (1 + policy.jitter * (2 * random() - 1))));
}

/** `attempts` counts the attempt just made. */
export function decide(result: AttemptResult, attempts: number, policy: RetryPolicy, random: () => number = Math.random): Decision {
  if (result.status !== null && result.status >= 200 && result.status < 300) return { kind: 'delivered' };
  if (!isRetryable(result.status)) return { kind: 'failed', reason: 'rejected' };
  if (attempts >= policy.maxAttempts) return { kind: 'failed', reason: 'exhausted' };
  return { kind: 'retry', delayMs: retryDelayMs(attempts, policy, random) };
}
