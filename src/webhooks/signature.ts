// How a partner knows a webhook request comes from Fleetwatch and is not a replay.
//
// Every request is a POST with a JSON body (Content-Type: application/json) and these headers:
//
//   X-Fleetwatch-Event:      alert.firing | alert.resolved | ticket.created | ticket.updated
//   X-Fleetwatch-Delivery:   the delivery id (a decimal integer). Unique per webhook and event, and the
//                            same on every retry of that delivery: deduplicate on it (delivery is
//                            at least once, e.g. when an answer got lost or the sender restarted).
//   X-Fleetwatch-Timestamp:  when this attempt was signed, milliseconds since the Unix epoch (each
//                            retry is signed afresh, so a retry is never "old").
//   X-Fleetwatch-Signature:  sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>
//
// The secret is the one shown once when the webhook was created (64 hex characters; the key is that
// text as UTF-8, not the bytes it encodes). To verify:
//   1. Take the raw request body bytes as received (before any JSON parsing or re-serializing).
//   2. Compute HMAC-SHA256 with the secret over  X-Fleetwatch-Timestamp + "." + body.
//   3. Compare "sha256=" + hex(result) with X-Fleetwatch-Signature in constant time.
//   4. Reject the request if the timestamp is more than 5 minutes away from your clock: the signature
//      covers the timestamp, so a captured request cannot be replayed later with a fresh one.
// Answer 2xx once the event is stored. Anything else is retried with exponential backoff, except
// 4xx other than 408 and 429, which mark the delivery failed at once.
//
// Node.js, for example:
//   const ok = verify(secret, req.headers['x-fleetwatch-timestamp'], rawBody, req.headers['x-fleetwatch-signature']);
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_PREFIX = 'sha256=';
/** How far a request's timestamp may be from the receiver's clock (either way). */
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

/** `sha256=` + hex(HMAC_SHA256(secret, `${timestampMs}.${body}`)). */
export function sign(secret: string, timestampMs: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampMs}.`);
  mac.update(body);
  return SIGNATURE_PREFIX + mac.digest('hex');
}

export interface VerifyOptions {
  /** The receiver's clock; default Date.now(). */
  now?: number;
  /** Maximum distance of the timestamp from `now`; default 5 minutes. */
  toleranceMs?: number;
}

/**
 * True when `signature` is the signature of `body` at `timestamp` with `secret`, and the timestamp is
 * within the tolerance of now. Header values can be passed as they come (string, string[] or missing):
 * anything malformed is simply false.
 */
export function verify(
  secret: string,
  timestamp: string | number | string[] | undefined,
  body: string | Buffer,
  signature: string | string[] | undefined,
  opts: VerifyOptions = {},
): boolean {
  if (typeof signature !== 'string' || !signature.startsWith(SIGNATURE_PREFIX)) return false;
  const ts = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' && /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isSafeInteger(ts)) return false;
  const now = opts.now ?? Date.now();
  if (Math.abs(now - ts) > (opts.toleranceMs ?? DEFAULT_TOLERANCE_MS)) return false;
  const hex = signature.slice(SIGNATURE_PREFIX.length);
  // Buffer.from(…, 'hex') would silently stop at a non-hex character: check the shape first.
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = Buffer.from(sign(secret, ts, body).slice(SIGNATURE_PREFIX.length), 'hex');
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}
