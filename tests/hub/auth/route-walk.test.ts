// Every /api route, walked as the demo's community viewer (`shequ`, 杉木社区) and street operator
// (`jiedao`, the first street) against data of another area, on the real system: broker, simulated
// district, hub with login on, embedded TimescaleDB (issue 16 item 0). The routes come from the
// hub's own fastify instance (the route policy's table, filled by its onRoute hook), so a route
// added without a case here fails the first test. A case is one line: who may call the route,
// the request aimed at another area's data, the same aimed at the caller's own.
// The oracle: a scoped caller is refused (403/404), or answers 2xx naming nothing of another area
// (no worker, device, incident or region code outside its area); the district admin's answer to
// the same request does name it (`adminSees`), so the oracle is shown to see a leak.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutesOf, type RouteEntry } from '../../../hub/auth/route-policy.js';
import type { HttpApp } from '../../../hub/http/http-server.js';
import { demoDistrictFromConfig } from '../../../simulators/demo-district.js';
import { demoUsers } from '../../../simulators/demo-users.js';
import type { RunningSystem } from '../../../system.js';
import { startTestSystem } from '../../../testkit/test-system.js';

const ENV = { SIM: 'true', SIM_HANDSETS: '24', SIM_ALERT_EVERY_S: '100000', AUTH_REQUIRED: 'true' };
const district = demoDistrictFromConfig({ SIM_SEED: 20261125, SIM_HANDSETS: 24 });
const users = Object.fromEntries(demoUsers(district).map((u) => [u.username, u]));
const regions = district.regions.features.map((f) => f.properties);
const parent = new Map(regions.map((r) => [r.code, r.parent]));
const under = (code: string | null | undefined, scope: string): boolean => {
  for (let c = code ?? null; c !== null; c = parent.get(c) ?? null) if (c === scope) return true;
  return false;
};
const STREET = users.jiedao!.scope;
const COMMUNITY = users.shequ!.scope;
const FOREIGN_STREET = regions.filter((r) => r.level === 'street')[2]!.code;
const foreignDoor = district.doors.find((d) => under(d.gridCode, FOREIGN_STREET))!;
const ownDoor = district.doors.find((d) => under(d.gridCode, COMMUNITY))!;
const foreignWorker = district.workers.find((w) => under(w.gridCodes[0], FOREIGN_STREET))!;
const ownWorker = district.workers.find((w) => w.role === 'grid_worker' && under(w.gridCodes[0], COMMUNITY))!;
const foreignHandset =
  district.handsets.find((h) => h.workerId === foreignWorker.id) ?? district.handsets.find((h) => under(h.gridCode, FOREIGN_STREET))!;

interface Req {
  path?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}
type Who = 'public' | 'read' | 'operate' | 'admin' | 'system';
interface Case {
  /** Who may call the route: stated here, not read from the route, so a wrong declaration fails. */
  who: Who;
  /** Aimed at another area's data (a list route: the plain request). */
  foreign?: Req | Req[];
  /** A scoped caller must be refused (an id or a region of another area), not just filtered. */
  refused?: boolean;
  /** Aimed at the caller's own area (viewer for read, operator for operate): must not be refused. */
  own?: Req;
  /** The district admin's answer to `foreign` names another area's data. */
  adminSees?: boolean;
  /** A route another change is adding (issue 15): its absence is not a stale case yet. */
  soon?: boolean;
  /** A public route that checks a device's own credentials (OwnTracks' Basic auth): no session is 401 there. */
  deviceAuth?: boolean;
}

interface Fixtures {
  foreignIncident: string;
  ownIncident: string;
  foreignAlarm: string;
  ownAlarm: string;
  complaint: { id: string; token: string };
  drain: unknown;
  range: { from: string; to: string };
  today: string;
  /** Devices made for the walk in another street, to delete and to rotate (when /api/devices exists). */
  spare: [string, string];
  /** An OwnTracks handset and its secret (POST /api/owntracks/setup). */
  phone: { device: { id: string }; secret: string };
}

const at = (d: { lat: number; lon: number }) => ({ lat: d.lat, lon: d.lon });
const BOGUS = { zz_not_a_field: 1 };

/** One line per route: who may call it, the request at another area's data, the same at the caller's own. */
const CASES: Record<string, (f: Fixtures) => Case> = {
  'POST /api/auth/login': () => ({ who: 'public', foreign: { body: { username: 'admin', password: users.admin!.password } } }),
  'POST /api/auth/logout': () => ({ who: 'public', foreign: { body: {} } }),
  'GET /api/auth/me': () => ({ who: 'public' }),
  'GET /api/config': () => ({ who: 'public' }),
  'GET /api/live': () => ({ who: 'read', adminSees: true, own: {} }),
  'GET /api/dead-letters': () => ({ who: 'system', adminSees: true }),
  // The OpenAPI document and its page (issue 17 item 4): the API's surface, no data of any area.
  'GET /api/docs': () => ({ who: 'read', own: {} }),
  'GET /api/docs/openapi.json': () => ({ who: 'read', own: {} }),
  'GET /api/regions': () => ({ who: 'read', foreign: [{}, { query: { root: FOREIGN_STREET } }], adminSees: true, own: {} }),
  'PUT /api/regions': () => ({ who: 'system', foreign: { query: { dryRun: 'true' }, body: district.regions } }),
  'GET /api/workers': () => ({ who: 'read', foreign: [{}, { query: { grid: foreignDoor.gridCode } }], adminSees: true, own: {} }),
  'PUT /api/workers': () => ({
    who: 'system',
    foreign: {
      body: {
        workers: [
          {
            id: ownWorker.id,
            name: ownWorker.name,
            role: ownWorker.role,
            gridCodes: ownWorker.gridCodes,
            categories: ownWorker.categories,
          },
        ],
      },
    },
  }),
  'GET /api/workers/:id': () => ({
    who: 'read',
    refused: true,
    foreign: { path: { id: foreignWorker.id } },
    own: { path: { id: ownWorker.id } },
    adminSees: true,
  }),
  'PUT /api/workers/:id/duty': () => ({
    who: 'operate',
    foreign: { path: { id: foreignWorker.id }, body: { duty: 'off' } },
    own: { path: { id: ownWorker.id }, body: { duty: 'on' } },
  }),
  'GET /api/workers/:id/trail': (f) => ({
    who: 'read',
    refused: true,
    foreign: { path: { id: foreignWorker.id }, query: f.range },
    own: { path: { id: ownWorker.id }, query: f.range },
    adminSees: true,
  }),
  'GET /api/workers/:id/activity': (f) => ({
    who: 'read',
    refused: true,
    foreign: { path: { id: foreignWorker.id }, query: f.range },
    own: { path: { id: ownWorker.id }, query: f.range },
    adminSees: true,
  }),
  'GET /api/coverage': (f) => ({
    who: 'read',
    refused: true,
    foreign: { query: { grid: foreignDoor.gridCode, date: f.today } },
    own: { query: { grid: ownDoor.gridCode, date: f.today } },
    adminSees: true,
  }),
  'GET /api/kpis': (f) => ({
    who: 'read',
    refused: true,
    foreign: { query: { scope: FOREIGN_STREET, ...f.range } },
    own: { query: f.range },
    adminSees: true,
  }),
  'GET /api/kpis/export.csv': (f) => ({
    who: 'read',
    refused: true,
    foreign: { query: { scope: FOREIGN_STREET, ...f.range } },
    own: { query: f.range },
  }),
  'GET /api/kpis/grid-daily': (f) => ({
    who: 'read',
    refused: true,
    foreign: { query: { scope: FOREIGN_STREET, ...f.range } },
    own: { query: f.range },
    adminSees: true,
  }),
  'GET /api/kpis/tiles': () => ({ who: 'read', refused: true, foreign: { query: { scope: FOREIGN_STREET } }, own: {}, adminSees: true }),
  'POST /api/complaints': () => ({ who: 'public', foreign: { body: { category: 'drain', ...at(foreignDoor) } } }),
  'GET /api/complaints/:id/status': (f) => ({
    who: 'public',
    foreign: { path: { id: f.complaint.id }, query: { token: f.complaint.token } },
  }),
  'POST /api/complaints/:id/rating': (f) => ({
    who: 'public',
    foreign: { path: { id: f.complaint.id }, body: { token: f.complaint.token, score: 4 } },
  }),
  'GET /api/incidents': () => ({ who: 'read', foreign: [{}, { query: { grid: foreignDoor.gridCode } }], adminSees: true, own: {} }),
  'GET /api/incidents/:id': (f) => ({
    who: 'read',
    refused: true,
    foreign: { path: { id: f.foreignIncident } },
    own: { path: { id: f.ownIncident } },
    adminSees: true,
  }),
  'POST /api/incidents': () => ({
    who: 'operate',
    foreign: { body: { category: 'drain', ...at(foreignDoor) } },
    own: { body: { category: 'drain', ...at(ownDoor) } },
  }),
  'POST /api/incidents/:id/actions': (f) => ({
    who: 'operate',
    foreign: { path: { id: f.foreignIncident }, body: { type: 'escalate', expectedVersion: 999 } },
    own: { path: { id: f.ownIncident }, body: { type: 'escalate', expectedVersion: 999 } },
  }),
  'GET /api/alarms': () => ({ who: 'read', adminSees: true, own: {} }),
  'POST /api/alarms/:id/ack': (f) => ({
    who: 'operate',
    foreign: { path: { id: f.foreignAlarm }, body: {} },
    own: { path: { id: f.ownAlarm }, body: {} },
  }),
  'GET /api/categories': () => ({ who: 'read', own: {} }),
  'PUT /api/categories/:code': (f) => ({ who: 'system', foreign: { path: { code: 'drain' }, body: f.drain } }),
  // The device registry (issue 15): admins write, everyone signed in reads their area's devices.
  'GET /api/devices': () => ({ who: 'read', foreign: [{}, { query: { grid: foreignDoor.gridCode } }], adminSees: true, own: {} }),
  'GET /api/devices/:id': () => ({
    who: 'read',
    refused: true,
    foreign: { path: { id: foreignHandset.id } },
    own: { path: { id: ownDoor.id } },
    adminSees: true,
  }),
  'POST /api/devices': () => ({
    who: 'admin',
    foreign: { body: { kind: 'door', gridCode: foreignDoor.gridCode, ...at(foreignDoor), name: 'route walk' } },
  }),
  'PATCH /api/devices/:id': (f) => ({ who: 'admin', foreign: { path: { id: f.spare[1] }, body: { name: 'route walk, renamed' } } }),
  'DELETE /api/devices/:id': (f) => ({ who: 'admin', foreign: { path: { id: f.spare[0] } } }),
  'POST /api/devices/:id/secret': (f) => ({ who: 'admin', foreign: { path: { id: f.spare[1] }, body: {} } }),
  // OwnTracks phones in HTTP mode (their own Basic credentials, no session) and their setup link (admins).
  'POST /api/owntracks': () => ({
    who: 'public',
    deviceAuth: true,
    foreign: { body: { _type: 'location', lat: foreignDoor.lat, lon: foreignDoor.lon, tst: 1764748800 } },
  }),
  'GET /api/owntracks/setup': () => ({ who: 'admin', foreign: {} }),
  'POST /api/owntracks/setup': (f) => ({
    who: 'admin',
    foreign: { body: { deviceId: f.phone.device.id, secret: f.phone.secret, host: 'hub.example.org', port: 1883 } },
  }),
};

let sys: RunningSystem;
let routes: RouteEntry[];
let fx: Fixtures;
const tokens: Record<string, string> = {};
/** Per caller: the words that name another area's data. */
const markers: Record<string, string[]> = {};

interface Reply {
  status: number;
  text: string;
}

async function call(user: string | null, method: string, url: string, req: Req = {}): Promise<Reply> {
  const path = url.replace(/:(\w+)/g, (_m, name: string) => {
    const v = req.path?.[name];
    if (v === undefined) throw new Error(`${method} ${url}: the case gives no :${name}`);
    return encodeURIComponent(v);
  });
  const q = req.query ? `?${new URLSearchParams(req.query)}` : '';
  const headers: Record<string, string> = {};
  if (user !== null) headers.authorization = `Bearer ${tokens[user]}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sys.httpUrl}${path}${q}`, {
    method,
    headers,
    ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The markers of `who`'s other areas that this answer names (whole words: codes nest). */
function leaks(who: string, text: string): string[] {
  return markers[who]!.filter((m) => new RegExp(`(^|[^\\w-])${escape(m)}($|[^\\w-])`).test(text));
}

async function computeMarkers(): Promise<void> {
  const incidents = await sys.db.pool.query<{ id: string; grid_code: string | null }>('SELECT id, grid_code FROM incidents');
  for (const [who, scope] of [
    ['shequ', COMMUNITY],
    ['jiedao', STREET],
  ] as const) {
    const other = (code: string | null | undefined) => !under(code, scope);
    markers[who] = [
      ...regions.filter((r) => other(r.code) && !under(scope, r.code)).map((r) => r.code),
      ...district.workers.filter((w) => other(w.gridCodes[0])).map((w) => w.id),
      ...district.handsets.filter((h) => other(district.workers.find((w) => w.id === h.workerId)?.gridCodes[0])).map((h) => h.id),
      ...[...district.doors, ...district.cameras].filter((d) => other(d.gridCode)).map((d) => d.id),
      ...incidents.rows.filter((i) => other(i.grid_code)).map((i) => i.id),
    ];
  }
}

const caseOf = (r: RouteEntry): Case | null => CASES[`${r.method} ${r.url}`]?.(fx) ?? null;
const requests = (c: Case): Req[] => (c.foreign === undefined ? [{}] : Array.isArray(c.foreign) ? c.foreign : [c.foreign]);
const takesBody = (method: string) => method !== 'GET' && method !== 'HEAD';
const is2xx = (s: number) => s >= 200 && s < 300;

beforeAll(async () => {
  sys = await startTestSystem(ENV);
  // The hub's own instance: the routes it serves, as registered.
  routes = apiRoutesOf((sys.hub as unknown as { http: HttpApp }).http).filter((r) => r.method !== 'HEAD') as RouteEntry[];
  for (const u of ['admin', 'jiedao', 'shequ']) {
    const res = await fetch(`${sys.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: u, password: users[u]!.password, bearer: true }),
    });
    expect(res.status).toBe(200);
    tokens[u] = ((await res.json()) as { token: string }).token;
  }
  const report = async (where: { lat: number; lon: number }) => {
    const r = await call('admin', 'POST', '/api/incidents', { body: { category: 'drain', ...at(where), description: 'route walk' } });
    expect(r.status, r.text).toBe(201);
    return (JSON.parse(r.text) as { incident: { id: string } }).incident.id;
  };
  const foreignIncident = await report(foreignDoor);
  const ownIncident = await report(ownDoor);
  const alarm = async (incident: string) =>
    String(
      (
        await sys.db.pool.query<{ id: string }>(
          `INSERT INTO incident_alarms (incident_id, stage, level, raised_at) VALUES ($1, 'accept', 1, now()) RETURNING id`,
          [incident],
        )
      ).rows[0]!.id,
    );
  // A dead letter of another street's handset: what /api/dead-letters must not show a viewer.
  await sys.db.pool.query(`INSERT INTO dead_letters (topic, device_id, reason, size, payload) VALUES ($1, $2, 'schema', 2, '\\x7b7d')`, [
    `grid/v1/devices/${foreignHandset.id}/location`,
    foreignHandset.id,
  ]);
  const filed = await call(null, 'POST', '/api/complaints', { body: { category: 'drain', ...at(ownDoor) } });
  expect(filed.status, filed.text).toBe(201);
  const cats = JSON.parse((await call('admin', 'GET', '/api/categories')).text) as { items: Array<{ code: string }> };
  // Two devices of another street for the registry's delete and rotate, when it is there.
  const spare: string[] = [];
  for (const name of ['walk spare 1', 'walk spare 2']) {
    if (!routes.some((r) => r.method === 'POST' && r.url === '/api/devices')) break;
    const made = await call('admin', 'POST', '/api/devices', {
      body: { kind: 'door', gridCode: foreignDoor.gridCode, ...at(foreignDoor), name },
    });
    expect(made.status, made.text).toBe(201);
    spare.push((JSON.parse(made.text) as { device: { id: string } }).device.id);
  }
  // An OwnTracks phone of another street, for its setup link.
  const phone = await call('admin', 'POST', '/api/devices', { body: { kind: 'handset', protocol: 'owntracks', name: 'walk phone' } });
  expect(phone.status, phone.text).toBe(201);
  const now = Date.now();
  fx = {
    phone: JSON.parse(phone.text) as { device: { id: string }; secret: string },
    spare: [spare[0] ?? 'none', spare[1] ?? 'none'],
    foreignIncident,
    ownIncident,
    foreignAlarm: await alarm(foreignIncident),
    ownAlarm: await alarm(ownIncident),
    complaint: JSON.parse(filed.text) as { id: string; token: string },
    drain: cats.items.find((c) => c.code === 'drain'),
    range: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString() },
    today: new Date(now + 8 * 3_600_000).toISOString().slice(0, 10),
  };
  await computeMarkers();
}, 90_000);

afterAll(async () => {
  await sys?.stop();
});

describe('every /api route, as a viewer and an operator of one area against data of another', () => {
  it('has a case for every registered route, and none for a route that is gone', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(keys.length).toBeGreaterThan(25);
    expect(
      keys.filter((k) => !(k in CASES)),
      'routes with no case in CASES',
    ).toEqual([]);
    expect(
      Object.keys(CASES).filter((k) => !keys.includes(k) && !CASES[k]!(fx).soon),
      'cases of routes that are gone',
    ).toEqual([]);
  });

  it('every route declares its access, body class and schemas (hub/auth/route-policy.ts)', () => {
    expect(routes.filter((r) => r.problems.length > 0).map((r) => `${r.method} ${r.url}: ${r.problems.join(', ')}`)).toEqual([]);
  });

  it('the OpenAPI document holds every registered route, its access and its replies, from the same schemas', async () => {
    const res = await call('shequ', 'GET', '/api/docs/openapi.json');
    expect(res.status, res.text).toBe(200);
    const doc = JSON.parse(res.text) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { 'x-access': string; responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const missing: string[] = [];
    for (const r of routes) {
      const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      if (!op) missing.push(`${r.method} ${r.url}`);
      else {
        expect(op['x-access'], `${r.method} ${r.url}`).toBe(r.access);
        expect(
          Object.keys(op.responses).some((k) => k.startsWith('2')),
          `${r.method} ${r.url} has a 2xx reply`,
        ).toBe(true);
        for (const name of r.url.match(/:(\w+)/g) ?? [])
          expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toContain(`path:${name.slice(1)}`);
      }
    }
    expect(missing, 'routes missing from the OpenAPI document').toEqual([]);
    expect(Object.values(doc.paths).flatMap((ops) => Object.keys(ops)).length).toBe(routes.length);
    // The page lists them too, with nothing to fetch (the CSP allows no script, no CDN).
    const page = await call('shequ', 'GET', '/api/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/api/incidents/{id}/actions');
    expect(page.text).not.toMatch(/<script|<link|https?:\/\/(?!hub)/);
  });

  it('public routes answer without a session; every other route refuses it (401)', async () => {
    for (const r of routes) {
      const c = caseOf(r);
      if (!c) continue; // no case: the first test fails on it
      const res = await call(null, r.method, r.url, requests(c)[0]);
      if (c.who === 'public') expect(c.deviceAuth ? [403] : [401, 403], `${r.method} ${r.url}: ${res.text}`).not.toContain(res.status);
      else expect(res.status, `${r.method} ${r.url} without a session`).toBe(401);
    }
  });

  it('reads: another area is refused or left out, for GET and HEAD; the own area is served; the admin sees it all', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const c = caseOf(r);
      if (!c) continue; // no case: the first test fails on it
      if (c.who !== 'read') continue;
      for (const req of requests(c)) {
        const what = `${r.method} ${r.url} ${JSON.stringify(req.query ?? req.path ?? {})}`;
        for (const who of ['shequ', 'jiedao']) {
          const res = await call(who, r.method, r.url, req);
          const refused = res.status === 403 || res.status === 404;
          if (c.refused && !refused) failures.push(`${what} as ${who}: ${res.status}, not refused`);
          else if (!refused && !is2xx(res.status)) failures.push(`${what} as ${who}: ${res.status} ${res.text.slice(0, 200)}`);
          else if (!refused && leaks(who, res.text).length > 0)
            failures.push(`${what} as ${who} leaks ${leaks(who, res.text).slice(0, 5).join(', ')}`);
          const head = await call(who, 'HEAD', r.url, req);
          if (head.status !== res.status) failures.push(`HEAD ${what} as ${who}: ${head.status}, GET ${res.status}`);
        }
        const admin = await call('admin', r.method, r.url, req);
        if (!is2xx(admin.status)) failures.push(`${what} as admin: ${admin.status} ${admin.text.slice(0, 200)}`);
        else if (c.adminSees && leaks('jiedao', admin.text).length === 0)
          failures.push(`${what} as admin names nothing of another area: the case proves nothing`);
      }
      if (c.own) {
        const res = await call('shequ', r.method, r.url, c.own);
        if (!is2xx(res.status)) failures.push(`${r.method} ${r.url} own area as the viewer: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('writes: a viewer is refused before the body; an operator is refused on another area and served on its own', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const c = caseOf(r);
      if (!c) continue; // no case: the first test fails on it
      if (c.who !== 'operate') continue;
      const foreign = requests(c)[0]!;
      const invalid = { ...foreign, body: BOGUS };
      const viewer = await call('shequ', r.method, r.url, invalid);
      if (viewer.status !== 403) failures.push(`${r.method} ${r.url} as viewer, bad body: ${viewer.status}, not 403`);
      const op = await call('jiedao', r.method, r.url, foreign);
      if (op.status !== 403 && op.status !== 404)
        failures.push(`${r.method} ${r.url} as operator on another area: ${op.status} ${op.text.slice(0, 200)}`);
      // An id in the URL is judged before the body is read, too.
      if (foreign.path && takesBody(r.method)) {
        const early = await call('jiedao', r.method, r.url, invalid);
        if (early.status !== 403 && early.status !== 404)
          failures.push(`${r.method} ${r.url} as operator on another area, bad body: ${early.status}`);
      }
      if (c.own) {
        const own = await call('jiedao', r.method, r.url, c.own);
        if ([401, 403, 404].includes(own.status))
          failures.push(`${r.method} ${r.url} own area as operator: ${own.status} ${own.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('admin and hub-wide routes: viewer and street operator refused before the body; the district admin served', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const c = caseOf(r);
      if (!c) continue; // no case: the first test fails on it
      if (c.who !== 'system' && c.who !== 'admin') continue;
      const req = requests(c)[0]!;
      for (const who of ['shequ', 'jiedao']) {
        const res = await call(who, r.method, r.url, takesBody(r.method) ? { ...req, body: BOGUS } : req);
        if (res.status !== 403) failures.push(`${r.method} ${r.url} as ${who}: ${res.status}, not 403 (${res.text.slice(0, 120)})`);
      }
      const admin = await call('admin', r.method, r.url, req);
      if (!is2xx(admin.status)) failures.push(`${r.method} ${r.url} as admin: ${admin.status} ${admin.text.slice(0, 200)}`);
      else if (c.adminSees && leaks('jiedao', admin.text).length === 0)
        failures.push(`${r.method} ${r.url} as admin names nothing of another area`);
    }
    expect(failures).toEqual([]);
  });

  it("the foreign worker's duty is unchanged by the street operator (PUT /api/workers/w-…/duty on the third street)", async () => {
    const before = JSON.parse((await call('admin', 'GET', '/api/workers/:id', { path: { id: foreignWorker.id } })).text) as {
      duty: string;
      dutySince: string | null;
    };
    const res = await call('jiedao', 'PUT', '/api/workers/:id/duty', {
      path: { id: foreignWorker.id },
      body: { duty: before.duty === 'on' ? 'off' : 'on' },
    });
    expect(res.status).toBe(404);
    const after = JSON.parse((await call('admin', 'GET', '/api/workers/:id', { path: { id: foreignWorker.id } })).text) as {
      duty: string;
      dutySince: string | null;
    };
    expect(after).toMatchObject({ duty: before.duty, dutySince: before.dutySince });
  });

  it('every route refuses a query parameter it does not know (400), before anything else happens', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const c = caseOf(r);
      if (!c) continue; // no case: the first test fails on it
      const req = requests(c)[0]!;
      const res = await call(c.who === 'public' ? null : 'admin', r.method, r.url, { ...req, query: { ...req.query, zz_unknown: '1' } });
      // 422: the device routes answer a schema miss so (their own validator, hub/devices).
      if (res.status !== 400 && res.status !== 422) failures.push(`${r.method} ${r.url}?zz_unknown=1: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});
