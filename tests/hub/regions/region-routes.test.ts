// PUT/GET /api/regions on the embedded TimescaleDB, through the hub's real HTTP server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FeatureCollection, Geometry } from 'geojson';
import { openDatabase, type Database } from '../../../storage/database.js';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import { LiveState } from '../../../hub/live/live-state.js';
import { buildHttpServer, type HttpApp } from '../../../hub/http/http-server.js';
import { upsertDevices, upsertWorkers } from '../../../storage/device-store.js';
import { fixture } from './fixtures.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

type FC = FeatureCollection<Geometry, Record<string, unknown>>;
const byCode = (fc: FC) => [...fc.features].sort((a, b) => (String(a.properties.code) < String(b.properties.code) ? -1 : 1));
const TWO_STREETS = fixture('two-streets.geojson') as FC;
const GRID_A1 = '430211001001-01';

describe('regions import/export over HTTP', () => {
  let db: Database;
  let app: HttpApp;
  let regions: RegionDirectory;
  let reloads = 0;
  /** How many regions the directory held when the hub was told to reload: it must be read first. */
  let directoryAtReload = -1;

  const put = (body: unknown, query = '', contentType = 'application/json') =>
    app.inject({ method: 'PUT', url: `/api/regions${query}`, payload: JSON.stringify(body), headers: { 'content-type': contentType } });
  const exported = async (query = ''): Promise<FC> => {
    const res = await app.inject({ url: `/api/regions${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<FC>();
  };

  beforeAll(async () => {
    db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
    regions = new RegionDirectory(db.pool);
    app = await buildHttpServer({
      pool: db.pool,
      regions,
      live: new LiveState(),
      metrics: new Metrics(),
      logger: silentLogger,
      tileUrl: null,
      timescale: db.timescale,
      info: () => ({}),
      onRegionsChanged: () => {
        reloads++;
        directoryAtReload = regions.size;
      },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM incidents; DELETE FROM devices; DELETE FROM workers; DELETE FROM regions');
    reloads = 0;
  });

  it('imports a district (MultiPolygon, hole, shared edges) and exports exactly what it imported', async () => {
    const res = await put(TWO_STREETS);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      ok: true,
      dryRun: false,
      counts: { total: 10, added: 10, updated: 0, removed: 0 },
      problems: [],
      reloaded: true,
    });
    expect(reloads).toBe(1);
    // The import read the region directory again before the hub reloaded what depends on it.
    expect(directoryAtReload).toBe(10);
    expect(regions.has(GRID_A1)).toBe(true);

    const out = await exported();
    expect(byCode(out)).toEqual(byCode(TWO_STREETS)); // ids, extra properties, holes, MultiPolygon
    // Parents come before children, so the export imports as it is: a second import changes nothing.
    const levels = out.features.map((f) => f.properties.level);
    expect(levels.indexOf('grid')).toBeGreaterThan(levels.lastIndexOf('community'));
    const again = await put(out);
    expect(again.json()).toMatchObject({ counts: { added: 0, updated: 10, removed: 0 } });
    expect(byCode(await exported())).toEqual(byCode(TWO_STREETS));
  });

  it('filters the export by level and by subtree', async () => {
    await put(TWO_STREETS);
    const grids = await exported('?level=grid');
    expect(grids.features.map((f) => f.properties.code)).toEqual([
      '430211001001-01',
      '430211001001-02',
      '430211002001-01',
      '430211002001-02',
      '430211002001-03',
    ]);
    const street = await exported('?root=430211002');
    expect(street.features.map((f) => f.properties.code)).toEqual([
      '430211002',
      '430211002001',
      '430211002001-01',
      '430211002001-02',
      '430211002001-03',
    ]);
    expect((await exported('?root=430211001&level=grid')).features).toHaveLength(2);
    const missing = await app.inject({ url: '/api/regions?root=nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('REGION_NOT_FOUND');
    expect((await app.inject({ url: '/api/regions?level=planet' })).statusCode).toBe(400);
  });

  it('refuses a structurally broken tree with every problem listed, and changes nothing', async () => {
    await put(TWO_STREETS);
    reloads = 0;
    const res = await put(fixture('broken-tree.geojson'));
    expect(res.statusCode).toBe(422);
    const body = res.json<{
      ok: boolean;
      error: { code: string; message: string };
      problems: Array<{ code: string; regionCode: string }>;
    }>();
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('REGIONS_INVALID');
    expect(body.error.message).toContain('nothing was changed');
    const codes = new Set(body.problems.map((p) => p.code));
    for (const c of ['duplicate_code', 'level_mismatch', 'parent_missing', 'ring_too_short', 'cycle']) expect(codes).toContain(c);
    expect(byCode(await exported())).toEqual(byCode(TWO_STREETS));
    expect(reloads).toBe(0);
  });

  it('reports overlaps and gaps with codes and areas, and imports them only when accepted explicitly', async () => {
    const input = fixture('overlap-and-gap.geojson');
    const refused = await put(input);
    expect(refused.statusCode).toBe(422);
    const body = refused.json<{
      error: { code: string };
      needs: string[];
      problems: Array<{ code: string; regionCode: string; otherCode?: string; areaM2: number }>;
    }>();
    expect(body.error.code).toBe('REGIONS_GEOMETRY_REFUSED');
    expect(body.needs).toEqual(['overlaps', 'gaps']);
    const overlap = body.problems.find((p) => p.code === 'overlap');
    expect(overlap).toMatchObject({ regionCode: 'C1-G1', otherCode: 'C1-G2' });
    expect(overlap?.areaM2).toBeGreaterThan(1000);
    expect(body.problems.find((p) => p.code === 'gap')).toMatchObject({ regionCode: 'C1' });
    expect((await exported()).features).toEqual([]);

    const half = await put(input, '?accept=overlaps');
    expect(half.statusCode).toBe(422);
    expect(half.json().needs).toEqual(['gaps']);
    expect(reloads).toBe(0);

    const ok = await put(input, '?accept=overlaps,gaps');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, accepted: ['overlaps', 'gaps'], counts: { total: 4 } });
    expect(
      ok
        .json()
        .problems.map((p: { code: string }) => p.code)
        .sort(),
    ).toEqual(['gap', 'overlap']);
    expect((await exported()).features).toHaveLength(4);
    expect(reloads).toBe(1);
    expect((await put(input, '?accept=everything')).statusCode).toBe(400);
  });

  it('refuses to drop regions that devices hang in unless told to detach them, and names workers left without their grid', async () => {
    await put(TWO_STREETS);
    await upsertWorkers(db.pool, [
      { id: 'w-a1', name: '邓美', role: 'grid_worker', gridCodes: [GRID_A1] },
      { id: 'w-c', name: '刘一', role: 'grid_worker', gridCodes: ['C1-G1'] },
    ]);
    await upsertDevices(db.pool, [
      { id: 'door-a1', kind: 'door', secret: 'door-secret-0123456789', gridCode: GRID_A1, lat: 27.81, lon: 113.11 },
    ]);
    for (const [id, state] of [
      ['i-open', 'accepted'],
      ['i-done', 'closed'],
    ]) {
      await db.pool.query(
        `INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, created_at, updated_at, sla_started_at, accept_by, arrive_by, resolve_by)
         VALUES ($1, 'resident', 'drain', 'normal', 27.81, 113.11, $2, $3, 1, now(), now(), now(), now(), now(), now())`,
        [id, GRID_A1, state],
      );
    }
    reloads = 0;
    const input = fixture('overlap-and-gap.geojson');

    const blocked = await put(input, '?accept=overlaps,gaps');
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toMatchObject({ error: { code: 'REGIONS_IN_USE' }, devices: [{ id: 'door-a1', gridCode: GRID_A1 }] });
    expect(byCode(await exported())).toEqual(byCode(TWO_STREETS));
    expect(reloads).toBe(0);

    const dry = await put(input, '?accept=overlaps,gaps,detach&dryRun=true');
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({
      dryRun: true,
      reloaded: false,
      counts: { removed: 10 },
      workersOutsideTree: [{ id: 'w-a1', missingGridCodes: [GRID_A1] }],
    });
    expect(byCode(await exported())).toEqual(byCode(TWO_STREETS));

    const done = await put(input, '?accept=overlaps,gaps,detach');
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ devicesDetached: ['door-a1'], removedCodes: byCode(TWO_STREETS).map((f) => f.properties.code) });
    expect(done.json().workersOutsideTree).toEqual([{ id: 'w-a1', name: '邓美', missingGridCodes: [GRID_A1] }]);
    expect(done.json().openIncidentsInRemovedGrids).toEqual([{ id: 'i-open', gridCode: GRID_A1 }]);
    expect((await db.pool.query(`SELECT grid_code FROM devices WHERE id = 'door-a1'`)).rows[0].grid_code).toBeNull();
    expect((await exported()).features.map((f) => f.properties.code).sort()).toEqual(['C1', 'C1-G1', 'C1-G2', 'C1-G3']);
    expect(reloads).toBe(1);
  });

  it('says what is wrong with a file that is not a region FeatureCollection, or has no grid', async () => {
    const bad = await put({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: 'x' }, geometry: null }] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('REGIONS_UNPARSEABLE');
    expect(bad.json().issues.join('\n')).toMatch(/features\.0\./);
    expect((await put({ hello: 'world' })).statusCode).toBe(400);

    const district = { type: 'FeatureCollection', features: [TWO_STREETS.features[0]] };
    const noGrid = await put(district);
    expect(noGrid.statusCode).toBe(422);
    expect(noGrid.json().error.code).toBe('REGIONS_NO_GRID');
    expect((await exported()).features).toEqual([]);
  });

  it('takes application/geo+json as well', async () => {
    const res = await put(TWO_STREETS, '', 'application/geo+json');
    expect(res.statusCode, res.body).toBe(200);
    expect((await exported()).features).toHaveLength(10);
  });
});
