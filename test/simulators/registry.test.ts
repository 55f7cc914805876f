import { describe, expect, it } from 'vitest';
import { parseRegistryDevices } from '../../simulators/registry.js';

describe('parseRegistryDevices', () => {
  it('reads devices (with their site and its customer) from JSON and YAML, ignoring everything else', () => {
    const json = JSON.stringify({
      partners: [{ id: 'p' }],
      sites: [{ id: 's', customerId: 'c', name: 'HQ' }],
      devices: [
        { id: '8L2129E0A1B2', model: 'Studio X50', siteId: 's', coverage: { plan: 'poly-plus' } },
        { id: 'NOSITE', model: 'TC10', siteId: 'elsewhere' },
      ],
    });
    expect(parseRegistryDevices(json, 'a.json', 'json')).toEqual([
      { id: '8L2129E0A1B2', model: 'Studio X50', siteId: 's', customerId: 'c' },
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
