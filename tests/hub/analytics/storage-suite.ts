// The storage and analytics checks, run against one engine (embedded TimescaleDB or plain
// PostgreSQL) by the two *.test.ts files next to this one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useZodSchemas } from '../../../common/zod-schema.js';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Feature, FeatureCollection, Geometry, LineString } from 'geojson';
import type { Database } from '../../../storage/database.js';
import { analyticsRoutes } from '../../../hub/analytics/analytics-routes.js';
import { rollupActivity } from '../../../hub/analytics/activity-query.js';
import { pathDistanceM } from '../../../hub/analytics/geo-distance.js';
import { readRawTrack, readTrack, unpackTrack } from '../../../hub/analytics/trail-query.js';
import { packTrailHours } from '../../../hub/upkeep/trail-pack.js';
import { commitRows } from '../../../hub/rows/commit-rows.js';
import type { Track } from '../../../hub/analytics/geo-distance.js';
import { applyStoragePolicies, compressOlderThan, dropRawOlderThan, runPolicyJobs } from '../../../hub/upkeep/storage-policies.js';
import { ManualClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { StorageMaintenance } from '../../../hub/upkeep/storage-maintenance.js';
import { vacuumByHand } from '../../../hub/upkeep/vacuum-by-hand.js';
import { DATE, H, OUTSIDE, SEVEN, STEP_M, fix, iso, northFixes, patrolFixes, seedPeople, writeBatch } from './analytics-fixtures.js';
import { cellToLatLng } from 'h3-js';
import { OwnGridFence } from '../../../hub/regions/own-grid-fence.js';
import { upsertDevices, upsertWorkers } from '../../../storage/device-store.js';
import { writeRows } from '../../../hub/rows/row-writer.js';
import { emptyRows } from '../../../hub/rows/row-types.js';
import { setWorkerDuty } from '../../../hub/people/worker-store.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

type Trail = FeatureCollection<Geometry | null>;

export function storageSuite(engine: string, open: () => Promise<{ db: Database; stop(): Promise<void> }>): void {
  describe(`storage and analytics on ${engine}`, () => {
    let db: Database;
    let stop: () => Promise<void>;
    let app: FastifyInstance;
    let regions: RegionDirectory;

    const count = async (worker: string) =>
      (await db.pool.query<{ n: number }>('SELECT count(*) AS n FROM positions WHERE worker_id = $1', [worker])).rows[0].n;
    const trail = async (worker: string, from: number, to: number, extra = ''): Promise<Trail> => {
      const res = await app.inject({ url: `/api/workers/${worker}/trail?from=${iso(from)}&to=${iso(to)}${extra}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<Trail>();
    };
    const lineOf = (t: Trail) => t.features[0] as Feature<LineString | null, Record<string, unknown>>;

    beforeAll(async () => {
      ({ db, stop } = await open());
      await seedPeople(db.pool);
      regions = new RegionDirectory(db.pool);
      await regions.load();
      app = Fastify();
      useZodSchemas(app, { mismatch: () => {} }); // as the hub's app (hub/http/http-server.ts)
      await app.register(analyticsRoutes, { pool: db.pool, regions, timescale: db.timescale });
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await stop?.();
    });

    it('stores each (device, fix time) once: re-sent and out-of-order batches', async () => {
      const north = northFixes();
      // Store-and-forward: the last part arrives first, then the first, then the middle twice.
      await writeBatch(db.pool, north.slice(500));
      await writeBatch(db.pool, north.slice(0, 250));
      await writeBatch(db.pool, north.slice(250, 500));
      await writeBatch(db.pool, north.slice(200, 600));
      expect(await count('w-m')).toBe(721);
      await writeBatch(db.pool, patrolFixes().reverse());
      await writeBatch(db.pool, patrolFixes());
      expect(await count('w-a')).toBe(104);
    });

    it('serves the trail in fix order with the hand-computed distance', async () => {
      const t = await trail('w-m', H(9), H(12));
      const line = lineOf(t);
      expect(line.properties).toMatchObject({ fixes: 721, returned: 721, outsideFixes: 0 });
      // 719 steps north of 11.1195 m; the 11:30 fix is after a 30-minute gap, not walked.
      expect(line.properties.distanceM as number).toBeCloseTo(719 * STEP_M, 0);
      const times = line.properties.coordTimes as string[];
      expect(times[0]).toBe(iso(H(9)));
      expect(times.at(-1)).toBe(iso(H(11, 30)));
      expect([...times].sort()).toEqual(times);
      expect(line.geometry?.coordinates[1][1]).toBeCloseTo(27.8601, 9);
    });

    it('downsamples on the server and keeps both ends', async () => {
      const line = lineOf(await trail('w-m', H(9), H(12), '&maxPoints=50'));
      expect(line.properties.returned as number).toBeLessThanOrEqual(50);
      // Due north then a jump east: the corner at 10:59:50 is kept with the ends.
      expect(line.properties.coordTimes).toEqual([iso(H(9)), iso(H(10, 59, 50)), iso(H(11, 30))]);
    });

    it('marks stops and fixes outside the worker’s own grid', async () => {
      const t = await trail('w-a', H(0), H(24), '&stopMinutes=5&stopRadiusM=50');
      const line = lineOf(t);
      expect(line.properties).toMatchObject({ fixes: 104, outsideFixes: 1 });
      expect((line.properties.outsideOwnGrid as boolean[]).at(-1)).toBe(true);
      const stops = t.features.slice(1).map((f) => f.properties);
      // Cell 3 from 08:03:00 (first visit) to 08:20:00: 6 + 61 fixes.
      expect(stops).toEqual([{ kind: 'stop', start: iso(H(8, 3)), end: iso(H(8, 20)), durationS: 1020, fixes: 67 }]);
    });

    it('rejects a bad range with a clear code', async () => {
      const res = await app.inject({ url: `/api/workers/w-m/trail?from=${iso(H(12))}&to=${iso(H(9))}` });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ code: string }>().code).toBe('BAD_RANGE');
    });

    it('rolls up fixes and metres per hour and per day that agree with the raw data', async () => {
      await rollupActivity(db.pool, H(0), H(24));
      // Twice: the rollup recomputes whole hours, so re-running changes nothing.
      await rollupActivity(db.pool, H(0), H(24));
      const hourly = (await app.inject({ url: `/api/workers/w-m/activity?from=${iso(H(0))}&to=${iso(H(24))}&bucket=hour` })).json<{
        items: { bucket: string; fixes: number; distanceM: number }[];
      }>().items;
      expect(hourly.map((r) => [r.bucket, r.fixes])).toEqual([
        [iso(H(9)), 360],
        [iso(H(10)), 360],
        [iso(H(11)), 1],
      ]);
      expect(hourly[0].distanceM).toBeCloseTo(359 * STEP_M, 0);
      expect(hourly[1].distanceM).toBeCloseTo(360 * STEP_M, 0);
      expect(hourly[2].distanceM).toBe(0);

      for (const worker of ['w-a', 'w-m']) {
        const daily = (await app.inject({ url: `/api/workers/${worker}/activity?from=${iso(H(0))}&to=${iso(H(24))}&bucket=day` })).json<{
          items: { bucket: string; fixes: number; distanceM: number }[];
        }>().items;
        const raw = await readTrack(db.pool, worker, H(0), H(24));
        expect(daily).toHaveLength(1);
        expect(daily[0].bucket).toBe(iso(H(0)));
        expect(daily[0].fixes).toBe(raw.length);
        expect(daily[0].distanceM).toBeCloseTo(pathDistanceM(raw), 0);
      }
      const byHour = await db.pool.query<{ worker_id: string; b: Date; n: number }>(
        `SELECT worker_id, time_bucket('1 hour', ts) AS b, count(*)::int AS n FROM positions GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const rolled = await db.pool.query<{ worker_id: string; b: Date; n: number }>(
        `SELECT worker_id, bucket AS b, fixes AS n FROM worker_activity_hourly ORDER BY 1, 2`,
      );
      expect(rolled.rows).toEqual(byHour.rows);
      if (db.timescale) {
        await db.pool.query(`CALL refresh_continuous_aggregate('positions_hourly', NULL, NULL)`);
        const cagg = await db.pool.query(`SELECT worker_id, bucket AS b, fixes::int AS n FROM positions_hourly ORDER BY 1, 2`);
        expect(cagg.rows).toEqual(byHour.rows);
      }
    });

    it('recomputes the recent hours from the maintenance pass, idempotently', async () => {
      await db.pool.query(`DELETE FROM worker_activity_hourly WHERE bucket >= $1`, [new Date(H(10))]);
      const m = new StorageMaintenance({
        pool: db.pool,
        timescale: db.timescale,
        runPolicies: false,
        clock: new ManualClock(H(12)),
        logger: silentLogger,
      });
      await Promise.all([m.runOnce(), m.runOnce()]);
      const rows = await db.pool.query<{ n: number }>(
        `SELECT fixes AS n FROM worker_activity_hourly WHERE worker_id = 'w-m' ORDER BY bucket`,
      );
      expect(rows.rows.map((r) => r.n)).toEqual([360, 360, 1]);
      // The same pass packed every worker-hour that ended by 11:45 (the current hour stays raw).
      const packed = await db.pool.query<{ worker_id: string; hour: Date; n: number }>(
        `SELECT worker_id, hour, length(fixes) / 24 AS n FROM trail_hours ORDER BY 1, 2`,
      );
      expect(packed.rows).toEqual([
        { worker_id: 'w-a', hour: new Date(H(8)), n: 85 },
        { worker_id: 'w-m', hour: new Date(H(9)), n: 360 },
        { worker_id: 'w-m', hour: new Date(H(10)), n: 360 },
      ]);
      await m.stop();
    });

    it('vacuums and analyzes by hand what autovacuum would (the embedded engine has none)', async () => {
      // autovacuum off for this table so that a server's own worker cannot race the assertion.
      await db.pool.query('CREATE TABLE vac_probe (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false)');
      await db.pool.query(`INSERT INTO vac_probe SELECT g, 'row ' || g FROM generate_series(1, 5000) g`);
      const visible = async () =>
        (await db.pool.query<{ n: number }>(`SELECT relallvisible AS n FROM pg_class WHERE relname = 'vac_probe'`)).rows[0].n;
      expect(await visible()).toBe(0);
      const first = await vacuumByHand(db.pool);
      expect(first.vacuumed).toContain('public.vac_probe');
      // The visibility map is what lets the trail read skip the heap (a server may leave it unset
      // this soon after the insert; its own autovacuum comes back), the statistics, the plans.
      if (db.engine === 'embedded') expect(await visible()).toBeGreaterThan(0);
      const stats = await db.pool.query<{ n: number }>(`SELECT reltuples AS n FROM pg_class WHERE relname = 'vac_probe'`);
      expect(stats.rows[0].n).toBe(5000);
      const second = await vacuumByHand(db.pool);
      expect(second.vacuumed).not.toContain('public.vac_probe');
      // Grown by more than a fifth: due again.
      await db.pool.query(`INSERT INTO vac_probe SELECT g, 'row ' || g FROM generate_series(5001, 7000) g`);
      expect((await vacuumByHand(db.pool)).vacuumed).toContain('public.vac_probe');
      // Out of budget after the first table: the rest waits for the next pass.
      await db.pool.query('CREATE TABLE vac_probe2 (id int) WITH (autovacuum_enabled = false)');
      await db.pool.query('INSERT INTO vac_probe2 SELECT generate_series(1, 100)');
      await db.pool.query(`INSERT INTO vac_probe SELECT g, 'row ' || g FROM generate_series(7001, 10000) g`);
      const seen: string[] = [];
      for (let pass = 0; pass < 500; pass++) {
        const { vacuumed } = await vacuumByHand(db.pool, 0);
        expect(vacuumed.length).toBeLessThanOrEqual(1);
        if (vacuumed.length === 0) break;
        seen.push(...vacuumed);
      }
      expect(seen).toEqual(expect.arrayContaining(['public.vac_probe', 'public.vac_probe2']));
      await db.pool.query('DROP TABLE vac_probe');
      await db.pool.query('DROP TABLE vac_probe2');
    });

    it('computes coverage, the twice-a-day rule and the heat map for a grid', async () => {
      const res = await app.inject({ url: `/api/coverage?grid=G1&date=${DATE}` });
      expect(res.statusCode, res.body).toBe(200);
      const c = res.json<{
        visited: number;
        total: number;
        share: number;
        resolution: number;
        workers: string[];
        patrol: { morning: { visited: number; pass: boolean }; afternoon: { visited: number; pass: boolean }; pass: boolean };
        heat: { cell: string; fixes: number; visits: number; inGrid: boolean }[];
      }>();
      expect(c).toMatchObject({ visited: 4, total: 7, resolution: 10, workers: ['w-a'] });
      expect(c.share).toBeCloseTo(4 / 7, 9);
      expect(c.patrol).toMatchObject({ morning: { visited: 4, pass: true }, afternoon: { visited: 3, pass: false }, pass: false });
      // Cell 3: 6 + 61 fixes in one run = 1 visit; cells 0..2 visited morning and afternoon.
      const heat = new Map(c.heat.map((h) => [h.cell, h]));
      expect(heat.get(SEVEN[3])).toEqual({ cell: SEVEN[3], fixes: 67, visits: 1, inGrid: true });
      expect(heat.get(SEVEN[0])).toEqual({ cell: SEVEN[0], fixes: 12, visits: 2, inGrid: true });
      expect(heat.get(OUTSIDE)).toEqual({ cell: OUTSIDE, fixes: 1, visits: 1, inGrid: false });
      const lenient = (await app.inject({ url: `/api/coverage?grid=G1&date=${DATE}&minShare=0.4` })).json<{ patrol: { pass: boolean } }>();
      expect(lenient.patrol.pass).toBe(true);
      expect((await app.inject({ url: `/api/coverage?grid=NOPE&date=${DATE}` })).statusCode).toBe(404);
    });

    it('rolls up time inside the own grid (decided at ingest) and time on duty per hour', async () => {
      // w-g patrols G1 too (added after the coverage test, whose figures are w-a's), the next day.
      // The fence is the hub's own, loaded from the database like at start.
      await upsertWorkers(db.pool, [{ id: 'w-g', name: '网格员丙', role: 'grid_worker', gridCodes: ['G1'] }]);
      await upsertDevices(db.pool, [
        { id: 'hs-g', kind: 'handset', secret: 'secret-hs-g-0123456789', workerId: 'w-g', gridCode: null, lat: null, lon: null },
      ]);
      const fence = new OwnGridFence();
      await fence.load(db.pool, regions);
      const [inLat, inLon] = cellToLatLng(SEVEN[0]);
      const [outLat, outLon] = cellToLatLng(OUTSIDE);
      const at = (ts: number, inside: boolean) => {
        const f = fix('hs-g', 'w-g', ts, inside ? inLat : outLat, inside ? inLon : outLon);
        return { ...f, inGrid: fence.inside('w-g', f.lon, f.lat) };
      };
      // Hour 13: in, in, in (20 s), out (in→out: no), in (out→in: no), in (10 s) = 30 s; then a gap
      // of an hour (not counted) to 13:59:55, and the segment across 14:00 (10 s) is hour 14's.
      const fixes = [
        at(H(37, 0, 0), true),
        at(H(37, 0, 10), true),
        at(H(37, 0, 20), true),
        at(H(37, 0, 30), false),
        at(H(37, 0, 40), true),
        at(H(37, 0, 50), true),
        at(H(37, 59, 55), true),
        at(H(38, 0, 5), true),
      ];
      expect(fixes.map((f) => f.inGrid)).toEqual([true, true, true, false, true, true, true, true]);
      expect(fence.inside('w-m', inLon, inLat)).toBeNull(); // a worker without a grid
      await writeBatch(db.pool, fixes);
      // Duty as the handset reported it: on 12:50, on 13:00, offline 13:20, online 13:40, on 13:45,
      // off 14:10, on 14:30 and then silent (counted 30 minutes, the longest a report holds).
      const status = (ts: number, duty: 'on' | 'off') => ({
        deviceId: 'hs-g',
        workerId: 'w-g',
        ts,
        kind: 'status' as const,
        duty,
        battery: 80,
        online: null,
      });
      const presence = (ts: number, online: boolean) => ({
        deviceId: 'hs-g',
        workerId: 'w-g',
        ts,
        kind: 'presence' as const,
        duty: null,
        battery: null,
        online,
      });
      const client = await db.pool.connect();
      try {
        await writeRows(client, {
          ...emptyRows(),
          statuses: [
            status(H(36, 50), 'on'),
            status(H(37), 'on'),
            presence(H(37, 20), false),
            presence(H(37, 40), true),
            status(H(37, 45), 'on'),
            status(H(38, 10), 'off'),
            status(H(38, 30), 'on'),
          ],
        });
      } finally {
        client.release();
      }
      await rollupActivity(db.pool, H(24), H(48));
      const hourly = (await app.inject({ url: `/api/workers/w-g/activity?from=${iso(H(24))}&to=${iso(H(48))}&bucket=hour` })).json<{
        items: { bucket: string; fixes: number; inGridS: number; onDutyS: number; firstTs: string | null }[];
      }>().items;
      expect(hourly.map((r) => [r.bucket, r.fixes, r.inGridS, r.onDutyS])).toEqual([
        [iso(H(36)), 0, 0, 600], // on duty, no fix yet: a row all the same
        [iso(H(37)), 7, 30, 35 * 60], // 13:00–13:20 and 13:45–14:00
        [iso(H(38)), 1, 10, 40 * 60], // 14:00–14:10 and 14:30–15:00
      ]);
      expect(hourly[0].firstTs).toBeNull();
      // Hour 14 alone: the 13:45 report before the window carries the duty into it.
      await rollupActivity(db.pool, H(38), H(39));
      const again = (await app.inject({ url: `/api/workers/w-g/activity?from=${iso(H(38))}&to=${iso(H(39))}&bucket=hour` })).json<{
        items: { onDutyS: number; inGridS: number }[];
      }>().items;
      expect(again).toMatchObject([{ onDutyS: 40 * 60, inGridS: 10 }]);
      const daily = (await app.inject({ url: `/api/workers/w-g/activity?from=${iso(H(24))}&to=${iso(H(48))}&bucket=day` })).json<{
        items: { fixes: number; inGridS: number; onDutyS: number }[];
      }>().items;
      expect(daily).toMatchObject([{ fixes: 8, inGridS: 40, onDutyS: 600 + 35 * 60 + 40 * 60 }]);
    });

    it('counts a duty change made by an operator like a report of the worker’s handset', async () => {
      // PUT /api/workers/:id/duty writes the change into the same log as the handsets' reports.
      const status = (ts: number, duty: 'on' | 'off') => ({
        deviceId: 'hs-g',
        workerId: 'w-g',
        ts,
        kind: 'status' as const,
        duty,
        battery: 80,
        online: null,
      });
      // 16:00 the operator puts w-g on duty; 16:10 the handset reports off duty (the later report wins).
      expect(await setWorkerDuty(db.pool, 'w-g', 'on', H(40))).toMatchObject({ duty: 'on' });
      const client = await db.pool.connect();
      try {
        await writeRows(client, { ...emptyRows(), statuses: [status(H(40, 10), 'off')] });
      } finally {
        client.release();
      }
      // 17:00 on duty again by the operator, and the handset stays silent: held 30 minutes, as a report.
      await setWorkerDuty(db.pool, 'w-g', 'on', H(41));
      await rollupActivity(db.pool, H(40), H(42));
      const hourly = (await app.inject({ url: `/api/workers/w-g/activity?from=${iso(H(40))}&to=${iso(H(42))}&bucket=hour` })).json<{
        items: { bucket: string; onDutyS: number }[];
      }>().items;
      expect(hourly.map((r) => [r.bucket, r.onDutyS])).toEqual([
        [iso(H(40)), 600],
        [iso(H(41)), 1800],
      ]);
    });

    // Day 3, worker w-p: every 10 s from 00:00 to 03:29:50 (hours 0–2 full, hour 3 half).
    const P = (hour: number, min = 0, sec = 0) => H(72 + hour, min, sec);
    const walk = () =>
      Array.from({ length: 1260 }, (_, i) => fix('hs-p', 'w-p', P(0, 0, i * 10), 27.86 + i * 1e-5, 113.12 + (i % 7) * 1e-5));
    const plain = (t: Track) => ({ ts: [...t.ts], lat: [...t.lat], lon: [...t.lon] });
    const packedHours = async () =>
      (
        await db.pool.query<{ hour: Date; fixes: Buffer | null }>(
          `SELECT hour, fixes FROM trail_hours WHERE worker_id = 'w-p' ORDER BY hour`,
        )
      ).rows;

    it('packs ended hours of a trail and reads the same trail from them', async () => {
      await commitRows(db.pool, { ...emptyRows(), positions: walk() }, { copy: db.engine === 'server', now: P(3, 30) });
      await rollupActivity(db.pool, P(0), P(4));
      // At 04:00 hours 0–2 ended more than 15 minutes ago; hour 3 ended at 04:00 and waits.
      expect(await packTrailHours(db.pool, P(4), { keep: '30 days' })).toMatchObject({ packed: 3, done: true });
      const rows = await packedHours();
      expect(rows.map((x) => [x.hour.getTime(), x.fixes!.length / 24])).toEqual([
        [P(0), 360],
        [P(1), 360],
        [P(2), 360],
      ]);
      expect(plain(unpackTrack([rows[1].fixes!]))).toEqual(plain(await readRawTrack(db.pool, 'w-p', P(1), P(2))));
      // Nothing is left to pack until another hour ends.
      expect(await packTrailHours(db.pool, P(4, 10), { keep: '30 days' })).toMatchObject({ packed: 0, done: true });
      // Windows cut mid-hour, across hours, inside one hour, and a whole day: the same fixes as positions.
      for (const [a, b] of [
        [P(0), P(4)],
        [P(0, 20), P(3, 10)],
        [P(1), P(2)],
        [P(1, 59, 55), P(2, 0, 5)],
        [H(48), H(96)],
      ]) {
        expect(plain(await readTrack(db.pool, 'w-p', a, b)), `${iso(a)}..${iso(b)}`).toEqual(
          plain(await readRawTrack(db.pool, 'w-p', a, b)),
        );
      }
      // The slices the API reads (2,048 fixes each by default) put together are the whole trail.
      const slices = await db.pool.query<{ n: number; b: Buffer }>(
        `SELECT n, b FROM trail_read_slices('w-p', $1, $2, 24 * 500) ORDER BY n`,
        [new Date(P(0)), new Date(P(4))],
      );
      expect(slices.rows.map((x) => [x.n, x.b.length / 24])).toEqual([
        [0, 500],
        [1, 500],
        [2, 260],
      ]);
      expect(plain(unpackTrack(slices.rows.map((x) => x.b)))).toEqual(plain(await readRawTrack(db.pool, 'w-p', P(0), P(4))));
      // The read really comes from the packed rows: hour 1 taken out of positions is still there.
      await db.pool.query(`DELETE FROM positions WHERE worker_id = 'w-p' AND ts >= $1 AND ts < $2`, [new Date(P(1)), new Date(P(2))]);
      expect((await readRawTrack(db.pool, 'w-p', P(0), P(4))).length).toBe(900);
      expect((await readTrack(db.pool, 'w-p', P(0), P(4))).length).toBe(1260);
    });

    it('marks a packed hour stale when a late upload writes into it, reads it raw, and repacks it', async () => {
      // Hour 1 back into positions as a late upload (as the handset's store-and-forward would),
      // with one new fix from a second handset between two of the walk's.
      const late = [...walk().slice(360, 720), fix('hs-p2', 'w-p', P(1, 30, 5), 27.9, 113.2)];
      await commitRows(db.pool, { ...emptyRows(), positions: late }, { copy: db.engine === 'server', now: P(4, 20) });
      expect((await packedHours()).map((x) => x.fixes === null)).toEqual([false, true, false]);
      const read = await readTrack(db.pool, 'w-p', P(0), P(4));
      expect(read.length).toBe(1261);
      expect(plain(read)).toEqual(plain(await readRawTrack(db.pool, 'w-p', P(0), P(4))));
      // A fix in the current hour does not touch the packed rows (hour 4 is current at 04:20).
      await commitRows(db.pool, { ...emptyRows(), positions: [fix('hs-p', 'w-p', P(4, 1), 27.9, 113.2)] }, { copy: false, now: P(4, 20) });
      expect((await packedHours()).map((x) => x.fixes === null)).toEqual([false, true, false]);
      const again = await packTrailHours(db.pool, P(4, 10), { keep: '30 days' });
      expect(again).toMatchObject({ packed: 1, done: true });
      const rows = await packedHours();
      expect(rows[1].fixes!.length / 24).toBe(361);
      expect(plain(await readTrack(db.pool, 'w-p', P(0), P(5)))).toEqual(plain(await readRawTrack(db.pool, 'w-p', P(0), P(5))));
    });

    it('packs in bounded steps and deletes packed hours past their keep', async () => {
      await db.pool.query(`DELETE FROM trail_hours WHERE worker_id = 'w-p'`);
      const hours = async () => (await packedHours()).map((x) => x.hour.getTime());
      // At 04:30 hours 0–3 have ended 15 minutes ago or more; a 2-hour lookback reaches 02:00 only.
      const near = await packTrailHours(db.pool, P(4, 30), { keep: '30 days', lookbackMs: 2 * 3_600_000 });
      expect(near).toMatchObject({ packed: 2, done: true });
      expect(await hours()).toEqual([P(2), P(3)]);
      // Four hours back, one pair per statement: the two left in two steps, each its own transaction.
      const stepped = await packTrailHours(db.pool, P(4, 30), { keep: '30 days', lookbackMs: 4 * 3_600_000, pairsPerStep: 1 });
      expect(stepped).toMatchObject({ packed: 2, steps: 2, done: true });
      expect(await hours()).toEqual([P(0), P(1), P(2), P(3)]);
      // Kept 2 hours at 04:30: hour 2 (02:00) is the oldest kept, hours 0 and 1 go.
      await packTrailHours(db.pool, P(4, 30), { keep: '2 hours 30 minutes' });
      expect(await hours()).toEqual([P(2), P(3)]);
      // The trail is whole either way.
      expect(plain(await readTrack(db.pool, 'w-p', P(0), P(5)))).toEqual(plain(await readRawTrack(db.pool, 'w-p', P(0), P(5))));
    });

    it('keeps the trail API and the rollups working through compression and retention', async () => {
      const before = await trail('w-m', H(9), H(12));
      const applied = await applyStoragePolicies(db.pool, db.timescale, { compressAfter: '1 day', retainRawFor: '180 days' });
      expect(applied).toBe(db.timescale);
      if (!db.timescale) {
        // Plain PostgreSQL: the extras are off and the data is untouched.
        expect(await trail('w-m', H(9), H(12))).toEqual(before);
        return;
      }
      const compressed = await compressOlderThan(db.pool, H(48));
      expect(compressed).toBeGreaterThan(0);
      expect(await trail('w-m', H(9), H(12))).toEqual(before);
      // A re-sent batch landing in a compressed chunk is still one row per fix.
      await writeBatch(db.pool, northFixes().slice(0, 100));
      expect(await count('w-m')).toBe(721);
      // The policy jobs run by explicit call (the WASM build has no background worker).
      expect(await runPolicyJobs(db.pool)).toEqual(expect.arrayContaining(['policy_compression', 'policy_retention']));
      await dropRawOlderThan(db.pool, H(48));
      expect(lineOf(await trail('w-m', H(9), H(12))).properties.fixes).toBe(0);
      const hourly = (await app.inject({ url: `/api/workers/w-m/activity?from=${iso(H(0))}&to=${iso(H(24))}` })).json<{
        items: unknown[];
      }>();
      expect(hourly.items).toHaveLength(3);
    });
  });
}
