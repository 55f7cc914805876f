import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSimulateCommand, resolveSimulateOptions } from '../../simulators/cli.js';
import { startBroker, startRecorder, waitFor } from './broker.js';

async function seedFile(devices: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fwsim-cli-'));
  const file = join(dir, 'seed.json');
  const list = Array.from({ length: devices }, (_, i) => ({ id: `REG${i}`, model: 'Studio X30', siteId: 's' }));
  await writeFile(file, JSON.stringify({ partners: [], devices: list }));
  return file;
}

describe('resolveSimulateOptions', () => {
  it('defaults and environment', async () => {
    expect(await resolveSimulateOptions({}, {})).toEqual({ url: 'mqtt://127.0.0.1:1883', devices: 10, intervalS: 30 });
    const o = await resolveSimulateOptions({ interval: '0.1', connections: 'shared', count: '3', seed: '-7' }, { MQTT_URL: 'mqtt://broker:1884' });
    expect(o).toMatchObject({ url: 'mqtt://broker:1884', intervalS: 0.1, connections: 'shared', count: 3, seed: -7 });
    expect(await resolveSimulateOptions({ replyDelay: '50' }, {})).toMatchObject({ replyDelayMs: 50 });
    expect(await resolveSimulateOptions({ replyDelay: '0' }, {})).toMatchObject({ replyDelayMs: 0 });
  });

  it('takes all registry devices by default, from --registry or FLEET_SEED', async () => {
    const file = await seedFile(4);
    expect(await resolveSimulateOptions({}, { FLEET_SEED: file })).toMatchObject({ devices: 4, registry: file });
    expect(await resolveSimulateOptions({ registry: file, devices: '2', unregistered: '5' }, {})).toMatchObject({
      devices: 2,
      unregistered: 5,
    });
    await expect(resolveSimulateOptions({ registry: file, devices: '9' }, {})).rejects.toThrow(/exceeds the 4 devices/);
    await expect(resolveSimulateOptions({ registry: join(tmpdir(), 'nope.yaml') }, {})).rejects.toThrow(/cannot read registry/);
  });

  it('takes multiplexed as another name for shared connections', async () => {
    expect(await resolveSimulateOptions({ connections: 'multiplexed' }, {})).toMatchObject({ connections: 'shared' });
  });

  it('loads --scenario files (repeatable) and --random-faults', async () => {
    const o = await resolveSimulateOptions({ scenario: ['simulators/scenarios/overheating.yaml', 'simulators/scenarios/reboot-loop.yaml'], randomFaults: 'on' }, {});
    expect(o.scenarios?.map((s) => s.name)).toEqual(['overheating', 'reboot-loop']);
    expect(o.randomFaults).toBe(true);
    await expect(resolveSimulateOptions({ scenario: [join(tmpdir(), 'nope.yaml')] }, {})).rejects.toThrow(/--scenario: cannot read scenario/);
    const dir = await mkdtemp(join(tmpdir(), 'fwsim-scn-'));
    await writeFile(join(dir, 'bad.yaml'), 'name: bad\ntitle: B\nduration: 1m\ngroups: { g: {} }\nsteps: [{ at: 5s, group: h, reboot: true }]\nexpect: [{ alert: x, group: g }]\n');
    await expect(resolveSimulateOptions({ scenario: [join(dir, 'bad.yaml')] }, {})).rejects.toThrow(/bad.yaml: invalid scenario: steps.0.group: no group h/);
    await expect(resolveSimulateOptions({ randomFaults: 'maybe' }, {})).rejects.toThrow(/--random-faults must be on or off/);
  });

  it.each([
    [{ devices: '0' }, '--devices must be a positive integer'],
    [{ devices: '1.5' }, '--devices must be a positive integer'],
    [{ devices: 'ten' }, '--devices must be a positive integer'],
    [{ interval: '0' }, '--interval must be a positive number'],
    [{ interval: 'abc' }, '--interval must be a positive number'],
    [{ count: '-1' }, '--count must be a positive integer'],
    [{ duration: '' }, '--duration must be a positive number'],
    [{ unregistered: '-2' }, '--unregistered must be a non-negative integer'],
    [{ connections: 'pooled' }, '--connections must be per-device or shared'],
    [{ seed: '1e3' }, '--seed must be an integer'],
    [{ qos: '2' }, '--qos must be 0 or 1'],
    [{ replyDelay: '-5' }, '--reply-delay must be a non-negative number'],
    [{ replyDelay: 'soon' }, '--reply-delay must be a non-negative number'],
    [{ url: 'http://localhost' }, '--url must be'],
  ])('rejects %o', async (flags, message) => {
    await expect(resolveSimulateOptions(flags, {})).rejects.toThrow(message);
  });
});

describe('simulate command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function program(): { program: Command; err: string[] } {
    const err: string[] = [];
    const p = new Command().exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: () => {} });
    registerSimulateCommand(p);
    return { program: p, err };
  }

  it('reports a usage error clearly', async () => {
    const { program: p, err } = program();
    await expect(p.parseAsync(['simulate', '--devices', '0'], { from: 'user' })).rejects.toMatchObject({ exitCode: 2 });
    expect(err.join('')).toContain('error: --devices must be a positive integer');
  });

  it('runs a fleet and prints a summary', async () => {
    const broker = await startBroker();
    const rec = await startRecorder(broker.url);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const sigintListeners = process.listenerCount('SIGINT');
    try {
      const { program: p } = program();
      await p.parseAsync(
        ['simulate', '--url', broker.url, '--devices', '3', '--interval', '0.05', '--count', '2', '--connections', 'shared'],
        { from: 'user' },
      );
      await waitFor(() => rec.messages.filter((r) => r.payload.state === 'offline').length === 3, 5000, 'offline');
      expect(rec.messages.filter((r) => r.leaf === 'status')).toHaveLength(6);
      const text = out.join('');
      expect(text).toMatch(/simulate: 3 devices \(shared connections\)/);
      expect(text).toMatch(/done in .* 6 status messages .* 6 presence, 0 errors; 3 devices over 1 connections/);
      // signal handlers are removed after the run
      expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
    } finally {
      await rec.client.endAsync(true);
      await broker.close();
    }
  });
});
