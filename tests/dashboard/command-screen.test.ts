// The command screen end to end: the real system (embedded TimescaleDB, Aedes, hub, simulated
// district with 12 handsets) serving the built dashboard to headless Chromium. Asserts what the
// seeds promise the big screen shows: the grids, a dot per worker on duty, dots that move, alerts.
// SCREENSHOTS=1 also saves docs/screenshots/command-screen.png.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { buildDashboard } from '../../dashboard/build.js';
// Brings in the `window.__gridDashboard` typing used inside page functions.
import type {} from '../../dashboard/src/debug-hook.js';
import { startSystem, type RunningSystem } from '../../system.js';
import { launchChromium } from '../../testkit/chromium.js';

const HANDSETS = 12;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOT = join(repoRoot, 'docs', 'screenshots', 'command-screen.png');

/**
 * Routes the screen reads but degrades without (issue 4): login off in this system, KPI tiles and
 * categories served by other parts of the hub. A 404 there is expected; any other error is not.
 */
const OPTIONAL_ROUTES = /^\/api\/(auth\/me|kpis\/tiles|categories)$/;

let sys: RunningSystem;
let browser: Browser;
let page: Page;
let gridFeatures = 0;
const pageErrors: string[] = [];

beforeAll(async () => {
  await buildDashboard();
  sys = await startSystem({
    config: testConfig({ SIM: 'true', SIM_HANDSETS: String(HANDSETS), SIM_FIX_EVERY_S: '0.5', SIM_ALERT_EVERY_S: '2' }),
    logger: silentLogger,
    inMemoryDb: true,
  });
  const regions = (await (await fetch(`${sys.httpUrl}/api/regions`)).json()) as { features: Array<{ properties: { level: string } }> };
  gridFeatures = regions.features.filter((f) => f.properties.level === 'grid').length;

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // A failed request shows up twice (console + response); the response names the URL.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 404 && OPTIONAL_ROUTES.test(new URL(r.url()).pathname)))
      pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  await page.goto(sys.httpUrl);
});

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

// Each wait below allows 30 s; the test itself a little more, for a busy CI machine.
describe('command screen', { timeout: 45_000 }, () => {
  it('draws every grid of /api/regions as a polygon', async () => {
    expect(gridFeatures).toBeGreaterThan(0);
    await page.waitForFunction((n) => document.querySelectorAll('path.region-grid').length === n, gridFeatures);
    expect(await page.locator('path.region-grid').count()).toBe(gridFeatures);
    expect(await page.evaluate(() => window.__gridDashboard?.gridCount())).toBe(gridFeatures);
  });

  it('shows a dot for every simulated handset online and says so in the header', async () => {
    await page.waitForFunction(
      (n) => {
        const h = window.__gridDashboard;
        return h !== undefined && h.workerCount() === n && h.onlineCount() === n;
      },
      HANDSETS,
      { timeout: 30_000 },
    );
    await expect.poll(() => page.textContent('#count-online')).toBe(String(HANDSETS));
    expect(await page.locator('#link-light.connected').count()).toBe(1);
  });

  it('moves dots as fixes arrive', async () => {
    const before = await page.evaluate(() => {
      const h = window.__gridDashboard!;
      return Object.fromEntries(h.workerIds().map((id) => [id, h.markerPosition(id)]));
    });
    // Walkers dwell now and then (patrol-walker), so wait for any dot, not a chosen one.
    await page.waitForFunction(
      (start) => {
        const h = window.__gridDashboard!;
        return Object.entries(start).some(([id, p]) => {
          const now = h.markerPosition(id);
          return p !== null && now !== null && (now.lat !== p.lat || now.lon !== p.lon);
        });
      },
      before,
      { timeout: 30_000, polling: 100 },
    );
  });

  it('lists an alert in the feed with its type in Chinese and a Shanghai time', async () => {
    await page.waitForFunction(() => (window.__gridDashboard?.alertCount() ?? 0) >= 1, undefined, { timeout: 30_000 });
    const first = page.locator('#feed-list .alert').first();
    const type = await first.getAttribute('data-type');
    const label = await first.locator('.alert-type').textContent();
    expect(type).toMatch(/^(door|camera)\./);
    expect(label).toMatch(/[\u4e00-\u9fff]/); // translated, not the raw type
    expect(await first.locator('time').textContent()).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(Number(await page.textContent('#count-alerts'))).toBeGreaterThanOrEqual(1);
  });

  it('ran without page errors', () => {
    expect(pageErrors).toEqual([]);
  });

  // Always renders a full-screen picture; SCREENSHOTS=1 keeps it in docs/ for the README.
  it('renders a full-screen screenshot', async () => {
    // A few more alerts and some trail make the picture say what the screen is for.
    await page.waitForFunction(() => (window.__gridDashboard?.alertCount() ?? 0) >= 4, undefined, { timeout: 30_000 });
    // Two frames for the compositor: on a busy machine a screenshot right after DOM changes can
    // catch layers not yet rasterised.
    // Still pictures: animations off (the screen honours prefers-reduced-motion).
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    // A first capture makes the software rasteriser finish every layer; the second is the picture.
    await page.screenshot();
    const png = await page.screenshot();
    expect(png.length).toBeGreaterThan(20_000);
    if (process.env.SCREENSHOTS === '1') {
      await mkdir(dirname(SHOT), { recursive: true });
      await writeFile(SHOT, png);
    }
  });
});
