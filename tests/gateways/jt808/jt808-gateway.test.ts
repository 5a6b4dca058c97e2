// The JT/T 808 gateway end to end: the terminal simulator over real TCP → gateway → the hub's
// ingest (Hub.submit) → the embedded TimescaleDB, with the device registry behind the injected
// authenticate/register (jt808-device-registry.ts over storage/device-store.ts).
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { findDevice, upsertDevices, upsertWorkers } from '../../../storage/device-store.js';
import { jt808Identity } from '../../../gateways/jt808/jt808-device-registry.js';
import { escape, unescape } from '../../../gateways/jt808/jt808-frame.js';
import { startJt808Gateway, type Jt808GatewayOptions, type RunningJt808Gateway } from '../../../gateways/jt808/jt808-gateway.js';
import { encodeLocation, type LocationInput } from '../../../gateways/jt808/jt808-location.js';
import { MSG } from '../../../gateways/jt808/jt808-messages.js';
import { Jt808Terminal, type Jt808TerminalOptions } from '../../../simulators/jt808-terminal.js';
import type { RunningSystem } from '../../../system.js';
import { eventually } from '../../../testkit/builders.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { G1, IN_G1, TestHandset, incidentDetail, seedBorderDistrict } from '../../hub/dispatch/border-district.js';

const A = '13800138000'; // 2013 terminal of grid worker w-g1c (only this device)
const B = '13900139000'; // 2019 terminal, no worker
const DEV_A = `jt808-${A}`;
const DEV_B = `jt808-${B}`;

let sys: RunningSystem;
let gw: RunningJt808Gateway;
let gate: Promise<void> | null = null;
const submitted: { topic: string; payload: Record<string, unknown> }[] = [];
const submits = new EventEmitter();
const terminals: Jt808Terminal[] = [];
let colleague: TestHandset;

const now = () => Math.floor(Date.now() / 1000) * 1000;
const fixAt = (ts: number, over: Partial<LocationInput> = {}): LocationInput => ({
  lat: IN_G1.lat,
  lon: IN_G1.lon,
  altitudeM: 52,
  speedKmh: 4.3,
  course: 90,
  ts,
  ...over,
});

async function terminal(
  terminalNo: string,
  version: 2013 | 2019,
  extra: Partial<Jt808TerminalOptions> = {},
  port = gw.port,
): Promise<Jt808Terminal> {
  const t = await Jt808Terminal.connect({ host: '127.0.0.1', port, terminalNo, version, ...extra });
  terminals.push(t);
  return t;
}

async function ready(terminalNo: string, version: 2013 | 2019, port = gw.port): Promise<Jt808Terminal> {
  const t = await terminal(terminalNo, version, {}, port);
  expect((await t.register()).result).toBe(0);
  expect(await t.authenticate()).toBe(0);
  return t;
}

const rows = async (sql: string, params: unknown[]) => (await sys.db.pool.query(sql, params)).rows;
const positionsAt = (deviceId: string, ts: number[]) =>
  rows('SELECT ts, lat, lon, alt, speed, heading FROM positions WHERE device_id = $1 AND ts = ANY($2::timestamptz[]) ORDER BY ts', [
    deviceId,
    ts.map((t) => new Date(t)),
  ]);
const presence = (deviceId: string) =>
  rows(`SELECT online FROM device_status WHERE device_id = $1 AND kind = 'presence' ORDER BY ts`, [deviceId]);

/** A second gateway on the same registry, submitting straight to the hub (a test's own options). */
const ownGateway = (over: Partial<Jt808GatewayOptions> = {}) =>
  startJt808Gateway({
    ...jt808Identity({
      find: (id) => findDevice(sys.db.pool, id),
      setSecretHash: async (id, h) => void (await sys.db.pool.query('UPDATE devices SET secret_hash = $2 WHERE id = $1', [id, h])),
    }),
    submit: sys.hub.submit,
    topicRoot: sys.config.TOPIC_ROOT,
    metrics: sys.metrics,
    logger: silentLogger,
    ...over,
  });

beforeAll(async () => {
  sys = await startTestSystem();
  await seedBorderDistrict(sys);
  await upsertWorkers(sys.db.pool, [{ id: 'w-g1c', name: '孙网格', role: 'grid_worker', gridCodes: [G1] }]);
  // Created as an admin would; the secret is replaced by the code registration issues.
  await upsertDevices(sys.db.pool, [
    { id: DEV_A, kind: 'handset', secret: 'unused-initial-secret-0123', workerId: 'w-g1c' },
    { id: DEV_B, kind: 'handset', secret: 'unused-initial-secret-4567' },
  ]);
  await sys.hub.reloadRegistry();
  const identity = jt808Identity({
    find: (id) => findDevice(sys.db.pool, id),
    setSecretHash: async (id, hash) => void (await sys.db.pool.query('UPDATE devices SET secret_hash = $2 WHERE id = $1', [id, hash])),
  });
  gw = await startJt808Gateway({
    ...identity,
    submit: async (topic, payload) => {
      submitted.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> });
      submits.emit('submit', topic);
      if (gate) await gate;
      await sys.hub.submit(topic, payload);
    },
    topicRoot: sys.config.TOPIC_ROOT,
    metrics: sys.metrics,
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  for (const t of terminals) if (!t.isClosed) await t.close();
  await colleague?.close();
  await gw?.stop();
  await sys?.stop();
});

describe('registration and authentication (0x0100 → 0x8100, 0x0102 → 0x8001)', () => {
  it('gives a registered terminal its code, refuses an unknown one (result 4, no code)', async () => {
    const t = await terminal(A, 2013);
    const reply = await t.register();
    expect(reply.result).toBe(0);
    expect(reply.authCode).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const stranger = await terminal('13700000000', 2013);
    expect(await stranger.register()).toEqual({ replySeq: 0, result: 4 });
    expect(await t.authenticate()).toBe(0);
    await eventually(
      () => presence(DEV_A),
      (p) => p.some((r) => r.online === true),
      10_000,
      'online presence',
    );
  });

  it('refuses a wrong code with result 1 and a counter, and closes after three', async () => {
    const before = sys.metrics.get('jt808_auth_total', { result: 'refused' });
    const t = await terminal(B, 2019);
    expect(await t.authenticate('not-the-code')).toBe(1);
    expect(await t.authenticate('still-not')).toBe(1);
    expect(await t.authenticate('nope')).toBe(1);
    await t.closed;
    expect(sys.metrics.get('jt808_auth_total', { result: 'refused' }) - before).toBe(3);
  });
});

describe('reports: acknowledged only after commit, stored once, never from a stranger', () => {
  it('answers a location with result 0 only after its row is committed in positions', async () => {
    const t = await ready(A, 2013);
    const fix = fixAt(now() - 60_000);
    let committedAt = 0;
    sys.hub.onCommit((r, at) => {
      if (r.positions.some((p) => p.deviceId === DEV_A && p.ts === fix.ts)) committedAt = at;
    });
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const reached = once(submits, 'submit');
    const acksBefore = t.acks.length;
    const answer = t.location(fix);
    await reached;
    // Held before the hub: no reply has gone out, nothing is stored.
    expect(t.acks.length).toBe(acksBefore);
    expect(await positionsAt(DEV_A, [fix.ts])).toHaveLength(0);
    gate = null;
    release();
    expect(await answer).toBe(0);
    const ack = t.acks.at(-1)!;
    expect(ack).toMatchObject({ msgId: MSG.location, result: 0 });
    expect(committedAt).toBeGreaterThan(0);
    expect(ack.at).toBeGreaterThanOrEqual(committedAt);
    const [row] = await positionsAt(DEV_A, [fix.ts]);
    expect(row).toMatchObject({ lat: IN_G1.lat, lon: IN_G1.lon, alt: 52, heading: 90 });
    expect(row.speed).toBeCloseTo(4.3 / 3.6, 2);
    await t.close();
  });

  it('stores a frame retransmitted byte for byte once, and answers both', async () => {
    const t = await ready(A, 2013);
    const fix = fixAt(now() - 50_000);
    const frame = t.frame(MSG.location, encodeLocation(fix), 4242);
    expect(await t.sendFrame(frame, MSG.location, 4242)).toBe(0);
    expect(await t.sendFrame(frame, MSG.location, 4242)).toBe(0);
    expect(await positionsAt(DEV_A, [fix.ts])).toHaveLength(1);
    await t.close();
  });

  it('stores nothing from a terminal that has not authenticated: result 1 and a counter', async () => {
    const before = sys.metrics.get('jt808_unauthenticated_total', { msg: '0x0200' });
    const t = await terminal(A, 2013);
    const fix = fixAt(now() - 40_000);
    expect(await t.location(fix)).toBe(1);
    expect(await t.sos(fixAt(fix.ts + 1000))).toBe(1);
    expect(sys.metrics.get('jt808_unauthenticated_total', { msg: '0x0200' }) - before).toBe(2);
    expect(await positionsAt(DEV_A, [fix.ts, fix.ts + 1000])).toHaveLength(0);
    expect(submitted.some((s) => s.payload.ts === fix.ts)).toBe(false);
    await t.close();
  });

  it('stores a blind-area batch (0x0704 type 1) once, in fix-time order, every fix marked late', async () => {
    const t = await ready(B, 2019);
    const t0 = now() - 3 * 3_600_000;
    const fixes = [fixAt(t0 + 2000, { lat: 27.8712 }), fixAt(t0, { lat: 27.871 }), fixAt(t0 + 1000, { lat: 27.8711 })];
    expect(await t.batch(fixes, 1)).toBe(0);
    const stored = await positionsAt(DEV_B, [t0, t0 + 1000, t0 + 2000]);
    expect(stored.map((r) => [r.ts.getTime(), r.lat])).toEqual([
      [t0, 27.871],
      [t0 + 1000, 27.8711],
      [t0 + 2000, 27.8712],
    ]);
    const sent = submitted.filter((s) => s.topic.endsWith(`/${DEV_B}/location`) && Array.isArray(s.payload.fixes));
    const lateFixes = sent
      .flatMap((s) => s.payload.fixes as { ts: number; late?: boolean }[])
      .filter((f) => f.ts >= t0 && f.ts <= t0 + 2000);
    expect(lateFixes.map((f) => f.late)).toEqual([true, true, true]);
    // The terminal, unanswered in time, uploads the same buffer again: nothing new is stored.
    expect(await t.batch(fixes, 1)).toBe(0);
    expect(await positionsAt(DEV_B, [t0, t0 + 1000, t0 + 2000])).toHaveLength(3);
    await t.close();
  });

  it('reassembles a batch sent as split packages and answers every package', async () => {
    const t = await ready(B, 2019);
    const t0 = now() - 2 * 3_600_000;
    const fixes = Array.from({ length: 60 }, (_, i) => fixAt(t0 + i * 1000, { lat: 27.871 + i * 1e-5 }));
    const acksBefore = t.acks.length;
    expect(await t.batch(fixes, 1, 300)).toBe(0);
    expect(t.acks.length - acksBefore).toBe(Math.ceil((3 + 60 * 30) / 300));
    expect(
      await positionsAt(
        DEV_B,
        fixes.map((f) => f.ts),
      ),
    ).toHaveLength(60);
    await t.close();
  });
});

describe("alarms and the terminal's screen", () => {
  it("turns an SOS into a handset.sos event and an urgent incident at the worker's position, offered to a colleague, not to him", async () => {
    colleague = await TestHandset.connect(sys, 'w-g1', { lat: IN_G1.lat + 0.001, lon: IN_G1.lon }, Date.now());
    const t = await ready(A, 2013);
    expect(await t.location(fixAt(now() - 5000))).toBe(0);
    const duty = await fetch(`${sys.httpUrl}/api/workers/w-g1c/duty`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duty: 'on' }),
    });
    expect(duty.status).toBe(200);
    await eventually(
      () => sys.hub.live.workers.get('w-g1c'),
      (w) => !!w && w.online && w.duty === 'on' && w.lat === IN_G1.lat,
      10_000,
      'w-g1c live',
    );

    const at = fixAt(now(), { lat: 27.8712 }); // 22 m north of where he last reported
    expect(await t.sos(at)).toBe(0);
    const [event] = await rows(`SELECT type, event_key, severity, data FROM device_events WHERE device_id = $1 AND type = 'handset.sos'`, [
      DEV_A,
    ]);
    expect(event).toMatchObject({ type: 'handset.sos', event_key: `jt808:handset.sos:${at.ts}`, severity: 'critical' });
    expect(event.data).toMatchObject({ lat: at.lat, lon: at.lon, alarmFlags: 1 });

    const [inc] = await eventually(
      () => rows(`SELECT id, category, priority, source, lat, lon, grid_code FROM incidents WHERE category = 'handset.sos'`, []),
      (r) => r.length > 0,
      10_000,
      'SOS incident',
    );
    expect(inc).toEqual({
      id: inc.id,
      category: 'handset.sos',
      priority: 'urgent',
      source: 'device_alert',
      lat: at.lat,
      lon: at.lon,
      grid_code: G1,
    });
    const d = await eventually(
      () => incidentDetail(sys, inc.id),
      (x) => x.offers.length > 0,
      10_000,
      'SOS offer',
    );
    // w-g1c is closest (he is where the SOS is) but it is his own SOS: his colleague gets it.
    expect(d.offers.map((o) => o.workerId)).toEqual(['w-g1']);
    expect((await colleague.next((m) => m.kind === 'offer' && m.incidentId === inc.id)).category).toBe('handset.sos');

    // The same SOS frame again (no reply reached the terminal): one event, one incident.
    expect(await t.sos(at)).toBe(0);
    expect(await rows(`SELECT 1 FROM device_events WHERE device_id = $1 AND type = 'handset.sos'`, [DEV_A])).toHaveLength(1);
    expect(await rows(`SELECT 1 FROM incidents WHERE category = 'handset.sos'`, [])).toHaveLength(1);
    await t.close();
  });

  it('keeps a power cut an event on the screen, not an incident', async () => {
    const t = await ready(A, 2013);
    const at = fixAt(now() + 1000, { alarm: 1 << 8 });
    const before = sys.metrics.get('dispatch_alerts_event_only_total', { type: 'handset.power_cut' });
    expect(await t.location(at)).toBe(0);
    expect(await rows(`SELECT 1 FROM device_events WHERE device_id = $1 AND type = 'handset.power_cut'`, [DEV_A])).toHaveLength(1);
    await eventually(
      () => sys.metrics.get('dispatch_alerts_event_only_total', { type: 'handset.power_cut' }) - before,
      (n) => n === 1,
      10_000,
      'power cut taken as an event',
    );
    expect(await rows(`SELECT 1 FROM incidents WHERE category = 'handset.power_cut'`, [])).toHaveLength(0);
    await t.close();
  });

  it("sends a task offer as 0x8300 text to the terminal's screen and reports its 0x0001 answer", async () => {
    const t = await ready(B, 2019);
    const sent = gw.sendText(DEV_B, '新任务：幸福路12号排水沟堵塞，请前往处理', { urgent: true });
    const text = await t.nextText();
    expect(text).toMatchObject({ text: '新任务：幸福路12号排水沟堵塞，请前往处理', textType: 1 });
    expect(text.flag & 0b1101).toBe(0b1101); // urgent, display, read aloud
    expect(await sent).toBe('delivered');
    expect(await gw.sendText('jt808-10000000000', 'nobody there')).toBe('not_connected');
    await t.close();
  });
});

describe('bad input and the connection', () => {
  it('answers a bad check code with result 2 and a counter, and keeps the connection', async () => {
    const t = await ready(A, 2013);
    const before = sys.metrics.get('jt808_rejected_total', { reason: 'bad_checksum' });
    const fix = fixAt(now() - 30_000);
    const good = t.frame(MSG.location, encodeLocation(fix), 777);
    // The check code changed by one bit, then escaped again as a terminal would send it.
    const raw = Buffer.from(unescape(good.subarray(1, good.length - 1)));
    raw[raw.length - 1] ^= 0x01;
    const bad = Buffer.concat([Buffer.from([0x7e]), escape(raw), Buffer.from([0x7e])]);
    expect(await t.sendFrame(bad, MSG.location, 777)).toBe(2);
    expect(sys.metrics.get('jt808_rejected_total', { reason: 'bad_checksum' }) - before).toBe(1);
    expect(await positionsAt(DEV_A, [fix.ts])).toHaveLength(0);
    expect(await t.heartbeat()).toBe(0);
    expect(await t.sendFrame(good, MSG.location, 777)).toBe(0);
    await t.close();
  });

  it('answers a message it does not handle with result 3, and skips bytes between frames', async () => {
    const t = await ready(A, 2013);
    t.sendRaw(Buffer.from('AT+GPS?\r\n'));
    expect(await t.request(0x0900, Buffer.from('f0aa', 'hex'))).toBe(3);
    expect(await t.heartbeat()).toBe(0);
    await t.close();
  });

  it('closes a connection that sends a frame beyond the size cap', async () => {
    const t = await terminal(A, 2013);
    t.sendRaw(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(3000, 0x30)]));
    await t.closed;
    expect(sys.metrics.get('jt808_closed_total', { why: 'frame_too_large' })).toBeGreaterThanOrEqual(1);
  });

  it('closes an idle connection after the timeout and records the terminal offline', async () => {
    const quick = await ownGateway({ idleTimeoutMs: 300 });
    try {
      const t = await ready(B, 2019, quick.port);
      const offlineBefore = (await presence(DEV_B)).filter((r) => r.online === false).length;
      await t.closed;
      expect(sys.metrics.get('jt808_closed_total', { why: 'idle' })).toBeGreaterThanOrEqual(1);
      await eventually(
        () => presence(DEV_B),
        (p) => p.filter((r) => r.online === false).length > offlineBefore,
        10_000,
        'offline presence',
      );
    } finally {
      await quick.stop();
    }
  });

  it('closes the older connection of a terminal that connects again, quietly: no offline presence', async () => {
    const quick = await ownGateway();
    const offline = async () => (await presence(DEV_B)).filter((r) => r.online === false).length;
    const offlineBefore = await offline();
    const replacedBefore = sys.metrics.get('jt808_closed_total', { why: 'replaced' }) ?? 0;
    const claims: string[] = [];
    quick.onClaim((deviceId) => claims.push(deviceId));
    try {
      const first = await ready(B, 2019, quick.port);
      // The phone changed networks: a new connection while the old socket is still open.
      const second = await terminal(B, 2019, { authCode: first.authCode! }, quick.port);
      expect(await second.authenticate()).toBe(0);
      await first.closed;
      expect(sys.metrics.get('jt808_closed_total', { why: 'replaced' })).toBe(replacedBefore + 1);
      expect(second.isClosed).toBe(false);
      expect(claims).toEqual([DEV_B, DEV_B]);
      // Another node's claim: one older than this connection's changes nothing, a newer one closes it.
      expect(quick.release(DEV_B, 0)).toBe(false);
      expect(quick.has(DEV_B)).toBe(true);
      expect(quick.release(DEV_B, Date.now())).toBe(true);
      await second.closed;
      expect(quick.has(DEV_B)).toBe(false);
    } finally {
      // stop() waits until every connection's close handling is done, offline presence included.
      await quick.stop();
    }
    expect(await offline()).toBe(offlineBefore);
  });

  it('logs a terminal out: result 0, offline, connection closed', async () => {
    const t = await ready(A, 2013);
    const onlineCount = (await presence(DEV_A)).length;
    expect(await t.logout()).toBe(0);
    await t.closed;
    const p = await presence(DEV_A);
    expect(p.length).toBeGreaterThan(onlineCount);
    expect(p.at(-1)!.online).toBe(false);
  });
});
