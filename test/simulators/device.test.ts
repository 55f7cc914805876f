import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SimDevice, dailyCallFactor, mosFor, presence } from '../../simulators/device.js';
import { MODELS, findModel, resolveModel } from '../../simulators/models.js';
import { Prng, mulberry32 } from '../../simulators/prng.js';
import type { StatusSnapshot } from '../../simulators/protocol.js';

// The status snapshot of CONTRACT section 1, strictly: enums closed, required fields required.
const platform = z.enum(['teams', 'zoom', 'webex', 'sip', 'none']);
const Snapshot = z
  .object({
    v: z.literal(1),
    ts: z.number().int(),
    seq: z.number().int().nonnegative(),
    model: z.string().min(1),
    firmware: z.string().regex(/^\d+(\.\d+)+$/),
    uptimeS: z.number().int().nonnegative(),
    cpuPct: z.number(),
    memPct: z.number(),
    tempC: z.number(),
    fanRpm: z.number().int().optional(),
    network: z
      .object({
        link: z.enum(['up', 'down']),
        ip: z.string().regex(/^10\.\d+\.\d+\.\d+$/),
        rttMs: z.number(),
        jitterMs: z.number(),
        lossPct: z.number(),
      })
      .strict(),
    call: z.object({ active: z.boolean(), platform, mos: z.number().optional() }).strict().optional(),
    cloud: z.object({ provider: z.enum(['teams', 'zoom']), registered: z.boolean() }).strict(),
    peripherals: z
      .array(
        z
          .object({
            kind: z.enum(['camera', 'microphone', 'speaker', 'display', 'controller', 'headset', 'other']),
            model: z.string().min(1),
            state: z.enum(['ok', 'degraded', 'failed', 'disconnected']),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

const T0 = Date.UTC(2026, 2, 4, 9, 0, 0); // a Wednesday, 09:00 UTC

function run(dev: SimDevice, n: number, stepMs = 30_000, t0 = T0): StatusSnapshot[] {
  const out: StatusSnapshot[] = [];
  for (let i = 0; i < n; i++) out.push(dev.nextStatus(t0 + i * stepMs));
  return out;
}

function within(v: number | undefined, r: { min: number; max: number }): boolean {
  return v !== undefined && v >= r.min && v <= r.max;
}

describe('prng', () => {
  it('is deterministic and in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });

  it('normal() has mean ~0 and sd ~1', () => {
    const p = new Prng(7);
    const xs = Array.from({ length: 20_000 }, () => p.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('models', () => {
  it('has the catalog models, phones and controller without fan or camera', () => {
    for (const name of ['Studio X30', 'Studio X50', 'Studio X52', 'Studio X70', 'G7500']) {
      const m = findModel(name)!;
      expect(m.family).toBe('video');
      expect(m.fanRpm).toBeDefined();
      expect(m.peripherals.some((p) => p.kind === 'camera')).toBe(true);
    }
    for (const name of ['CCX 400', 'CCX 500', 'CCX 600', 'Trio C60', 'TC10']) {
      const m = findModel(name)!;
      expect(m.fanRpm).toBeUndefined();
      expect(m.peripherals.some((p) => p.kind === 'camera')).toBe(false);
    }
  });

  it('resolves name variants and falls back for unknown models', () => {
    expect(findModel('Poly Studio X50')?.name).toBe('Studio X50');
    expect(findModel('ccx-500')?.name).toBe('CCX 500');
    const unknown = resolveModel('Studio X99');
    expect(unknown.name).toBe('Studio X99');
    expect(unknown.fanRpm).toBeUndefined();
  });
});

describe('SimDevice', () => {
  it('same seed and times give the same snapshots; another seed or id does not', () => {
    const a = run(new SimDevice({ id: 'SIM000001', model: 'Studio X50', seed: 5 }), 200);
    const b = run(new SimDevice({ id: 'SIM000001', model: 'Studio X50', seed: 5 }), 200);
    expect(a).toEqual(b);
    const c = run(new SimDevice({ id: 'SIM000001', model: 'Studio X50', seed: 6 }), 200);
    const d = run(new SimDevice({ id: 'SIM000002', model: 'Studio X50', seed: 5 }), 200);
    expect(c).not.toEqual(a);
    expect(d).not.toEqual(a);
  });

  it('seq starts at 0 and increases by one; ts and uptime follow the clock', () => {
    const snaps = run(new SimDevice({ id: 'X', model: 'CCX 500' }), 50, 30_000);
    snaps.forEach((s, i) => {
      expect(s.seq).toBe(i);
      expect(s.ts).toBe(T0 + i * 30_000);
    });
    expect(snaps[1]!.uptimeS! - snaps[0]!.uptimeS!).toBe(30);
    expect(snaps[0]!.uptimeS).toBeGreaterThanOrEqual(3600);
  });

  it('reboot resets seq and uptime', () => {
    const dev = new SimDevice({ id: 'X', model: 'Studio X30' });
    run(dev, 5);
    dev.reboot(T0 + 200_000);
    const s = dev.nextStatus(T0 + 230_000);
    expect(s.seq).toBe(0);
    expect(s.uptimeS).toBe(30);
  });

  it('every model gives contract-shaped snapshots inside its ranges', () => {
    for (const spec of MODELS) {
      for (let k = 0; k < 3; k++) {
        const dev = new SimDevice({ id: `DEV-${spec.name.replace(/\s/g, '')}-${k}`, model: spec.name, seed: k });
        // two simulated days at 5-minute steps: covers calls, nights and the weekday pattern
        for (const s of run(dev, 576, 300_000)) {
          expect(() => Snapshot.parse(s), `${spec.name}: ${JSON.stringify(s)}`).not.toThrow();
          expect(s.model).toBe(spec.name);
          expect(spec.firmware).toContain(s.firmware);
          expect(within(s.cpuPct, spec.cpuPct)).toBe(true);
          expect(within(s.memPct, spec.memPct)).toBe(true);
          expect(within(s.tempC, spec.tempC)).toBe(true);
          expect(within(s.network?.rttMs, spec.rttMs)).toBe(true);
          expect(within(s.network?.jitterMs, spec.jitterMs)).toBe(true);
          expect(within(s.network?.lossPct, spec.lossPct)).toBe(true);
          if (spec.fanRpm) expect(within(s.fanRpm, spec.fanRpm)).toBe(true);
          else expect(s).not.toHaveProperty('fanRpm');
          if (spec.mos) {
            expect(s.call).toBeDefined();
            if (s.call!.active) {
              expect(within(s.call!.mos, spec.mos)).toBe(true);
              expect(s.call!.platform).toBe(s.cloud!.provider);
            } else {
              expect(s.call).toEqual({ active: false, platform: 'none' });
            }
          } else {
            expect(s).not.toHaveProperty('call');
          }
          if (spec.family !== 'video') expect(s.peripherals?.some((p) => p.kind === 'camera') ?? false).toBe(false);
        }
      }
    }
  });

  it('drifts smoothly: consecutive values are close, but the series does move', () => {
    const dev = new SimDevice({ id: 'SMOOTH', model: 'Studio X70', seed: 3 });
    const snaps = run(dev, 2000, 30_000, Date.UTC(2026, 2, 7, 0, 0, 0)); // Saturday: few calls to shift cpu
    const temps = snaps.map((s) => s.tempC!);
    const steps = temps.slice(1).map((t, i) => Math.abs(t - temps[i]!));
    const meanStep = steps.reduce((a, b) => a + b, 0) / steps.length;
    const range = Math.max(...temps) - Math.min(...temps);
    expect(range).toBeGreaterThan(1);
    // pure noise over the same spread would jump by about a third of the range per step
    expect(meanStep).toBeLessThan(range / 10);
  });

  it('has more calls in business hours than at night', () => {
    const business = { calls: 0, n: 0 };
    const night = { calls: 0, n: 0 };
    for (let k = 0; k < 40; k++) {
      const dev = new SimDevice({ id: `CALL${k}`, model: 'CCX 500', seed: 11 });
      const t0 = Date.UTC(2026, 2, 2, 0, 0, 0); // Monday
      for (const s of run(dev, 5 * 24 * 60, 60_000, t0)) {
        const h = new Date(s.ts).getUTCHours();
        const bucket = h >= 9 && h < 17 ? business : h < 5 ? night : undefined;
        if (!bucket) continue;
        bucket.n++;
        if (s.call?.active) bucket.calls++;
      }
    }
    const pBusiness = business.calls / business.n;
    const pNight = night.calls / night.n;
    expect(pBusiness).toBeGreaterThan(0.1);
    expect(pBusiness).toBeGreaterThan(5 * pNight);
  });

  it('daily factor: weekday office hours full, nights and weekends low', () => {
    expect(dailyCallFactor(Date.UTC(2026, 2, 4, 10))).toBe(1);
    expect(dailyCallFactor(Date.UTC(2026, 2, 4, 3))).toBeLessThan(0.1);
    expect(dailyCallFactor(Date.UTC(2026, 2, 7, 10))).toBeLessThan(0.1); // Saturday
  });

  it('MOS falls with a worse network', () => {
    expect(mosFor(20, 2, 0)).toBeGreaterThan(4.2);
    expect(mosFor(400, 40, 5)).toBeLessThan(mosFor(20, 2, 0) - 1);
  });

  it('presence payload', () => {
    expect(presence('offline', 123)).toEqual({ state: 'offline', ts: 123 });
  });
});
