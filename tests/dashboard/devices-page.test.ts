// The Devices page (设备管理, issue 15) in headless Chromium against the real system: the simulated
// district (broker, handsets, embedded database) with login on. An admin lists and filters the
// registry, adds a handset (its secret shown once, then gone from the page), and the device made on
// the page connects over real MQTT; rotating and disabling from the page close its connection and
// refuse the old secret; last seen fills in; an operator gets no page. zh-CN first, EN on switch.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../dashboard/build.js';
import { demoDistrictFromConfig } from '../../simulators/demo-district.js';
import { demoUsers } from '../../simulators/demo-users.js';
import type { RunningSystem } from '../../system.js';
import { launchChromium } from '../../testkit/chromium.js';
import { connectDevice, startTestSystem } from '../../testkit/test-system.js';

const HANDSETS = 12;
const district = demoDistrictFromConfig({ SIM_SEED: 20261125, SIM_HANDSETS: HANDSETS });
const users = Object.fromEntries(demoUsers(district).map((u) => [u.username, u]));
const WAIT = { timeout: 45_000 };
const SHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots', 'devices-page.png');

let sys: RunningSystem;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

function watch(p: Page): void {
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  p.on('response', (r) => {
    if (r.status() >= 400 && !/\/api\/kpis\/tiles/.test(r.url())) pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
}

async function signIn(p: Page, username: string): Promise<void> {
  await p.goto(sys.httpUrl);
  await p.waitForSelector('#login:not([hidden])', WAIT);
  await p.fill('#login [name="username"]', username);
  await p.fill('#login [name="password"]', users[username]!.password);
  await p.click('#login button[type="submit"]');
  await p.waitForFunction(() => window.__gridDashboard?.user() !== null && window.__gridDashboard?.connected(), undefined, WAIT);
}

const rows = () =>
  page.$$eval('#devices-page tbody tr[data-device]', (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.device!,
      state: (tr as HTMLElement).dataset.state!,
      kind: tr.children[1]!.textContent!.trim(),
      seen: tr.querySelector('.last-seen')!.textContent!.trim(),
    })),
  );

/** Waits until the listed rows satisfy `ok` (the page reloads on every filter change). */
async function rowsUntil(ok: (r: Awaited<ReturnType<typeof rows>>) => boolean, what: string): Promise<Awaited<ReturnType<typeof rows>>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await rows();
    if (ok(r)) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; rows: ${JSON.stringify(r.slice(0, 5))} (${r.length})`);
    await page.waitForTimeout(100);
  }
}

async function filter(name: string, value: string): Promise<void> {
  await page.selectOption(`#devices-page .devices-filters [name="${name}"]`, value);
}

async function countOf(where = 'true'): Promise<number> {
  return (await sys.db.pool.query(`SELECT count(*)::int AS n FROM devices WHERE ${where}`)).rows[0].n as number;
}

/** Reads the secret panel, closes it, and checks the secret left the page. */
async function takeSecret(): Promise<string> {
  await page.waitForSelector('#devices-page .device-secret:not([hidden]) .secret-value', WAIT);
  const secret = (await page.textContent('#devices-page .secret-value'))!.trim();
  await page.click('#devices-page [data-action="secret-done"]');
  expect(await page.$('#devices-page .device-secret:not([hidden])')).toBeNull();
  expect(await page.content()).not.toContain(secret);
  return secret;
}

const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));

beforeAll(async () => {
  await buildDashboard();
  sys = await startTestSystem({
    SIM: 'true',
    SIM_HANDSETS: String(HANDSETS),
    SIM_FIX_EVERY_S: '1',
    SIM_ALERT_EVERY_S: '3600',
    AUTH_REQUIRED: 'true',
  });
  browser = await launchChromium();
  admin = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  page = await admin.newPage();
  watch(page);
  await signIn(page, 'admin');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

describe('Devices page (设备管理)', { timeout: 90_000 }, () => {
  it('lists the registry for an admin, and filters by kind, online and grid', async () => {
    await page.click('#devices-open');
    await page.waitForSelector('#devices-page:not([hidden])', WAIT);
    expect(await page.textContent('#devices-page h2')).toBe('设备管理');
    const all = await countOf();
    await rowsUntil((r) => r.length === all, `${all} rows`);
    await filter('kind', 'door');
    const doors = await countOf(`kind = 'door'`);
    await rowsUntil((r) => r.length === doors && r.every((x) => x.kind === '门禁'), 'doors only');
    await filter('kind', '');
    await filter('online', 'true');
    // The simulated handsets are connected and said so (presence): they show as online.
    const online = await rowsUntil((r) => r.length > 0 && r.every((x) => x.state === 'online'), 'online devices');
    expect(online.length).toBeGreaterThanOrEqual(HANDSETS / 2);
    await filter('online', '');
    const grid = (await sys.db.pool.query(`SELECT grid_code FROM devices WHERE grid_code IS NOT NULL LIMIT 1`)).rows[0].grid_code as string;
    await filter('grid', grid);
    const inGrid = await countOf(`grid_code = '${grid}' OR worker_id IN (SELECT id FROM workers WHERE '${grid}' = ANY(grid_codes))`);
    await rowsUntil((r) => r.length === inGrid, `the ${inGrid} devices of ${grid}`);
    await filter('grid', '');
    await rowsUntil((r) => r.length === all, 'all rows again');
    if (process.env.SCREENSHOTS === '1') await page.screenshot({ path: SHOT });
  });

  it('adds a handset, shows its secret once, and the device connects with it; last seen fills in', async () => {
    await page.click('#devices-page [data-action="devices-add"]');
    await page.selectOption('#devices-page .device-add [name="kind"]', 'handset');
    await page.fill('#devices-page .device-add [name="id"]', 'hs-page-1');
    await page.fill('#devices-page .device-add [name="name"]', '页面添加的手机');
    await page.click('#devices-page .device-add button[type="submit"]');
    const secret = await takeSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await rowsUntil((r) => r.some((x) => x.id === 'hs-page-1' && x.seen === '从未上线'), 'the new row, never seen');
    const c = await connectDevice(sys, 'hs-page-1', secret);
    await c.publishAsync('grid/v1/devices/hs-page-1/presence', JSON.stringify({ online: true, ts: Date.now() }), { qos: 1, retain: true });
    c.end(true);
    // The page refreshes on a filter change (and every 10 s).
    await filter('kind', 'handset');
    await rowsUntil((r) => r.some((x) => x.id === 'hs-page-1' && x.seen !== '从未上线'), 'last seen filled in');
    await filter('kind', '');
  });

  it('rotates from the page (asked twice): the old secret and its connection are gone, the new one works', async () => {
    const first = await (async () => {
      await page.click('#devices-page tr[data-device="hs-page-1"] [data-action="rotate"]');
      expect(await page.textContent('#devices-page tr[data-device="hs-page-1"] [data-action="rotate"]')).toBe('确认重置？');
      // A device created a moment ago on the page: its secret is needed to test the rotation.
      return (await sys.db.pool.query(`SELECT secret_hash FROM devices WHERE id = 'hs-page-1'`)).rows[0].secret_hash as string;
    })();
    await page.click('#devices-page tr[data-device="hs-page-1"] [data-action="rotate"]');
    const secret = await takeSecret();
    const after = (await sys.db.pool.query(`SELECT secret_hash FROM devices WHERE id = 'hs-page-1'`)).rows[0].secret_hash as string;
    expect(after).not.toBe(first);
    const c = await connectDevice(sys, 'hs-page-1', secret);
    // Disable, asked twice: the connection closes and the next connect is refused (5).
    const gone = closed(c);
    await page.click('#devices-page tr[data-device="hs-page-1"] [data-action="disable"]');
    await page.click('#devices-page tr[data-device="hs-page-1"] [data-action="disable"]');
    await gone;
    await rowsUntil((r) => r.some((x) => x.id === 'hs-page-1' && x.state === 'disabled'), 'shown disabled');
    await expect(connectDevice(sys, 'hs-page-1', secret)).rejects.toMatchObject({ code: 5 });
    await page.click('#devices-page tr[data-device="hs-page-1"] [data-action="enable"]');
    await rowsUntil((r) => r.some((x) => x.id === 'hs-page-1' && x.state !== 'disabled'), 'enabled again');
    (await connectDevice(sys, 'hs-page-1', secret)).end(true);
  });

  it('keeps a place in the secret panel for the OwnTracks QR code', async () => {
    await page.click('#devices-page [data-action="devices-add"]');
    await page.selectOption('#devices-page .device-add [name="protocol"]', 'owntracks');
    await page.fill('#devices-page .device-add [name="id"]', 'ot-page-1');
    await page.click('#devices-page .device-add button[type="submit"]');
    await page.waitForSelector('#devices-page .device-secret [data-hook="owntracks-qr"][data-device="ot-page-1"]', {
      ...WAIT,
      state: 'attached',
    });
    await takeSecret();
  });

  it("refuses a bad device in the form with the hub's reason, and switches to English", async () => {
    await page.click('#devices-page [data-action="devices-add"]');
    await page.selectOption('#devices-page .device-add [name="protocol"]', 'jt808');
    await page.click('#devices-page .device-add button[type="submit"]');
    await page.waitForFunction(
      () => (document.querySelector('#devices-page .device-add-error')?.textContent ?? '').includes('terminal number'),
      undefined,
      WAIT,
    );
    await page.click('#devices-page [data-action="add-cancel"]');
    // Refusals are expected here, not page errors.
    const i = pageErrors.findIndex((e) => e.startsWith('HTTP 422'));
    if (i >= 0) pageErrors.splice(i, 1);
    await page.click('#lang-switch');
    expect(await page.textContent('#devices-page h2')).toBe('Device registry');
    expect(await page.textContent('#devices-open')).toBe('Devices');
    await rowsUntil((r) => r.some((x) => x.kind === 'Door access'), 'English kinds');
    await page.click('#lang-switch');
    await page.click('#devices-page [data-action="devices-close"]');
    expect(await page.isHidden('#devices-page')).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('is not offered to an operator', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const prev = page;
    page = p;
    try {
      await signIn(p, 'jiedao');
      expect(await p.$('#devices-open')).toBeNull();
      expect(await p.$('#devices-page')).toBeNull();
    } finally {
      page = prev;
      await ctx.close();
    }
  });
});
