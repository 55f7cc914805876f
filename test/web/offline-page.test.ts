// The NOC page in headless Chromium shows the same reachability as the rules: a device that stops
// reporting (its connection still up, so no Last Will) turns offline on the page with the reason,
// live over the stream; a registered device that never reported is shown as such.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { makeWorld, publisher, startInProcess, statusPayload, waitFor, type TestWorld } from '../support/harness.js';
import { writeTwoPartnerSeed } from '../support/seeds.js';
import { capture, launchBrowser, screenshot, signIn, type Browser } from './browser.js';

const NOC = 'offline-page-noc-token-00';
const row = (id: string) => `.vrow[data-device-id="${id}"]`;

describe('NOC page: one notion of offline', () => {
  let world: TestWorld;
  let service: Service;
  let browser: Browser;
  let pub: MqttClient;

  beforeAll(async () => {
    world = makeWorld([]);
    writeTwoPartnerSeed(world.env.FLEET_SEED!, { devicesA: ['PGQ1', 'PGN1'], devicesB: [], users: [{ name: 'noc', role: 'noc', token: NOC }] });
    writeFileSync(join(world.dir, 'rules.json'), JSON.stringify({ rules: [{ name: 'device_offline', missedIntervals: 2, defaultInterval: '1s' }] }));
    world.config = loadConfig({ ...world.env, ALERT_RULES: join(world.dir, 'rules.json') });
    [service, browser, pub] = await Promise.all([startInProcess(world), launchBrowser(), publisher()]);
    await waitFor(async () => service.liveState.restored, (r) => r, 5000, 20);
  });

  afterAll(async () => {
    await pub?.endAsync();
    await browser?.close();
    await service?.stop();
    await world?.cleanup();
  });

  it('a device that stops reporting turns offline on the page, with why; one that never reported says so', async () => {
    const page = await browser.context.newPage();
    const seen = capture(page);
    await signIn(page, service.httpUrl, NOC);
    await page.waitForSelector(`${row('PGN1')}[data-online="offline"]`);
    expect(await page.locator(row('PGN1')).textContent()).toContain('never reported');

    for (let seq = 1; seq <= 3; seq++) {
      await pub.publishAsync('poly/v1/devices/PGQ1/status', statusPayload(seq, Date.now()), { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.waitForSelector(`${row('PGQ1')}[data-online="online"]`, { timeout: 5000 });
    // Its publisher stays connected: only the missed reports can tell.
    await page.waitForSelector(`${row('PGQ1')}[data-online="offline"]`, { timeout: 8000 });
    expect(await page.locator(row('PGQ1')).textContent()).toContain('missed reports');
    await screenshot(page, 'noc-offline-missed-reports');
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});
