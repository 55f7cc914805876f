// Canonical JSON: one byte sequence per JSON value, so a hash over it is stable across processes,
// versions and databases. Object keys are sorted by UTF-16 code units, no whitespace, strings and
// numbers exactly as JSON.stringify writes them. For the values the audit log stores (strings,
// finite numbers, booleans, null, arrays, plain objects) this is the JSON Canonicalization Scheme
// (RFC 8785), so an auditor can re-check the chain with any JCS library.

/**
 * Canonical JSON text of a value. The value first goes through JSON semantics (toJSON(), e.g. Date
 * -> ISO string; undefined properties dropped; NaN/Infinity -> null), exactly what JSON.stringify
 * would keep. Throws TypeError for values JSON cannot hold (bigint, cycles, a bare undefined).
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return serialize(JSON.parse(text) as unknown);
}

/** Serializes a value that is already plain JSON (as JSON.parse returns it). */
function serialize(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(serialize).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0) out += ',';
    out += `${JSON.stringify(k)}:${serialize(obj[k])}`;
  }
  return `${out}}`;
}
