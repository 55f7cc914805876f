// The NOC page with 10,000 registered devices: it loads, counts them all (aggregated server-side),
// keeps the device list virtualized (a few dozen row nodes, never one per device), and follows a
// burst of 10,000 status messages and then 2,000 devices going offline, rendering per animation
// frame. Real Chromium, real service, real mosquitto and influxd.
import { writeFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, type TestWorld } from '../support/harness.js';
import { launchBrowser, screenshot, signIn, type Browser } from './browser.js';

const NOC = 'scale-noc-token-000000000';
const N = 10_000;
const PARTNERS = 2;
const CUSTOMERS = 10; // per partner
const SITES = 5; // per customer
const id = (i: number) => `SC-${String(i).padStart(5, '0')}`;

function writeSeed(path: string): void {
  const partners = [];
  const customers = [];
  const sites = [];
  for (let p = 0; p < PARTNERS; p++) {
    partners.push({ id: `p-scale-${p}`, name: `Scale Partner ${p}`, timezone: 'Europe/Berlin', country: 'DE' });
    for (let c = 0; c < CUSTOMERS; c++) {
      const cid = `c-scale-${p}-${c}`;
      customers.push({ id: cid, partnerId: `p-scale-${p}`, name: `Customer ${p}.${c}`, country: 'DE' });
      for (let s = 0; s < SITES; s++) sites.push({ id: `s-scale-${p}-${c}-${s}`, customerId: cid, name: `Site ${p}.${c}.${s}`, country: 'DE', timezone: 'Europe/Berlin' });
    }
  }
  const devices = [];
  for (let i = 0; i < N; i++) devices.push({ id: id(i), model: 'Studio X30', siteId: sites[i % sites.length]!.id, coverage: { plan: 'poly-plus', until: '2030-12-31', onsite: false } });
  writeFileSync(path, JSON.stringify({ partners, customers, sites, devices, users: [{ name: 'noc-scale', role: 'noc', token: NOC }] }));
}

/** Publishes one message per device, 500 in flight at a time (QoS 1, not retained). */
async function burst(pub: MqttClient, ids: string[], topic: (id: string) => string, payload: (id: string) => string): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((d) => pub.publishAsync(topic(d), payload(d), { qos: 1 })));
}

describe('NOC page with 10,000 devices', () => {
  let world: TestWorld;
  let service: Service;
  let browser: Browser;
  let pub: MqttClient;

  beforeAll(async () => {
    world = makeWorld([]);
    writeSeed(world.env.FLEET_SEED!);
    const [svc, b, p] = await Promise.all([startInProcess(world), launchBrowser(), publisher()]);
    service = svc;
    // Registered and never reported: offline (never_reported) once the last reports are read back.
    while (!service.liveState.restored) await new Promise((r) => setTimeout(r, 20));
    browser = b;
    pub = p;
    expect(service.registry.counts().devices).toBe(N);
  });

  afterAll(async () => {
    await pub?.endAsync();
    await browser?.close();
    await service?.stop();
    await world?.cleanup();
  });

  it('loads, stays virtualized and follows bursts of 10,000 status and 2,000 offline messages', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const rows = () => page.locator('.vrow').count();
    const kpi = (key: string) => page.locator(`[data-kpi="${key}"] .kpi-value`).textContent();
    const elements = async () => (await page.evaluate('document.getElementsByTagName("*").length')) as number;

    const t0 = Date.now();
    await signIn(page, service.httpUrl, NOC);
    await page.waitForSelector(`.vrow[data-device-id="${id(0)}"]`);
    await expect.poll(() => kpi('devices')).toBe('10,000');
    const loadMs = Date.now() - t0;
    expect(await page.textContent('#device-count')).toBe('(10,000)');
    expect(await kpi('offline')).toBe('10,000');
    expect(await kpi('unknown')).toBe('0');
    // 100 sites: customers start folded, so the tree is 2 partner and 20 customer rows.
    expect(await page.locator('.hrow').count()).toBe(PARTNERS + PARTNERS * CUSTOMERS);
    const initialRows = await rows();
    expect(initialRows).toBeGreaterThan(10);
    expect(initialRows).toBeLessThan(200);

    // Scrolled to the middle: other devices, the same few rows.
    await page.evaluate(`(() => { const v = document.querySelector('.vlist'); v.scrollTop = 5000 * 34; v.dispatchEvent(new Event('scroll')); })()`);
    await page.waitForSelector(`.vrow[data-device-id="${id(5000)}"]`);
    expect(await rows()).toBeLessThan(200);

    // Every device reports once: 10,000 status messages, i.e. 10,000 device.presence and
    // 10,000 device.status events on the page's stream.
    const framesBefore = (await page.evaluate('window.__fw.frames()')) as number;
    // When the service itself had them all (the page cannot be earlier; the rest is the page's share).
    const serverHas = (state: 'online' | 'offline', n: number, since: number) => {
      const found = { ms: -1 };
      const poll = setInterval(() => {
        let k = 0;
        for (const s of service.liveState.values()) if (s.presence === state) k++;
        if (k >= n) (found.ms = Date.now() - since), clearInterval(poll);
      }, 20);
      return { found, stop: () => clearInterval(poll) };
    };
    const t1 = Date.now();
    const serverOnline = serverHas('online', N, t1);
    const all = Array.from({ length: N }, (_, i) => id(i));
    await burst(pub, all, (d) => `poly/v1/devices/${d}/status`, () => statusPayload(1, Date.now()));
    await expect.poll(() => kpi('online'), { timeout: 30_000, interval: 200 }).toBe('10,000');
    const onlineMs = Date.now() - t1;
    serverOnline.stop();
    await page.waitForSelector(`.vrow[data-device-id="${id(5000)}"][data-online="online"]`);
    const maxRows = await rows();
    expect(maxRows).toBeLessThan(200);
    expect(await page.locator('#event-list .erow').count()).toBeLessThanOrEqual(100);

    // 2,000 go offline at once.
    const t2 = Date.now();
    const gone = all.filter((_, i) => i % 5 === 0);
    const serverOffline = serverHas('offline', gone.length, t2);
    await burst(pub, gone, (d) => `poly/v1/devices/${d}/presence`, () => JSON.stringify({ state: 'offline', ts: Date.now() }));
    await expect.poll(() => kpi('offline'), { timeout: 30_000, interval: 200 }).toBe('2,000');
    const offlineMs = Date.now() - t2;
    serverOffline.stop();
    await page.waitForSelector(`.vrow[data-device-id="${id(5000)}"][data-online="offline"]`);
    const eventsSeen = (await page.evaluate('window.__fw.eventsSeen()')) as number;
    const frames = ((await page.evaluate('window.__fw.frames()')) as number) - framesBefore;
    const dom = await elements();
    expect(await rows()).toBeLessThan(200);
    expect(dom).toBeLessThan(5000);
    // Thousands of stream events (device.status for each report, device.presence for the offline
    // ones, alerts and tickets), drawn in far fewer frames.
    expect(eventsSeen).toBeGreaterThan(N);
    expect(frames).toBeLessThan(eventsSeen / 10);
    await screenshot(page, 'scale-10k-overview');

    // The offline tab: counted server-side, still a window of rows.
    await page.click('.tab[data-state="offline"]');
    await expect.poll(() => page.textContent('#device-count')).toBe('(2,000)');
    await page.waitForSelector(`.vrow[data-device-id="${id(0)}"][data-online="offline"]`);
    expect(await rows()).toBeLessThan(200);
    await screenshot(page, 'scale-10k-offline');
    expect(errors).toEqual([]);
    // What the page's aggregate requests cost the service with 10,000 devices and 2,000 firing alerts.
    const timed = async (path: string) => {
      const t = performance.now();
      const res = await fetch(`${service.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${NOC}` } });
      const bytes = (await res.arrayBuffer()).byteLength;
      expect(res.status).toBe(200);
      return `${path} ${Math.round(performance.now() - t)} ms (${Math.round(bytes / 1024)} KiB)`;
    };
    const costs = [await timed('/fleet/health'), await timed('/fleet/devices?state=all&limit=100&offset=5000'), await timed('/fleet/devices?state=problem&limit=100')];
    console.log(
      `NOC page with ${N} devices: loaded in ${loadMs} ms; 10,000 status -> all online in the service after ${serverOnline.found.ms} ms, on the page after ${onlineMs} ms; ` +
        `2,000 offline -> in the service after ${serverOffline.found.ms} ms, on the page after ${offlineMs} ms; ${eventsSeen} stream events drawn in ${frames} frames; ` +
        `at most ${maxRows} device rows and ${dom} DOM elements in the page; server stream ${JSON.stringify(service.streams.stats())}; ${costs.join(', ')}`,
    );
    await page.close();
  });
});
