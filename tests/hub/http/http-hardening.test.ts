// The HTTP side held to the broker's standard (issue 16 item 10), one test per route class, on the
// hub's real HTTP server (buildHttpServer with the login service) over the embedded TimescaleDB:
// security headers on the page, the API and its refusals; body limits per class, judged from the
// declared length before a byte of the body is read; unknown body fields refused; login throttled
// per client address, which a client cannot choose unless TRUST_PROXY says whom to believe;
// the session cookie Secure behind TLS. Bodies arrive over real sockets (node:http).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../storage/database.js';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import { LiveState } from '../../../hub/live/live-state.js';
import { AuthService } from '../../../hub/auth/auth-service.js';
import { LOGIN_PER_MIN } from '../../../hub/auth/auth-plugin.js';
import { buildHttpServer, type HttpApp, type HttpDeps } from '../../../hub/http/http-server.js';
import { cspDirectives, parseTrustProxy, tileSource } from '../../../hub/http/http-security.js';
import { apiRoutesOf, BODY_LIMITS } from '../../../hub/auth/route-policy.js';
import { parseRegions } from '../../../hub/regions/region-tree.js';
import { replaceRegions } from '../../../hub/regions/region-store.js';
import { fixture } from '../regions/fixtures.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

const DISTRICT = '430211';
const STREET = '430211001';

let db: Database;
let auth: AuthService;
let regions: RegionDirectory;
const apps: HttpApp[] = [];
const tokens: Record<string, string> = {};

async function start(extra: Partial<HttpDeps> = {}): Promise<{ app: HttpApp; url: string; metrics: Metrics }> {
  const metrics = new Metrics();
  const app = await buildHttpServer({
    pool: db.pool,
    regions,
    live: new LiveState(),
    metrics,
    logger: silentLogger,
    tileUrl: null,
    timescale: db.timescale,
    info: () => ({}),
    auth,
    ...extra,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  apps.push(app);
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, metrics };
}

/** Sends the headers of a body of `length` bytes and nothing else; resolves with the status. */
function declaredBody(url: string, method: string, path: string, length: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'content-length': String(length), authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

function login(url: string, headers: Record<string, string> = {}, password = 'wrong password') {
  return fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username: 'admin', password }),
  });
}

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  await replaceRegions(db.pool, parseRegions(fixture('two-streets.geojson')).tree, { accept: new Set() });
  regions = new RegionDirectory(db.pool);
  await regions.load();
  auth = new AuthService(db.pool, regions, { required: true, sessionTtlMin: 60 });
  await auth.users.upsert([
    { id: 'u-admin', username: 'admin', displayName: '区管理员', password: 'correct horse battery', role: 'admin', scope: DISTRICT },
    { id: 'u-street', username: 'street', displayName: '街道值班员', password: 'correct horse battery', role: 'operator', scope: STREET },
    { id: 'u-viewer', username: 'viewer', displayName: '社区大屏', password: 'correct horse battery', role: 'viewer', scope: STREET },
  ]);
  for (const id of ['u-admin', 'u-street', 'u-viewer']) tokens[id] = (await auth.users.createSession(id, auth.ttlMs)).token;
}, 180_000);

afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
  await db?.close();
});

describe('security headers', () => {
  it('the page, the API, its refusals and unknown paths all carry them; the CSP has no unsafe-inline', async () => {
    const { url } = await start();
    for (const [path, status] of [
      ['/', 200],
      ['/api/config', 200],
      ['/api/live', 401],
      ['/api/nothing-here', 401],
      ['/health/live', 200],
    ] as const) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(status);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("style-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(csp, path).not.toContain('unsafe-eval');
      expect(csp, path).not.toContain('upgrade-insecure-requests');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('lets the base map in: the tile server of TILE_URL and nothing wider', async () => {
    expect(tileSource('https://{s}.tile.example.org/{z}/{x}/{y}.png')).toBe('https://*.tile.example.org');
    expect(tileSource('https://tiles.example.cn:8443/{z}/{x}/{y}.png')).toBe('https://tiles.example.cn:8443');
    expect(tileSource('https://t{s}.example.cn/{z}/{x}/{y}.png')).toBe('https:');
    expect(tileSource(null)).toBeNull();
    expect(cspDirectives(null)['img-src']).toEqual(["'self'", 'data:']);
    const { url } = await start({ tileUrl: 'https://{s}.tile.example.org/{z}/{x}/{y}.png' });
    const csp = (await fetch(`${url}/`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("img-src 'self' data: https://*.tile.example.org");
  });
});

describe('bodies', () => {
  it('every write route refuses a body over its class limit from the declared length (413), as the admin', async () => {
    const { app, url, metrics } = await start();
    const writes = apiRoutesOf(app).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    expect(new Set(writes.map((r) => r.body))).toEqual(new Set(['none', 'form', 'bulk', 'geojson']));
    for (const r of writes) {
      expect(r.bodyLimit, `${r.method} ${r.url}`).toBe(BODY_LIMITS[r.body]);
      const path = r.url.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' && r.url.startsWith('/api/alarms') ? '1' : 'x'));
      expect(await declaredBody(url, r.method, path, r.bodyLimit + 1, tokens['u-admin']!), `${r.method} ${r.url}`).toBe(413);
    }
    expect(metrics.get('http_rejected_total', { route: '/api/regions', reason: 'FST_ERR_CTP_BODY_TOO_LARGE' })).toBe(1);
  });

  it('a viewer is refused before its body is read, however large (403, not 413)', async () => {
    const { url } = await start();
    expect(await declaredBody(url, 'PUT', '/api/regions', 200 * 1024 * 1024, tokens['u-viewer']!)).toBe(403);
    expect(await declaredBody(url, 'PUT', '/api/workers', 200 * 1024 * 1024, tokens['u-street']!)).toBe(403);
  });

  it('refuses a field the schema does not name (400) and a body on a route that takes none', async () => {
    const { app } = await start();
    const headers = { authorization: `Bearer ${tokens['u-admin']}` };
    const extra = await app.inject({
      method: 'PUT',
      url: '/api/workers',
      headers,
      payload: { workers: [{ id: 'w-1', name: '张三', role: 'grid_worker' }], sneaky: true },
    });
    expect(extra.statusCode, extra.body).toBe(400);
    expect(extra.json()).toMatchObject({ ok: false, error: { code: 'FST_ERR_VALIDATION' } });
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { anything: 1 } });
    expect(logout.statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/auth/logout', payload: {} })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode).toBe(200);
  });
});

describe('login throttling and the client address', () => {
  it(`allows ${LOGIN_PER_MIN} attempts a minute per address; a forged X-Forwarded-For buys no more`, async () => {
    const { url, metrics } = await start();
    for (let i = 0; i < LOGIN_PER_MIN; i++) expect((await login(url, { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(401);
    const refused = await login(url, { 'x-forwarded-for': '198.51.100.7' }, 'correct horse battery');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(refused.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(metrics.get('http_rate_limited_total', { route: '/api/auth/login' })).toBe(1);
  });

  it('behind a trusted proxy each client has its own budget, and the session cookie is Secure over TLS', async () => {
    const { url } = await start({ trustProxy: parseTrustProxy('127.0.0.1') });
    for (let i = 0; i < LOGIN_PER_MIN; i++) expect((await login(url, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(401);
    expect((await login(url, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
    const other = await login(url, { 'x-forwarded-for': '203.0.113.10', 'x-forwarded-proto': 'https' }, 'correct horse battery');
    expect(other.status).toBe(200);
    expect(other.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  });

  it('without TRUST_PROXY a client cannot claim TLS: no Secure on plain HTTP', async () => {
    const { url } = await start();
    const res = await login(url, { 'x-forwarded-proto': 'https' }, 'correct horse battery');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).not.toContain('Secure');
  });

  it("reads TRUST_PROXY: false by default, true, or the proxies' addresses", () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('127.0.0.1, 10.0.0.0/8')).toBe('127.0.0.1, 10.0.0.0/8');
    expect(() => parseTrustProxy('everyone')).toThrow(/TRUST_PROXY/);
  });
});
