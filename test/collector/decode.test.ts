import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../collector/decode-event.js';
import { decodePresence } from '../../collector/decode-presence.js';
import { decodeReply } from '../../collector/decode-reply.js';
import { decodeStatus } from '../../collector/decode-status.js';
import { eventLine, statusLine, tenantTagSet } from '../../collector/line-protocol.js';
import type { StatusSnapshot } from '../../collector/messages.js';
import { Rejection } from '../../collector/rejection.js';
import { parseTopic } from '../../collector/topic.js';

const NOW = 1_795_475_557_000;
const full = {
  v: 1, ts: NOW, seq: 1234, model: 'Studio X50', firmware: '4.1.0.123',
  uptimeS: 86400, cpuPct: 12.5, memPct: 40.1, tempC: 48.2, fanRpm: 3100,
  network: { link: 'up', ip: '10.1.2.3', rttMs: 23.0, jitterMs: 3.1, lossPct: 0.1 },
  call: { active: true, platform: 'teams', mos: 4.2 },
  cloud: { provider: 'teams', registered: true },
  peripherals: [{ kind: 'camera', model: 'EagleEye Cube', state: 'ok' }, { kind: 'microphone', state: 'failed' }],
  futureField: { anything: 1 },
};
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('decodeStatus', () => {
  it('decodes the contract example, ignoring unknown fields', () => {
    const s = decodeStatus(buf(full), NOW) as StatusSnapshot;
    expect(s).not.toBeInstanceOf(Rejection);
    expect(s).toMatchObject({ ts: NOW, seq: 1234, model: 'Studio X50', firmware: '4.1.0.123', cpuPct: 12.5, linkUp: true, inCall: true, mos: 4.2, cloudProvider: 'teams', cloudRegistered: true, peripheralsFailed: 1, droppedFields: 0 });
  });

  it('accepts the minimal snapshot (a headset reports no fan, camera or network)', () => {
    const s = decodeStatus(buf({ v: 1, ts: NOW, seq: 0, model: 'Voyager Focus 2', firmware: '1.0' }), NOW) as StatusSnapshot;
    expect(s.seq).toBe(0);
    expect(s.fanRpm).toBeUndefined();
    expect(s.peripheralsFailed).toBeUndefined();
  });

  const bad: Array<[string, unknown, string]> = [
    ['not JSON', '{"v":1,', 'not_json'],
    ['an array', [1, 2], 'not_object'],
    ['a string', '"hello"', 'not_object'],
    ['null', 'null', 'not_object'],
    ['no v', { ts: NOW, seq: 1, model: 'm', firmware: 'f' }, 'missing_field'],
    ['v2', { v: 2, ts: NOW, seq: 1, model: 'm', firmware: 'f' }, 'unsupported_version'],
    ['no ts', { v: 1, seq: 1, model: 'm', firmware: 'f' }, 'missing_field'],
    ['ts as text', { v: 1, ts: 'now', seq: 1, model: 'm', firmware: 'f' }, 'bad_field'],
    ['ts in 1970', { v: 1, ts: 1000, seq: 1, model: 'm', firmware: 'f' }, 'ts_out_of_range'],
    ['ts next week', { v: 1, ts: NOW + 7 * 86400_000, seq: 1, model: 'm', firmware: 'f' }, 'ts_out_of_range'],
    ['no seq', { v: 1, ts: NOW, model: 'm', firmware: 'f' }, 'missing_field'],
    ['negative seq', { v: 1, ts: NOW, seq: -1, model: 'm', firmware: 'f' }, 'bad_field'],
    ['fractional seq', { v: 1, ts: NOW, seq: 1.5, model: 'm', firmware: 'f' }, 'bad_field'],
    ['no model', { v: 1, ts: NOW, seq: 1, firmware: 'f' }, 'missing_field'],
    ['empty model', { v: 1, ts: NOW, seq: 1, model: '', firmware: 'f' }, 'bad_field'],
    ['no firmware', { v: 1, ts: NOW, seq: 1, model: 'm' }, 'missing_field'],
    ['firmware with a newline', { v: 1, ts: NOW, seq: 1, model: 'm', firmware: 'a\nb' }, 'bad_field'],
  ];
  it.each(bad)('rejects %s', (_name, payload, code) => {
    const r = decodeStatus(buf(payload), NOW);
    expect(r).toBeInstanceOf(Rejection);
    expect((r as Rejection).code).toBe(code);
    expect((r as Rejection).message.length).toBeGreaterThan(5);
  });

  it('rejects a payload over 64 KiB without parsing it', () => {
    const big = Buffer.alloc(64 * 1024 + 1, 0x20);
    expect((decodeStatus(big, NOW) as Rejection).code).toBe('too_large');
  });

  it('drops only the optional fields with a wrong type', () => {
    const s = decodeStatus(buf({ ...full, tempC: 'hot', network: { link: 'sideways', rttMs: 5 }, peripherals: [{ kind: 'camera', state: 'on fire' }] }), NOW) as StatusSnapshot;
    expect(s.tempC).toBeUndefined();
    expect(s.linkUp).toBeUndefined();
    expect(s.rttMs).toBe(5);
    expect(s.peripherals).toEqual([]);
    expect(s.droppedFields).toBe(3);
  });
});

describe('line protocol', () => {
  const tags = tenantTagSet({ partner: 'p-acme', customer: 'c-globex', site: 's-berlin', device: '8L2129E0A1B2', model: 'Studio X50' });

  it('writes the contract schema for device_status, with the device ts in ms', () => {
    const line = statusLine(tags, decodeStatus(buf(full), NOW) as StatusSnapshot);
    expect(line).toBe(
      `device_status,customer=c-globex,device=8L2129E0A1B2,model=Studio\\ X50,partner=p-acme,site=s-berlin ` +
        `seq=1234i,firmware="4.1.0.123",uptime_s=86400i,cpu_pct=12.5,mem_pct=40.1,temp_c=48.2,fan_rpm=3100i,link_up=true,` +
        `rtt_ms=23,jitter_ms=3.1,loss_pct=0.1,in_call=true,mos=4.2,cloud_registered=true,peripherals_failed=1i ${NOW}\n`,
    );
  });

  it('escapes tag values and string fields', () => {
    expect(tenantTagSet({ partner: 'a,b', customer: 'c=d', site: 'e f', device: 'x', model: 'm\\n' })).toBe('customer=c\\=d,device=x,model=m\\\\n,partner=a\\,b,site=e\\ f');
    const e = decodeEvent(buf({ v: 1, ts: NOW, type: 'fault', severity: 'critical', data: { code: 'FAN"1', component: 'fan' } }), NOW);
    expect(eventLine('device=x', e as never)).toBe(`device_event,device=x,severity=critical,type=fault data="{\\"code\\":\\"FAN\\\\\\"1\\",\\"component\\":\\"fan\\"}",code="FAN\\"1",component="fan" ${NOW}\n`);
  });
});

describe('topics, events, presence, replies', () => {
  it('parses device topics and rejects the rest', () => {
    expect(parseTopic('poly/v1/devices/8L2129E0A1B2/status')).toEqual({ deviceId: '8L2129E0A1B2', kind: 'status' });
    expect((parseTopic('poly/v1/devices/x/firmware') as Rejection).code).toBe('unknown_topic');
    expect((parseTopic('poly/v1/devices/x/status/extra') as Rejection).code).toBe('unknown_topic');
    expect((parseTopic('poly/v1/other') as Rejection).code).toBe('unknown_topic');
    expect((parseTopic('poly/v1/devices/bad id!/status') as Rejection).code).toBe('bad_device_id');
    expect((parseTopic(`poly/v1/devices/${'a'.repeat(65)}/status`) as Rejection).code).toBe('bad_device_id');
  });

  it('checks events against the contract', () => {
    expect(decodeEvent(buf({ v: 1, ts: NOW, type: 'reboot', severity: 'info' }), NOW)).toMatchObject({ type: 'reboot', data: {} });
    expect((decodeEvent(buf({ v: 1, ts: NOW, type: 'explode', severity: 'info' }), NOW) as Rejection).code).toBe('bad_field');
    expect((decodeEvent(buf({ v: 1, ts: NOW, type: 'reboot' }), NOW) as Rejection).code).toBe('missing_field');
  });

  it('accepts an old retained presence but not a bad state', () => {
    expect(decodePresence(buf({ state: 'offline', ts: NOW - 90 * 86400_000 }), NOW)).toEqual({ state: 'offline', ts: NOW - 90 * 86400_000 });
    expect((decodePresence(buf({ state: 'gone', ts: NOW }), NOW) as Rejection).code).toBe('bad_field');
  });

  it('checks replies', () => {
    expect(decodeReply(buf({ commandId: 'c1', seq: 0, final: true, status: 'ok', data: { rttMs: 3 } }))).toMatchObject({ commandId: 'c1', final: true });
    expect((decodeReply(buf({ commandId: 'c1', seq: 0, status: 'maybe' })) as Rejection).code).toBe('bad_field');
  });
});
