import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../alerting/audit/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('is the same text whatever the key insertion order', () => {
    const a = canonicalJson({ one: 1, two: { x: 1, y: 2 }, three: [1, 2] });
    const b = canonicalJson({ three: [1, 2], two: { y: 2, x: 1 }, one: 1 });
    expect(a).toBe(b);
  });

  it('sorts by UTF-16 code units like RFC 8785', () => {
    // 'Z' (0x5a) < 'a' (0x61) < 'é' (0xe9) < '😀' (surrogates 0xd83d…) < 'ﬀ' (0xfb00)
    expect(canonicalJson({ ﬀ: 5, '😀': 4, é: 3, a: 2, Z: 1 })).toBe('{"Z":1,"a":2,"é":3,"😀":4,"ﬀ":5}');
  });

  it('applies JSON semantics first: toJSON, dropped undefined, non-finite numbers as null', () => {
    expect(canonicalJson({ at: new Date(0), gone: undefined, n: Number.NaN, inf: Infinity, arr: [undefined, -0, 1e21] })).toBe(
      '{"arr":[null,0,1e+21],"at":"1970-01-01T00:00:00.000Z","inf":null,"n":null}',
    );
    expect(canonicalJson('a"b\n\u2028')).toBe(JSON.stringify('a"b\n\u2028'));
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });
});
