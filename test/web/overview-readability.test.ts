// The overview read from across the room, in real headless Chromium against the real service, real
// mosquitto and influxd, and the real simulator: with the demo registry's partner, customer and site
// names, every fleet-health label reads in full at 1280 and 1920 px; with two devices reporting every
// 5 s, the ingest-rate chart draws a steady line instead of dropping to 0 between their reports.
// Screenshots: test-results/screenshots/health-tree-*.png, ingest-chart-5s.png.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet, type SimStats } from '../../simulators/fleet.js';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, startInProcess, waitFor, type TestWorld } from '../support/harness.js';
import { REPO_ROOT, testMqttUrl } from '../support/services.js';
import { capture, launchBrowser, screenshot, signIn, type Browser } from './browser.js';

const DEMO_SEED = join(REPO_ROOT, 'seed', 'demo.json');
interface Named {
  id: string;
  name: string;
}
const demo = JSON.parse(readFileSync(DEMO_SEED, 'utf8')) as { partners: Named[]; customers: Named[]; sites: Named[]; devices: Array<{ id: string; model: string }>; users: Array<{ role: string; token: string }> };
const NOC = demo.users.find((u) => u.role === 'noc')!.token;
/** Every label of the tree by kind and id: the names a NOC engineer must be able to read. */
const NAMES = new Map([...demo.partners.map((p) => [`partner:${p.id}`, p.name]), ...demo.customers.map((c) => [`customer:${c.id}`, c.name]), ...demo.sites.map((s) => [`site:${s.id}`, s.name])] as Array<[string, string]>);
/** Two devices reporting every 5 s: most seconds see no message at all. */
const PLAYED = demo.devices.slice(0, 2);
const INTERVAL_S = 5;

describe('the overview, readable on a wall display', () => {
  let world: TestWorld;
  let service: Service;
  let browser: Browser;
  const stopFleet = new AbortController();
  let fleet: Promise<SimStats> | undefined;
  let fleetStartedAt = 0;

  beforeAll(async () => {
    world = makeWorld([]);
    world.env.FLEET_SEED = DEMO_SEED;
    world.config = loadConfig(world.env);
    const [svc, b] = await Promise.all([startInProcess(world), launchBrowser()]);
    service = svc;
    browser = b;
    const registry = join(world.dir, 'sim.json');
    writeFileSync(registry, JSON.stringify({ devices: PLAYED }));
    fleetStartedAt = Date.now();
    fleet = runFleet({ url: testMqttUrl(), devices: PLAYED.length, registry, intervalS: INTERVAL_S, connections: 'per-device', randomFaults: false, connectTimeoutS: 10 }, stopFleet.signal);
    const online = await waitFor(async () => PLAYED.filter((d) => service.liveState.get(d.id)?.presence === 'online').length, (n) => n === PLAYED.length, 15_000, 50);
    expect(online).toBe(PLAYED.length);
  });

  afterAll(async () => {
    stopFleet.abort();
    await Promise.allSettled([fleet]);
    await browser?.close();
    await service?.stop();
    // The simulator's retained presence would outlive the test in the shared broker.
    const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `readability-clear-${process.pid}`, clean: true });
    for (const d of PLAYED) await c.publishAsync(`poly/v1/devices/${d.id}/presence`, '', { qos: 1, retain: true });
    await c.endAsync();
    await world?.cleanup();
  });

  for (const [width, height] of [
    [1280, 800],
    [1920, 1080],
  ] as const) {
    it(`shows every partner, customer and site name of the fleet-health tree in full at ${width} px`, async () => {
      const page = await browser.context.newPage();
      const seen = capture(page);
      await page.setViewportSize({ width, height });
      await signIn(page, service.httpUrl, NOC);
      await expect.poll(() => page.locator('.hrow').count()).toBe(NAMES.size);
      const labels = (await page.evaluate(`[...document.querySelectorAll('#health-tree .hrow')].map((row) => {
        const name = row.querySelector('.hname');
        const tree = document.getElementById('health-tree').getBoundingClientRect();
        const box = name.getBoundingClientRect();
        const counts = [...row.querySelectorAll('.hnum')].every((n) => n.scrollWidth <= n.clientWidth);
        return { key: row.dataset.kind + ':' + row.dataset.id, text: name.innerText, title: name.title, scrollWidth: name.scrollWidth, clientWidth: name.clientWidth, scrollHeight: name.scrollHeight, clientHeight: name.clientHeight, inside: box.left >= tree.left && box.right <= tree.right, counts };
      })`)) as Array<{ key: string; text: string; title: string; scrollWidth: number; clientWidth: number; scrollHeight: number; clientHeight: number; inside: boolean; counts: boolean }>;
      await screenshot(page, `health-tree-${width}`);
      expect(labels.map((l) => l.key).sort()).toEqual([...NAMES.keys()].sort());
      for (const l of labels) {
        const name = NAMES.get(l.key)!;
        // Drawn whole: the text is the full name (wrapped at most) and nothing of it is cut off.
        expect(l.text.replace(/\s+/g, ' '), l.key).toBe(name);
        expect(l.scrollWidth, `${name}: width`).toBeLessThanOrEqual(l.clientWidth);
        expect(l.scrollHeight, `${name}: height`).toBeLessThanOrEqual(l.clientHeight);
        expect(l.inside, `${name}: inside the panel`).toBe(true);
        expect(l.title, `${name}: tooltip`).toContain(name);
        expect(l.counts, `${name}: counts`).toBe(true);
      }
      // Nothing scrolls sideways.
      expect(await page.evaluate(`(() => { const t = document.getElementById('health-tree'); return t.scrollWidth <= t.clientWidth; })()`)).toBe(true);
      expect(seen.errors).toEqual([]);
      await page.close();
    });
  }

  it('draws the ingest rate of devices reporting every 5 s as a steady line, not dropping to 0 between reports', async () => {
    const page = await browser.context.newPage();
    const seen = capture(page);
    // Long enough for several reports of each device after the first.
    await new Promise((r) => setTimeout(r, Math.max(0, fleetStartedAt + 25_000 - Date.now())));
    await signIn(page, service.httpUrl, NOC);
    await expect.poll(async () => Number(await page.textContent('#ingest-value')), { timeout: 5000 }).toBeGreaterThan(0);
    expect(await page.textContent('#ingest-window')).toMatch(/^ · \d+ s average$/);
    await page.waitForTimeout(3000); // a few samples from the stream after the ones loaded by REST
    await seen.settle();

    // What the service gives: per second mostly 0 (the comb the chart used to draw), averaged never 0.
    const loaded = seen.api.find((r) => r.url.endsWith('/api/v1/fleet/ingest-rate'));
    const samples = (JSON.parse(loaded!.body) as { samples: Array<{ ts: number; perSecond: number; avgPerSecond: number; avgWindowS: number }> }).samples;
    const firstReport = samples.find((s) => s.perSecond > 0)!.ts;
    const since = samples.filter((s) => s.ts >= firstReport);
    expect(since.length).toBeGreaterThan(15);
    expect(since.filter((s) => s.perSecond === 0).length).toBeGreaterThan(since.length / 3);
    expect(since.every((s) => s.avgPerSecond > 0)).toBe(true);

    // What the page drew: in every pixel column from a few seconds after the first report to now,
    // the line (the chart's colour, opaque) stays well above the zero line. Columns map to time from
    // the right end of the line (the newest sample, within a second of now) at the chart's scale.
    const drawn = (await page.evaluate(`((firstReport) => {
      const c = document.getElementById('ingest-chart');
      const dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth, hgt = c.clientHeight;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      const isLine = (x, y) => { const i = (y * c.width + x) * 4, d = px.data; return d[i + 3] > 200 && Math.abs(d[i] - 0x4f) < 40 && Math.abs(d[i + 1] - 0xc3) < 40 && Math.abs(d[i + 2] - 0xf7) < 40; };
      const top = [];
      for (let x = 0; x < c.width; x++) { let y = 0; while (y < c.height && !isLine(x, y)) y++; top.push(y < c.height ? y : null); }
      const right = top.findLastIndex((y) => y !== null);
      const perSecond = (dpr * (w - 44 - 8)) / 120;
      const from = Math.ceil(right - ((Date.now() - firstReport) / 1000 - 4) * perSecond);
      const zeroY = (hgt - 18) * dpr;
      const columns = top.slice(from, right - Math.ceil(perSecond));
      return { columns: columns.length, perSecond, lowest: Math.max(...columns.map((y) => y ?? c.height)), zeroY };
    })(${firstReport})`)) as { columns: number; perSecond: number; lowest: number; zeroY: number };
    await screenshot(page, 'ingest-chart-5s');
    expect(drawn.columns).toBeGreaterThan(10 * drawn.perSecond);
    expect(drawn.lowest, `the line's lowest point (px) against the zero line at ${drawn.zeroY} px`).toBeLessThan(drawn.zeroY - 4);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});
