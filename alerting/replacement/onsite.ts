// Whether a replacement is installed by an onsite visit instead of being swapped by mail.
// Three conditions, all needed: the coverage has the onsite option, the product is one a
// technician installs (room systems, video bars, conference phones; small devices such as
// headsets, desk phones and controllers are swapped by mail), and the site is in the service area.

export type ProductType = 'video_bar' | 'room_system' | 'desk_phone' | 'conference_phone' | 'controller' | 'headset';

/** Products installed onsite. */
export const ONSITE_PRODUCT_TYPES: readonly ProductType[] = ['video_bar', 'room_system', 'conference_phone'];

/**
 * Countries (ISO 3166-1 alpha-2) where onsite visits are offered. Data, not logic: keep it in line
 * with the service-area list in the Poly+ terms the partner sells.
 */
export const ONSITE_SERVICE_AREA: readonly string[] = ['DE', 'GB', 'FR', 'NL', 'US', 'CA', 'JP', 'AU'];

export interface OnsiteInput {
  country: string;
  productType: ProductType;
  coverageOnsite: boolean;
}

const LABEL: Readonly<Record<ProductType, string>> = {
  video_bar: 'video bar',
  room_system: 'room system',
  desk_phone: 'desk phone',
  conference_phone: 'conference phone',
  controller: 'controller',
  headset: 'headset',
};

/** Lists every unmet condition, so one answer tells the partner everything that is missing. */
export function onsiteEligibility(input: OnsiteInput): { eligible: boolean; reason: string } {
  const country = input.country.trim().toUpperCase();
  const product = LABEL[input.productType];
  const missing: string[] = [];
  if (!input.coverageOnsite) missing.push('coverage has no onsite option');
  if (!ONSITE_PRODUCT_TYPES.includes(input.productType)) missing.push(`a ${product} is swapped by mail`);
  if (!ONSITE_SERVICE_AREA.includes(country)) missing.push(`${country} is outside the onsite service area`);
  if (missing.length > 0) return { eligible: false, reason: `no onsite visit: ${missing.join('; ')}` };
  return { eligible: true, reason: `onsite visit: ${product} with onsite coverage in ${country}` };
}
