// Task offers to handsets that do not read the native `tasks` topic (issue 15, decision 013), with
// real parts: the node of system.ts (Aedes, the hub, the JT/T 808 gateway, the embedded
// TimescaleDB), login on. A JT/T 808 terminal written from the standard gets the offer of a
// complaint in its grid as 0x8300 text, and an operator signed in records its answers on its
// behalf through POST /api/incidents/:id/actions (the audit names both). An OwnTracks phone, which
// nothing reaches, gets its offer with a "phone the worker" alarm and a shorter wait, which the
// operator's recorded answer settles.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkers } from '../../../storage/device-store.js';
import { ALL_SCOPE } from '../../../hub/auth/region-scope.js';
import { Jt808Terminal } from '../../../simulators/jt808-terminal.js';
import type { RunningSystem } from '../../../system.js';
import { eventually } from '../../../testkit/builders.js';
import { testConfig } from '../../../common/config.js';
import { silentLogger } from '../../../common/logger.js';
import { startSystem } from '../../../system.js';
import { G1, IN_G1, seedBorderDistrict } from './border-district.js';

const TERMINAL = '13800000001';
let sys: RunningSystem;
let terminal: Jt808Terminal;
let mute: Jt808Terminal | undefined;
let phone: MqttClient | undefined;
let phoneSecret = '';
const tokens: Record<'op' | 'viewer', string> = { op: '', viewer: '' };

interface Detail {
  incident: { id: string; state: string; version: number; assigneeId: string | null; gridCode: string };
  audit: {
    version: number;
    action: string;
    actorKind: string;
    actorId: string;
    reason: string | null;
    detail: Record<string, unknown> | null;
  }[];
  offers: {
    taskId: string;
    workerId: string;
    deviceId: string | null;
    status: string;
    offeredAt: number;
    acceptBy: number;
    publishedAt: number | null;
  }[];
  assigneeReach: string | null;
}
interface Alarm {
  id: number;
  incidentId: string;
  stage: string;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

async function api<T>(method: string, path: string, body?: unknown, who: keyof typeof tokens = 'op'): Promise<{ status: number; body: T }> {
  const r = await fetch(`${sys.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as T };
}
const detail = async (id: string) => (await api<Detail>('GET', `/api/incidents/${id}`)).body;
const act = (id: string, body: object, who: keyof typeof tokens = 'op') =>
  api<{ incident: { state: string; version: number } }>('POST', `/api/incidents/${id}/actions`, body, who);
const stateOf = (id: string, state: string) =>
  eventually(
    () => detail(id),
    (d) => d.incident.state === state,
    15_000,
    `incident ${id} ${state}`,
  );

async function complaint(description: string): Promise<string> {
  const r = await fetch(`${sys.httpUrl}/api/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'garbage', description, lat: IN_G1.lat, lon: IN_G1.lon }),
  });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: string }).id;
}

beforeAll(async () => {
  // A terminal that shows a text answers at once; one that does not is given up on after 2 s here (30 s by default).
  sys = await startSystem({
    config: testConfig({ AUTH_REQUIRED: 'true' }),
    logger: silentLogger,
    inMemoryDb: true,
    jt808TextReplyTimeoutMs: 2000,
  });
  await seedBorderDistrict(sys); // its native handsets never connect: offline, never offered anything here
  await upsertWorkers(sys.db.pool, [
    { id: 'w-jt', name: '北斗网格员', role: 'grid_worker', gridCodes: [G1] },
    { id: 'w-ot', name: '手机网格员', role: 'grid_worker', gridCodes: [G1] },
    { id: 'w-mute', name: '无屏终端网格员', role: 'grid_worker', gridCodes: [G1] },
  ]);
  await sys.db.pool.query(`UPDATE workers SET duty = 'on' WHERE id IN ('w-jt', 'w-ot', 'w-mute')`);
  await sys.hub.auth.users.upsert([
    { id: 'u-op', username: 'xijie', displayName: '西街道值班员', password: 'op-password-0123', role: 'operator', scope: 'D01' },
    { id: 'u-view', username: 'kan', displayName: '只读', password: 'view-password-0123', role: 'viewer', scope: 'D' },
  ]);
  tokens.op = (await sys.hub.auth.users.createSession('u-op', 3_600_000)).token;
  tokens.viewer = (await sys.hub.auth.users.createSession('u-view', 3_600_000)).token;
  const admin = { id: 'test-admin', role: 'admin' as const, scope: ALL_SCOPE };
  await sys.hub.deviceRegistry.create({ id: 'jt-1', kind: 'handset', protocol: 'jt808', protocolId: TERMINAL, workerId: 'w-jt' }, admin);
  phoneSecret = (await sys.hub.deviceRegistry.create({ id: 'ot-1', kind: 'handset', protocol: 'owntracks', workerId: 'w-ot' }, admin))
    .secret;

  // The terminal registers, authenticates and reports a fix in G1: online, on duty, in its grid.
  terminal = await Jt808Terminal.connect({ host: '127.0.0.1', port: sys.jt808.port, terminalNo: TERMINAL, version: 2013 });
  expect((await terminal.register()).result).toBe(0);
  expect(await terminal.authenticate()).toBe(0);
  const ts = Math.floor(Date.now() / 1000) * 1000;
  expect(await terminal.location({ lat: IN_G1.lat + 0.001, lon: IN_G1.lon, ts })).toBe(0);
  await eventually(
    () => sys.hub.live.workers.get('w-jt'),
    (w) => !!w && w.online && w.duty === 'on' && w.ts === ts,
    15_000,
    'w-jt live',
  );
}, 90_000);

afterAll(async () => {
  await terminal?.close().catch(() => undefined);
  await mute?.close().catch(() => undefined);
  await phone?.endAsync(true).catch(() => undefined);
  await sys?.stop();
});

describe('a JT/T 808 terminal gets its offers as text, an operator answers for it', () => {
  it('shows the complaint in its grid on the terminal: category, place, deadline, incident id', async () => {
    const id = await complaint('楼下垃圾三天没清运');
    const text = await terminal.nextText();
    expect(text.text).toContain('【新任务】');
    expect(text.text).toContain('垃圾清运');
    expect(text.text).toContain('西社区第一网格');
    expect(text.text).toContain('楼下垃圾三天没清运');
    expect(text.text).toMatch(/请于\d{2}:\d{2}前致电指挥中心确认是否接单/);
    expect(text.text).toContain(`事件号${id}`);
    // Display and read aloud (0x8300 flag bits 2 and 3).
    expect(text.flag & 0x0c).toBe(0x0c);

    // The terminal's 0x0001 marks the offer delivered (published), never accepted.
    const d = await eventually(
      () => detail(id),
      (x) => x.offers[0]?.publishedAt != null,
      15_000,
      'offer delivered',
    );
    expect(d.incident).toMatchObject({ state: 'dispatched', assigneeId: 'w-jt' });
    expect(d.offers[0]).toMatchObject({ workerId: 'w-jt', deviceId: 'jt-1', status: 'pending' });
    expect(d.offers[0]!.acceptBy - d.offers[0]!.offeredAt).toBe(180_000);
    expect(d.assigneeReach).toBe('text');
    const open = await api<{ items: Alarm[] }>('GET', '/api/alarms');
    expect(open.body.items.filter((a) => a.incidentId === id)).toEqual([]);

    // The worker phones in; the operator records the acceptance on the worker's behalf.
    const accepted = await act(id, { type: 'accept_for', workerId: 'w-jt', expectedVersion: d.incident.version });
    expect(accepted.status).toBe(200);
    expect(accepted.body.incident.state).toBe('accepted');
    expect((await terminal.nextText()).text).toContain('指挥中心已为您确认接单');

    let v = accepted.body.incident.version;
    const arrived = await act(id, { type: 'arrive_for', workerId: 'w-jt', expectedVersion: v });
    expect(arrived.body.incident.state).toBe('on_site');
    v = arrived.body.incident.version;
    const resolved = await act(id, { type: 'resolve_for', workerId: 'w-jt', expectedVersion: v, reason: '已联系环卫清运' });
    expect(resolved.body.incident.state).toBe('resolved');

    const after = await detail(id);
    expect(after.audit.map((a) => a.action)).toEqual(['report', 'dispatch', 'accept', 'arrive', 'resolve']);
    for (const a of after.audit.slice(2)) {
      expect(a).toMatchObject({ actorKind: 'operator', actorId: 'u-op' });
      expect(a.detail).toMatchObject({ onBehalfOf: 'w-jt' });
    }
    expect(after.audit.at(-1)!.reason).toBe('已联系环卫清运');
    expect(after.offers[0]!.status).toBe('accepted');
    // The worker who did the job is still not the one who verifies it; the operator may.
    const verified = await act(id, { type: 'verify', expectedVersion: resolved.body.incident.version });
    expect(verified.body.incident.state).toBe('verified');
  });

  it('refuses an answer for someone else, without a worker, at a stale version, from a viewer', async () => {
    const id = await complaint('路灯下垃圾堆积');
    await terminal.nextText();
    const d = await stateOf(id, 'dispatched');
    const v = d.incident.version;
    expect((await act(id, { type: 'accept_for', workerId: 'w-ot', expectedVersion: v })).status).toBe(403);
    expect((await act(id, { type: 'accept_for', expectedVersion: v })).status).toBe(400);
    expect((await act(id, { type: 'verify', workerId: 'w-jt', expectedVersion: v })).status).toBe(400);
    expect((await act(id, { type: 'accept_for', workerId: 'w-jt', expectedVersion: v - 1 })).status).toBe(409);
    expect((await act(id, { type: 'arrive_for', workerId: 'w-jt', expectedVersion: v })).status).toBe(409); // not accepted yet
    expect((await act(id, { type: 'accept_for', workerId: 'w-jt', expectedVersion: v }, 'viewer')).status).toBe(403);
    expect((await detail(id)).incident).toMatchObject({ state: 'dispatched', version: v });

    // Declined for the worker: the next candidate is offered it (here the OwnTracks phone is not
    // online, so nobody in the grid: the case climbs), and the terminal's offer is recorded declined.
    const declined = await act(id, { type: 'decline_for', workerId: 'w-jt', expectedVersion: v, reason: '人在外地' });
    expect(declined.status).toBe(200);
    const after = await detail(id);
    const decline = after.audit.find((a) => a.action === 'decline')!;
    expect(decline).toMatchObject({ actorKind: 'operator', actorId: 'u-op', reason: '人在外地' });
    expect(decline.detail).toMatchObject({ onBehalfOf: 'w-jt', workerId: 'w-jt' });
    expect(after.offers.find((o) => o.workerId === 'w-jt')!.status).toBe('declined');
  });
});

describe('an OwnTracks phone gets no offer: the operators are asked to call (decision 013)', () => {
  it('offers with a "call the worker" alarm and half the wait; the recorded answer settles the alarm', async () => {
    // The JT/T 808 worker goes off line; the phone's first fix makes its worker the only candidate.
    await terminal.close();
    await eventually(
      () => sys.hub.live.workers.get('w-jt'),
      (w) => !!w && !w.online,
      15_000,
      'w-jt offline',
    );
    // The phone connects and reports as the OwnTracks app does (MQTT mode).
    phone = await mqtt.connectAsync(sys.mqttUrl, { clientId: 'ot-1', username: 'ot-1', password: phoneSecret, reconnectPeriod: 0 });
    const tst = Math.floor(Date.now() / 1000);
    await phone.publishAsync(
      'owntracks/ot-1/phone',
      JSON.stringify({ _type: 'location', lat: IN_G1.lat, lon: IN_G1.lon + 0.001, tst, acc: 8, tid: 'ot' }),
      { qos: 1 },
    );
    await eventually(
      () => sys.hub.live.workers.get('w-ot'),
      (w) => !!w && w.online && w.duty === 'on' && w.ts === tst * 1000,
      15_000,
      'w-ot live',
    );

    // Dispatch ranks from its roster index, rebuilt at most every 2 s: wait until it sees both changes.
    await eventually(
      () => sys.hub.dispatch.roster.current(),
      (ix) => {
        const online = (w: string) => ix.workers.find((x) => x.id === w)?.online;
        return online('w-jt') === false && online('w-ot') === true;
      },
      15_000,
      'roster sees w-jt away and w-ot online',
    );
    const id = await complaint('小区门口垃圾桶满溢');
    const d = await eventually(
      () => detail(id),
      (x) => x.incident.state === 'dispatched',
      15_000,
      'offered',
    );
    expect(d.incident.assigneeId).toBe('w-ot');
    expect(d.assigneeReach).toBe('call');
    const offer = d.offers[0]!;
    expect(offer).toMatchObject({ workerId: 'w-ot', deviceId: 'ot-1', status: 'pending', publishedAt: null });
    // Half of DISPATCH_OFFER_TIMEOUT_S (180 s): an unattended screen does not hold the case long.
    expect(offer.acceptBy - offer.offeredAt).toBe(90_000);
    const alarms = await api<{ items: Alarm[] }>('GET', '/api/alarms');
    const call = alarms.body.items.find((a) => a.incidentId === id && a.stage === 'call_worker');
    expect(call).toBeDefined();

    const accepted = await act(id, { type: 'accept_for', workerId: 'w-ot', expectedVersion: d.incident.version });
    expect(accepted.body.incident.state).toBe('accepted');
    const settled = await sys.db.pool.query('SELECT acknowledged_at, acknowledged_by FROM incident_alarms WHERE id = $1', [call!.id]);
    expect(settled.rows[0].acknowledged_by).toBe('u-op');
    expect(settled.rows[0].acknowledged_at).not.toBeNull();
    const audit = (await detail(id)).audit.find((a) => a.action === 'accept')!;
    expect(audit).toMatchObject({ actorKind: 'operator', actorId: 'u-op', detail: { onBehalfOf: 'w-ot' } });
  });
});

describe('a terminal that never shows the text: the operators are asked to call', () => {
  it('raises the call alarm once the text goes unanswered, and the offer stays unsent', async () => {
    await sys.hub.deviceRegistry.create(
      { id: 'jt-mute', kind: 'handset', protocol: 'jt808', protocolId: '13800000002', workerId: 'w-mute' },
      { id: 'test-admin', role: 'admin', scope: ALL_SCOPE },
    );
    mute = await Jt808Terminal.connect({
      host: '127.0.0.1',
      port: sys.jt808.port,
      terminalNo: '13800000002',
      version: 2019,
      answerText: false,
    });
    expect((await mute.register()).result).toBe(0);
    expect(await mute.authenticate()).toBe(0);
    const ts = Math.floor(Date.now() / 1000) * 1000;
    // Closer than the phone and with nothing on hand: ranked first.
    expect(await mute.location({ lat: IN_G1.lat, lon: IN_G1.lon, ts })).toBe(0);
    await eventually(
      () => sys.hub.dispatch.roster.current(),
      (ix) => ix.workers.find((x) => x.id === 'w-mute')?.online === true,
      15_000,
      'roster sees w-mute',
    );

    const id = await complaint('绿化带垃圾');
    const text = await mute.nextText(); // it arrives; the terminal just never says so
    expect(text.text).toContain(`事件号${id}`);
    const d = await stateOf(id, 'dispatched');
    expect(d.incident.assigneeId).toBe('w-mute');
    const call = await eventually(
      async () =>
        (await api<{ items: Alarm[] }>('GET', '/api/alarms')).body.items.find((a) => a.incidentId === id && a.stage === 'call_worker'),
      (a) => a !== undefined,
      15_000,
      'call alarm',
    );
    expect(call!.acknowledgedAt).toBeNull();
    const after = await detail(id);
    expect(after.offers[0]).toMatchObject({ workerId: 'w-mute', status: 'pending', publishedAt: null });
    // Still the normal wait: the worker may yet see the screen.
    expect(after.offers[0]!.acceptBy - after.offers[0]!.offeredAt).toBe(180_000);
    // Declined for them after the call: the alarm is settled with the operator's name.
    expect(
      (
        await act(id, {
          type: 'decline_for',
          workerId: 'w-mute',
          expectedVersion: after.incident.version,
          reason: '终端无显示，电话联系不上',
        })
      ).status,
    ).toBe(200);
    const settled = await sys.db.pool.query('SELECT acknowledged_by FROM incident_alarms WHERE id = $1', [call!.id]);
    expect(settled.rows[0].acknowledged_by).toBe('u-op');
  });
});
