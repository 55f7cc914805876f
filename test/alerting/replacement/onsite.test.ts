import { describe, expect, it } from 'vitest';
import {
  ONSITE_PRODUCT_TYPES,
  ONSITE_SERVICE_AREA,
  onsiteEligibility,
  type ProductType,
} from '../../../alerting/replacement/onsite.js';

describe('onsiteEligibility by product type (onsite coverage, in DE)', () => {
  // [product type, eligible, reason]
  const table: Array<[ProductType, boolean, string]> = [
    ['room_system', true, 'onsite visit: room system with onsite coverage in DE'],
    ['video_bar', true, 'onsite visit: video bar with onsite coverage in DE'],
    ['conference_phone', true, 'onsite visit: conference phone with onsite coverage in DE'],
    ['desk_phone', false, 'no onsite visit: a desk phone is swapped by mail'],
    ['controller', false, 'no onsite visit: a controller is swapped by mail'],
    ['headset', false, 'no onsite visit: a headset is swapped by mail'],
  ];
  it.each(table)('%s -> eligible %s', (productType, eligible, reason) => {
    expect(onsiteEligibility({ country: 'DE', productType, coverageOnsite: true })).toEqual({ eligible, reason });
  });
});

describe('onsiteEligibility by coverage and country', () => {
  it('needs the onsite option on the coverage', () => {
    expect(onsiteEligibility({ country: 'DE', productType: 'room_system', coverageOnsite: false })).toEqual({
      eligible: false,
      reason: 'no onsite visit: coverage has no onsite option',
    });
  });

  it('refuses a country outside the service area', () => {
    expect(onsiteEligibility({ country: 'BR', productType: 'video_bar', coverageOnsite: true })).toEqual({
      eligible: false,
      reason: 'no onsite visit: BR is outside the onsite service area',
    });
  });

  it('lists every unmet condition at once', () => {
    expect(onsiteEligibility({ country: 'br', productType: 'headset', coverageOnsite: false }).reason).toBe(
      'no onsite visit: coverage has no onsite option; a headset is swapped by mail; BR is outside the onsite service area',
    );
  });

  it.each([...ONSITE_SERVICE_AREA])('serves %s', (country) => {
    expect(onsiteEligibility({ country: country.toLowerCase(), productType: 'room_system', coverageOnsite: true }).eligible).toBe(true);
  });

  it('publishes its data', () => {
    expect(ONSITE_PRODUCT_TYPES).toEqual(['video_bar', 'room_system', 'conference_phone']);
    expect(ONSITE_SERVICE_AREA).toEqual(expect.arrayContaining(['DE', 'GB', 'FR', 'NL', 'US', 'CA', 'JP', 'AU']));
  });
});
