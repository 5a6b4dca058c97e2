// The people API on the embedded TimescaleDB, through the hub's real HTTP server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../storage/database.js';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import { LiveState } from '../../../hub/live/live-state.js';
import { buildHttpServer, type HttpApp } from '../../../hub/http/http-server.js';
import { parseRegions } from '../../../hub/regions/region-tree.js';
import { replaceRegions } from '../../../hub/regions/region-store.js';
import { upsertDevices } from '../../../storage/device-store.js';
import { fixture } from '../regions/fixtures.js';
import type { WorkerView } from '../../../protocol/people-api.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

const A1 = '430211001001-01';
const A2 = '430211001001-02';
const B1 = '430211002001-01';

describe('people API', () => {
  let db: Database;
  let app: HttpApp;
  let live: LiveState;
  let dutyCalls: Array<[string, string]> = [];
  let workerReloads = 0;

  const putWorkers = (workers: unknown[]) => app.inject({ method: 'PUT', url: '/api/workers', payload: { workers } });
  const getWorker = async (id: string) => {
    const res = await app.inject({ url: `/api/workers/${id}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<WorkerView>();
  };
  const incident = (id: string, assignee: string | null, state: string) =>
    db.pool.query(
      `INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, assignee_id,
                              created_at, updated_at, sla_started_at, accept_by, arrive_by, resolve_by)
       VALUES ($1, 'resident', 'drain', 'normal', 27.81, 113.11, $4, $3, 1, $2, now(), now(), now(), now(), now(), now())`,
      [id, assignee, state, A1],
    );

  beforeAll(async () => {
    db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
    await replaceRegions(db.pool, parseRegions(fixture('two-streets.geojson')).tree, { accept: new Set() });
    live = new LiveState();
    app = await buildHttpServer({
      pool: db.pool,
      regions: new RegionDirectory(db.pool),
      live,
      metrics: new Metrics(),
      logger: silentLogger,
      tileUrl: null,
      timescale: db.timescale,
      info: () => ({}),
      onDutyChanged: (id, duty) => {
        dutyCalls.push([id, duty]);
      },
      onWorkersChanged: () => {
        workerReloads++;
      },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM incidents; DELETE FROM device_status; DELETE FROM devices; DELETE FROM workers');
    live.workers.clear();
    dutyCalls = [];
    workerReloads = 0;
  });

  it('registers workers in bulk and lists them with duty, live position and its age, and load', async () => {
    const res = await putWorkers([
      { id: 'w1', name: '邓美', role: 'grid_worker', gridCodes: [A1], categories: ['drain', 'door.*'] },
      { id: 'w2', name: '李强', role: 'grid_leader', gridCodes: [A1, A2] },
      { id: 'p1', name: '王警官', role: 'community_police', gridCodes: [B1], categories: ['*'] },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true, created: 3, updated: 0 });
    expect(workerReloads).toBe(1);
    await upsertDevices(db.pool, [{ id: 'hs-w1', kind: 'handset', secret: 'hs-w1-secret-0123456789', workerId: 'w1' }]);

    await incident('i1', 'w1', 'dispatched');
    await incident('i2', 'w1', 'on_site');
    await incident('i3', 'w1', 'resolved'); // done: no load
    await incident('i4', 'w2', 'accepted');
    await incident('i5', null, 'reported');
    const fixTs = Date.now() - 5_000;
    live.workers.set('w1', {
      workerId: 'w1',
      deviceId: 'hs-w1',
      name: '邓美',
      role: 'grid_worker',
      gridCode: A1,
      lat: 27.81,
      lon: 113.11,
      ts: fixTs,
      battery: 80,
      duty: 'on',
      online: true,
    });

    const before = Date.now();
    const list = await app.inject({ url: '/api/workers' });
    const after = Date.now();
    expect(list.statusCode, list.body).toBe(200);
    const workers = list.json<{ workers: WorkerView[] }>().workers;
    expect(workers.map((w) => [w.id, w.load])).toEqual([
      ['p1', 0],
      ['w1', 2],
      ['w2', 1],
    ]);
    const w1 = workers.find((w) => w.id === 'w1') as WorkerView;
    expect(w1).toMatchObject({
      name: '邓美',
      role: 'grid_worker',
      gridCodes: [A1],
      categories: ['drain', 'door.*'],
      duty: 'off',
      dutySince: null,
      online: true,
      deviceId: 'hs-w1',
    });
    expect(w1.position).toMatchObject({ lat: 27.81, lon: 113.11, ts: new Date(fixTs).toISOString(), battery: 80 });
    expect(w1.position?.ageMs).toBeGreaterThanOrEqual(before - fixTs);
    expect(w1.position?.ageMs).toBeLessThanOrEqual(after - fixTs);
    expect(workers.find((w) => w.id === 'w2')).toMatchObject({ position: null, online: false, categories: ['*'], deviceId: null });

    const inA2 = (await app.inject({ url: `/api/workers?grid=${A2}` })).json<{ workers: WorkerView[] }>().workers;
    expect(inA2.map((w) => w.id)).toEqual(['w2']);
    const police = (await app.inject({ url: '/api/workers?role=community_police' })).json<{ workers: WorkerView[] }>().workers;
    expect(police.map((w) => w.id)).toEqual(['p1']);
    expect((await getWorker('w1')).load).toBe(2);
    const missing = await app.inject({ url: '/api/workers/nobody' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('WORKER_NOT_FOUND');
  });

  it('refuses a bulk upsert with unknown grids, non-grid regions, repeated ids or malformed categories, and writes none of it', async () => {
    const res = await putWorkers([
      { id: 'ok', name: '好的', role: 'grid_worker', gridCodes: [A1] },
      { id: 'x1', name: '甲', role: 'grid_worker', gridCodes: ['no-such-grid'] },
      { id: 'x2', name: '乙', role: 'grid_leader', gridCodes: ['430211001001'] },
      { id: 'x1', name: '丙', role: 'grid_worker', gridCodes: [], categories: ['Drain!'] },
    ]);
    expect(res.statusCode).toBe(422);
    const body = res.json<{ error: { code: string }; problems: Array<{ index: number; field: string; value: string }> }>();
    expect(body.error.code).toBe('WORKERS_INVALID');
    expect(body.problems.map((p) => [p.index, p.field, p.value])).toEqual([
      [1, 'gridCodes', 'no-such-grid'],
      [2, 'gridCodes', '430211001001'],
      [3, 'id', 'x1'],
      [3, 'categories', 'Drain!'],
    ]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM workers')).rows[0].n).toBe(0);
    expect(workerReloads).toBe(0);

    const badRole = await putWorkers([{ id: 'z', name: '丁', role: 'mayor', gridCodes: [] }]);
    expect(badRole.statusCode).toBe(400);
  });

  it('updates workers on a second upsert', async () => {
    await putWorkers([{ id: 'w1', name: '邓美', role: 'grid_worker', gridCodes: [A1] }]);
    const res = await putWorkers([
      { id: 'w1', name: '邓美', role: 'grid_leader', gridCodes: [A1, A2], categories: ['drain'] },
      { id: 'w3', name: '周周', role: 'department_staff', gridCodes: [] },
    ]);
    expect(res.json()).toEqual({ ok: true, created: 1, updated: 1 });
    expect(await getWorker('w1')).toMatchObject({ role: 'grid_leader', gridCodes: [A1, A2], categories: ['drain'] });
  });

  it('sets duty from the API, logs it for the handset, and tells the hub only when it changed', async () => {
    await putWorkers([{ id: 'w1', name: '邓美', role: 'grid_worker', gridCodes: [A1] }]);
    await upsertDevices(db.pool, [{ id: 'hs-w1', kind: 'handset', secret: 'hs-w1-secret-0123456789', workerId: 'w1' }]);
    const setDuty = (id: string, duty: unknown) => app.inject({ method: 'PUT', url: `/api/workers/${id}/duty`, payload: { duty } });

    const on = await setDuty('w1', 'on');
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ ok: true, id: 'w1', duty: 'on', changed: true });
    const since = on.json().dutySince as string;
    expect(dutyCalls).toEqual([['w1', 'on']]);
    expect(await getWorker('w1')).toMatchObject({ duty: 'on', dutySince: since });
    const log = await db.pool.query(`SELECT device_id, duty, ts FROM device_status WHERE kind = 'status'`);
    expect(log.rows).toEqual([{ device_id: 'hs-w1', duty: 'on', ts: new Date(since) }]);

    const again = await setDuty('w1', 'on');
    expect(again.json()).toMatchObject({ duty: 'on', changed: false, dutySince: since });
    expect(dutyCalls).toHaveLength(1);

    expect((await setDuty('w1', 'off')).json()).toMatchObject({ duty: 'off', changed: true });
    expect(dutyCalls).toEqual([
      ['w1', 'on'],
      ['w1', 'off'],
    ]);
    expect((await getWorker('w1')).duty).toBe('off');

    expect((await setDuty('w1', 'maybe')).statusCode).toBe(400);
    const missing = await setDuty('nobody', 'on');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('WORKER_NOT_FOUND');
  });
});
