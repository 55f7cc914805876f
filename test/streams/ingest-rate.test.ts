// The ingest-rate meter alone, on a clock the test moves: messages come in through IngestEvents as
// the collector emits them, and each closed second gives its count and the rate averaged over a
// sliding window, the series the NOC page draws.
import { afterEach, describe, expect, it } from 'vitest';
import { IngestEvents } from '../../collector/ingest-events.js';
import type { Attribution } from '../../collector/tenant-tags.js';
import { IngestRate, type IngestRateSample } from '../../src/streams/ingest-rate.js';
import { snapshot } from './helpers.js';

const attribution = (partnerId: string): Attribution => ({
  tenant: { deviceId: `${partnerId}-dev`, partnerId, customerId: 'c-1', siteId: 's-1', model: 'Studio X50', coverage: { plan: 'poly-plus', until: null, onsite: false } },
  tagSet: '',
  model: 'Studio X50',
});

let meters: IngestRate[] = [];
afterEach(() => {
  for (const m of meters) m.stop();
  meters = [];
});

/**
 * A meter fed by `deviceCount` devices of partner p-a, each sending a status every `intervalS`
 * seconds (device j in second j of the interval), for `seconds` seconds: the samples, global and p-a.
 */
function run(seconds: number, intervalS: number, deviceCount = 1) {
  let now = 1_700_000_000_000;
  const events = new IngestEvents();
  const meter = new IngestRate(events, { now: () => now }).start();
  meters.push(meter);
  const global: IngestRateSample[] = [];
  const partner: IngestRateSample[] = [];
  meter.onSecond((partnerId, s) => (partnerId === null ? global : partner).push(s));
  for (let second = 0; second < seconds; second++) {
    for (let j = 0; j < deviceCount; j++) if (second % intervalS === j % intervalS) events.emit('status', `d${j}`, attribution('p-a'), snapshot(), undefined, now);
    now += 1000;
    meter.tick();
  }
  return { meter, global, partner };
}

describe('IngestRate', () => {
  it('gives a device reporting every 5 s a steady non-zero averaged rate, where the per-second count drops to 0 between reports', () => {
    const { meter, global, partner } = run(300, 5);
    // The per-second series is what the chart drew: 0 in four seconds of five.
    expect(global.slice(-10).map((s) => s.perSecond)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    // From the first report on, never 0; steady at 1/5 once the history is full.
    for (const series of [global, partner]) {
      expect(series.every((s) => s.avgPerSecond > 0)).toBe(true);
      expect(series.every((s) => s.avgPerSecond <= 0.3)).toBe(true);
      expect(new Set(series.slice(120).map((s) => s.avgPerSecond))).toEqual(new Set([0.2]));
      expect(new Set(series.slice(120).map((s) => s.avgWindowS))).toEqual(new Set([30]));
    }
    // The REST history carries the same samples.
    expect(meter.history(null).slice(-3)).toEqual(global.slice(-3));
    expect(meter.history('p-a').at(-1)).toMatchObject({ perSecond: 0, avgPerSecond: 0.2, avgWindowS: 30 });
  });

  it('stays steady for a few devices on the default 30 s interval', () => {
    const { global } = run(300, 30, 2);
    expect(global.every((s) => s.avgPerSecond > 0)).toBe(true);
    expect(new Set(global.slice(120).map((s) => s.avgPerSecond))).toEqual(new Set([0.067])); // 4 in 60 s
  });

  it('shows a large fleet going quiet within 10 s', () => {
    let now = 1_700_000_000_000;
    const events = new IngestEvents();
    const meter = new IngestRate(events, { now: () => now }).start();
    meters.push(meter);
    const samples: IngestRateSample[] = [];
    meter.onSecond((partnerId, s) => partnerId === null && samples.push(s));
    for (let second = 0; second < 150; second++) {
      if (second < 130) for (let i = 0; i < 200; i++) events.emit('presence', `d${i}`, attribution('p-a'), true, now);
      now += 1000;
      meter.tick();
    }
    expect(samples[129]).toMatchObject({ perSecond: 200, avgPerSecond: 200, avgWindowS: 10 });
    expect(samples[135]!.avgPerSecond).toBe(80); // 4 of the last 10 s
    expect(samples[139]!.avgPerSecond).toBe(0);
  });
});
