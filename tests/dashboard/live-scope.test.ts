// Login and scope against the real system (issue 4, item 6): the simulated district with its
// demo accounts, the hub's HTTP + /live front with AUTH_REQUIRED on, socket.io-client as the screen.
// The promise under test (DESIGN §5): a community screen never receives another community's
// workers, incidents or alarms; a street screen gets its communities'; no session, no data.
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AlarmView,
  ClientToServerEvents,
  IncidentView,
  LiveSnapshot,
  PositionUpdate,
  ServerToClientEvents,
} from '../../protocol/socket-events.js';
import { demoUsers } from '../../simulators/demo-users.js';
import { demoDistrictFromConfig } from '../../simulators/demo-district.js';
import { startAuthFront, login, type AuthFront } from '../support/auth-front.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';
import type { RunningSystem } from '../../system.js';

type Screen = Socket<ServerToClientEvents, ClientToServerEvents>;

const ENV = { SIM: 'true', SIM_HANDSETS: '40', SIM_FIX_EVERY_S: '0.5', SIM_ALERT_EVERY_S: '3', AUTH_REQUIRED: 'true' };
const district = demoDistrictFromConfig({ SIM_SEED: 20261125, SIM_HANDSETS: 40 });
const users = Object.fromEntries(demoUsers(district).map((u) => [u.username, u]));
const parent = new Map(district.regions.features.map((f) => [f.properties.code, f.properties.parent]));

/** Whether region `code` lies in (or is) `scope`. */
function under(code: string | null, scope: string): boolean {
  for (let c = code; c != null; c = parent.get(c) ?? null) if (c === scope) return true;
  return false;
}

let sys: RunningSystem;
let front: AuthFront;
const open: Screen[] = [];

function screen(opts: { token?: string; cookie?: string }): Screen {
  const s: Screen = io(`${front.url}/live`, {
    transports: ['websocket'],
    reconnection: false,
    ...(opts.token ? { auth: { token: opts.token } } : {}),
    ...(opts.cookie ? { extraHeaders: { cookie: opts.cookie } } : {}),
  });
  open.push(s);
  return s;
}

function nextSnapshot(s: Screen): Promise<LiveSnapshot> {
  return new Promise((resolve, reject) => {
    s.once('snapshot', resolve);
    s.once('connect_error', reject);
  });
}

function anIncident(gridCode: string, id: string, over: Partial<IncidentView> = {}): IncidentView {
  const now = Date.now();
  return {
    id,
    source: 'operator',
    category: 'garbage',
    priority: 'normal',
    title: id,
    state: 'dispatching',
    version: 1,
    lat: 27.87,
    lon: 113.12,
    gridCode,
    locationFlag: null,
    escalationLevel: 0,
    assigneeId: null,
    foldCount: 1,
    createdAt: now,
    updatedAt: now,
    acceptBy: now + 60_000,
    arriveBy: now + 600_000,
    resolveBy: now + 72 * 3600_000,
    overdue: [],
    rating: null,
    ...over,
  };
}

beforeAll(async () => {
  sys = await startTestSystem(ENV);
  front = await startAuthFront(sys, { required: true });
}, 60_000);

afterAll(async () => {
  for (const s of open) s.close();
  await front?.stop();
  await sys?.stop();
});

describe('login and sessions', () => {
  it('refuses /api without a session and the handshake without a token', async () => {
    expect((await fetch(`${front.url}/api/live`)).status).toBe(401);
    expect((await fetch(`${front.url}/api/regions`)).status).toBe(401);
    // Public: the page's config, the health check.
    expect((await fetch(`${front.url}/api/config`)).status).toBe(200);
    expect((await fetch(`${front.url}/health`)).status).toBe(200);
    const err = await new Promise<Error>((resolve) => screen({}).once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
  });

  it('rejects a wrong password without saying which part was wrong', async () => {
    const a = await login(front.url, 'admin', 'not-the-password');
    const b = await login(front.url, 'nobody', 'not-the-password');
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.cookie).toBe('');
  });

  it('logs in with an httpOnly cookie, says who you are, never returns the hash', async () => {
    const res = await fetch(`${front.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'shequ', password: users.shequ!.password }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const body = await res.text();
    expect(body).not.toMatch(/scrypt|password|token/i); // the page never holds the token
    const me = (await (await fetch(`${front.url}/api/auth/me`, { headers: { cookie: setCookie.split(';')[0]! } })).json()) as {
      user: { role: string; scope: string };
    };
    expect(me.user).toMatchObject({ role: 'viewer', scope: users.shequ!.scope });
  });

  it('ends the session at logout: the token stops working and the live link closes', async () => {
    const { token } = await login(front.url, 'jiedao', users.jiedao!.password);
    const s = screen({ token });
    await nextSnapshot(s);
    const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
    await fetch(`${front.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await closed).toBe('io server disconnect');
    expect((await fetch(`${front.url}/api/live`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('expires sessions after SESSION_TTL_MIN', async () => {
    let now = Date.now();
    const shortFront = await startAuthFront(sys, { required: true, sessionTtlMin: 1, now: () => now });
    try {
      const { token } = await login(shortFront.url, 'admin', users.admin!.password);
      const ask = () => fetch(`${shortFront.url}/api/live`, { headers: { authorization: `Bearer ${token}` } });
      expect((await ask()).status).toBe(200);
      now += 61_000;
      expect((await ask()).status).toBe(401);
    } finally {
      await shortFront.stop();
    }
  });

  it('keeps a viewer read-only', async () => {
    const { token } = await login(front.url, 'shequ', users.shequ!.password);
    const res = await fetch(`${front.url}/api/alarms/1/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
  });
});

describe('scope', { timeout: 45_000 }, () => {
  it('a community screen sees only its community: snapshot, positions, incidents, alarms', async () => {
    const scope = users.shequ!.scope;
    const inside = district.workers.filter((w) => w.gridCodes.length > 0 && under(w.gridCodes[0]!, scope));
    const outside = district.workers.filter((w) => w.gridCodes.length > 0 && !under(w.gridCodes[0]!, scope));
    expect(inside.length).toBeGreaterThan(0);
    expect(outside.length).toBeGreaterThan(0); // else the test proves nothing

    const { token } = await login(front.url, 'shequ', users.shequ!.password);
    const s = screen({ token });
    const positions: PositionUpdate[] = [];
    const incidents: IncidentView[] = [];
    const alarms: AlarmView[] = [];
    s.on('positions', (b) => positions.push(...b.items));
    s.on('incident', (i) => incidents.push(i));
    s.on('alarm', (a) => alarms.push(a));
    const snap = await nextSnapshot(s);
    expect(snap.workers.length).toBeGreaterThan(0);
    for (const w of snap.workers) expect(under(w.gridCode, scope), `${w.workerId} in ${w.gridCode}`).toBe(true);
    for (const a of snap.alerts) expect(under(a.gridCode, scope)).toBe(true);

    // Let the simulated district move for a while: fixes from everywhere reach the hub.
    const all = new Set<string>();
    sys.hub.onCommit((rows) => rows.positions.forEach((p) => all.add(p.deviceId)));
    await eventually(
      () => positions.length,
      (n) => n >= 10,
      20_000,
      'positions on the community screen',
    );
    await eventually(
      () => all.size,
      (n) => n > new Set(positions.map((p) => p.workerId)).size,
      20_000,
      'fixes from outside the community',
    );
    const byId = new Map(district.workers.map((w) => [w.id, w]));
    for (const p of positions) expect(under(byId.get(p.workerId)?.gridCodes[0] ?? null, scope), p.workerId).toBe(true);

    // Another community's incident and alarm first, then this community's: one socket keeps
    // order, so if the first were going to arrive it would arrive before the second.
    const myGrid = inside[0]!.gridCodes[0]!;
    const otherGrid = outside.find((w) => !under(w.gridCodes[0]!, parent.get(scope)!))?.gridCodes[0] ?? outside[0]!.gridCodes[0]!;
    front.push.publishIncident(anIncident(otherGrid, 'INC-OTHER'));
    front.push.publishAlarm({
      id: 901,
      incidentId: 'INC-OTHER',
      gridCode: otherGrid,
      stage: 'accept',
      level: 0,
      raisedAt: Date.now(),
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    front.push.publishIncident(anIncident(myGrid, 'INC-MINE'));
    front.push.publishAlarm({
      id: 902,
      incidentId: 'INC-MINE',
      gridCode: myGrid,
      stage: 'accept',
      level: 0,
      raisedAt: Date.now(),
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    await eventually(
      () => alarms.map((a) => a.id),
      (ids) => ids.includes(902),
      10_000,
      'the community alarm',
    );
    // Dispatch's own cases from the simulated district flow too: each one in scope, never the other.
    const inScope = (list: Array<{ gridCode: string }>): void => {
      for (const x of list) expect(under(x.gridCode, scope), JSON.stringify(x)).toBe(true);
    };
    inScope(incidents);
    inScope(alarms);
    expect(incidents.map((i) => i.id)).toContain('INC-MINE');
    expect(incidents.map((i) => i.id)).not.toContain('INC-OTHER');
    expect(alarms.map((a) => a.id)).not.toContain(901);

    // A resync is cut the same way.
    s.emit('resync');
    const again = await nextSnapshot(s);
    inScope(again.incidents);
    inScope(again.alarms);
    expect(again.incidents.map((i) => i.id)).toContain('INC-MINE');
    expect(again.alarms.map((a) => a.id)).toContain(902);
    // And so is the HTTP read of the same picture.
    const http = (await (await fetch(`${front.url}/api/live`, { headers: { authorization: `Bearer ${token}` } })).json()) as LiveSnapshot;
    for (const w of http.workers) expect(under(w.gridCode, scope)).toBe(true);
    inScope(http.incidents);
    expect(http.incidents.map((i) => i.id)).toContain('INC-MINE');
    expect(http.incidents.map((i) => i.id)).not.toContain('INC-OTHER');
  });

  it('a street screen (cookie) gets its communities, the district admin gets everything', async () => {
    const street = await login(front.url, 'jiedao', users.jiedao!.password);
    const admin = await login(front.url, 'admin', users.admin!.password);
    const streetSnap = await nextSnapshot(screen({ cookie: street.cookie }));
    const adminSnap = await nextSnapshot(screen({ token: admin.token }));
    for (const i of streetSnap.incidents) expect(under(i.gridCode, users.jiedao!.scope), i.id).toBe(true);
    expect(streetSnap.incidents.map((i) => i.id)).toContain('INC-MINE');
    for (const w of streetSnap.workers) expect(under(w.gridCode, users.jiedao!.scope)).toBe(true);
    expect(streetSnap.workers.length).toBeGreaterThan(0);
    expect(streetSnap.workers.length).toBeLessThan(adminSnap.workers.length);
    expect(adminSnap.incidents.map((i) => i.id)).toEqual(expect.arrayContaining(['INC-MINE', 'INC-OTHER']));
  });
});
