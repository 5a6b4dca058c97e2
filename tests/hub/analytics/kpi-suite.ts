// Governance KPIs, the per grid per day rollup, CSV and tiles on one engine, against the
// hand-computed history of kpi-fixtures.ts. Run by kpi-embedded.test.ts and kpi-postgres.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useZodSchemas } from '../../../common/zod-schema.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { cellToParent, latLngToCell } from 'h3-js';
import type { Database } from '../../../storage/database.js';
import { ManualClock } from '../../../common/clock.js';
import { analyticsRoutes } from '../../../hub/analytics/analytics-routes.js';
import { authPlugin } from '../../../hub/auth/auth-plugin.js';
import { AuthService } from '../../../hub/auth/auth-service.js';
import { rollupIncidents } from '../../../hub/analytics/incident-rollup.js';
import type { GridDay } from '../../../hub/analytics/incident-rollup.js';
import { kpiReport, type KpiDimension, type KpiGroup, type KpiReport } from '../../../hub/analytics/kpi-query.js';
import { planFastPath, rollupKpiRegions } from '../../../hub/analytics/kpi-fast.js';
import { resolveScopeTree } from '../../../hub/analytics/kpi-scope.js';
import type { KpiTiles } from '../../../hub/analytics/kpi-tiles.js';
import {
  DAY,
  DAY_INCIDENTS,
  H,
  HOUR,
  MIN,
  OTHER_INCIDENTS,
  PLACE_A,
  PLACE_B,
  insertIncidents,
  seedRegionsAndPeople,
} from './kpi-fixtures.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

const iso = (ms: number) => new Date(ms).toISOString();
const TILES_TTL = 5_000;

export function kpiSuite(engine: string, open: () => Promise<{ db: Database; stop(): Promise<void> }>): void {
  describe(`governance KPIs on ${engine}`, () => {
    let db: Database;
    let stop: () => Promise<void>;
    let app: FastifyInstance;
    let regions: RegionDirectory;
    const clock = new ManualClock(H(36));

    const get = async <T>(url: string, status = 200): Promise<T> => {
      const res = await app.inject({ url });
      expect(res.statusCode, res.body).toBe(status);
      return res.json<T>();
    };
    const kpis = (query: string) => get<KpiReport>(`/api/kpis?${query}`);
    const dayRange = `from=${iso(DAY)}&to=${iso(DAY + 24 * HOUR)}`;
    const group = (r: KpiReport, key: string) => r.groups.find((g) => g.key === key) as KpiGroup;

    beforeAll(async () => {
      ({ db, stop } = await open());
      await seedRegionsAndPeople(db.pool);
      regions = new RegionDirectory(db.pool);
      await regions.load();
      await insertIncidents(db.pool, [...DAY_INCIDENTS, ...OTHER_INCIDENTS]);
      app = Fastify();
      useZodSchemas(app, { mismatch: () => {} }); // as the hub's app (hub/http/http-server.ts)
      // What the auth plugin does (hub/auth/auth-plugin.ts): a viewer with a scope on the request.
      app.decorateRequest('viewer', null);
      app.addHook('onRequest', async (req) => {
        const scope = req.headers['x-test-scope'];
        (req as unknown as { viewer: { scope: string } | null }).viewer = typeof scope === 'string' ? { scope } : null;
      });
      await app.register(analyticsRoutes, { pool: db.pool, regions, timescale: db.timescale, clock, tilesTtlMs: TILES_TTL });
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await stop?.();
    });

    it('computes the district totals of a day by hand', async () => {
      const r = await kpis(`scope=D&${dayRange}`);
      expect(r.scope).toEqual({ code: 'D', level: 'district', name: '石峰区' });
      // D is a root but not the only one (D2): its figures come from walking the tree, so IX is out.
      expect(resolveScopeTree(regions, 'D').wholeTree).toBe(false);
      expect(r.asOf).toBe(iso(H(36)));
      // I1..I6 (I7 is the day before, I9 in November, IX in another district). Open: I3, I4.
      // Closed: I1, I2 of 6 − 1 cancelled. Resolved I1 (2 h), I2 (27 h, late: 24 h SLA), I6 (4 h).
      // Overdue open at 10-21 12:00: I3 (due 10-21 10:00); I4 is due exactly then, not before.
      expect(r.total).toMatchObject({
        incidents: 6,
        open: 2,
        closed: 2,
        cancelled: 1,
        closureRate: 0.4,
        resolved: 3,
        resolvedOnTime: 2,
        overdueOpen: 1,
        rated: 2,
        satisfied: 1,
        satisfactionRate: 0.5,
        ratingScoreN: 2,
        ratingScoreMean: 3.5,
      });
      expect(r.total.onTimeRate).toBeCloseTo(2 / 3, 12);
      // Accept 10, 20, 30, 40 min: mean 25, median 25, p90 = 30 + 0.7 × 10 = 37 (linear, percentile_cont).
      expect(r.total.acceptMs).toEqual({ n: 4, mean: 25 * MIN, p50: 25 * MIN, p90: 37 * MIN });
      // Arrive 30, 60, 60 min.
      expect(r.total.arriveMs).toEqual({ n: 3, mean: 50 * MIN, p50: 60 * MIN, p90: 60 * MIN });
      // Resolve 2, 4, 27 h: mean 11 h, median 4 h, p90 = 4 + 0.8 × 23 = 22.4 h.
      expect(r.total.resolveMs.n).toBe(3);
      expect(r.total.resolveMs.mean).toBeCloseTo(11 * HOUR, 3);
      expect(r.total.resolveMs.p50).toBeCloseTo(4 * HOUR, 3);
      expect(r.total.resolveMs.p90).toBeCloseTo(22.4 * HOUR, 3);
      expect(r.groups).toEqual([]);
    });

    it('breaks down by region (the scope’s children), category, source and department', async () => {
      const byRegion = await kpis(`scope=D&${dayRange}&by=region`);
      expect(byRegion.groups.map((g) => [g.key, g.label, g.incidents, g.closed, g.cancelled, g.open])).toEqual([
        ['S1', '一街道', 3, 2, 0, 1],
        ['S2', '二街道', 3, 0, 1, 1],
      ]);
      expect(group(byRegion, 'S1').closureRate).toBeCloseTo(2 / 3, 12);
      expect(group(byRegion, 'S2').closureRate).toBe(0);
      // A community breaks down by grid; a grid is its own only child.
      const c1 = await kpis(`scope=C1&${dayRange}&by=region`);
      expect(c1.groups.map((g) => [g.key, g.incidents])).toEqual([
        ['G1', 2],
        ['G2', 1],
      ]);
      expect((await kpis(`scope=G3&${dayRange}&by=region`)).groups.map((g) => [g.key, g.incidents])).toEqual([['G3', 3]]);

      const byCategory = await kpis(`scope=D&${dayRange}&by=category`);
      expect(byCategory.groups.map((g) => [g.key, g.label, g.incidents])).toEqual([
        ['drain', '排水不畅', 2],
        ['garbage', '垃圾堆放', 3],
        ['parking', '违章停车', 1],
      ]);
      expect(group(byCategory, 'drain')).toMatchObject({ resolved: 2, resolvedOnTime: 1, onTimeRate: 0.5 });

      const bySource = await kpis(`scope=D&${dayRange}&by=source`);
      expect(bySource.groups.map((g) => [g.key, g.incidents])).toEqual([
        ['device_alert', 1],
        ['operator', 1],
        ['patrol_report', 2],
        ['resident', 2],
      ]);

      // w1 (grid worker, no department) holds I1, I3; nobody holds I4, I5: all 'grid'.
      const byDept = await kpis(`scope=D&${dayRange}&by=department`);
      expect(byDept.groups.map((g) => [g.key, g.incidents, g.closed])).toEqual([
        ['grid', 4, 1],
        ['住建', 1, 0],
        ['城管', 1, 1],
      ]);
      expect(group(byDept, '城管')).toMatchObject({ onTimeRate: 0, satisfactionRate: 0, ratingScoreMean: 2 });
    });

    it('buckets time by Asia/Shanghai days and calendar months', async () => {
      const days = await kpis(`scope=D&from=${iso(DAY - 24 * HOUR)}&to=${iso(DAY + 24 * HOUR)}&by=day`);
      // I1 at 07:00 Shanghai (23:00 UTC on the 19th) is on the 20th.
      expect(days.groups.map((g) => [g.key, g.label, g.incidents])).toEqual([
        [iso(DAY - 24 * HOUR), '2026-10-19', 1],
        [iso(DAY), '2026-10-20', 6],
      ]);
      const months = await kpis(`scope=D&from=2026-10-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00&by=month`);
      // I9 at 1 November 00:30 Shanghai is 31 October in UTC.
      expect(months.groups.map((g) => [g.label, g.incidents, g.cancelled])).toEqual([
        ['2026-10', 7, 1],
        ['2026-11', 1, 1],
      ]);
      expect(months.groups[1].key).toBe('2026-10-31T16:00:00.000Z');
      expect(months.total.incidents).toBe(8);
    });

    it('finds the hotspot cells, cancelled incidents left out', async () => {
      const r = await kpis(`scope=D&${dayRange}&hotspots=5&hotspotRes=10`);
      // A: I1, I2, I6; B: I3, I4 (I5 there is cancelled).
      expect(r.hotspots.resolution).toBe(10);
      expect(r.hotspots.cells.map((c) => [c.cell, c.incidents])).toEqual([
        [latLngToCell(PLACE_A.lat, PLACE_A.lon, 10), 3],
        [latLngToCell(PLACE_B.lat, PLACE_B.lon, 10), 2],
      ]);
      expect((await kpis(`scope=D&${dayRange}&hotspots=1`)).hotspots.cells).toHaveLength(1);
      // Coarser resolutions add up the stored cells' parents.
      const coarse = await kpis(`scope=D&${dayRange}&hotspotRes=7`);
      const parents = new Map<string, number>();
      for (const [p, n] of [
        [cellToParent(latLngToCell(PLACE_A.lat, PLACE_A.lon, 10), 7), 3],
        [cellToParent(latLngToCell(PLACE_B.lat, PLACE_B.lon, 10), 7), 2],
      ] as const)
        parents.set(p, (parents.get(p) ?? 0) + n);
      expect(coarse.hotspots.cells.map((c) => [c.cell, c.incidents])).toEqual([...parents].sort((a, b) => b[1] - a[1]));
      // A corrected location moves the incident to its new cell (the stored cell is recomputed).
      await db.pool.query(`UPDATE incidents SET lat = $1, lon = $2 WHERE id = 'I4'`, [PLACE_A.lat, PLACE_A.lon]);
      expect((await kpis(`scope=D&${dayRange}`)).hotspots.cells.map((c) => c.incidents)).toEqual([4, 1]);
      await db.pool.query(`UPDATE incidents SET lat = $1, lon = $2 WHERE id = 'I4'`, [PLACE_B.lat, PLACE_B.lon]);
      expect((await kpis(`scope=D&${dayRange}`)).hotspots.cells.map((c) => c.incidents)).toEqual([3, 2]);
    });

    it('exports the same figures as CSV', async () => {
      const res = await app.inject({ url: `/api/kpis/export.csv?scope=D&${dayRange}&by=department` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe('attachment; filename="kpis-D-2026-10-19-2026-10-20-department.csv"');
      expect(res.body.startsWith('\ufeffdimension,key,label,incidents,open,closed,cancelled,closure_rate,')).toBe(true);
      const lines = res.body
        .slice(1)
        .trimEnd()
        .split('\r\n')
        .map((l) => l.split(','));
      const header = lines[0];
      const row = (key: string) => Object.fromEntries(header.map((h, i) => [h, lines.find((l) => l[1] === key)![i]]));
      expect(lines).toHaveLength(1 + 1 + 3);
      expect(row('D')).toMatchObject({
        dimension: 'total',
        label: '石峰区',
        incidents: '6',
        closure_rate: '0.4',
        accept_p90_ms: String(37 * MIN),
        rating_score_mean: '3.5',
      });
      expect(row('城管')).toMatchObject({ dimension: 'department', incidents: '1', on_time_rate: '0', resolve_mean_ms: String(27 * HOUR) });
      // Not reached: empty, not 0.
      expect(row('住建')).toMatchObject({ rated: '0', satisfaction_rate: '', rating_score_mean: '' });
    });

    it('rejects unknown scopes, bad ranges and scopes outside the viewer’s', async () => {
      expect((await get<{ code: string }>(`/api/kpis?scope=NOPE&${dayRange}`, 404)).code).toBe('REGION_NOT_FOUND');
      expect((await get<{ code: string }>(`/api/kpis?scope=D&from=${iso(DAY)}&to=${iso(DAY - 1)}`, 400)).code).toBe('BAD_RANGE');
      expect((await app.inject({ url: `/api/kpis?scope=D&${dayRange}&by=weather` })).statusCode).toBe(400);
      const as = (scope: string, url: string) => app.inject({ url, headers: { 'x-test-scope': scope } });
      const out = await as('C1', `/api/kpis?scope=S1&${dayRange}`);
      expect(out.statusCode).toBe(403);
      expect(out.json<{ code: string }>().code).toBe('OUT_OF_SCOPE');
      expect((await as('C1', `/api/kpis?scope=D2&${dayRange}`)).statusCode).toBe(403);
      expect((await as('C1', `/api/kpis?scope=G2&${dayRange}`)).json<KpiReport>().total.incidents).toBe(1);
      // No scope asked: the viewer's own.
      expect((await as('C1', `/api/kpis?${dayRange}`)).json<KpiReport>()).toMatchObject({ scope: { code: 'C1' }, total: { incidents: 3 } });
      expect((await as('*', `/api/kpis?scope=D2&${dayRange}`)).json<KpiReport>().total.incidents).toBe(1);
    });

    it('behind the real login: 401 without a session, a community viewer only sees its community', async () => {
      const auth = new AuthService(db.pool, regions, { required: true, sessionTtlMin: 60 });
      await auth.users.upsert([
        { id: 'u-c1', username: 'c1-screen', displayName: '一社区大屏', password: 'correct horse battery', role: 'viewer', scope: 'C1' },
      ]);
      const { token } = await auth.users.createSession('u-c1', auth.ttlMs);
      const guarded = Fastify();
      useZodSchemas(guarded, { mismatch: () => {} }); // as the hub's app (hub/http/http-server.ts)
      await guarded.register(authPlugin, { auth });
      await guarded.register(analyticsRoutes, { pool: db.pool, regions, timescale: db.timescale, clock });
      try {
        const as = (url: string, bearer: string | null) =>
          guarded.inject({ url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
        expect((await as(`/api/kpis/tiles?scope=C1`, null)).statusCode).toBe(401);
        expect((await as(`/api/kpis?scope=D&${dayRange}`, token)).statusCode).toBe(403);
        expect((await as(`/api/kpis/export.csv?scope=S1&${dayRange}`, token)).statusCode).toBe(403);
        const own = await as(`/api/kpis?${dayRange}&by=region`, token);
        expect(own.statusCode, own.body).toBe(200);
        expect(own.json<KpiReport>().groups.map((g) => [g.key, g.incidents])).toEqual([
          ['G1', 2],
          ['G2', 1],
        ]);
        expect((await as(`/api/kpis/tiles?scope=G2`, token)).statusCode).toBe(200);
      } finally {
        await guarded.close();
      }
    });

    it('keeps the per grid per day rollup in step with the incidents, incrementally', async () => {
      // Rollup passes run after I9 (1 November) exists, as they would in real time.
      const T0 = Date.parse('2026-11-02T12:00:00+08:00');
      expect(await rollupIncidents(db.pool, T0)).toBeGreaterThan(0);
      const daily = async () =>
        new Map((await get<{ items: GridDay[] }>(`/api/kpis/grid-daily?scope=D&${dayRange}`)).items.map((g) => [g.grid, g]));
      let d = await daily();
      expect([...d.keys()]).toEqual(['G1', 'G2', 'G3']);
      expect(d.get('G1')).toMatchObject({
        date: '2026-10-20',
        day: iso(DAY),
        incidents: 2,
        closed: 2,
        closureRate: 1,
        resolved: 2,
        resolvedOnTime: 1,
        onTimeRate: 0.5,
        overdue: 1,
        byCategory: { garbage: 1, drain: 1 },
        byState: { closed: 2 },
      });
      expect(d.get('G2')).toMatchObject({ incidents: 1, closed: 0, closureRate: 0, onTimeRate: null, byState: { accepted: 1 } });
      expect(d.get('G3')).toMatchObject({
        incidents: 3,
        cancelled: 1,
        closureRate: 0,
        resolved: 1,
        onTimeRate: 1,
        byState: { reported: 1, cancelled: 1, resolved: 1 },
      });
      // The rollup agrees with the raw KPIs for the same scope and day.
      const raw = (await kpis(`scope=D&${dayRange}`)).total;
      const sum = (k: 'incidents' | 'closed' | 'cancelled' | 'resolved' | 'resolvedOnTime') =>
        [...d.values()].reduce((s, g) => s + g[k], 0);
      expect([sum('incidents'), sum('closed'), sum('cancelled'), sum('resolved'), sum('resolvedOnTime')]).toEqual([
        raw.incidents,
        raw.closed,
        raw.cancelled,
        raw.resolved,
        raw.resolvedOnTime,
      ]);

      // I3 is closed two hours later: the next pass recomputes G2's day and only that.
      await db.pool.query(`UPDATE incidents SET state = 'closed', resolved_at = $1, closed_at = $1, updated_at = $1 WHERE id = 'I3'`, [
        new Date(T0 + 2 * HOUR),
      ]);
      expect(await rollupIncidents(db.pool, T0 + 2 * HOUR + 10 * MIN)).toBe(1);
      d = await daily();
      // Resolved 2026-11-02, long after its 10-21 10:00 deadline.
      expect(d.get('G2')).toMatchObject({
        incidents: 1,
        closed: 1,
        closureRate: 1,
        resolved: 1,
        resolvedOnTime: 0,
        byState: { closed: 1 },
      });
      expect(d.get('G1')?.closed).toBe(2);
      // The next pass reads back 15 minutes before its watermark (late commits), so it sees I3
      // once more; after that nothing changed and nothing is rewritten.
      expect(await rollupIncidents(db.pool, T0 + 4 * HOUR)).toBe(1);
      expect(await rollupIncidents(db.pool, T0 + 5 * HOUR)).toBe(0);
      await db.pool.query(
        `UPDATE incidents SET state = 'accepted', resolved_at = NULL, closed_at = NULL, updated_at = $1 WHERE id = 'I3'`,
        [new Date(H(36))],
      );
    });

    it('serves the command screen tiles for today, cached per scope', async () => {
      clock.set(H(44)); // 2026-10-21 20:00 Shanghai
      await insertIncidents(db.pool, [
        {
          id: 'T1',
          grid: 'G1',
          category: 'garbage',
          source: 'patrol_report',
          state: 'closed',
          created: H(32),
          accepted: 6,
          arrived: 20,
          resolved: 60,
          closed: 90,
          assignee: 'w1',
        },
        { id: 'T2', grid: 'G3', category: 'drain', source: 'resident', state: 'dispatched', created: H(40) },
      ]);
      const status = (device: string, ts: number, kind: 'presence' | 'status', value: boolean | string) =>
        db.pool.query(`INSERT INTO device_status (device_id, ts, kind, duty, online) VALUES ($1, $2, $3, $4, $5)`, [
          device,
          new Date(ts),
          kind,
          kind === 'status' ? value : null,
          kind === 'presence' ? value : null,
        ]);
      await status('hs-w1', H(30), 'presence', true);
      await status('hs-w1', H(30), 'status', 'on');
      await status('hs-w2', H(30), 'presence', true);
      await status('hs-w2', H(30), 'status', 'off');
      await status('hs-w3', H(30), 'presence', true);
      await status('hs-w3', H(31), 'presence', false);
      await status('hs-d1', H(30), 'presence', true);
      // An operator put w2 on duty after the handset last said off: the later word wins.
      await db.pool.query(`UPDATE workers SET duty = 'on', duty_since = $1 WHERE id = 'w2'`, [new Date(H(41))]);

      const d = await get<KpiTiles>('/api/kpis/tiles?scope=D');
      // Today (10-21): T1 (closed), T2. Open now: I3, I4, T2. Resolved today: I2 (late, 27 h) and
      // T1 (on time, 1 h): median 14 h. Accepted today: T1 after 6 min. Online: w1, w2, d1 (no grid:
      // counts for the district); on patrol: w1, w2.
      expect(d).toEqual({
        scope: 'D',
        day: '2026-10-21',
        asOf: iso(H(44)),
        incidentsToday: 2,
        open: 3,
        closed: 1,
        closureRate: 0.5,
        onTimeRate: 0.5,
        medianAcceptMs: 6 * MIN,
        medianResolveMs: 14 * HOUR,
        workersOnline: 3,
        workersOnPatrol: 2,
      });
      expect(await get<KpiTiles>('/api/kpis/tiles?scope=C2')).toMatchObject({
        incidentsToday: 1,
        open: 2,
        closed: 0,
        closureRate: 0,
        onTimeRate: null,
        medianAcceptMs: null,
        medianResolveMs: null,
        workersOnline: 1,
        workersOnPatrol: 1,
      });
      expect(await get<KpiTiles>('/api/kpis/tiles?scope=G2')).toMatchObject({
        incidentsToday: 0,
        closureRate: null,
        open: 1,
        workersOnline: 0,
      });

      // Within the TTL every screen gets the same answer; after it, the new incident shows.
      await insertIncidents(db.pool, [
        { id: 'T3', grid: 'G3', category: 'parking', source: 'resident', state: 'reported', created: H(43) },
      ]);
      clock.advance(TILES_TTL - 1);
      expect((await get<KpiTiles>('/api/kpis/tiles?scope=D')).incidentsToday).toBe(2);
      clock.advance(1);
      const fresh = await app.inject({ url: '/api/kpis/tiles?scope=D' });
      expect(fresh.headers['cache-control']).toBe('private, max-age=5');
      expect(fresh.json<KpiTiles>()).toMatchObject({ incidentsToday: 3, open: 4 });
      expect((await app.inject({ url: '/api/kpis/tiles?scope=NOPE' })).statusCode).toBe(404);
    });

    it('gives the same hand-computed figures from the region rollup (the fast path)', async () => {
      await rollupKpiRegions(db.pool, Date.parse('2026-11-03T00:00:00+08:00'));
      expect((await planFastPath(db.pool, DAY, DAY + 24 * HOUR))?.days).toEqual([DAY]);
      const r = await kpis(`scope=D&${dayRange}`);
      // As in the first test, but asked at 10-21 20:00 (the tiles moved the clock): I4, due at
      // 12:00, is overdue by now as well as I3.
      expect(r.total).toMatchObject({
        incidents: 6,
        open: 2,
        closed: 2,
        cancelled: 1,
        closureRate: 0.4,
        resolved: 3,
        resolvedOnTime: 2,
        overdueOpen: 2,
        rated: 2,
        satisfied: 1,
        ratingScoreMean: 3.5,
      });
      expect(r.total.acceptMs).toEqual({ n: 4, mean: 25 * MIN, p50: 25 * MIN, p90: 37 * MIN });
      expect(r.total.arriveMs).toEqual({ n: 3, mean: 50 * MIN, p50: 60 * MIN, p90: 60 * MIN });
      expect(r.total.resolveMs.p90).toBeCloseTo(22.4 * HOUR, 3);
      expect(r.hotspots.cells.map((c) => c.incidents)).toEqual([3, 2]);
      expect(
        (await kpis(`scope=D&${dayRange}&by=region`)).groups.map((g) => [g.key, g.label, g.incidents, g.closed, g.cancelled, g.open]),
      ).toEqual([
        ['S1', '一街道', 3, 2, 0, 1],
        ['S2', '二街道', 3, 0, 1, 1],
      ]);
      expect((await kpis(`scope=C1&${dayRange}&by=region`)).groups.map((g) => [g.key, g.incidents])).toEqual([
        ['G1', 2],
        ['G2', 1],
      ]);
      // Every fast breakdown equals the raw path, over whole days and over cut ones.
      const q = { now: clock.now(), hotspotRes: 10, hotspotLimit: 5, rollupAll: true };
      for (const [from, to] of [
        [DAY, DAY + 24 * HOUR],
        [DAY - 24 * HOUR, DAY + 48 * HOUR],
        [H(8), H(40)],
      ]) {
        for (const by of ['none', 'region', 'category', 'source', 'priority', 'day', 'week', 'month'] as KpiDimension[]) {
          for (const scope of ['D', 'S2', 'G1']) {
            const req = { ...q, scope, from, to, by };
            expect(await kpiReport(db.pool, regions, req)).toEqual(await kpiReport(db.pool, regions, { ...req, rawOnly: true }));
          }
        }
      }
    });
  });
}
