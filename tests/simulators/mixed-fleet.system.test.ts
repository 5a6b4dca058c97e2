// `npm start`'s mixed fleet end to end (issue 15 §4): the real node (embedded TimescaleDB, broker,
// hub, JT/T 808 gateway) with the simulated district of 12 handsets, two of them OwnTracks phones
// on the app's MQTT topics and two JT/T 808 terminals on the JT808 port. Every handset's dot moves
// (positions stored, each protocol through its own door), the registry says how each one talks,
// the live snapshot carries the protocol, and the worker card in Chromium shows it.
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../dashboard/build.js';
import type {} from '../../dashboard/src/debug-hook.js';
import { LIVE_NAMESPACE, type ClientToServerEvents, type LiveSnapshot, type ServerToClientEvents } from '../../protocol/socket-events.js';
import { demoDistrictFromConfig, type DemoHandset } from '../../simulators/demo-district.js';
import { protocolIdOf } from '../../simulators/seed-district.js';
import type { RunningSystem } from '../../system.js';
import { launchChromium } from '../../testkit/chromium.js';
import { freePort } from '../../testkit/free-port.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';

const HANDSETS = 12;
const district = demoDistrictFromConfig({ SIM_SEED: 20261125, SIM_HANDSETS: HANDSETS });
const PROTOCOLS = ['native', 'owntracks', 'jt808'] as const;
const of = (p: (typeof PROTOCOLS)[number]): DemoHandset[] => district.handsets.filter((h) => h.protocol === p);

let sys: RunningSystem;

beforeAll(async () => {
  // A known JT/T 808 port: the simulation reads it from the configuration, as `npm start` does.
  const jt808Port = await freePort();
  sys = await startTestSystem({
    SIM: 'true',
    SIM_HANDSETS: String(HANDSETS),
    SIM_FIX_EVERY_S: '1',
    SIM_ALERT_EVERY_S: '100000',
    JT808_PORT: String(jt808Port),
  });
}, 90_000);

afterAll(async () => {
  await sys?.stop();
});

describe('the mixed fleet on a real node', { timeout: 90_000 }, () => {
  it('seeds each handset with its protocol and protocol id', async () => {
    for (const p of PROTOCOLS) expect(of(p).length, p).toBeGreaterThanOrEqual(2);
    const rows = (
      await sys.db.pool.query<{ id: string; protocol: string; protocol_id: string | null }>(
        `SELECT id, protocol, protocol_id FROM devices WHERE kind = 'handset' ORDER BY id`,
      )
    ).rows;
    expect(rows).toEqual(district.handsets.map((h) => ({ id: h.id, protocol: h.protocol, protocol_id: protocolIdOf(h) })));
  });

  it("moves every handset's dot: positions stored for each protocol's devices, through its own door", async () => {
    const moving = async (): Promise<Set<string>> => {
      const r = await sys.db.pool.query<{ device_id: string }>(
        `SELECT device_id FROM positions WHERE device_id LIKE 'hs-%' GROUP BY device_id HAVING count(DISTINCT (lat, lon)) >= 3`,
      );
      return new Set(r.rows.map((x) => x.device_id));
    };
    const seen = await eventually(
      moving,
      (s) => district.handsets.every((h) => s.has(h.id)),
      60_000,
      'every handset with three distinct stored positions',
    );
    expect(seen.size).toBe(HANDSETS);
    // Each protocol took its own path into the pipeline, not the native topics.
    expect(sys.metrics.get('owntracks_messages_total', { type: 'location', mode: 'mqtt' })).toBeGreaterThan(0);
    expect(sys.metrics.get('jt808_fixes_total')).toBeGreaterThan(0);
    // And nothing any handset sent was refused.
    const dead = await sys.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM dead_letters WHERE device_id LIKE 'hs-%' OR topic LIKE 'owntracks/%' OR topic = 'jt808'`,
    );
    expect(dead.rows[0]!.n).toBe(0);
  });

  it('puts the protocol of each worker in the live snapshot, every worker online with a position', async () => {
    const screen: Socket<ServerToClientEvents, ClientToServerEvents> = io(`${sys.httpUrl}${LIVE_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      const snap = await new Promise<LiveSnapshot>((resolve, reject) => {
        screen.once('snapshot', resolve);
        screen.once('connect_error', reject);
      });
      for (const h of district.handsets) {
        const w = snap.workers.find((x) => x.deviceId === h.id);
        expect(w, h.id).toBeDefined();
        expect(w).toMatchObject({ workerId: h.workerId, protocol: h.protocol, online: true, duty: 'on' });
        expect(w!.lat).not.toBeNull();
        expect(w!.battery).not.toBeNull();
      }
    } finally {
      screen.close();
    }
  });
});

describe('the worker card in Chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await buildDashboard();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(sys.httpUrl);
    await page.waitForFunction((n) => window.__gridDashboard?.workerCount() === n, HANDSETS, { timeout: 45_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Clicks the dots of these workers until the card opens on one of them; returns its text parts. */
  async function openCard(workerIds: string[]): Promise<{ id: string; protocol: string; cls: string }> {
    // A dot glides between fixes and may sit under another: try each, again, until one card opens.
    for (let attempt = 0; attempt < 12; attempt++) {
      const id = workerIds[attempt % workerIds.length]!;
      const at = await page.evaluate((wid) => window.__gridDashboard!.workerPixel(wid), id);
      if (!at) continue;
      await page.mouse.click(at.x, at.y);
      const opened = await page.waitForSelector('#worker-card:not([hidden]) .card-protocol', { timeout: 2000 }).then(
        () => true,
        () => false,
      );
      const shown = opened ? await page.getAttribute('#worker-card', 'data-worker-id') : null;
      if (shown && workerIds.includes(shown)) {
        return {
          id: shown,
          protocol: (await page.textContent('#worker-card .card-protocol'))!.trim(),
          cls: (await page.getAttribute('#worker-card .card-protocol', 'class'))!,
        };
      }
      await page.keyboard.press('Escape');
    }
    throw new Error(`no card opened for ${workerIds.join(', ')}`);
  }

  it('shows the protocol on the card, zh-CN: JT/T 808, OwnTracks, 平台协议', async () => {
    const label = { native: '平台协议', owntracks: 'OwnTracks', jt808: 'JT/T 808' } as const;
    for (const p of PROTOCOLS) {
      const card = await openCard(of(p).map((h) => h.workerId));
      expect(card.protocol, card.id).toBe(label[p]);
      expect(card.cls).toContain(`protocol-${p}`);
      await page.click('#worker-card [data-action="close"]');
    }
  });
});
