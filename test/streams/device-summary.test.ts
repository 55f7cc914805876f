// device.status is a health summary that is sent only when it changes.
import { describe, expect, it } from 'vitest';
import { DeviceSummaryTracker, summarize } from '../../src/streams/device-summary.js';
import { snapshot } from './helpers.js';

describe('summarize', () => {
  it('is ok for a healthy device, with the temperature rounded to the degree', () => {
    expect(summarize(snapshot({ tempC: 45.6 }))).toEqual({
      health: 'ok',
      reasons: [],
      online: true,
      tempC: 46,
      linkUp: true,
      inCall: true,
      cloudRegistered: true,
      peripheralsFailed: 0,
      firmware: '4.1.0.123',
    });
  });

  it.each([
    [{ linkUp: false }, 'link_down'],
    [{ cloudRegistered: false }, 'cloud_unregistered'],
    [{ peripheralsFailed: 1 }, 'peripheral_failed'],
    [{ tempC: 75.5 }, 'overheating'],
  ] as const)('is critical for %o', (extra, reason) => {
    const s = summarize(snapshot(extra));
    expect(s.health).toBe('critical');
    expect(s.reasons).toEqual([reason]);
  });

  it.each([
    [{ lossPct: 5.1 }, 'packet_loss'],
    [{ jitterMs: 41 }, 'jitter_high'],
    [{ rttMs: 301 }, 'latency_high'],
    [{ mos: 3.4 }, 'poor_call_quality'],
  ] as const)('is degraded for %o', (extra, reason) => {
    const s = summarize(snapshot(extra));
    expect(s.health).toBe('degraded');
    expect(s.reasons).toEqual([reason]);
  });

  it('is ok at the limits, ignores MOS outside calls and counts unreported values as fine', () => {
    expect(summarize(snapshot({ tempC: 75, lossPct: 5, jitterMs: 40, rttMs: 300, mos: 3.5 })).health).toBe('ok');
    expect(summarize(snapshot({ inCall: false, mos: 1 })).health).toBe('ok');
    const bare = summarize(snapshot({ tempC: undefined, linkUp: undefined, cloudRegistered: undefined, peripheralsFailed: undefined, inCall: undefined, mos: undefined }));
    expect(bare).toMatchObject({ health: 'ok', tempC: null, linkUp: null, cloudRegistered: null, peripheralsFailed: null, inCall: null });
  });

  it('critical wins over degraded, and lists every reason', () => {
    const s = summarize(snapshot({ linkUp: false, lossPct: 30 }));
    expect(s.health).toBe('critical');
    expect(s.reasons).toEqual(['link_down', 'packet_loss']);
  });
});

describe('DeviceSummaryTracker', () => {
  it('sends a summary only when it changed', () => {
    const t = new DeviceSummaryTracker();
    expect(t.status('D1', snapshot({ cpuPct: 10 })).summary?.health).toBe('ok');
    // Raw values that are not part of the summary, or round to the same degree: nothing.
    expect(t.status('D1', snapshot({ cpuPct: 80, seq: 2 })).summary).toBeUndefined();
    expect(t.status('D1', snapshot({ tempC: 44.8, seq: 3 })).summary).toBeUndefined();
    expect(t.status('D1', snapshot({ tempC: 46.2 })).summary?.tempC).toBe(46);
    expect(t.status('D1', snapshot({ tempC: 46.2, lossPct: 9 })).summary?.health).toBe('degraded');
    expect(t.status('D1', snapshot({ tempC: 46.2, lossPct: 9 })).summary).toBeUndefined();
    // Another device has its own summary.
    expect(t.status('D2', snapshot({ tempC: 46.2, lossPct: 9 })).summary).toBeDefined();
  });

  it('follows presence: offline is critical, a status brings the device back', () => {
    const t = new DeviceSummaryTracker();
    t.status('D1', snapshot());
    const off = t.presence('D1', false);
    expect(off.presenceChanged).toBe(true);
    expect(off.summary).toMatchObject({ online: false, health: 'critical', reasons: ['offline'] });
    expect(t.presence('D1', false)).toEqual({ presenceChanged: false, summary: undefined });
    const back = t.status('D1', snapshot());
    expect(back.presenceChanged).toBe(true);
    expect(back.summary).toMatchObject({ online: true, health: 'ok', reasons: [] });
    // Presence of a device never seen: announced, no summary yet.
    expect(t.presence('D9', true)).toEqual({ presenceChanged: true, summary: undefined });
  });

  it('is bounded', () => {
    const t = new DeviceSummaryTracker(100);
    for (let i = 0; i < 1000; i++) t.status(`D${i}`, snapshot());
    expect(t.size).toBe(100);
    expect(t.get('D999')).toBeDefined();
    expect(t.get('D0')).toBeUndefined();
  });
});
