// bench:storage — a scaled position history through our writer path vs a bare COPY of the same
// rows into the same server in the same run, full-day trail query p50/p99, the hourly rollup, and
// on-disk bytes per fix with and without compression. Prints a markdown table for BENCHMARKS.md.
// Usage: npm run bench:storage -- [--workers 100] [--days 1] [--engine pg|embedded|both] [--embedded-workers 10]
import os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { silentLogger } from '../common/logger.js';
import { openDatabase, type Database } from '../storage/database.js';
import { writeRows } from '../hub/store/row-writer.js';
import { emptyRows, type PositionRow } from '../hub/ingest/ingest-types.js';
import { trailGeoJson } from '../hub/analytics/trail-query.js';
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

interface Result {
  engine: string;
  workers: number;
  days: number;
  rows: number;
  writerRps: number;
  copyRps: number | null;
  trailP50: number;
  trailP99: number;
  rollupMs: number;
  bytesPerFix: number;
  compressedBytesPerFix: number | null;
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
  await db.pool.query('ANALYZE positions');
  const bytes = await positionsBytes(db.pool, db.timescale);
  const rollup = await timed(() => rollupActivity(db.pool, DAY0, DAY0 + 86_400_000));
  const rand = rng(7);
  const samples: number[] = [];
  const n = Number(args.queries);
  for (let q = 0; q < n; q++) {
    const w = String(Math.floor(rand() * workers)).padStart(5, '0');
    const d = Math.floor(rand() * days);
    const from = DAY0 + d * 86_400_000;
    const t = await timed(() => trailGeoJson(db.pool, { workerId: `w-${w}`, from, to: from + 86_400_000, maxPoints: 2000, stop: DEFAULT_STOP_RULE }));
    samples.push(t.ms);
  }
  let compressed: number | null = null;
  if (db.timescale) {
    await compressOlderThan(db.pool, DAY0 + (days + 1) * 86_400_000);
    compressed = (await positionsBytes(db.pool, true)) / rows.length;
  }
  return {
    engine,
    workers,
    days,
    rows: rows.length,
    writerRps: rows.length / (write.ms / 1000),
    copyRps,
    trailP50: pct(samples, 50),
    trailP99: pct(samples, 99),
    rollupMs: rollup.ms,
    bytesPerFix: bytes / rows.length,
    compressedBytesPerFix: compressed,
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
console.log(`\n### bench:storage — ${new Date().toISOString().slice(0, 10)}\n`);
console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()}/${os.arch()}.`);
console.log(`Command: \`npm run bench:storage -- --workers ${workers} --days ${days} --engine ${args.engine}\`; one fix per 10 s per worker, writer batches of ${BATCH} rows.\n`);
console.log('| engine | rows | writer rows/s | bare COPY rows/s | ratio | full-day trail p50 / p99 (ms) | rollup 1 day (ms) | bytes/fix | bytes/fix compressed |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const ratio = r.copyRps ? (r.writerRps / r.copyRps).toFixed(2) : 'n/a';
  console.log(
    `| ${r.engine} | ${f0(r.rows)} (${r.workers} × ${r.days} d) | ${f0(r.writerRps)} | ${f0(r.copyRps)} | ${ratio} | ${f1(r.trailP50)} / ${f1(r.trailP99)} | ${f0(r.rollupMs)} | ${f0(r.bytesPerFix)} | ${r.compressedBytesPerFix === null ? 'n/a (no extension)' : f0(r.compressedBytesPerFix)} |`,
  );
}
console.log(`\nExtrapolation to 3,400 workers × 30 days (${f0(TARGET_ROWS)} fixes; live rate 340 fixes/s):`);
for (const r of results) {
  const hours = TARGET_ROWS / r.writerRps / 3600;
  const gb = (x: number) => ((x * TARGET_ROWS) / 1e9).toFixed(0);
  const compressed = r.compressedBytesPerFix === null ? '' : `, ${gb(r.compressedBytesPerFix)} GB compressed`;
  console.log(`- ${r.engine}: bulk reload ≈ ${hours.toFixed(1)} h at the writer rate (live needs 340 rows/s, headroom ×${f0(r.writerRps / 340)}); ${gb(r.bytesPerFix)} GB raw${compressed}; rollup of a district day ≈ ${f0((r.rollupMs * 3400) / r.workers / 1000)} s (linear in workers).`);
}
