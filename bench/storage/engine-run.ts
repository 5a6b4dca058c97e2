// One engine's whole bench:storage run in the order the measurements depend on each other: load the
// history (bare COPY, then the hub's writer), bytes, the hourly rollup, packing the trail hours, the
// trail reads (with the old index on plain PostgreSQL, compressed on TimescaleDB), then the KPIs.
import type { Database } from '../../storage/database.js';
import { rollupActivity } from '../../hub/analytics/activity-query.js';
import { compressOlderThan, positionsBytes } from '../../hub/upkeep/storage-policies.js';
import { vacuumByHand } from '../../hub/upkeep/vacuum-by-hand.js';
import { type StorageBenchOptions, variantBatch, writerBatch } from './storage-options.js';
import { DAY0, PER_DAY, history, timed } from './storage-history.js';
import { bareCopy, writerPath } from './write-paths.js';
import { type TrailTimes, sampleTrails } from './trail-read.js';
import { type PackTimes, packAll } from './trail-packing.js';
import { type KpiTimes, benchKpis } from './kpi-timing.js';

export interface Result {
  engine: string;
  workers: number;
  days: number;
  rows: number;
  writerRps: number;
  copyRps: number | null;
  trail: TrailTimes;
  /** PostgreSQL only: the same reads with the pre-011 index (worker_id, ts DESC), no INCLUDE. */
  oldIndex: TrailTimes | null;
  /** TimescaleDB only: full-day trails once every chunk is compressed. */
  compressedTrail: TrailTimes | null;
  rollupMs: number;
  pack: PackTimes;
  /** trail_hours' bytes (with TOAST and index) per fix. */
  packedBytesPerFix: number;
  bytesPerFix: number;
  compressedBytesPerFix: number | null;
  kpis: KpiTimes | null;
}

/**
 * Writes the history through the hub's writer, after a bare COPY of the same rows (then truncated)
 * on a server. The rows go out of scope on return: the hub never holds a day of fixes, and 864,000
 * live objects in this process made every major GC during the trail samples slower.
 */
async function loadHistory(
  engine: string,
  db: Database,
  workers: number,
  days: number,
  o: StorageBenchOptions,
): Promise<{ copyRps: number | null; writeMs: number; fixes: number }> {
  const rows = history(workers, days);
  console.error(`${engine}: ${rows.length.toLocaleString()} rows (${workers} workers × ${days} day(s) × ${PER_DAY} fixes)`);
  let copyRps: number | null = null;
  // pglite-socket 0.0.22 drops the connection on COPY … FROM STDIN (and the pg client with it),
  // so the embedded engine has no COPY baseline.
  if (db.engine === 'server')
    try {
      const copy = await timed(() => bareCopy(db, rows, variantBatch(o)));
      copyRps = rows.length / (copy.ms / 1000);
      await db.pool.query('TRUNCATE positions');
    } catch (err) {
      console.error(`${engine}: COPY FROM STDIN not available (${(err as Error).message})`);
      await db.pool.query('TRUNCATE positions').catch(() => undefined);
    }
  const write = await timed(() => writerPath(db, rows, writerBatch(o, db)));
  return { copyRps, writeMs: write.ms, fixes: rows.length };
}

export async function runEngine(engine: string, db: Database, workers: number, days: number, o: StorageBenchOptions): Promise<Result> {
  if (o.kpiOnly) {
    const none = { trail: [], packed: [], raw: [], rowPerFix: [] };
    return {
      engine,
      workers: 0,
      days: 0,
      rows: 0,
      writerRps: 0,
      copyRps: null,
      trail: none,
      oldIndex: null,
      compressedTrail: null,
      rollupMs: 0,
      pack: { pairs: 0, stepMs: [] },
      packedBytesPerFix: 0,
      bytesPerFix: 0,
      compressedBytesPerFix: null,
      kpis: await benchKpis(db, 30, o),
    };
  }
  const { copyRps, writeMs, fixes } = await loadHistory(engine, db, workers, days, o);
  // What autovacuum does to an insert-only table (autovacuum_vacuum_insert_threshold, PG 13+):
  // statistics, and the visibility map that lets the trail read be index-only.
  await db.pool.query('VACUUM ANALYZE positions');
  const bytes = await positionsBytes(db.pool, db.timescale);
  const rollup = await timed(() => rollupActivity(db.pool, DAY0, DAY0 + 86_400_000));
  if (days > 1) await rollupActivity(db.pool, DAY0 + 86_400_000, DAY0 + days * 86_400_000);
  const pack = await packAll(db, days);
  await db.pool.query('VACUUM ANALYZE trail_hours');
  const packedBytes = (await db.pool.query<{ b: number }>(`SELECT pg_total_relation_size('trail_hours')::float8 AS b`)).rows[0].b;
  const n = o.queries;
  // As in a district, each trail's worker answers for a grid (a 24-gon around the walks), so the API
  // tests every fix against it; taken away again before the KPIs seed their own tree and roster.
  const ring = Array.from({ length: 25 }, (_, k) => {
    const a = ((k % 24) / 24) * 2 * Math.PI;
    return [113.0 + 0.2 * Math.cos(a), 27.89 + 0.2 * Math.sin(a)];
  });
  await db.pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('TRAILS', NULL, 'grid', '轨迹网格', $1)`, [
    JSON.stringify({ type: 'Polygon', coordinates: [ring] }),
  ]);
  await db.pool.query(
    `INSERT INTO workers (id, name, role, grid_codes) SELECT 'w-' || lpad(w::text, 5, '0'), 'w' || w, 'grid_worker', ARRAY['TRAILS'] FROM generate_series(0, $1 - 1) w`,
    [workers],
  );
  const trail = await sampleTrails(db, workers, days, n, 7);
  let oldIndex: TrailTimes | null = null;
  if (!db.timescale) {
    await db.pool.query('CREATE INDEX bench_old_worker_ts_idx ON positions (worker_id, ts DESC)');
    await db.pool.query('DROP INDEX positions_worker_ts_cover_idx');
    await db.pool.query('ANALYZE positions');
    oldIndex = await sampleTrails(db, workers, days, Math.min(n, 50), 8, false);
    await db.pool.query('CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts) INCLUDE (device_id, lat, lon)');
    await db.pool.query('DROP INDEX bench_old_worker_ts_idx');
    await db.pool.query('VACUUM ANALYZE positions');
  }
  let compressed: number | null = null;
  let compressedTrail: TrailTimes | null = null;
  if (db.timescale) {
    await compressOlderThan(db.pool, DAY0 + (days + 1) * 86_400_000);
    // Packed hours are kept for the compression age (the hub's default): older trails, the ones
    // in compressed chunks, are read from positions.
    await db.pool.query('TRUNCATE trail_hours');
    // What the hub's next maintenance pass does on this engine (no autovacuum in PGlite): the new
    // compressed chunks get statistics, as they would in a running hub.
    await vacuumByHand(db.pool, Infinity);
    compressed = (await positionsBytes(db.pool, true)) / fixes;
    compressedTrail = await sampleTrails(db, workers, days, Math.min(n, 50), 9);
  }
  await db.pool.query(`DELETE FROM workers WHERE grid_codes = ARRAY['TRAILS']`);
  await db.pool.query(`DELETE FROM regions WHERE code = 'TRAILS'`);
  const kpis = o.noKpis ? null : await benchKpis(db, 30, o);
  return {
    engine,
    workers,
    days,
    rows: fixes,
    writerRps: fixes / (writeMs / 1000),
    copyRps,
    trail,
    oldIndex,
    compressedTrail,
    rollupMs: rollup.ms,
    pack,
    packedBytesPerFix: packedBytes / fixes,
    bytesPerFix: bytes / fixes,
    compressedBytesPerFix: compressed,
    kpis,
  };
}
