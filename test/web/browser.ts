// Real headless Chromium for the NOC page tests: Debian's chromium driven by playwright-core (never a
// browser downloaded by a tool), a fresh profile per launch, screenshots under
// test-results/screenshots/ (the CI artifacts folder).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { REPO_ROOT, runServices } from '../support/services.js';

export const CHROMIUM = process.env.FW_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  // A fresh CI machine: apt-get install chromium (as root; silent when it is there).
  if (!existsSync(CHROMIUM)) await runServices('install', 'chromium');
  const profile = mkdtempSync(join(tmpdir(), 'fw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1920, height: 1080 },
    // The page's own clock and timers must run as in a real wall display.
    timezoneId: 'Europe/Berlin',
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Opens the page and signs in with the token through the form, as a person would. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.fill('#token', token);
  await page.click('#signin-button');
  await page.waitForSelector('#sign-out');
}

/** Everything the page received: API answers (url and body) and socket.io frames. */
export interface Capture {
  api: Array<{ url: string; status: number; body: string }>;
  frames: string[];
  errors: string[];
  settle(): Promise<void>;
}

export function capture(page: Page): Capture {
  const c: Capture = { api: [], frames: [], errors: [], settle: async () => void (await Promise.all(pending)) };
  const pending: Array<Promise<void>> = [];
  page.on('response', (r: Response) => {
    // socket.io over long-polling, should the page ever fall back to it: its answers are frames.
    if (r.url().includes('/socket.io/?')) {
      pending.push(r.text().then((body) => void c.frames.push(body), () => undefined));
      return;
    }
    if (!r.url().includes('/api/v1/')) return;
    pending.push(
      r.text().then(
        (body) => void c.api.push({ url: r.url(), status: r.status(), body }),
        () => undefined,
      ),
    );
  });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => c.frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8'))));
  page.on('pageerror', (e) => c.errors.push(e.message));
  return c;
}
