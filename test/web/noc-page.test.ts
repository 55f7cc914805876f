// The NOC page in real headless Chromium against the real service (in-process), real mosquitto and
// influxd, and the real simulator with one MQTT connection per device: a device whose simulator
// stops shows offline within 2 seconds; a partner's page holds nothing of another partner; a
// network tool's steps appear one by one, then the summary. Screenshots: test-results/screenshots/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFleet, type SimStats } from '../../simulators/fleet.js';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';
import { testMqttUrl } from '../support/services.js';
import { capture, launchBrowser, screenshot, signIn, type Browser } from './browser.js';

const NOC = 'web-noc-token-00000000000';
const ALPHA = 'web-alpha-user-token-0000';
const BRAVO = 'web-bravo-user-token-0000';

const ALPHA_DEVICES = ['ALPHA-0001', 'ALPHA-0002', 'ALPHA-0003', 'ALPHA-0004', 'ALPHA-0005', 'ALPHA-0006'];
const BRAVO_DEVICES = ['BRAVO-0001', 'BRAVO-0002', 'BRAVO-0003'];
/** Played by the simulator that the first test stops. */
const STOPPED = 'ALPHA-0001';
/** Played by the other simulator (ALPHA-0006 and BRAVO-0003 stay silent; the test makes them overheat). */
const PLAYED = ['ALPHA-0002', 'ALPHA-0003', 'ALPHA-0004', 'ALPHA-0005', 'BRAVO-0001', 'BRAVO-0002'];

function writeSeed(path: string): void {
  const sites: Record<string, string> = {
    'ALPHA-0001': 's-alpha-berlin',
    'ALPHA-0002': 's-alpha-berlin',
    'ALPHA-0003': 's-alpha-hamburg',
    'ALPHA-0004': 's-alpha-hamburg',
    'ALPHA-0005': 's-alpha-munich',
    'ALPHA-0006': 's-alpha-munich',
  };
  const device = (id: string) => ({ id, model: 'Studio X50', siteId: sites[id] ?? 's-bravo-nyc', coverage: { plan: 'poly-plus', until: '2030-12-31', onsite: false } });
  writeFileSync(
    path,
    JSON.stringify({
      partners: [
        { id: 'p-alpha', name: 'Alpha AV', timezone: 'Europe/Berlin', country: 'DE' },
        { id: 'p-bravo', name: 'Bravo Systems', timezone: 'America/New_York', country: 'US' },
      ],
      customers: [
        { id: 'c-alpha-north', partnerId: 'p-alpha', name: 'Northwind', country: 'DE' },
        { id: 'c-alpha-south', partnerId: 'p-alpha', name: 'Southbank', country: 'DE' },
        { id: 'c-bravo-east', partnerId: 'p-bravo', name: 'Bravo East Corp', country: 'US' },
      ],
      sites: [
        { id: 's-alpha-berlin', customerId: 'c-alpha-north', name: 'Berlin HQ', country: 'DE', timezone: 'Europe/Berlin' },
        { id: 's-alpha-hamburg', customerId: 'c-alpha-north', name: 'Hamburg Port', country: 'DE', timezone: 'Europe/Berlin' },
        { id: 's-alpha-munich', customerId: 'c-alpha-south', name: 'Munich Office', country: 'DE', timezone: 'Europe/Berlin' },
        { id: 's-bravo-nyc', customerId: 'c-bravo-east', name: 'Bravo NYC Tower', country: 'US', timezone: 'America/New_York' },
      ],
      devices: [...ALPHA_DEVICES, ...BRAVO_DEVICES].map(device),
      users: [
        { name: 'noc-wall', role: 'noc', token: NOC },
        { name: 'alpha-ops', role: 'partner_user', partnerId: 'p-alpha', token: ALPHA },
        { name: 'bravo-ops', role: 'partner_user', partnerId: 'p-bravo', token: BRAVO },
      ],
    }),
  );
}

/** A registry file with just these devices, for one simulator run (it plays the first N of a registry). */
function writeSimRegistry(path: string, ids: string[]): string {
  writeFileSync(path, JSON.stringify({ devices: ids.map((id) => ({ id, model: 'Studio X50' })) }));
  return path;
}

describe('NOC page in headless Chromium', () => {
  let world: TestWorld;
  let service: Service;
  let browser: Browser;
  const stopOne = new AbortController();
  const stopRest = new AbortController();
  let fleetOne: Promise<SimStats> | undefined;
  let fleetRest: Promise<SimStats> | undefined;

  beforeAll(async () => {
    world = makeWorld([]);
    writeSeed(world.env.FLEET_SEED!);
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'overheating', for: '0s', confirmFor: '0s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    const [svc, b] = await Promise.all([startInProcess(world), launchBrowser()]);
    service = svc;
    browser = b;
    const sim = { url: testMqttUrl(), intervalS: 2, connections: 'per-device' as const, replyDelayMs: 300, connectTimeoutS: 10 };
    fleetOne = runFleet({ ...sim, devices: 1, registry: writeSimRegistry(join(world.dir, 'sim-one.json'), [STOPPED]) }, stopOne.signal);
    fleetRest = runFleet({ ...sim, devices: PLAYED.length, registry: writeSimRegistry(join(world.dir, 'sim-rest.json'), PLAYED) }, stopRest.signal);
    const online = await waitFor(async () => [STOPPED, ...PLAYED].filter((id) => service.liveState.get(id)?.presence === 'online').length, (n) => n === PLAYED.length + 1, 15_000, 50);
    expect(online).toBe(PLAYED.length + 1);
    // A hardware fault on a silent device of each partner: an alert, a ticket with its acknowledge
    // deadline and an advance replacement shipment.
    const pub = await publisher();
    for (const id of ['ALPHA-0006', 'BRAVO-0003']) await pub.publishAsync(`poly/v1/devices/${id}/status`, statusPayload(1, Date.now(), { tempC: 91 }), { qos: 1 });
    await pub.endAsync();
    await waitFor(async () => service.alerting.tickets.list({}).length, (n) => n >= 2, 10_000, 50);
  });

  afterAll(async () => {
    stopOne.abort();
    stopRest.abort();
    await Promise.allSettled([fleetOne, fleetRest]);
    await browser?.close();
    await service?.stop();
    // The simulators' retained presence would outlive the test in the shared broker.
    const c = await mqtt.connectAsync(testMqttUrl(), { clientId: `web-clear-${process.pid}`, clean: true });
    for (const id of [...ALPHA_DEVICES, ...BRAVO_DEVICES]) await c.publishAsync(`poly/v1/devices/${id}/presence`, '', { qos: 1, retain: true });
    await c.endAsync();
    await world?.cleanup();
  });

  const row = (id: string, online?: string) => `.vrow[data-device-id="${id}"]${online ? `[data-online="${online}"]` : ''}`;
  const kpi = (page: Page, key: string) => page.locator(`[data-kpi="${key}"] .kpi-value`).textContent();

  it('signs in as NOC, shows fleet health, tickets with a running acknowledge clock and shipments, and a device going offline within 2 s of its simulator stopping', async () => {
    const page = await browser.context.newPage();
    const seen = capture(page);

    // A bad token gets a clear error, not a broken page.
    await page.goto(`${service.httpUrl}/`);
    await page.fill('#token', 'not-a-real-token-at-all');
    await page.click('#signin-button');
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await page.textContent('#signin-error')).toContain('not accepted');
    await screenshot(page, 'signin-bad-token');

    await signIn(page, service.httpUrl, NOC);
    expect(await page.textContent('#user')).toContain('noc-wall');
    await page.waitForSelector(row(STOPPED, 'online'));
    await page.waitForSelector('#conn[data-state="live"]');
    // The seven simulated devices, and the two silent ones whose overheating status was proof of life.
    await expect.poll(() => kpi(page, 'online'), { timeout: 10_000 }).toBe('9');
    expect(await kpi(page, 'devices')).toBe('9');
    expect(await page.locator('.hrow[data-kind="partner"]').count()).toBe(2);
    expect(await page.locator('.hrow[data-kind="site"]').count()).toBe(4);

    // Tickets: the acknowledge deadline counts down every second; the shipment is on the row.
    const clock = page.locator('.trow', { hasText: 'ALPHA-0006' }).locator('.countdown');
    await clock.waitFor();
    const before = await clock.textContent();
    expect(before).toMatch(/^ack in \d/);
    await expect.poll(() => clock.textContent(), { timeout: 3000, interval: 100 }).not.toBe(before);
    expect(await page.locator('.trow', { hasText: 'ALPHA-0006' }).locator('.ship').textContent()).toMatch(/replacement requested · ship by \d{4}-\d\d-\d\d/);
    await page.waitForSelector('.arow.sev-critical[data-device-id="ALPHA-0006"]');
    await expect.poll(async () => Number(await page.textContent('#ingest-value')), { timeout: 5000 }).toBeGreaterThan(0);
    await page.waitForSelector('#event-list .erow');
    await screenshot(page, 'noc-overview');

    const t0 = Date.now();
    stopOne.abort();
    await page.waitForSelector(row(STOPPED, 'offline'), { timeout: 10_000 });
    const offlineAfterMs = Date.now() - t0;
    console.log(`NOC page: ${STOPPED} shown offline ${offlineAfterMs} ms after its simulator was stopped`);
    expect(offlineAfterMs).toBeLessThan(2000);
    // The aggregates follow (refetched at most once a second).
    await page.waitForSelector('.hrow[data-kind="site"][data-id="s-alpha-berlin"][data-offline="1"]', { timeout: 3000 });
    expect(await kpi(page, 'offline')).toBe('1');
    expect(await kpi(page, 'online')).toBe('8');
    await page.waitForSelector(`#event-list .erow[data-event="device.presence"][data-device-id="${STOPPED}"]`);
    await screenshot(page, 'noc-device-offline');
    const stats = await fleetOne!;
    expect(stats.presence).toBeGreaterThanOrEqual(2); // online at start, offline at stop

    // The token lives in the tab's session storage: a reload stays signed in, sign-out forgets it.
    await page.reload();
    await page.waitForSelector(row(STOPPED, 'offline'));
    await page.click('#sign-out');
    await page.waitForSelector('#signin');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("shows a partner its own fleet and nothing of another partner's, in the page or in anything it fetched", async () => {
    const page = await browser.context.newPage();
    const seen = capture(page);
    const from = Date.now();
    await signIn(page, service.httpUrl, ALPHA);
    expect(await page.textContent('#scope')).toBe('Alpha AV');
    await page.waitForSelector(row('ALPHA-0002', 'online'));
    await page.waitForSelector('.trow', { state: 'attached' });
    // Let the stream run: the other partner's simulated devices report every 2 s meanwhile.
    await expect.poll(async () => Number(await page.textContent('#ingest-value')), { timeout: 5000 }).toBeGreaterThan(0);
    await page.waitForTimeout(2500);
    await screenshot(page, 'partner-overview');
    // The device page too (telemetry, tickets, runs).
    await page.evaluate(`location.hash = '#/device/ALPHA-0002'`);
    await page.waitForSelector('#device-online[data-state="online"]');
    await page.waitForTimeout(500);
    await seen.settle();

    expect(service.liveState.get('BRAVO-0001')!.lastStatusAtMs).toBeGreaterThan(from); // the other partner was live
    const text = await page.innerText('body');
    const html = await page.content();
    await page.evaluate(`location.hash = '#/'`);
    await page.waitForSelector(row('ALPHA-0002'));
    const overviewText = await page.innerText('body');
    await seen.settle();
    const fetched = seen.api.map((r) => r.body).join('\n');
    const paths = new Set(seen.api.map((r) => new URL(r.url).pathname));
    for (const p of ['/api/v1/me', '/api/v1/fleet/health', '/api/v1/fleet/devices', '/api/v1/alerts', '/api/v1/tickets', '/api/v1/fleet/ingest-rate', '/api/v1/devices/ALPHA-0002/telemetry']) expect(paths).toContain(p);
    expect(seen.frames.some((f) => f.includes('ingest.rate'))).toBe(true);

    // Its own fleet is there...
    expect(overviewText).toContain('ALPHA-0002');
    expect(overviewText).toContain('Munich Office');
    expect(fetched).toContain('ALPHA-0006');
    // ...and not a trace of the other partner: device, customer, site, partner ids or names.
    for (const [where, s] of [
      ['overview text', overviewText],
      ['device page text', text],
      ['page HTML', html],
      ['API answers', fetched],
      ['stream frames', seen.frames.join('\n')],
    ] as const) {
      for (const needle of [...BRAVO_DEVICES, 'c-bravo-east', 's-bravo-nyc', 'p-bravo', 'Bravo']) expect(s.includes(needle), `${needle} in ${where}`).toBe(false);
    }
    expect(seen.errors).toEqual([]);

    // Asking for the other partner's device by hand: not found, like a device that does not exist.
    await page.evaluate(`location.hash = '#/device/BRAVO-0001'`);
    await page.waitForSelector('#device-online:text("not found")');
    await seen.settle();
    expect(seen.api.filter((r) => r.url.includes('/devices/BRAVO-0001')).map((r) => r.status)).toEqual([404]);
    await page.close();
  });

  it('runs ping on a device: each step appears as it arrives, then the summary', async () => {
    const page = await browser.context.newPage();
    await signIn(page, service.httpUrl, ALPHA);
    await page.evaluate(`location.hash = '#/device/ALPHA-0003'`);
    await page.waitForSelector('#device-online[data-state="online"]');
    // Record, in the page, when each step row and the summary show up.
    await page.evaluate(`(() => {
      const steps = document.getElementById('diag-steps');
      const summary = document.getElementById('diag-summary');
      window.__seen = [];
      const note = () => window.__seen.push({ steps: steps.children.length, summary: !summary.hidden, at: performance.now() });
      new MutationObserver(note).observe(steps, { childList: true });
      new MutationObserver(note).observe(summary, { attributes: true, attributeFilter: ['hidden'] });
    })()`);
    expect(await page.inputValue('#diag-tool')).toBe('ping');
    await page.click('#diag-run');
    await page.waitForSelector('#diag-steps .step');
    await screenshot(page, 'device-ping-running');
    await page.waitForSelector('#diag-summary:not([hidden])', { timeout: 15_000 });
    const seen = (await page.evaluate('window.__seen')) as Array<{ steps: number; summary: boolean; at: number }>;
    const stepTimes = seen.filter((s) => !s.summary && s.steps > 0);
    // One row at a time, 1, 2, 3, 4 (default ping count), spread over the device's pace...
    expect(stepTimes.map((s) => s.steps)).toEqual([1, 2, 3, 4]);
    expect(stepTimes[3]!.at - stepTimes[0]!.at).toBeGreaterThan(500);
    // ...and the summary after the last one.
    const summaryAt = seen.find((s) => s.summary)!;
    expect(summaryAt.steps).toBe(4);
    expect(summaryAt.at).toBeGreaterThanOrEqual(stepTimes[3]!.at);
    expect(await page.textContent('#diag-summary')).toMatch(/Done \d\/4 received, loss [\d.]+ %/);
    expect(await page.locator('#diag-steps .step').first().textContent()).toMatch(/echo 0: ([\d.]+ ms|lost)/);
    await page.waitForSelector('#device-runs .rrow[data-status="ok"]');
    await screenshot(page, 'device-ping-done');
    await page.close();
  });
});
