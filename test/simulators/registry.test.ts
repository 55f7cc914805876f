import { describe, expect, it } from 'vitest';
import { utcOffsetMinutes } from '../../simulators/local-time.js';
import { parseRegistryDevices } from '../../simulators/registry.js';

describe('parseRegistryDevices', () => {
  it('reads devices (with their site and its customer) from JSON and YAML, ignoring everything else', () => {
    const json = JSON.stringify({
      partners: [{ id: 'p' }],
      sites: [{ id: 's', customerId: 'c', name: 'HQ', timezone: 'Asia/Tokyo' }],
      devices: [
        { id: '8L2129E0A1B2', model: 'Studio X50', siteId: 's', coverage: { plan: 'poly-plus' } },
        { id: 'NOSITE', model: 'TC10', siteId: 'elsewhere' },
      ],
    });
    expect(parseRegistryDevices(json, 'a.json', 'json')).toEqual([
      { id: '8L2129E0A1B2', model: 'Studio X50', siteId: 's', customerId: 'c', timezone: 'Asia/Tokyo' },
      { id: 'NOSITE', model: 'TC10', siteId: 'elsewhere' },
    ]);
    const yaml = 'devices:\n  - id: A.b-1_2\n    model: CCX 500\n';
    expect(parseRegistryDevices(yaml, 'a.yaml')).toEqual([{ id: 'A.b-1_2', model: 'CCX 500' }]);
  });

  it('explains what is wrong', () => {
    expect(() => parseRegistryDevices('{', 'x.json', 'json')).toThrow(/x.json: not valid JSON/);
    expect(() => parseRegistryDevices('partners: []', 'x.yaml')).toThrow(/x.yaml: invalid registry seed: devices:/);
    expect(() => parseRegistryDevices('devices: [{id: "bad id", model: X}]', 'x.yaml')).toThrow(/devices.0.id: must match/);
    expect(() => parseRegistryDevices('devices: [{id: A}]', 'x.yaml')).toThrow(/devices.0.model/);
    expect(() => parseRegistryDevices('devices: [{id: A, model: X}, {id: A, model: Y}]', 'x.yaml')).toThrow(
      /A appears more than once/,
    );
  });
});

describe('utcOffsetMinutes', () => {
  it('gives the site zone\'s offset on that day, DST included', () => {
    expect(utcOffsetMinutes('Asia/Tokyo', Date.UTC(2026, 0, 15))).toBe(540);
    expect(utcOffsetMinutes('Europe/Berlin', Date.UTC(2026, 0, 15, 12))).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', Date.UTC(2026, 6, 15, 12))).toBe(120);
    expect(utcOffsetMinutes('America/New_York', Date.UTC(2026, 6, 15, 12))).toBe(-240);
    expect(utcOffsetMinutes('Asia/Kolkata', Date.UTC(2026, 6, 15, 12))).toBe(330);
    expect(utcOffsetMinutes('Mars/Olympus_Mons')).toBeUndefined();
  });
});
