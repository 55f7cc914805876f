import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BAD_CALL, SimDevice, dailyCallFactor, isBadCall, mosFor, presence } from '../../simulators/device.js';
import { MODELS, findModel, resolveModel } from '../../simulators/models.js';
import { Prng, mulberry32 } from '../../simulators/prng.js';
import type { CallEndedData, StatusSnapshot } from '../../simulators/protocol.js';

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

const CallEnded = z
  .object({
    platform: z.enum(['teams', 'zoom', 'webex', 'sip']),
    durationS: z.number().int().nonnegative(),
    mos: z.number().min(1).max(5),
    mosMin: z.number().min(1).max(5),
    lossPct: z.number().nonnegative(),
    jitterMs: z.number().nonnegative(),
  })
  .strict();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const roundTo = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

describe('call_ended summaries', () => {
  /** Statuses with the summary (if any) each one brought. */
  function play(dev: SimDevice, n: number, stepMs: number, t0 = T0): { snap: StatusSnapshot; ended: CallEndedData | undefined }[] {
    const out = [];
    for (let i = 0; i < n; i++) {
      const snap = dev.nextStatus(t0 + i * stepMs);
      out.push({ snap, ended: dev.takeEndedCall() });
    }
    return out;
  }

  it('one summary per ended call, the averages of the statuses sent during it', () => {
    let calls = 0;
    for (let k = 0; k < 6; k++) {
      // a working day of a busy phone, a status a minute
      const steps = play(new SimDevice({ id: `CALLSUM${k}`, model: 'CCX 500', seed: 4, randomFaults: false }), 10 * 60, 60_000);
      let inCall: StatusSnapshot[] = [];
      for (const { snap, ended } of steps) {
        if (snap.call!.active) {
          expect(ended).toBeUndefined();
          inCall.push(snap);
          continue;
        }
        if (inCall.length === 0) {
          expect(ended).toBeUndefined(); // no call, no summary
          continue;
        }
        // The first status after the call: exactly one summary, of exactly the call's statuses.
        calls++;
        expect(() => CallEnded.parse(ended)).not.toThrow();
        const mos = inCall.map((s) => s.call!.mos!);
        expect(ended!.platform).toBe(inCall[0]!.call!.platform);
        expect(ended!.durationS).toBe((snap.ts - inCall[0]!.ts) / 1000);
        expect(ended!.mos).toBe(roundTo(mean(mos), 2));
        expect(ended!.mosMin).toBe(Math.min(...mos));
        expect(ended!.lossPct).toBe(roundTo(mean(inCall.map((s) => s.network!.lossPct!)), 2));
        expect(ended!.jitterMs).toBe(roundTo(mean(inCall.map((s) => s.network!.jitterMs!)), 1));
        inCall = [];
      }
    }
    expect(calls).toBeGreaterThan(10);
  });

  it('same seed, same summaries', () => {
    const a = play(new SimDevice({ id: 'CS', model: 'Studio X50', seed: 9 }), 600, 60_000).map((x) => x.ended);
    const b = play(new SimDevice({ id: 'CS', model: 'Studio X50', seed: 9 }), 600, 60_000).map((x) => x.ended);
    expect(a).toEqual(b);
    expect(a.filter((x) => x !== undefined).length).toBeGreaterThan(0);
  });

  it("a scenario's call: held until ended, forced values in its summary, bad -> isBadCall", () => {
    const d = new SimDevice({ id: 'FORCED', model: 'Studio X50', seed: 3, randomFaults: false });
    const t0 = Date.UTC(2026, 2, 7, 3, 0, 0); // Saturday night: no call of its own
    d.nextStatus(t0);
    expect(d.callActive).toBe(false);
    expect(d.startCall(t0 + 1000)).toBe(true);
    d.override('lossPct', 8, t0 + 1000);
    d.override('mos', 2.8, t0 + 1000);
    const snaps: StatusSnapshot[] = [];
    // two hours, far longer than a natural call (35 min on average): the call stays up
    for (let i = 1; i <= 240; i++) {
      snaps.push(d.nextStatus(t0 + i * 30_000));
      expect(d.takeEndedCall()).toBeUndefined();
    }
    expect(snaps.every((s) => s.call!.active && s.call!.mos === 2.8 && s.network!.lossPct === 8)).toBe(true);
    expect(d.endCall(t0 + 7_201_000)).toBe(true);
    const c = d.takeEndedCall()!;
    expect(c).toEqual({
      platform: d.provider,
      durationS: 7200,
      mos: 2.8,
      mosMin: 2.8,
      lossPct: 8,
      jitterMs: roundTo(mean(snaps.map((s) => s.network!.jitterMs!)), 1),
    });
    expect(isBadCall(c)).toBe(true);
    expect(d.takeEndedCall()).toBeUndefined(); // collected once
    expect(d.nextStatus(t0 + 7_230_000).call).toEqual({ active: false, platform: 'none' });
    expect(d.endCall(t0 + 7_240_000)).toBe(false); // no call to end
  });

  it('a ramped value shows in the summary as the statuses reported it', () => {
    const d = new SimDevice({ id: 'RAMP', model: 'CCX 600', seed: 2, randomFaults: false });
    const t0 = Date.UTC(2026, 2, 7, 3, 0, 0);
    d.startCall(t0);
    d.override('mos', 4.2, t0);
    d.nextStatus(t0);
    d.override('mos', 2.2, t0, 40_000); // 4.2 -> 2.2 over 40 s, a status every 10 s
    const mos = [0, 10, 20, 30, 40].map((s) => d.nextStatus(t0 + (s + 10) * 1000).call!.mos!);
    expect(mos).toEqual([3.7, 3.2, 2.7, 2.2, 2.2]);
    d.endCall(t0 + 60_000);
    const c = d.takeEndedCall()!;
    expect(c.mos).toBe(roundTo(mean([4.2, ...mos]), 2));
    expect(c.mosMin).toBe(2.2);
    expect(c.durationS).toBe(60);
  });

  it('good calls are not bad; each limit alone makes a call bad', () => {
    const good: CallEndedData = { platform: 'teams', durationS: 60, mos: 4.1, mosMin: 3.9, lossPct: 0.2, jitterMs: 5 };
    expect(isBadCall(good)).toBe(false);
    expect(isBadCall({ ...good, mos: BAD_CALL.mosBelow - 0.01 })).toBe(true);
    expect(isBadCall({ ...good, lossPct: BAD_CALL.lossAbove + 0.01 })).toBe(true);
    expect(isBadCall({ ...good, jitterMs: BAD_CALL.jitterAbove + 0.1 })).toBe(true);
    expect(isBadCall({ ...good, mos: 3.5, lossPct: 5, jitterMs: 40 })).toBe(false); // at the limits: fine
  });

  it('a call ended before its first status is summarised from that moment; a reboot loses the call', () => {
    const d = new SimDevice({ id: 'SHORT', model: 'Studio X30', seed: 1, randomFaults: false });
    const t0 = Date.UTC(2026, 2, 7, 3, 0, 0);
    d.nextStatus(t0);
    d.startCall(t0 + 1000);
    d.override('jitterMs', 50, t0 + 1000);
    d.endCall(t0 + 5000);
    const c = d.takeEndedCall()!;
    expect(() => CallEnded.parse(c)).not.toThrow();
    expect(c).toMatchObject({ durationS: 4, jitterMs: 50 });
    expect(c.mosMin).toBe(c.mos);
    expect(isBadCall(c)).toBe(true);

    d.startCall(t0 + 10_000);
    d.nextStatus(t0 + 20_000);
    d.reboot(t0 + 25_000);
    expect(d.callActive).toBe(false);
    expect(d.nextStatus(t0 + 30_000).call!.active).toBe(false);
    expect(d.takeEndedCall()).toBeUndefined();
  });

  it('a call started before the first status goes on; a model without calls ignores a call', () => {
    const d = new SimDevice({ id: 'EARLY', model: 'CCX 400', seed: 1, randomFaults: false });
    const t0 = Date.UTC(2026, 2, 7, 3, 0, 0);
    expect(d.startCall(t0)).toBe(true);
    expect(d.nextStatus(t0 + 10_000).call!.active).toBe(true);
    d.endCall(t0 + 20_000);
    expect(d.takeEndedCall()!.durationS).toBe(20);

    const tc10 = new SimDevice({ id: 'CTRL', model: 'TC10', seed: 1 });
    expect(tc10.startCall(t0)).toBe(false);
    expect(tc10.nextStatus(t0)).not.toHaveProperty('call');
    expect(tc10.endCall(t0 + 1000)).toBe(false);
    expect(tc10.current('mos', t0)).toBeUndefined();
  });
});
