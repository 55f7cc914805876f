/**
 * A small catalog of Poly models with plausible firmware and value ranges.
 * Every range is a hard bound: a simulated device never reports a value outside it (tests rely on that);
 * where inside the range a device idles is derived per device in device.ts.
 */
import type { PeripheralKind, Platform } from './protocol.js';
import type { Prng } from './prng.js';

export interface Range {
  readonly min: number;
  readonly max: number;
}

export type ModelFamily = 'video' | 'phone' | 'controller' | 'other';

export interface PeripheralSpec {
  readonly kind: PeripheralKind;
  readonly model: string;
  /** Share of devices of this model that have it attached (default 1: built in or always there). */
  readonly share?: number;
}

export interface ModelSpec {
  readonly name: string;
  readonly family: ModelFamily;
  /** Newest first; devices mostly run the newest, a tail runs older ones (see pickFirmware). */
  readonly firmware: readonly string[];
  readonly cpuPct: Range;
  readonly memPct: Range;
  readonly tempC: Range;
  /** Absent: the model has no fan and reports no fanRpm. */
  readonly fanRpm?: Range;
  readonly rttMs: Range;
  readonly jitterMs: Range;
  readonly lossPct: Range;
  /** Absent: the model places no calls and reports no `call` object. */
  readonly mos?: Range;
  /** Call starts per hour during local business hours (the daily pattern scales it down elsewhen). */
  readonly callsPerHour: number;
  /** Mean call length in minutes. */
  readonly callMinutes: number;
  readonly cloudProviders: readonly Platform[];
  readonly peripherals: readonly PeripheralSpec[];
  /** Relative share in generated fleets (no registry). */
  readonly weight: number;
}

// Poly VideoOS builds (Studio X, G7500, TC10) and UC Software builds (CCX, Trio).
const VIDEO_OS = ['4.2.0.360102', '4.1.0.350021', '4.0.1.340023', '3.14.2.330012'] as const;
const UC_CCX = ['9.1.2.0543', '8.2.1.0235', '8.1.3.1301'] as const;
const UC_TRIO = ['8.1.3.0102', '8.0.1.0098', '7.2.4.0221'] as const;

const NET = {
  rttMs: { min: 1, max: 300 },
  jitterMs: { min: 0.1, max: 60 },
  lossPct: { min: 0, max: 10 },
} as const;

const VIDEO = {
  family: 'video',
  firmware: VIDEO_OS,
  cpuPct: { min: 2, max: 95 },
  memPct: { min: 20, max: 92 },
  tempC: { min: 32, max: 82 },
  fanRpm: { min: 1500, max: 5200 },
  ...NET,
  mos: { min: 1, max: 4.5 },
  callsPerHour: 1.2,
  callMinutes: 35,
  cloudProviders: ['teams', 'zoom'],
} as const;

const PHONE = {
  family: 'phone',
  firmware: UC_CCX,
  cpuPct: { min: 1, max: 90 },
  memPct: { min: 25, max: 88 },
  tempC: { min: 26, max: 55 },
  ...NET,
  mos: { min: 1, max: 4.4 },
  callsPerHour: 2.5,
  callMinutes: 6,
  cloudProviders: ['teams', 'zoom'],
} as const;

const TC10: PeripheralSpec = { kind: 'controller', model: 'Poly TC10' };
const DISPLAY: PeripheralSpec = { kind: 'display', model: 'HDMI display' };
const EXPANSION_MIC: PeripheralSpec = { kind: 'microphone', model: 'Poly Expansion Microphone', share: 0.35 };
const HEADSET: PeripheralSpec = { kind: 'headset', model: 'Poly Voyager Focus 2', share: 0.4 };

export const MODELS: readonly ModelSpec[] = [
  {
    ...VIDEO,
    name: 'Studio X30',
    fanRpm: { min: 2000, max: 5600 },
    peripherals: [
      { kind: 'camera', model: 'Studio X30 camera' },
      { kind: 'microphone', model: 'Studio X30 mic array' },
      { kind: 'speaker', model: 'Studio X30 speaker' },
      { ...TC10, share: 0.7 },
      DISPLAY,
    ],
    weight: 8,
  },
  {
    ...VIDEO,
    name: 'Studio X50',
    peripherals: [
      { kind: 'camera', model: 'Studio X50 4K camera' },
      { kind: 'microphone', model: 'Studio X50 mic array' },
      { kind: 'speaker', model: 'Studio X50 stereo speakers' },
      { ...TC10, share: 0.8 },
      DISPLAY,
      EXPANSION_MIC,
    ],
    weight: 10,
  },
  {
    ...VIDEO,
    name: 'Studio X52',
    peripherals: [
      { kind: 'camera', model: 'Studio X52 4K camera' },
      { kind: 'microphone', model: 'Studio X52 mic array' },
      { kind: 'speaker', model: 'Studio X52 stereo speakers' },
      { ...TC10, share: 0.8 },
      DISPLAY,
      EXPANSION_MIC,
    ],
    weight: 6,
  },
  {
    ...VIDEO,
    name: 'Studio X70',
    tempC: { min: 32, max: 85 },
    peripherals: [
      { kind: 'camera', model: 'Studio X70 dual 4K camera' },
      { kind: 'microphone', model: 'Studio X70 mic array' },
      { kind: 'speaker', model: 'Studio X70 stereo speakers' },
      { ...TC10, share: 0.9 },
      DISPLAY,
      { ...DISPLAY, share: 0.6 },
      { ...EXPANSION_MIC, share: 0.5 },
    ],
    weight: 4,
  },
  {
    ...VIDEO,
    name: 'G7500',
    tempC: { min: 30, max: 78 },
    fanRpm: { min: 1200, max: 4800 },
    peripherals: [
      { kind: 'camera', model: 'EagleEye IV 12x' },
      { kind: 'camera', model: 'EagleEye Director II', share: 0.3 },
      { kind: 'microphone', model: 'Poly Ceiling Microphone' },
      { kind: 'speaker', model: 'Room audio (line out)' },
      TC10,
      DISPLAY,
      { ...DISPLAY, share: 0.5 },
    ],
    weight: 5,
  },
  { ...PHONE, name: 'CCX 400', cpuPct: { min: 1, max: 85 }, peripherals: [{ ...HEADSET, share: 0.25 }], weight: 10 },
  { ...PHONE, name: 'CCX 500', peripherals: [HEADSET], weight: 12 },
  {
    ...PHONE,
    name: 'CCX 600',
    peripherals: [{ ...HEADSET, share: 0.5 }, { kind: 'other', model: 'Poly EM60 expansion module', share: 0.2 }],
    weight: 8,
  },
  {
    ...PHONE,
    name: 'Trio C60',
    firmware: UC_TRIO,
    tempC: { min: 26, max: 58 },
    mos: { min: 1, max: 4.5 },
    callsPerHour: 1,
    callMinutes: 30,
    peripherals: [
      { kind: 'microphone', model: 'Trio C60 expansion microphones', share: 0.4 },
      { kind: 'speaker', model: 'Trio C60 speaker' },
    ],
    weight: 7,
  },
  {
    name: 'TC10',
    family: 'controller',
    firmware: VIDEO_OS,
    cpuPct: { min: 1, max: 80 },
    memPct: { min: 25, max: 85 },
    tempC: { min: 26, max: 50 },
    ...NET,
    callsPerHour: 0,
    callMinutes: 0,
    cloudProviders: ['teams', 'zoom'],
    peripherals: [],
    weight: 6,
  },
];

/** "Poly Studio X50", "studio-x50" and "Studio X50" are the same model. */
function modelKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/^poly\s+/, '')
    .replace(/[^a-z0-9]/g, '');
}

const BY_KEY = new Map<string, ModelSpec>(MODELS.map((m) => [modelKey(m.name), m]));

/** Catalog entry for a model name, or undefined. */
export function findModel(name: string): ModelSpec | undefined {
  return BY_KEY.get(modelKey(name));
}

/**
 * Catalog entry for a model name; a model the catalog does not know (a registry may list newer products)
 * is played as a generic device that keeps its name: no fan, no calls, no peripherals.
 */
export function resolveModel(name: string): ModelSpec {
  return (
    findModel(name) ?? {
      name,
      family: 'other',
      firmware: ['1.0.0.0'],
      cpuPct: { min: 1, max: 90 },
      memPct: { min: 20, max: 90 },
      tempC: { min: 25, max: 70 },
      ...NET,
      callsPerHour: 0,
      callMinutes: 0,
      cloudProviders: ['teams', 'zoom'],
      peripherals: [],
      weight: 0,
    }
  );
}

const MODEL_WEIGHTS = MODELS.map((m) => m.weight);

/** A model drawn with the catalog weights, for fleets generated without a registry. */
export function pickModel(rng: Prng): ModelSpec {
  return MODELS[rng.weightedIndex(MODEL_WEIGHTS)] as ModelSpec;
}

/** Most devices are on the newest build, fewer on each older one. */
export function pickFirmware(spec: ModelSpec, rng: Prng): string {
  const weights = spec.firmware.map((_, i) => 0.6 / 2 ** i);
  return spec.firmware[rng.weightedIndex(weights)] ?? '1.0.0.0';
}
