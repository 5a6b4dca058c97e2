// The incident detail's "record for the worker" buttons (docs/decisions/013) in headless Chromium
// against the real node, login on: a complaint offered to a worker whose OwnTracks phone cannot take
// offers shows the reason and 代接单/代拒单 to an operator; a click records the acceptance on the
// worker's behalf (the audit line says 代 and the worker), and the buttons follow the state. A
// viewer sees the reason, no buttons.
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../dashboard/build.js';
import type {} from '../../dashboard/src/debug-hook.js';
import { ALL_SCOPE } from '../../hub/auth/region-scope.js';
import { upsertWorkers } from '../../storage/device-store.js';
import type { RunningSystem } from '../../system.js';
import { launchChromium } from '../../testkit/chromium.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';
import { G1, IN_G1, seedBorderDistrict } from '../hub/dispatch/border-district.js';

const WAIT = { timeout: 45_000 };
const PASSWORDS = { xijie: 'op-password-0123', kan: 'view-password-0123' } as const;
let sys: RunningSystem;
let browser: Browser;
let phone: MqttClient;
let incidentId = '';
const pageErrors: string[] = [];

async function screen(username: keyof typeof PASSWORDS): Promise<Page> {
  const p = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.on('response', (r) => {
    if (r.status() >= 400 && !/\/api\/kpis\/tiles/.test(r.url())) pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  await p.goto(sys.httpUrl);
  await p.waitForSelector('#login:not([hidden])', WAIT);
  await p.fill('#login [name="username"]', username);
  await p.fill('#login [name="password"]', PASSWORDS[username]);
  await p.click('#login button[type="submit"]');
  await p.waitForFunction(() => window.__gridDashboard?.user() !== null && window.__gridDashboard?.connected(), undefined, WAIT);
  const entry = p.locator(`#incident-list [data-id="${incidentId}"]`);
  await entry.waitFor(WAIT);
  await entry.click();
  await p.waitForSelector('#incident-detail:not([hidden]) .audit li', WAIT);
  return p;
}

beforeAll(async () => {
  await buildDashboard();
  sys = await startTestSystem({ AUTH_REQUIRED: 'true' });
  await seedBorderDistrict(sys);
  await upsertWorkers(sys.db.pool, [{ id: 'w-ot', name: '手机网格员', role: 'grid_worker', gridCodes: [G1] }]);
  await sys.db.pool.query(`UPDATE workers SET duty = 'on' WHERE id = 'w-ot'`);
  await sys.hub.auth.users.upsert([
    { id: 'u-op', username: 'xijie', displayName: '西街道值班员', password: PASSWORDS.xijie, role: 'operator', scope: 'D01' },
    { id: 'u-view', username: 'kan', displayName: '只读', password: PASSWORDS.kan, role: 'viewer', scope: 'D' },
  ]);
  const { secret } = await sys.hub.deviceRegistry.create(
    { id: 'ot-1', kind: 'handset', protocol: 'owntracks', workerId: 'w-ot' },
    { id: 'test-admin', role: 'admin', scope: ALL_SCOPE },
  );
  phone = await mqtt.connectAsync(sys.mqttUrl, { clientId: 'ot-1', username: 'ot-1', password: secret, reconnectPeriod: 0 });
  const tst = Math.floor(Date.now() / 1000);
  await phone.publishAsync('owntracks/ot-1/phone', JSON.stringify({ _type: 'location', lat: IN_G1.lat, lon: IN_G1.lon, tst, acc: 8 }), {
    qos: 1,
  });
  await eventually(
    () => sys.hub.dispatch.roster.current(),
    (ix) => ix.workers.find((w) => w.id === 'w-ot')?.online === true,
    15_000,
    'w-ot online',
  );
  const r = await fetch(`${sys.httpUrl}/api/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'garbage', description: '小区门口垃圾桶满溢', lat: IN_G1.lat, lon: IN_G1.lon }),
  });
  incidentId = ((await r.json()) as { id: string }).id;
  await eventually(
    () => sys.hub.live.incidents.get(incidentId),
    (i) => i?.state === 'dispatched' && i.assigneeId === 'w-ot',
    15_000,
    'offered to the phone',
  );
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await phone?.endAsync(true).catch(() => undefined);
  await sys?.stop();
});

describe('incident detail: answers recorded for a worker whose handset cannot answer', { timeout: 90_000 }, () => {
  it('a viewer reads why, with no buttons', async () => {
    const p = await screen('kan');
    await p.waitForSelector('#incident-detail .on-behalf-box[data-reach="call"]', WAIT);
    expect(await p.textContent('#incident-detail .on-behalf-box')).toContain('该人员的手机收不到派单');
    expect(await p.locator('#incident-detail [data-on-behalf]').count()).toBe(0);
    await p.context().close();
  });

  it('an operator accepts for the worker; the audit says so and the next answers show', async () => {
    const p = await screen('xijie');
    await p.waitForSelector('#incident-detail .on-behalf-box[data-reach="call"]', WAIT);
    const buttons = () => p.$$eval('#incident-detail [data-on-behalf]', (bs) => bs.map((b) => b.textContent?.trim()));
    expect(await buttons()).toEqual(['代接单', '代拒单']);
    // The alarm bar asks for the call, in Chinese.
    expect(await p.textContent('#alarm-bar')).toContain('需电话通知人员');

    await p.click('#incident-detail [data-on-behalf="accept_for"]');
    await p.waitForSelector('#incident-detail .tag.st-accepted', WAIT);
    await expect.poll(buttons, WAIT).toEqual(['代报到场', '代报办结']);
    await expect.poll(() => p.textContent('#incident-detail .audit'), WAIT).toContain('代 手机网格员');
    const audit = await sys.db.pool.query(
      `SELECT actor_kind, actor_id, detail FROM incident_audit WHERE incident_id = $1 AND action = 'accept'`,
      [incidentId],
    );
    expect(audit.rows[0]).toMatchObject({ actor_kind: 'operator', actor_id: 'u-op', detail: { onBehalfOf: 'w-ot' } });
    // The call alarm is settled: it leaves the bar.
    await p.waitForFunction(() => !document.querySelector('#alarm-bar')?.textContent?.includes('需电话通知人员'), undefined, WAIT);
    expect(pageErrors).toEqual([]);
    await p.context().close();
  });
});
