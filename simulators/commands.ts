/**
 * How a simulated device answers commands (CONTRACT section 1, "Commands and replies"), as a pure plan:
 * what to publish (replies, events) and what to change on the device (reboot, firmware), each at a time
 * offset from when the command arrived. No I/O, no clock, no Math.random: the same device, command id
 * and seed give the same plan. fleet.ts plays the plans against the broker.
 *
 * - `diagnostics`: ping (one reply per echo, then the summary), traceroute (one per hop, 5-10 hops),
 *   dns (one per query), bandwidth (progress of the download and upload phases), port (the answer
 *   only). An unknown tool, a missing target or port, or a target ending in `.invalid` (RFC 6761)
 *   gets a final reply with status `error`.
 * - `reboot`: accepted (final reply `ok`), then the device restarts (status seq from 0) and sends a
 *   `reboot` event.
 * - `software_update`: accepted, then `software_update` events downloading, installing, a reboot,
 *   done; the status then reports the new firmware.
 * - Any other type: a final reply with status `error`.
 */
import type { SimDevice } from './device.js';
import { hashString, Prng } from './prng.js';
import type { CommandPayload, EventType, ReplyPayload, Severity } from './protocol.js';

export const DEFAULT_REPLY_DELAY_MS = 1000;
export const DEFAULT_PING_COUNT = 4;
const MAX_PING_COUNT = 100;
export const DIAGNOSTIC_TOOLS = ['ping', 'traceroute', 'dns', 'bandwidth', 'port'] as const;

/** How long each kind of step takes, as a multiple of replyDelayMs (ping: one echo per replyDelayMs). */
const PACE = { ping: 1, traceroute: 0.5, dns: 0.15, bandwidth: 1.5, port: 0.3, update: 3 } as const;

export type CommandAction =
  | { atMs: number; kind: 'reply'; reply: ReplyPayload }
  /** An event to publish; fleet.ts stamps `v` and `ts` when it sends it. */
  | { atMs: number; kind: 'event'; type: EventType; severity: Severity; data: Record<string, unknown> }
  | { atMs: number; kind: 'reboot' }
  | { atMs: number; kind: 'firmware'; version: string };

export interface PlanOptions {
  /** Time per step (one ping echo); other tools are scaled from it. Default 1000 ms. */
  replyDelayMs?: number;
  /** Fleet seed (default 1). */
  seed?: number;
}

/** A command from its MQTT payload, or undefined when it is not one (nothing can be replied without an id). */
export function parseCommand(payload: Buffer | string): CommandPayload | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > 128) return undefined;
  if (typeof o.type !== 'string') return undefined;
  const params = o.params !== null && typeof o.params === 'object' && !Array.isArray(o.params) ? (o.params as Record<string, unknown>) : {};
  return { id: o.id, type: o.type, params };
}

/** The plan for one command: actions in time order (atMs non-decreasing, from the command's arrival). */
export function planCommand(device: SimDevice, cmd: CommandPayload, opts: PlanOptions = {}): CommandAction[] {
  const delay = Math.max(0, opts.replyDelayMs ?? DEFAULT_REPLY_DELAY_MS);
  const seed = opts.seed ?? 1;
  const rng = new Prng(hashString(`${device.id}/${cmd.id}`, seed));
  const ctx: Ctx = { device, cmd, delay, seed, rng, actions: [], seq: 0 };
  switch (cmd.type) {
    case 'diagnostics':
      diagnostics(ctx);
      break;
    case 'reboot':
      reboot(ctx);
      break;
    case 'software_update':
      softwareUpdate(ctx);
      break;
    default:
      fail(ctx, 0, 'unknown_command', `unknown command type ${JSON.stringify(cmd.type)}`);
  }
  return ctx.actions;
}

interface Ctx {
  device: SimDevice;
  cmd: CommandPayload;
  delay: number;
  seed: number;
  rng: Prng;
  actions: CommandAction[];
  seq: number;
}

function step(ctx: Ctx, atMs: number, data: Record<string, unknown>): void {
  ctx.actions.push({ atMs: Math.round(atMs), kind: 'reply', reply: { commandId: ctx.cmd.id, seq: ctx.seq++, final: false, status: 'running', data } });
}

function done(ctx: Ctx, atMs: number, data: Record<string, unknown>): void {
  ctx.actions.push({ atMs: Math.round(atMs), kind: 'reply', reply: { commandId: ctx.cmd.id, seq: ctx.seq++, final: true, status: 'ok', data } });
}

function fail(ctx: Ctx, atMs: number, error: string, message: string): void {
  ctx.actions.push({ atMs: Math.round(atMs), kind: 'reply', reply: { commandId: ctx.cmd.id, seq: ctx.seq++, final: true, status: 'error', data: { error, message } } });
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---- diagnostics ----

const TARGET_RE = /^[A-Za-z0-9._:-]{1,253}$/;

function diagnostics(ctx: Ctx): void {
  const { tool, target } = ctx.cmd.params;
  if (typeof tool !== 'string') return fail(ctx, 0, 'bad_params', 'params.tool is missing');
  if (!(DIAGNOSTIC_TOOLS as readonly string[]).includes(tool)) return fail(ctx, 0, 'unknown_tool', `unknown tool ${JSON.stringify(tool)}`);
  if (typeof target !== 'string' || !TARGET_RE.test(target)) return fail(ctx, 0, 'bad_params', 'params.target must be a host name or address');
  const t = target.toLowerCase().replace(/\.$/, '');
  // RFC 6761: .invalid never resolves; a handy way to see the error path.
  if (t === 'invalid' || t.endsWith('.invalid')) {
    if (tool === 'dns') {
      step(ctx, ctx.delay * PACE.dns, { query: 'A', server: gateway(ctx.device), rcode: 'NXDOMAIN', answers: [], rttMs: round(ctx.rng.uniform(3, 25), 1) });
      return fail(ctx, ctx.delay * PACE.dns * 1.2, 'nxdomain', `${target} does not exist (NXDOMAIN)`);
    }
    return fail(ctx, ctx.delay * PACE.dns, 'unknown_host', `cannot resolve ${target}`);
  }
  switch (tool) {
    case 'ping':
      return ping(ctx, target);
    case 'traceroute':
      return traceroute(ctx, target);
    case 'dns':
      return dns(ctx, target);
    case 'bandwidth':
      return bandwidth(ctx, target);
    default:
      return port(ctx, target);
  }
}

function isIpLiteral(target: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(target) || target.includes(':');
}

function isPrivate(target: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.|::1$|fe80:|fd)/i.test(target);
}

function gateway(device: SimDevice): string {
  return device.ip.replace(/\.\d+$/, '.1');
}

/** Stable per target (not per command): the same name resolves to the same addresses every time. */
function targetRng(ctx: Ctx, target: string): Prng {
  return new Prng(hashString(target.toLowerCase(), ctx.seed));
}

function addressesOf(ctx: Ctx, target: string): { v4: string[]; v6: string[] } {
  if (isIpLiteral(target)) return target.includes(':') ? { v4: [], v6: [target] } : { v4: [target], v6: [] };
  const r = targetRng(ctx, target);
  const v4: string[] = [];
  const n4 = r.int(1, 3);
  const a = r.int(20, 210);
  const b = r.int(0, 255);
  const c = r.int(0, 255);
  for (let i = 0; i < n4; i++) v4.push(`${a}.${b}.${c}.${r.int(1, 254)}`);
  const v6 = r.chance(0.7) ? [`2001:db8:${r.int(1, 0xffff).toString(16)}::${r.int(1, 0xffff).toString(16)}`] : [];
  return { v4, v6 };
}

/** Round trip to the target: a few ms inside the network, the device's cloud RTT plus a stable offset outside. */
function baseRtt(ctx: Ctx, target: string): number {
  if (isPrivate(target)) return targetRng(ctx, target).uniform(0.3, 2.5);
  return Math.max(1, ctx.device.networkRttMs) + targetRng(ctx, target).uniform(0, 35);
}

function ping(ctx: Ctx, target: string): void {
  const raw = ctx.cmd.params.count;
  const count = typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 ? Math.min(raw, MAX_PING_COUNT) : DEFAULT_PING_COUNT;
  const base = baseRtt(ctx, target);
  const ttl = isPrivate(target) ? 64 : 64 - targetRng(ctx, target).int(6, 18);
  const lossP = Math.min(0.5, ctx.device.networkLossPct / 100);
  const rtts: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    // One echo per replyDelayMs; each answer comes one round trip after its request.
    at = ctx.delay * PACE.ping * i + Math.min(base, ctx.delay / 2);
    if (ctx.rng.chance(lossP)) {
      step(ctx, at, { seq: i, lost: true });
    } else {
      const rtt = round(base * (1 + 0.12 * Math.abs(ctx.rng.normal())) + ctx.rng.uniform(0, 0.4), 2);
      rtts.push(rtt);
      step(ctx, at, { seq: i, rttMs: rtt, ttl });
    }
  }
  const received = rtts.length;
  const summary: Record<string, unknown> = { sent: count, received, lossPct: round(((count - received) / count) * 100, 1) };
  summary.rttMinMs = received > 0 ? Math.min(...rtts) : null;
  summary.rttAvgMs = received > 0 ? round(rtts.reduce((s, v) => s + v, 0) / received, 2) : null;
  summary.rttMaxMs = received > 0 ? Math.max(...rtts) : null;
  done(ctx, at + Math.max(1, ctx.delay * 0.05), summary);
}

function traceroute(ctx: Ctx, target: string): void {
  const r = ctx.rng;
  const dest = addressesOf(ctx, target);
  const destination = dest.v4[0] ?? dest.v6[0] ?? target;
  const hops = isPrivate(target) ? 5 : r.int(5, 10);
  const total = baseRtt(ctx, target);
  const isp = `100.${r.int(64, 127)}.${r.int(0, 255)}`;
  const carrier = r.pick(['cogent', 'telia', 'gtt', 'level3', 'zayo']);
  const city = r.pick(['fra', 'ams', 'lon', 'par', 'nyc', 'sjc']);
  let at = 0;
  for (let h = 1; h <= hops; h++) {
    at = ctx.delay * PACE.traceroute * h;
    let host: string;
    if (h === hops) host = destination;
    else if (h === 1) host = gateway(ctx.device);
    else if (h === 2) host = `${isp}.${r.int(1, 254)}`;
    else host = `ae${r.int(0, 31)}.cr${r.int(1, 9)}.${city}${r.int(1, 3)}.${carrier}.example.net`;
    // Some routers in the middle do not answer probes.
    if (h > 1 && h < hops && r.chance(0.08)) {
      step(ctx, at, { hop: h, host: '*', rttMs: null });
      continue;
    }
    const rtt = h === 1 ? r.uniform(0.3, 1.5) : (total * h) / hops + r.uniform(0, 1.5);
    step(ctx, at, { hop: h, host, rttMs: round(rtt, 2) });
  }
  done(ctx, at + Math.max(1, ctx.delay * 0.05), { hops, reached: true, destination });
}

function dns(ctx: Ctx, target: string): void {
  const r = ctx.rng;
  const server = gateway(ctx.device);
  const pace = ctx.delay * PACE.dns;
  if (isIpLiteral(target)) {
    const name = `host-${hashString(target, ctx.seed).toString(16)}.example.net`;
    const rtt = round(r.uniform(2, 30), 1);
    step(ctx, pace, { query: 'PTR', server, rcode: 'NOERROR', answers: [name], rttMs: rtt });
    return done(ctx, pace * 1.2, { addresses: [target], name, server, rttMs: rtt });
  }
  const { v4, v6 } = addressesOf(ctx, target);
  const rttA = round(r.uniform(2, 40), 1);
  step(ctx, pace, { query: 'A', server, rcode: 'NOERROR', answers: v4, rttMs: rttA });
  const rttAaaa = round(r.uniform(2, 40), 1);
  step(ctx, pace * 2, { query: 'AAAA', server, rcode: 'NOERROR', answers: v6, rttMs: rttAaaa });
  done(ctx, pace * 2.2, { addresses: [...v4, ...v6], server, rttMs: round(rttA + rttAaaa, 1) });
}

function bandwidth(ctx: Ctx, target: string): void {
  const r = ctx.rng;
  // The link's capacity belongs to the device (stable); each run measures it with some noise.
  const link = new Prng(hashString(`${ctx.device.id}/link`, ctx.seed));
  const downCap = link.uniform(50, 900);
  const upCap = downCap * link.uniform(0.2, 1);
  const pace = ctx.delay * PACE.bandwidth;
  let at = 0;
  let down = 0;
  let up = 0;
  for (const [phase, cap] of [['download', downCap], ['upload', upCap]] as const) {
    for (const pct of [33, 66, 100]) {
      at += pace;
      const mbps = round(cap * r.uniform(0.85, 0.98), 1);
      if (phase === 'download') down = mbps;
      else up = mbps;
      step(ctx, at, { phase, progressPct: pct, mbps });
    }
  }
  done(ctx, at + Math.max(1, ctx.delay * 0.05), { downMbps: down, upMbps: up, server: target });
}

/** Ports a collaboration device usually reaches (web, SIP, STUN/TURN). */
const OFTEN_OPEN = new Set([80, 443, 5060, 5061, 3478, 8080, 8443]);

function port(ctx: Ctx, target: string): void {
  const p = ctx.cmd.params.port;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
    return fail(ctx, 0, 'bad_params', 'params.port must be an integer from 1 to 65535');
  }
  // Stable per target and port: asking twice gives the same answer.
  const open = new Prng(hashString(`${target.toLowerCase()}:${p}`, ctx.seed)).chance(OFTEN_OPEN.has(p) ? 0.95 : 0.1);
  const at = ctx.delay * PACE.port;
  if (open) done(ctx, at, { open: true, port: p, rttMs: round(baseRtt(ctx, target) * ctx.rng.uniform(1, 1.2), 2) });
  else done(ctx, at, { open: false, port: p });
}

// ---- reboot and software update ----

function reboot(ctx: Ctx): void {
  done(ctx, 0, { accepted: true });
  ctx.actions.push({ atMs: Math.round(ctx.delay), kind: 'reboot' });
  ctx.actions.push({ atMs: Math.round(ctx.delay), kind: 'event', type: 'reboot', severity: 'info', data: { reason: 'command', commandId: ctx.cmd.id } });
}

function softwareUpdate(ctx: Ctx): void {
  const to = ctx.cmd.params.version;
  if (typeof to !== 'string' || to.length === 0) return fail(ctx, 0, 'bad_params', 'params.version is missing');
  const from = ctx.device.firmware;
  const pace = ctx.delay * PACE.update;
  const event = (atMs: number, state: string): void => {
    ctx.actions.push({ atMs: Math.round(atMs), kind: 'event', type: 'software_update', severity: 'info', data: { from, to, state } });
  };
  done(ctx, 0, { accepted: true, from, to });
  event(0, 'downloading');
  event(pace, 'installing');
  // Installed: the device restarts on the new version.
  ctx.actions.push({ atMs: Math.round(pace * 2), kind: 'firmware', version: to });
  ctx.actions.push({ atMs: Math.round(pace * 2), kind: 'reboot' });
  ctx.actions.push({ atMs: Math.round(pace * 2), kind: 'event', type: 'reboot', severity: 'info', data: { reason: 'software_update' } });
  event(pace * 2, 'done');
}
