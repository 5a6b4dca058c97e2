// bench:storage — a scaled position history through our writer path vs a bare COPY of the same
// rows into the same server in the same run, full-day trail query p50/p99 (with the read path of
// before as the same-run baseline), the hourly rollup, on-disk bytes per fix with and without
// compression, and the governance KPIs for a district month and the screen tiles.
// Prints markdown tables for BENCHMARKS.md.
// Usage: npm run bench:storage -- [--workers 100] [--days 1] [--engine pg|embedded|both] [--embedded-workers 10]
//        [--queries 200] [--incidents-per-day 1300] [--kpi-queries 30]
import os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { silentLogger } from '../common/logger.js';
import { openDatabase, type Database } from '../storage/database.js';
import { writeRows } from '../hub/store/row-writer.js';
import { emptyRows, type PositionRow } from '../hub/ingest/ingest-types.js';
import { readFixes, trailGeoJson } from '../hub/analytics/trail-query.js';
import type { TimedPoint } from '../hub/analytics/geo-distance.js';
import { kpiReport, type KpiDimension } from '../hub/analytics/kpi-query.js';
import { readTiles } from '../hub/analytics/kpi-tiles.js';
import { rollupIncidents } from '../hub/analytics/incident-rollup.js';
import { seedGovernance } from './kpi-bench-data.js';
import { rollupActivity } from '../hub/analytics/activity-query.js';
import { DEFAULT_STOP_RULE } from '../hub/analytics/trail-stops.js';
import { compressOlderThan, positionsBytes } from '../hub/analytics/storage-policies.js';
import { shanghaiDayStart } from '../hub/analytics/coverage-cells.js';
import { startPostgres } from '../tests/harness/postgres-server.js';
import { createRng } from '../simulators/rng.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '100' },
    days: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'both' },
    'embedded-workers': { type: 'string', default: '10' },
    batch: { type: 'string', default: '2000' },
    queries: { type: 'string', default: '200' },
    'incidents-per-day': { type: 'string', default: '1300' },
    'kpi-queries': { type: 'string', default: '30' },
  },
});
const FIX_MS = 10_000;
const PER_DAY = 86_400_000 / FIX_MS;
const BATCH = Number(args.batch);
const DAY0 = shanghaiDayStart('2026-10-01');
const TARGET_ROWS = 3400 * 30 * PER_DAY;

/** The project's one seeded PRNG (simulators/rng.ts), as a bare function. */
function rng(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

/** Every worker walks (≈1.4 m/s random walk) in its own grid; rows in arrival order, time-major. */
function history(workers: number, days: number): PositionRow[] {
  const rand = rng(42);
  const pos = Array.from({ length: workers }, (_, w) => ({ lat: 27.8 + (w % 60) * 0.003, lon: 113.0 + Math.floor(w / 60) * 0.003 }));
  const rows: PositionRow[] = [];
  for (let s = 0; s < days * PER_DAY; s++) {
    const ts = DAY0 + s * FIX_MS;
    for (let w = 0; w < workers; w++) {
      const p = pos[w];
      p.lat += (rand() - 0.5) * 0.00025;
      p.lon += (rand() - 0.5) * 0.00025;
      const id = String(w).padStart(5, '0');
      rows.push({ deviceId: `hs-${id}`, workerId: `w-${id}`, ts, lat: p.lat, lon: p.lon, acc: 5, alt: null, speed: 1.4, heading: null, battery: 80, seq: s });
    }
  }
  return rows;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

function pct(xs: number[], p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const tsv = (v: number | string | null) => (v === null ? '\\N' : String(v));

/** The baseline: one COPY … FROM STDIN of all rows, text format. */
async function bareCopy(db: Database, rows: PositionRow[]): Promise<void> {
  const client = await db.pool.connect();
  try {
    const stream = client.query(copyFrom('COPY positions (device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq) FROM STDIN'));
    async function* lines() {
      for (let i = 0; i < rows.length; i += BATCH) {
        yield rows
          .slice(i, i + BATCH)
          .map((r) => [r.deviceId, new Date(r.ts).toISOString(), r.workerId, r.lat, r.lon, r.acc, r.alt, r.speed, r.heading, r.battery, r.seq].map(tsv).join('\t') + '\n')
          .join('');
      }
    }
    await pipeline(Readable.from(lines()), stream);
  } finally {
    client.release();
  }
}

/** The hub's path: batches of BATCH_MAX_ROWS, one transaction each, INSERT … unnest … ON CONFLICT. */
async function writerPath(db: Database, rows: PositionRow[]): Promise<void> {
  const client = await db.pool.connect();
  try {
    for (let i = 0; i < rows.length; i += BATCH) {
      await client.query('BEGIN');
      await writeRows(client, { ...emptyRows(), positions: rows.slice(i, i + BATCH) });
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/** The read path before issue 5's trail work: one DataRow per fix (the same-run baseline). */
async function readFixesRowPerFix(db: Database, workerId: string, from: number, to: number): Promise<TimedPoint[]> {
  const r = await db.pool.query<[number, number, number]>({
    text: `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, lat, lon FROM positions
            WHERE worker_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
            ORDER BY ts, device_id`,
    values: [workerId, from, to],
    rowMode: 'array',
  });
  return r.rows.map(([t, lat, lon]) => ({ ts: Math.round(t), lat, lon }));
}

interface TrailTimes {
  trail: number[];
  packed: number[];
  rowPerFix: number[];
}

/** Interleaved per sample (same worker and day for each variant), so load swings hit all alike. */
async function sampleTrails(db: Database, workers: number, days: number, n: number, seed: number, full = true): Promise<TrailTimes> {
  const rand = rng(seed);
  const out: TrailTimes = { trail: [], packed: [], rowPerFix: [] };
  for (let q = 0; q < n; q++) {
    const workerId = `w-${String(Math.floor(rand() * workers)).padStart(5, '0')}`;
    const from = DAY0 + Math.floor(rand() * days) * 86_400_000;
    const to = from + 86_400_000;
    out.rowPerFix.push((await timed(() => readFixesRowPerFix(db, workerId, from, to))).ms);
    out.packed.push((await timed(() => readFixes(db.pool, workerId, from, to))).ms);
    if (full) out.trail.push((await timed(() => trailGeoJson(db.pool, { workerId, from, to, maxPoints: 2000, stop: DEFAULT_STOP_RULE }))).ms);
  }
  return out;
}

interface KpiTimes {
  incidents: number;
  seedMs: number;
  report: Record<string, number[]>;
  tiles: number[];
  rollupMs: number;
}

/** A district month of governance KPIs, one figure per breakdown, and the (uncached) tiles. */
async function benchKpis(db: Database, days: number): Promise<KpiTimes> {
  const perDay = Number(args['incidents-per-day']);
  const seed = await timed(() => seedGovernance(db.pool, DAY0, days, perDay));
  const n = Number(args['kpi-queries']);
  const report: Record<string, number[]> = {};
  const from = DAY0;
  const to = DAY0 + days * 86_400_000;
  const now = to - 4 * 3_600_000;
  for (let q = 0; q < n; q++) {
    for (const by of ['none', 'region', 'category', 'department', 'day'] as KpiDimension[]) {
      const t = await timed(() => kpiReport(db.pool, { scope: 'D', from, to, by, now, hotspotRes: 10, hotspotLimit: 10 }));
      (report[by] ??= []).push(t.ms);
    }
  }
  const tiles: number[] = [];
  for (let q = 0; q < n; q++) tiles.push((await timed(() => readTiles(db.pool, q % 2 === 0 ? 'D' : 'S3', now))).ms);
  const rollup = await timed(() => rollupIncidents(db.pool, to));
  return { incidents: seed.value, seedMs: seed.ms, report, tiles, rollupMs: rollup.ms };
}

interface Result {
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
  bytesPerFix: number;
  compressedBytesPerFix: number | null;
  kpis: KpiTimes;
}

async function run(engine: string, db: Database, workers: number, days: number): Promise<Result> {
  const rows = history(workers, days);
  console.error(`${engine}: ${rows.length.toLocaleString()} rows (${workers} workers × ${days} day(s) × ${PER_DAY} fixes)`);
  let copyRps: number | null = null;
  // pglite-socket 0.0.22 drops the connection on COPY … FROM STDIN (and the pg client with it),
  // so the embedded engine has no COPY baseline.
  if (db.engine === 'server') try {
    const copy = await timed(() => bareCopy(db, rows));
    copyRps = rows.length / (copy.ms / 1000);
    await db.pool.query('TRUNCATE positions');
  } catch (err) {
    console.error(`${engine}: COPY FROM STDIN not available (${(err as Error).message})`);
    await db.pool.query('TRUNCATE positions').catch(() => undefined);
  }
  const write = await timed(() => writerPath(db, rows));
  // What autovacuum does to an insert-only table (autovacuum_vacuum_insert_threshold, PG 13+):
  // statistics, and the visibility map that lets the trail read be index-only.
  await db.pool.query('VACUUM ANALYZE positions');
  const bytes = await positionsBytes(db.pool, db.timescale);
  const rollup = await timed(() => rollupActivity(db.pool, DAY0, DAY0 + 86_400_000));
  const n = Number(args.queries);
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
    compressed = (await positionsBytes(db.pool, true)) / rows.length;
    compressedTrail = await sampleTrails(db, workers, days, Math.min(n, 50), 9);
  }
  const kpis = await benchKpis(db, 30);
  return {
    engine,
    workers,
    days,
    rows: rows.length,
    writerRps: rows.length / (write.ms / 1000),
    copyRps,
    trail,
    oldIndex,
    compressedTrail,
    rollupMs: rollup.ms,
    bytesPerFix: bytes / rows.length,
    compressedBytesPerFix: compressed,
    kpis,
  };
}

const f0 = (x: number | null) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const f1 = (x: number) => x.toFixed(1);

const results: Result[] = [];
const workers = Number(args.workers);
const days = Number(args.days);
if (args.engine !== 'embedded') {
  const server = await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '2GB' } });
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  try {
    results.push(await run(`PostgreSQL ${(await db.pool.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version} (plain)`, db, workers, days));
  } finally {
    await db.close();
    await server.stop();
  }
}
if (args.engine !== 'pg') {
  const db = await openDatabase({ DATA_DIR: '' }, silentLogger, { inMemory: true });
  try {
    results.push(await run('embedded PGlite + TimescaleDB (WASM)', db, Number(args['embedded-workers']), 1));
  } finally {
    await db.close();
  }
}

const cpu = os.cpus();
const p50 = (xs: number[]) => pct(xs, 50);
const pp = (xs: number[] | undefined) => (xs && xs.length > 0 ? `${f1(pct(xs, 50))} / ${f1(pct(xs, 99))}` : 'n/a');
console.log(`\n### bench:storage — ${new Date().toISOString().slice(0, 10)}\n`);
console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()}/${os.arch()}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} at the end.`);
console.log(`Command: \`npm run bench:storage -- --workers ${workers} --days ${days} --engine ${args.engine} --embedded-workers ${args['embedded-workers']} --queries ${args.queries}\`; one fix per 10 s per worker, writer batches of ${BATCH} rows.\n`);
console.log('| engine | rows | writer rows/s | bare COPY rows/s | ratio | full-day trail p50 / p99 (ms) | rollup 1 day (ms) | bytes/fix | bytes/fix compressed |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const ratio = r.copyRps ? (r.writerRps / r.copyRps).toFixed(2) : 'n/a';
  console.log(
    `| ${r.engine} | ${f0(r.rows)} (${r.workers} × ${r.days} d) | ${f0(r.writerRps)} | ${f0(r.copyRps)} | ${ratio} | ${pp(r.trail.trail)} | ${f0(r.rollupMs)} | ${f0(r.bytesPerFix)} | ${r.compressedBytesPerFix === null ? 'n/a (no extension)' : f0(r.compressedBytesPerFix)} |`,
  );
}
console.log('\nTrail read path, same samples (p50 / p99 ms; ratio = baseline p50 / new p50):\n');
console.log('| engine | variant | one DataRow per fix (baseline) | packed float8 row (new) | ratio | full trail API |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of results) {
  const line = (variant: string, t: TrailTimes) =>
    console.log(`| ${r.engine} | ${variant} | ${pp(t.rowPerFix)} | ${pp(t.packed)} | ${(p50(t.rowPerFix) / p50(t.packed)).toFixed(1)}× | ${pp(t.trail)} |`);
  line('covering index (worker_id, ts) INCLUDE (device_id, lat, lon)', r.trail);
  if (r.oldIndex) line('old index (worker_id, ts DESC)', r.oldIndex);
  if (r.compressedTrail) line('all chunks compressed', r.compressedTrail);
}
console.log('\nGovernance KPIs, district scope (1 district, 10 streets, 100 communities, 3,300 grids, 3,400 workers), one month (p50 / p99 ms):\n');
console.log('| engine | incidents | total | by region | by category | by department | by day | tiles (uncached) | grid-day rollup, full |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const k = r.kpis;
  console.log(`| ${r.engine} | ${f0(k.incidents)} | ${pp(k.report.none)} | ${pp(k.report.region)} | ${pp(k.report.category)} | ${pp(k.report.department)} | ${pp(k.report.day)} | ${pp(k.tiles)} | ${f0(k.rollupMs)} |`);
}
console.log(`\nExtrapolation to 3,400 workers × 30 days (${f0(TARGET_ROWS)} fixes; live rate 340 fixes/s):`);
for (const r of results) {
  const hours = TARGET_ROWS / r.writerRps / 3600;
  const gb = (x: number) => ((x * TARGET_ROWS) / 1e9).toFixed(0);
  const compressed = r.compressedBytesPerFix === null ? '' : `, ${gb(r.compressedBytesPerFix)} GB compressed`;
  console.log(`- ${r.engine}: bulk reload ≈ ${hours.toFixed(1)} h at the writer rate (live needs 340 rows/s, headroom ×${f0(r.writerRps / 340)}); ${gb(r.bytesPerFix)} GB raw${compressed}; rollup of a district day ≈ ${f0((r.rollupMs * 3400) / r.workers / 1000)} s (linear in workers).`);
}
