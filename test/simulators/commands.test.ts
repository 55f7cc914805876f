// How a simulated device answers commands: the plans (pure), checked against the contract with the
// collector's own decoders, so the service accepts every reply and event the simulator sends.
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../collector/decode-event.js';
import { decodeReply } from '../../collector/decode-reply.js';
import { Rejection } from '../../collector/rejection.js';
import { parseCommand, planCommand, type CommandAction } from '../../simulators/commands.js';
import { SimDevice } from '../../simulators/device.js';
import type { ReplyPayload } from '../../simulators/protocol.js';

const device = (id = 'SIM000001', seed = 1) => {
  const d = new SimDevice({ id, model: 'Studio X50', seed });
  d.nextStatus(1_700_000_000_000);
  return d;
};
const diag = (id: string, params: Record<string, unknown>) => ({ id, type: 'diagnostics', params });

function replies(actions: CommandAction[]): ReplyPayload[] {
  return actions.flatMap((a) => (a.kind === 'reply' ? [a.reply] : []));
}

/** Every reply is one the collector accepts, seq runs 0..n-1, only the last is final, times never go back. */
function checkShape(actions: CommandAction[], commandId: string): ReplyPayload[] {
  const rs = replies(actions);
  expect(rs.length).toBeGreaterThan(0);
  rs.forEach((r, i) => {
    const decoded = decodeReply(Buffer.from(JSON.stringify(r)));
    expect(decoded).not.toBeInstanceOf(Rejection);
    expect(r.commandId).toBe(commandId);
    expect(r.seq).toBe(i);
    expect(r.final).toBe(i === rs.length - 1);
    if (!r.final) expect(r.status).toBe('running');
  });
  for (let i = 1; i < actions.length; i++) expect(actions[i]!.atMs).toBeGreaterThanOrEqual(actions[i - 1]!.atMs);
  return rs;
}

describe('parseCommand', () => {
  it('takes {"id","type","params"} and nothing else', () => {
    expect(parseCommand('{"id":"c1","type":"reboot"}')).toEqual({ id: 'c1', type: 'reboot', params: {} });
    expect(parseCommand(Buffer.from('{"id":"c2","type":"diagnostics","params":{"tool":"ping","target":"a.example"}}'))).toEqual(
      diag('c2', { tool: 'ping', target: 'a.example' }),
    );
    for (const bad of ['not json', '[]', 'null', '{"type":"reboot"}', '{"id":"","type":"reboot"}', '{"id":"x","type":3}', `{"id":"${'x'.repeat(129)}","type":"reboot"}`]) {
      expect(parseCommand(bad)).toBeUndefined();
    }
  });
});

describe('diagnostics answers', () => {
  it('ping: one reply per echo ({seq, rttMs, ttl}), one second apart by default, then the summary', () => {
    const actions = planCommand(device(), diag('p1', { tool: 'ping', target: 'teams.microsoft.com', count: 5 }));
    const rs = checkShape(actions, 'p1');
    expect(rs).toHaveLength(6);
    const echoes = rs.slice(0, 5).map((r) => r.data);
    echoes.forEach((e, i) => {
      expect(e.seq).toBe(i);
      if (!e.lost) {
        expect(e.rttMs).toBeGreaterThan(0);
        expect(e.ttl).toBeGreaterThan(40);
      }
    });
    // one echo a second
    const times = actions.slice(0, 5).map((a) => a.atMs);
    for (let i = 1; i < 5; i++) expect(times[i]! - times[i - 1]!).toBe(1000);
    const rtts = echoes.filter((e) => !e.lost).map((e) => e.rttMs as number);
    const final = rs[5]!;
    expect(final.status).toBe('ok');
    expect(final.data).toMatchObject({ sent: 5, received: rtts.length, rttMinMs: Math.min(...rtts), rttMaxMs: Math.max(...rtts) });
    expect(final.data.lossPct).toBeCloseTo(((5 - rtts.length) / 5) * 100, 1);
    expect(final.data.rttAvgMs as number).toBeGreaterThanOrEqual(Math.min(...rtts));
    expect(final.data.rttAvgMs as number).toBeLessThanOrEqual(Math.max(...rtts));
  });

  it('ping: 4 echoes by default; timings scale with replyDelayMs', () => {
    const slow = planCommand(device(), diag('p2', { tool: 'ping', target: '10.0.0.1' }));
    const fast = planCommand(device(), diag('p2', { tool: 'ping', target: '10.0.0.1' }), { replyDelayMs: 10 });
    expect(replies(slow)).toHaveLength(5);
    expect(replies(fast).map((r) => r.data)).toEqual(replies(slow).map((r) => r.data)); // same values, other pace
    expect(fast.at(-1)!.atMs).toBeLessThan(50);
    expect(slow.at(-1)!.atMs).toBeGreaterThan(3000);
  });

  it('is deterministic: same seed and command id, same answer; another id, other values', () => {
    const cmd = diag('same', { tool: 'ping', target: 'zoom.us', count: 3 });
    expect(planCommand(device(), cmd)).toEqual(planCommand(device(), cmd));
    const other = planCommand(device(), { ...cmd, id: 'other' });
    expect(replies(other).map((r) => r.data.rttMs)).not.toEqual(replies(planCommand(device(), cmd)).map((r) => r.data.rttMs));
    expect(planCommand(device('SIM000001', 2), cmd)).not.toEqual(planCommand(device('SIM000001', 1), cmd));
  });

  it('traceroute: one reply per hop ({hop, host, rttMs}), 5 to 10 hops, then the summary', () => {
    const counts = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const rs = checkShape(planCommand(device(), diag(`t${i}`, { tool: 'traceroute', target: 'example.com' })), `t${i}`);
      const hops = rs.slice(0, -1).map((r) => r.data);
      expect(hops.length).toBeGreaterThanOrEqual(5);
      expect(hops.length).toBeLessThanOrEqual(10);
      counts.add(hops.length);
      hops.forEach((h, k) => {
        expect(h.hop).toBe(k + 1);
        expect(typeof h.host).toBe('string');
        expect(h.rttMs === null || (typeof h.rttMs === 'number' && h.rttMs > 0)).toBe(true);
      });
      expect(hops[0]!.host).toMatch(/^10\.\d+\.\d+\.1$/); // the device's gateway first
      expect(rs.at(-1)!.data).toMatchObject({ hops: hops.length, reached: true, destination: hops.at(-1)!.host });
    }
    expect(counts.size).toBeGreaterThan(2);
  });

  it('dns: the A and AAAA queries as steps, then {addresses}; a name always resolves to the same addresses', () => {
    const rs = checkShape(planCommand(device(), diag('d1', { tool: 'dns', target: 'api.example.com' })), 'd1');
    expect(rs.slice(0, -1).map((r) => r.data.query)).toEqual(['A', 'AAAA']);
    const final = rs.at(-1)!.data;
    expect(final.addresses).toEqual([...(rs[0]!.data.answers as string[]), ...(rs[1]!.data.answers as string[])]);
    expect((final.addresses as string[]).length).toBeGreaterThan(0);
    const again = replies(planCommand(device('SIM000002'), diag('d2', { tool: 'dns', target: 'API.example.com' })));
    expect(again.at(-1)!.data.addresses).toEqual(final.addresses);
    const ptr = replies(planCommand(device(), diag('d3', { tool: 'dns', target: '8.8.8.8' })));
    expect(ptr.map((r) => r.data.query)).toEqual(['PTR', undefined]);
    expect(ptr.at(-1)!.data.addresses).toEqual(['8.8.8.8']);
  });

  it('bandwidth: download and upload progress, then {downMbps, upMbps}', () => {
    const rs = checkShape(planCommand(device(), diag('b1', { tool: 'bandwidth', target: 'speed.example.net' })), 'b1');
    const steps = rs.slice(0, -1).map((r) => r.data);
    expect(steps.map((s) => `${String(s.phase)}:${String(s.progressPct)}`)).toEqual([
      'download:33', 'download:66', 'download:100', 'upload:33', 'upload:66', 'upload:100',
    ]);
    expect(rs.at(-1)!.data).toMatchObject({ downMbps: steps[2]!.mbps, upMbps: steps[5]!.mbps });
    expect(rs.at(-1)!.data.downMbps as number).toBeGreaterThan(10);
  });

  it('port: only the final answer {open}; the same target and port give the same answer', () => {
    const rs = checkShape(planCommand(device(), diag('o1', { tool: 'port', target: 'sip.example.com', port: 5061 })), 'o1');
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ final: true, status: 'ok', data: { port: 5061 } });
    expect(typeof rs[0]!.data.open).toBe('boolean');
    expect(replies(planCommand(device('X2'), diag('o2', { tool: 'port', target: 'sip.example.com', port: 5061 })))[0]!.data.open).toBe(rs[0]!.data.open);
  });

  it.each([
    ['an unknown tool', { tool: 'nmap', target: 'example.com' }, 'unknown_tool'],
    ['no tool', { target: 'example.com' }, 'bad_params'],
    ['a target with a shell character', { tool: 'ping', target: 'a.com;reboot' }, 'bad_params'],
    ['port without a port', { tool: 'port', target: 'example.com' }, 'bad_params'],
    ['a name that never resolves', { tool: 'ping', target: 'nothing.invalid' }, 'unknown_host'],
  ])('%s: a final reply with status error', (_what, params, code) => {
    const rs = checkShape(planCommand(device(), diag('e1', params)), 'e1');
    expect(rs.at(-1)).toMatchObject({ final: true, status: 'error', data: { error: code } });
    expect(typeof rs.at(-1)!.data.message).toBe('string');
  });

  it('dns of a name that does not exist: the query, then an error', () => {
    const rs = checkShape(planCommand(device(), diag('e2', { tool: 'dns', target: 'nothing.invalid' })), 'e2');
    expect(rs.map((r) => r.status)).toEqual(['running', 'error']);
    expect(rs[0]!.data.rcode).toBe('NXDOMAIN');
  });
});

describe('reboot, software_update and unknown commands', () => {
  const eventsOf = (actions: CommandAction[]) => actions.flatMap((a) => (a.kind === 'event' ? [a] : []));

  it('reboot: accepted, then the device restarts and sends a reboot event', () => {
    const actions = planCommand(device(), { id: 'r1', type: 'reboot', params: {} }, { replyDelayMs: 100 });
    expect(actions.map((a) => a.kind)).toEqual(['reply', 'reboot', 'event']);
    expect(replies(actions)[0]).toEqual({ commandId: 'r1', seq: 0, final: true, status: 'ok', data: { accepted: true } });
    const ev = eventsOf(actions)[0]!;
    expect(decodeEvent(Buffer.from(JSON.stringify({ v: 1, ts: Date.now(), type: ev.type, severity: ev.severity, data: ev.data })), Date.now())).not.toBeInstanceOf(Rejection);
    expect(ev).toMatchObject({ type: 'reboot', data: { reason: 'command' } });
  });

  it('software_update: downloading, installing, done events; the new firmware after the reboot', () => {
    const d = device();
    const actions = planCommand(d, { id: 'u1', type: 'software_update', params: { version: '4.2.0.1', url: 'https://example.com/fw' } }, { replyDelayMs: 10 });
    const updates = eventsOf(actions).filter((e) => e.type === 'software_update');
    expect(updates.map((e) => e.data.state)).toEqual(['downloading', 'installing', 'done']);
    expect(updates[0]!.data).toEqual({ from: d.firmware, to: '4.2.0.1', state: 'downloading' });
    for (const e of eventsOf(actions)) {
      expect(decodeEvent(Buffer.from(JSON.stringify({ v: 1, ts: Date.now(), type: e.type, severity: e.severity, data: e.data })), Date.now())).not.toBeInstanceOf(Rejection);
    }
    const kinds = actions.map((a) => a.kind);
    expect(kinds.indexOf('firmware')).toBeLessThan(kinds.lastIndexOf('event'));
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'firmware', version: '4.2.0.1' }));
    expect(replies(planCommand(d, { id: 'u2', type: 'software_update', params: {} }))[0]).toMatchObject({ status: 'error', final: true });
  });

  it('an unknown command type: a final error reply', () => {
    expect(replies(planCommand(device(), { id: 'x1', type: 'factory_reset', params: {} }))).toEqual([
      { commandId: 'x1', seq: 0, final: true, status: 'error', data: { error: 'unknown_command', message: 'unknown command type "factory_reset"' } },
    ]);
  });
});
