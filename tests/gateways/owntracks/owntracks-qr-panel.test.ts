// The Devices page's OwnTracks QR panel in headless Chromium: bundled by esbuild for the browser as
// the command screen is (qrcode's browser build included), mounted into a panel like the page's
// secret slot, with the hub's setup defaults given in. The QR image is drawn from the secret on the
// page; its link decodes to the configuration; the host and the mode can be changed.
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOwnTracksConfigLink } from '../../../protocol/owntracks-config.js';
import type { OwnTracksSetupDefaults } from '../../../protocol/owntracks-config.js';
import type { ownTracksQrPanel } from '../../../dashboard/src/owntracks-qr-panel.js';
import { launchChromium } from '../../../testkit/chromium.js';

declare global {
  interface Window {
    otPanel: { ownTracksQrPanel: typeof ownTracksQrPanel };
  }
}

const SECRET = 'q-8_ZkP0vW3xYt2Lm9Nr4Bs7Dc1Fg6Hh';
const DEFAULTS: OwnTracksSetupDefaults = {
  mqtt: { host: 'hub.grid.example.cn', port: 1883, tls: false },
  http: { url: 'https://hub.grid.example.cn/api/owntracks' },
  appDevice: 'phone',
};

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [new URL('../../../dashboard/src/owntracks-qr-panel.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'otPanel',
    platform: 'browser',
    target: ['chrome100'],
    logLevel: 'silent',
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent('<div class="secret-extension" data-hook="owntracks-qr"></div><div class="native"></div>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function mount(protocol: string, lang: 'zh' | 'en'): Promise<number> {
  return page.evaluate(
    ({ protocol, lang, secret, defaults }) => {
      const el = document.querySelector<HTMLElement>('.secret-extension')!;
      el.innerHTML = '';
      window.otPanel.ownTracksQrPanel({ device: { id: 'ot-zhang', protocol }, secret, mount: el, lang }, async () => defaults);
      // The page shows the slot only if the extension put something in it at once.
      return el.childElementCount;
    },
    { protocol, lang, secret: SECRET, defaults: DEFAULTS },
  );
}

const link = async () => {
  await page.waitForFunction(() => document.querySelector<HTMLImageElement>('.owntracks-qr-image')?.src.startsWith('data:image/svg+xml'));
  return page.$eval('.owntracks-qr-image', (img) => (img as HTMLImageElement).dataset.link!);
};

describe('OwnTracks QR panel', () => {
  it('fills the slot at once and draws the MQTT link of this device from the secret on the page', async () => {
    expect(await mount('owntracks', 'zh')).toBe(1);
    const config = parseOwnTracksConfigLink(await link());
    expect(config).toMatchObject({
      mode: 0,
      host: 'hub.grid.example.cn',
      port: 1883,
      username: 'ot-zhang',
      password: SECRET,
      clientId: 'ot-zhang',
    });
    const svg = await page.$eval('.owntracks-qr-image', (img) => decodeURIComponent((img as HTMLImageElement).src.split(',')[1]!));
    expect(svg).toMatch(/^<svg[^>]*viewBox="0 0 \d+ \d+"/);
    expect(await page.textContent('.owntracks-qr')).toContain('Android 2.3');
  });

  it('warns when the host is this computer, and redraws with the host and mode the admin gives', async () => {
    await page.fill('.owntracks-host', '127.0.0.1');
    await page.waitForFunction(() => document.querySelector('.owntracks-qr')!.textContent!.includes('仅本机可用'));
    await page.fill('.owntracks-host', '192.168.10.5');
    await page.waitForFunction(() => {
      const l = document.querySelector<HTMLImageElement>('.owntracks-qr-image')!.dataset.link!;
      return JSON.parse(atob(decodeURIComponent(l.split('inline=')[1]!))).host === '192.168.10.5';
    });
    await page.check('input[value="http"]');
    await page.waitForFunction(() => {
      const l = document.querySelector<HTMLImageElement>('.owntracks-qr-image')!.dataset.link!;
      return JSON.parse(atob(decodeURIComponent(l.split('inline=')[1]!))).mode === 3;
    });
    expect(parseOwnTracksConfigLink(await link())).toMatchObject({
      mode: 3,
      url: 'https://192.168.10.5/api/owntracks',
      username: 'ot-zhang',
    });
  });

  it('leaves the slot of another protocol empty', async () => {
    expect(await mount('jt808', 'en')).toBe(0);
  });
});
