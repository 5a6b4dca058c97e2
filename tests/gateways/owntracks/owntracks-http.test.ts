// OwnTracks in HTTP mode and the one-scan setup, through the hub's real HTTP server
// (hub/http/http-server.ts with its route policy and login) on port 0, over the running node's hub
// and embedded TimescaleDB: the app's POST as it sends it (Basic auth, X-Limit-U/D, one JSON
// payload), 200 `[]` only after the row is committed, a repeat stored once, bad input kept as a
// dead letter, wrong credentials 401 with the broker's backoff; the setup link, decoded and used.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { buildHttpServer, type HttpApp } from '../../../hub/http/http-server.js';
import { ALL_SCOPE } from '../../../hub/auth/region-scope.js';
import { parseOwnTracksConfigLink } from '../../../protocol/owntracks-config.js';
import type { RunningSystem } from '../../../system.js';
import { registerDevices } from '../../../testkit/builders.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { fixture, fixtureWith } from './owntracks-fixtures.js';
import { registerPhone, type Phone } from './owntracks-support.js';

let sys: RunningSystem;
let app: HttpApp;
let base: string;
let phone: Phone;
let other: Phone;
let nativeSecret: string;
const tokens: Record<'admin' | 'viewer', string> = { admin: '', viewer: '' };
/** Backoff of the test: the second wrong secret of an address and id waits 300 ms, the next 600 ms. */
const BACKOFF = { pairFree: 1, addressFree: 1000, firstDelayMs: 300, maxDelayMs: 600 };

let tst = Math.floor(Date.now() / 1000) - 24 * 3600;
/** 10 minutes apart: the fixtures lie up to 2 km apart (the position filter flags faster jumps). */
const nextTst = () => (tst += 600);

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** The app's POST: JSON body, Basic auth, its user and device in X-Limit-U / X-Limit-D. */
function post(p: { id: string; secret: string }, body: Buffer | string, extra: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${base}/api/owntracks${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: basic(p.id, p.secret),
      'x-limit-u': p.id,
      'x-limit-d': 'mi8',
      'user-agent': 'Owntracks-Android/420500',
      ...extra,
    },
    body: body.toString(),
  });
}

function api(method: string, path: string, who: 'admin' | 'viewer' | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (who) headers.authorization = `Bearer ${tokens[who]}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

const q = async (sql: string, params: unknown[]) => (await sys.db.pool.query(sql, params)).rows;
const positionsAt = (id: string, s: number) =>
  q('SELECT lat, lon, speed, battery FROM positions WHERE device_id = $1 AND ts = to_timestamp($2)', [id, s]);

beforeAll(async () => {
  sys = await startTestSystem({ AUTH_REQUIRED: 'true' });
  phone = await registerPhone(sys, 'ot-h');
  other = await registerPhone(sys, 'ot-h2');
  nativeSecret = (await registerDevices(sys.db.pool, ['nat']))['hs-nat']!.secret;
  await sys.hub.reloadRegistry();
  await sys.hub.auth.users.upsert([
    { id: 'u-ot-admin', username: 'ot-admin', displayName: '管理员', password: 'admin-pass-0123456789', role: 'admin', scope: 'OT' },
    { id: 'u-ot-viewer', username: 'ot-viewer', displayName: '观察员', password: 'viewer-pass-0123456789', role: 'viewer', scope: 'OT' },
  ]);
  tokens.admin = (await sys.hub.auth.users.createSession('u-ot-admin', 3_600_000)).token;
  tokens.viewer = (await sys.hub.auth.users.createSession('u-ot-viewer', 3_600_000)).token;
  app = await buildHttpServer({
    pool: sys.db.pool,
    regions: sys.hub.regions,
    live: sys.hub.live,
    metrics: sys.metrics,
    logger: silentLogger,
    tileUrl: null,
    timescale: sys.db.timescale,
    info: () => ({}),
    auth: sys.hub.auth,
    ownTracks: {
      submit: sys.hub.submit,
      topicRoot: sys.config.TOPIC_ROOT,
      key: sys.deviceSecretKey,
      mqttPort: sys.broker.port,
      backoff: BACKOFF,
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await sys?.stop();
});

describe('POST /api/owntracks (the app in HTTP mode)', () => {
  it('answers 200 [] once the fix is committed, and a repeat is stored once', async () => {
    const s = nextTst();
    const body = fixtureWith('location-android.json', { tst: s });
    const res = await post(phone, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    // Observed right at the answer: committed before it.
    expect(await positionsAt('ot-h', s)).toEqual([{ lat: 27.87123, lon: 113.12456, speed: expect.closeTo(1.39, 5), battery: 87 }]);
    expect((await post(phone, body)).status).toBe(200);
    expect(await q(`SELECT count(*)::int AS n FROM positions WHERE device_id = 'ot-h' AND ts = to_timestamp($1)`, [s])).toEqual([{ n: 1 }]);
    expect(sys.hub.live.byDevice('ot-h')).toMatchObject({ online: true });
  });

  it("takes the Recorder's ?u=&d= form too, and a transition becomes a device event", async () => {
    const s = nextTst();
    const res = await post(phone, fixtureWith('transition-enter.json', { tst: s }), { 'x-limit-d': '' }, '?u=ot-h&d=mi8');
    expect(res.status).toBe(200);
    expect(await q(`SELECT type FROM device_events WHERE device_id = 'ot-h' AND ts = to_timestamp($1)`, [s])).toEqual([
      { type: 'handset.geofence_enter' },
    ]);
  });

  it('keeps what it cannot use as a dead letter with its reason, counts it, and still answers 200', async () => {
    const before = sys.metrics.get('owntracks_rejected_total', { reason: 'owntracks_bad_json' });
    for (const body of [fixture('waypoint.json'), fixture('truncated.txt'), '']) expect((await post(other, body)).status).toBe(200);
    const letters = await q(`SELECT topic, reason FROM dead_letters WHERE device_id = 'ot-h2' ORDER BY id`, []);
    expect(letters.map((l: { topic: string; reason: string }) => [l.topic, l.reason.split(':')[0]])).toEqual([
      ['owntracks/ot-h2/mi8', 'owntracks_unsupported_type'],
      ['owntracks/ot-h2/mi8', 'owntracks_bad_json'],
      ['owntracks/ot-h2/mi8', 'owntracks_empty'],
    ]);
    expect(sys.metrics.get('owntracks_rejected_total', { reason: 'owntracks_bad_json' })).toBe(before + 1);
    expect(sys.metrics.get('owntracks_messages_total', { type: 'waypoint', mode: 'http' })).toBe(1);
  });

  it("refuses a body over the route's limit (413) and a query parameter it does not know (400)", async () => {
    expect((await post(phone, JSON.stringify({ _type: 'card', face: 'x'.repeat(70 * 1024) }))).status).toBe(413);
    expect((await post(phone, fixture('location-minimal.json'), {}, '?zz=1')).status).toBe(400);
  });

  it('wrong credentials: 401 with a Basic challenge, later and later; the right secret never waits', async () => {
    const none = await fetch(`${base}/api/owntracks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: fixture('location-minimal.json').toString(),
    });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = { id: 'ot-h2', secret: 'guess' };
    const timed = async (p: { id: string; secret: string }) => {
      const t0 = performance.now();
      const res = await post(p, fixtureWith('location-minimal.json', { tst: nextTst() }));
      return { status: res.status, ms: performance.now() - t0 };
    };
    const first = await timed(wrong);
    const second = await timed(wrong);
    const third = await timed(wrong);
    expect([first.status, second.status, third.status]).toEqual([401, 401, 401]);
    expect(first.ms).toBeLessThan(BACKOFF.firstDelayMs);
    expect(second.ms).toBeGreaterThanOrEqual(BACKOFF.firstDelayMs - 20);
    expect(third.ms).toBeGreaterThanOrEqual(BACKOFF.maxDelayMs - 20);
    const right = await timed(other);
    expect(right.status).toBe(200);
    expect(right.ms).toBeLessThan(BACKOFF.firstDelayMs);
    expect(sys.metrics.get('owntracks_http_refused_total', { reason: 'bad_credentials' })).toBeGreaterThanOrEqual(3);
    expect(sys.metrics.get('owntracks_http_backoff_total', { scope: 'pair' })).toBeGreaterThanOrEqual(2);
  });

  it('refuses a native device (403) and a disabled phone (403), storing nothing', async () => {
    const s = nextTst();
    const nat = await post({ id: 'hs-nat', secret: nativeSecret }, fixtureWith('location-minimal.json', { tst: s }));
    expect(nat.status).toBe(403);
    const spare = await registerPhone(sys, 'ot-h3');
    await sys.hub.deviceRegistry.update('ot-h3', { enabled: false }, { id: 'test-admin', role: 'admin', scope: ALL_SCOPE });
    expect((await post(spare, fixtureWith('location-minimal.json', { tst: s }))).status).toBe(403);
    expect(await q(`SELECT 1 FROM positions WHERE device_id IN ('hs-nat', 'ot-h3') AND ts = to_timestamp($1)`, [s])).toEqual([]);
  });
});

describe('the one-scan setup', () => {
  it('GET /api/owntracks/setup: where a phone reaches this hub, for admins only', async () => {
    expect((await api('GET', '/api/owntracks/setup', null)).status).toBe(401);
    expect((await api('GET', '/api/owntracks/setup', 'viewer')).status).toBe(403);
    const res = await api('GET', '/api/owntracks/setup', 'admin');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      mqtt: { host: '127.0.0.1', port: sys.broker.port, tls: false },
      http: { url: `${base}/api/owntracks` },
      appDevice: 'phone',
    });
  });

  it('POST /api/owntracks/setup: a link that decodes to the configuration, and a phone configured by it is stored', async () => {
    const res = await api('POST', '/api/owntracks/setup', 'admin', { deviceId: phone.id, secret: phone.secret });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const setup = (await res.json()) as { configuration: Record<string, unknown>; link: string; svg: string };
    const config = parseOwnTracksConfigLink(setup.link);
    expect(config).toEqual(setup.configuration);
    expect(config).toMatchObject({
      _type: 'configuration',
      mode: 0,
      host: '127.0.0.1',
      port: sys.broker.port,
      username: 'ot-h',
      password: phone.secret,
      clientId: 'ot-h',
      deviceId: 'phone',
    });
    expect(setup.svg).toMatch(/^<svg/);
    // What the app does with it: connect with those settings and publish on its topic base.
    const c = await mqtt.connectAsync({
      host: config.host as string,
      port: config.port as number,
      clientId: config.clientId as string,
      username: config.username as string,
      password: config.password as string,
      protocolVersion: config.mqttProtocolLevel as 4,
      reconnectPeriod: 0,
    });
    const topic = (config.pubTopicBase as string).replace('%u', config.username as string).replace('%d', config.deviceId as string);
    const s = nextTst();
    await c.publishAsync(topic, fixtureWith('location-minimal.json', { tst: s }), { qos: config.pubQos as 1 });
    expect(await c.subscribeAsync(config.subTopic as string, { qos: 1 })).toEqual([{ topic: 'owntracks/ot-h/phone/cmd', qos: 1 }]);
    await c.endAsync();
    expect(await positionsAt('ot-h', s)).toHaveLength(1);
  });

  it('the HTTP mode link points at this route; a wrong secret or a native device draws nothing', async () => {
    const http = await api('POST', '/api/owntracks/setup', 'admin', {
      deviceId: phone.id,
      secret: phone.secret,
      mode: 'http',
      appDevice: 'mi8',
    });
    expect(parseOwnTracksConfigLink(((await http.json()) as { link: string }).link)).toMatchObject({
      mode: 3,
      url: `${base}/api/owntracks`,
      deviceId: 'mi8',
    });
    const wrong = await api('POST', '/api/owntracks/setup', 'admin', { deviceId: phone.id, secret: 'not-it' });
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ ok: false, error: { code: 'OWNTRACKS_SECRET_MISMATCH' } });
    expect((await api('POST', '/api/owntracks/setup', 'admin', { deviceId: 'hs-nat', secret: nativeSecret })).status).toBe(409);
    const zz = await api('POST', '/api/owntracks/setup', 'admin', { deviceId: phone.id, secret: phone.secret, zz: 1 });
    expect(zz.status, await zz.text()).toBe(422);
    expect((await api('POST', '/api/owntracks/setup', 'viewer', { deviceId: phone.id, secret: phone.secret })).status).toBe(403);
  });
});
