import { describe, expect, it } from 'vitest';
import { sign, verify } from '../../src/webhooks/signature.js';

const secret = 'topsecret';
const ts = 1_700_000_000_000;
const body = '{"a":1}';
// printf '%s' '1700000000000.{"a":1}' | openssl dgst -sha256 -hmac topsecret
const expected = 'sha256=2a3831e0fc44857c34e04ab357ae7828bb8cc5f6555aad6c7e98008343a7dd92';

describe('webhook signature', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>", as openssl computes it', () => {
    expect(sign(secret, ts, body)).toBe(expected);
    expect(sign(secret, ts, Buffer.from(body))).toBe(expected);
  });

  it('verifies with the secret, the header values as strings, within 5 minutes', () => {
    expect(verify(secret, String(ts), body, expected, { now: ts })).toBe(true);
    expect(verify(secret, ts, body, expected, { now: ts + 5 * 60_000 })).toBe(true);
    expect(verify(secret, ts, body, expected, { now: ts - 5 * 60_000 })).toBe(true);
    expect(verify(secret, ts, body, expected.toUpperCase().replace('SHA256=', 'sha256='), { now: ts })).toBe(true);
  });

  it.each([
    ['another secret', 'othersecret', String(ts), body, expected],
    ['a changed body', secret, String(ts), '{"a":2}', expected],
    ['a changed timestamp', secret, String(ts + 1), body, expected],
    ['no signature', secret, String(ts), body, undefined],
    ['no timestamp', secret, undefined, body, expected],
    ['a timestamp that is not a number', secret, '17e11', body, expected],
    ['a signature without the prefix', secret, String(ts), body, expected.slice('sha256='.length)],
    ['a truncated signature', secret, String(ts), body, expected.slice(0, -2)],
    ['trailing garbage', secret, String(ts), body, `${expected}zz`],
    ['a repeated header', secret, String(ts), body, [expected, expected]],
  ])('rejects %s', (_what, s, t, b, sig) => {
    expect(verify(s, t, b, sig, { now: ts })).toBe(false);
  });

  it('rejects a replay older than 5 minutes, and a timestamp too far ahead', () => {
    expect(verify(secret, ts, body, expected, { now: ts + 5 * 60_000 + 1 })).toBe(false);
    expect(verify(secret, ts, body, expected, { now: ts - 5 * 60_000 - 1 })).toBe(false);
    expect(verify(secret, ts, body, expected, { now: ts + 60 * 60_000, toleranceMs: 2 * 60 * 60_000 })).toBe(true);
  });
});
