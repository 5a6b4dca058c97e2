// bench:storage — a scaled position history through our writer path vs a bare COPY of the same
// rows into the same server in the same run, full-day trail query p50/p99 (with the read path of
// before as the same-run baseline), the hourly rollup, on-disk bytes per fix with and without
// compression, and the governance KPIs for a district month and the screen tiles.
// Prints markdown tables for BENCHMARKS.md.
// Usage: npm run bench:storage -- --help
import os from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { silentLogger } from '../common/logger.js';
import { openDatabase, type Database } from '../storage/database.js';
import { commitRows, defaultBatchRows } from '../hub/rows/commit-rows.js';
import { emptyRows, type PositionRow } from '../hub/rows/row-types.js';
import { readRawTrack, readTrack, trailGeoJson } from '../hub/analytics/trail-query.js';
import { PACK_PAIRS_PER_STEP, PACK_SETTLE_MS } from '../hub/upkeep/trail-pack.js';
import type { TimedPoint } from '../hub/analytics/geo-distance.js';
import { kpiReport, type KpiDimension } from '../hub/analytics/kpi-query.js';
import { readTiles } from '../hub/analytics/kpi-tiles.js';
import { rollupIncidents } from '../hub/analytics/incident-rollup.js';
import { REBUILD_DAYS_PER_STEP, rollupKpiRegions } from '../hub/analytics/kpi-fast.js';
import { seedGovernance } from './kpi-bench-data.js';
import { rollupActivity } from '../hub/analytics/activity-query.js';
import { DEFAULT_STOP_RULE } from '../hub/analytics/trail-stops.js';
import { compressOlderThan, positionsBytes } from '../hub/upkeep/storage-policies.js';
import { vacuumByHand } from '../hub/upkeep/vacuum-by-hand.js';
import { shanghaiDayStart } from '../hub/analytics/coverage-cells.js';
import { scratchDatabase, startPostgres } from '../testkit/postgres-server.js';
import { createRng } from '../simulators/rng.js';

const USAGE = `Usage: npm run bench:storage -- [options]

A scaled position history through the hub's writer against a bare COPY, trail query p50/p99, the
hourly rollup, bytes per fix with and without compression, and the governance KPIs; prints
markdown tables for BENCHMARKS.md.

  --engine pg|embedded|both   which engines (default both; pg = a PostgreSQL server)
  --database-url URL          the server for --engine pg/both: one you already run (TimescaleDB or
                              plain), in a scratch database created for the run and dropped after
                              (the role needs CREATEDB). Default: a plain PostgreSQL started here
  --workers N                 workers on the server (default 100), one fix per 10 s each
  --days N                    days of history on the server (default 1)
  --embedded-workers N        workers on the embedded engine (default 100, one day)
  --batch N                   writer batch rows (default: the hub's, 5000 server / 2000 embedded)
  --queries N                 trail samples (default 200)
  --incidents-per-day N       governance incidents per day for the KPIs (default 1300)
  --kpi-queries N             samples per KPI report (default 30)
  --kpi-only                  only the governance KPIs
  --no-kpis                   everything but the governance KPIs
  --write-variants            only the write-path experiment (a server started here), --rounds times
  --rounds N                  rounds of --write-variants (default 3)
  --only TEXT                 with --write-variants: the variants whose name contains TEXT
  --covering-only             with --write-variants: only the covering index
  -h, --help                  this text`;

const parsed = (() => {
  try {
    return parseArgs({ options: {
    workers: { type: 'string', default: '100' },
    days: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'both' },
    'embedded-workers': { type: 'string', default: '100' },
    batch: { type: 'string' },
    queries: { type: 'string', default: '200' },
    'incidents-per-day': { type: 'string', default: '1300' },
    'kpi-queries': { type: 'string', default: '30' },
    /** Only the write-path experiment (PostgreSQL): writer variants against bare COPY, --rounds times. */
    'write-variants': { type: 'boolean', default: false },
    /** Only the governance KPIs (both engines unless --engine): fast path against raw path. */
    'kpi-only': { type: 'boolean', default: false },
    /** Everything but the governance KPIs (the positions: writes, trails, bytes). */
    'no-kpis': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    /** With --write-variants: only the variants whose name contains this text (and the bare COPY). */
    only: { type: 'string' },
    /** With --write-variants: only the covering index of migration 011 (not also the narrow one). */
    'covering-only': { type: 'boolean', default: false },
    /** A server someone already runs; a scratch database on it. */
    'database-url': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  } });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
const args = parsed.values;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args['database-url'] && args['write-variants']) {
  // It reads the server's CPU time from /proc, which only a server on this machine has.
  console.error('--write-variants runs on a PostgreSQL server it starts here; leave out --database-url');
  process.exit(2);
}
const FIX_MS = 10_000;
const PER_DAY = 86_400_000 / FIX_MS;
// The variants' batch size; the hub's path uses the hub's default per engine unless --batch is given.
const BATCH = Number(args.batch || defaultBatchRows(true));
const writerBatch = (db: Database) => (args.batch ? BATCH : defaultBatchRows(db.engine === 'server'));
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

/**
 * The hub's path (hub/rows/commit-rows.ts), batches of BATCH_MAX_ROWS: positions by COPY on a
 * server, falling back to INSERT … ON CONFLICT for a batch that repeats a fix; unnest INSERT on the
 * embedded engine. Returns how many batches fell back.
 */
async function writerPath(db: Database, rows: PositionRow[], opts: { live?: boolean } = {}): Promise<number> {
  let fallbacks = 0;
  const batch = writerBatch(db);
  // History is late by definition: every batch marks its (worker, hour)s' packed trails stale, as a
  // store-and-forward upload would. `live` writes it as if its hours were current (no marking).
  const now = opts.live ? DAY0 : Date.now();
  for (let i = 0; i < rows.length; i += batch) {
    const out = await commitRows(db.pool, { ...emptyRows(), positions: rows.slice(i, i + batch) }, { copy: db.engine === 'server', now });
    if (out.copyFellBack) fallbacks++;
  }
  return fallbacks;
}

const COLS = 'device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq';
const copyText = (rows: PositionRow[]) =>
  rows.map((r) => [r.deviceId, new Date(r.ts).toISOString(), r.workerId, r.lat, r.lon, r.acc, r.alt, r.speed, r.heading, r.battery, r.seq].map(tsv).join('\t') + '\n').join('');

/**
 * Other writers, for comparison with the hub's, each a transaction
 * per batch like the hub's. `conflict`: ON CONFLICT DO NOTHING (the hub's idempotency).
 */
async function unnestPath(db: Database, rows: PositionRow[], batch: number, conflict: boolean): Promise<void> {
  const client = await db.pool.connect();
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const p = rows.slice(i, i + batch);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO positions (${COLS})
         SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq
           FROM unnest($1::text[], $2::float8[], $3::text[], $4::float8[], $5::float8[], $6::real[], $7::real[],
                       $8::real[], $9::real[], $10::real[], $11::bigint[]) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq)
         ${conflict ? 'ON CONFLICT DO NOTHING' : ''}`,
        [p.map((r) => r.deviceId), p.map((r) => r.ts), p.map((r) => r.workerId), p.map((r) => r.lat), p.map((r) => r.lon), p.map((r) => r.acc),
         p.map((r) => r.alt), p.map((r) => r.speed), p.map((r) => r.heading), p.map((r) => r.battery), p.map((r) => r.seq)],
      );
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/**
 * The hub's statement with each column sent as one joined text parameter (unit separator, '' for
 * NULL) split by string_to_array in the server, instead of node-pg's per-element array literals.
 */
async function joinedTextPath(db: Database, rows: PositionRow[], batch: number): Promise<void> {
  const client = await db.pool.connect();
  const SEP = '\x1f';
  const col = (p: PositionRow[], f: (r: PositionRow) => string | number | null) => p.map((r) => f(r) ?? '').join(SEP);
  const arr = (n: number, type: string) => `string_to_array($${n}, E'\\x1f', '')::${type}[]`;
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const p = rows.slice(i, i + batch);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO positions (${COLS})
         SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq
           FROM unnest(${arr(1, 'text')}, ${arr(2, 'float8')}, ${arr(3, 'text')}, ${arr(4, 'float8')}, ${arr(5, 'float8')}, ${arr(6, 'real')},
                       ${arr(7, 'real')}, ${arr(8, 'real')}, ${arr(9, 'real')}, ${arr(10, 'real')}, ${arr(11, 'bigint')}) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq)
         ON CONFLICT DO NOTHING`,
        [col(p, (r) => r.deviceId), col(p, (r) => r.ts), col(p, (r) => r.workerId), col(p, (r) => r.lat), col(p, (r) => r.lon), col(p, (r) => r.acc),
         col(p, (r) => r.alt), col(p, (r) => r.speed), col(p, (r) => r.heading), col(p, (r) => r.battery), col(p, (r) => r.seq)],
      );
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/** COPY per batch: straight into positions (not idempotent), or into a temp table then INSERT … ON CONFLICT DO NOTHING. */
async function copyPath(db: Database, rows: PositionRow[], batch: number, staged: boolean): Promise<void> {
  const client = await db.pool.connect();
  try {
    if (staged) await client.query(`CREATE TEMP TABLE IF NOT EXISTS positions_stage (LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    for (let i = 0; i < rows.length; i += batch) {
      await client.query('BEGIN');
      const stream = client.query(copyFrom(`COPY ${staged ? 'positions_stage' : 'positions'} (${COLS}) FROM STDIN`));
      await pipeline(Readable.from([copyText(rows.slice(i, i + batch))]), stream);
      if (staged) await client.query(`INSERT INTO positions SELECT * FROM positions_stage ON CONFLICT DO NOTHING`);
      await client.query('COMMIT');
    }
    if (staged) await client.query('DROP TABLE positions_stage');
  } finally {
    client.release();
  }
}

/** utime + stime (+ reaped children for the postmaster) of a process, in ms, from /proc (Linux). */
function procCpuMs(pid: number, withChildren: boolean): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5).
    const t = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return (t * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** CPU of the whole server (postmaster, its live children, and the children it reaped), in ms. */
function serverCpuMs(postmaster: number): number {
  let sum = procCpuMs(postmaster, true);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) sum += procCpuMs(Number(d), false);
    } catch {
      // gone
    }
  }
  return sum;
}

/**
 * The writer/COPY ratio decomposed (PostgreSQL): every variant loads the same rows into an empty
 * positions table, interleaved with a bare COPY in every round, with the covering index of 011 and
 * with the narrower index it replaced. Prints rows/s medians and ratio medians (per round).
 */
async function writeVariants(db: Database, rows: PositionRow[], rounds: number): Promise<void> {
  const variants: [string, (rs: PositionRow[]) => Promise<void>][] = [
    ['bare COPY, one statement (baseline)', (rs) => bareCopy(db, rs)],
    [`hub writer: COPY per batch, INSERT ON CONFLICT on a duplicate, ${BATCH}/tx`, async (rs) => void (await writerPath(db, rs))],
    [`hub writer, fixes of the current hour (no stale trail hours to mark), ${BATCH}/tx`, async (rs) => void (await writerPath(db, rs, { live: true }))],
    [`unnest INSERT, ON CONFLICT, ${BATCH}/tx (the writer before)`, (rs) => unnestPath(db, rs, BATCH, true)],
    [`unnest, no ON CONFLICT, ${BATCH}/tx`, (rs) => unnestPath(db, rs, BATCH, false)],
    [`unnest of joined text params, ON CONFLICT, ${BATCH}/tx`, (rs) => joinedTextPath(db, rs, BATCH)],
    [`unnest, ON CONFLICT, 10000/tx`, (rs) => unnestPath(db, rs, 10_000, true)],
    [`COPY per batch, ${BATCH}/tx (not idempotent)`, (rs) => copyPath(db, rs, BATCH, false)],
    [`COPY to temp + INSERT ON CONFLICT, ${BATCH}/tx`, (rs) => copyPath(db, rs, BATCH, true)],
    [`COPY to temp + INSERT ON CONFLICT, 10000/tx`, (rs) => copyPath(db, rs, 10_000, true)],
  ];
  const indexes: [string, string][] = [
    ['covering (worker_id, ts) INCLUDE (device_id, lat, lon)', 'CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts) INCLUDE (device_id, lat, lon)'],
    ['narrow (worker_id, ts DESC)', 'CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts DESC)'],
  ];
  // The fallback works: the same rows again (every batch repeats) change nothing and fail nothing.
  await db.pool.query('TRUNCATE positions');
  await writerPath(db, rows.slice(0, 3 * BATCH));
  const again = await writerPath(db, rows.slice(BATCH, 5 * BATCH));
  const stored = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM positions')).rows[0].n;
  if (again !== 2 || stored !== Math.min(rows.length, 5 * BATCH)) throw new Error(`writer fallback: ${again} fallbacks, ${stored} rows`);
  const rps: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  const cpuRatios: Record<string, number[]> = {};
  const cpuPerRow: Record<string, number[]> = {};
  // Wall time on a shared 2-core box swings ±50 % with other jobs; CPU seconds spent (this client
  // plus every server process) do not, and on a dedicated machine throughput follows them.
  const pid = (await db.pool.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p;
  const postmaster = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ')[1]);
  const load = async (fn: (rs: PositionRow[]) => Promise<void>) => {
    await db.pool.query('TRUNCATE positions');
    await db.pool.query('CHECKPOINT');
    const c0 = process.cpuUsage();
    const s0 = serverCpuMs(postmaster);
    const ms = (await timed(() => fn(rows))).ms;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000 + serverCpuMs(postmaster) - s0;
    return { rps: rows.length / (ms / 1000), cpu };
  };
  // Every variant is measured next to its own bare COPY (order alternating, ABBA), so a load
  // swing from the other jobs on this machine hits the pair alike; the ratio is per pair.
  for (let round = 0; round < rounds; round++) {
    for (const [iname, ddl] of indexes) {
      await db.pool.query('DROP INDEX IF EXISTS positions_worker_ts_cover_idx');
      await db.pool.query(ddl);
      if (args['covering-only'] && iname !== indexes[0][0]) continue;
      for (const [vname, fn] of variants.slice(1)) {
        if (args.only && !vname.includes(args.only)) continue;
        const copyFirst = round % 2 === 0;
        const a = await load(copyFirst ? variants[0][1] : fn);
        const b = await load(copyFirst ? fn : variants[0][1]);
        const [base, v] = copyFirst ? [a, b] : [b, a];
        const key = `${iname} | ${vname}`;
        const bkey = `${iname} | ${variants[0][0]}`;
        (rps[key] ??= []).push(v.rps);
        (rps[bkey] ??= []).push(base.rps);
        (ratios[key] ??= []).push(v.rps / base.rps);
        (cpuRatios[key] ??= []).push(base.cpu / v.cpu);
        (cpuPerRow[key] ??= []).push((v.cpu * 1000) / rows.length);
        (cpuPerRow[bkey] ??= []).push((base.cpu * 1000) / rows.length);
        console.error(`round ${round} ${key}: ${f0(v.rps)} rows/s (COPY ${f0(base.rps)}), wall ratio ${(v.rps / base.rps).toFixed(2)}, CPU ${f0(v.cpu)} ms (COPY ${f0(base.cpu)}), CPU ratio ${(base.cpu / v.cpu).toFixed(2)}`);
      }
    }
  }
  await db.pool.query('TRUNCATE positions');
  await db.pool.query('DROP INDEX IF EXISTS positions_worker_ts_cover_idx');
  await db.pool.query(indexes[0][1]);
  console.log(`\nWrite path variants, ${f0(rows.length)} rows, ${rounds} rounds (median rows/s; median of per-round ratios to the bare COPY of the same round):\n`);
  console.log('| index on positions | variant | rows/s | wall ratio to its paired bare COPY (per round) | CPU µs/row (client + server) | CPU ratio: COPY CPU / variant CPU (per round) |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const key of Object.keys(rps)) {
    const q = ratios[key];
    const c = cpuRatios[key];
    const per = (xs: number[] | undefined) => (xs ? xs.map((x) => x.toFixed(2)).join(', ') : '');
    console.log(`| ${key} | ${f0(pct(rps[key], 50))} | ${q ? `**${pct(q, 50).toFixed(2)}** (${per(q)})` : 'baseline'} | ${pct(cpuPerRow[key], 50).toFixed(1)} | ${c ? `**${pct(c, 50).toFixed(2)}** (${per(c)})` : 'baseline'} |`);
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
  /** readTrack: the packed trail hours (migration 024) and raw positions for the rest. */
  packed: number[];
  /** readRawTrack: positions alone, packed into one row by the server (migration 021). */
  raw: number[];
  rowPerFix: number[];
}

/** Untimed calls of each variant first: the first calls run before V8 has optimised the code (40–77 ms). */
const WARMUP_CALLS = 3;

/**
 * The same (worker, day) samples for every variant, each variant in its own loop: the API first,
 * as a hub serves it (nothing else on the engine between two calls), then the hub's read alone,
 * then the baselines. Interleaved, one variant's garbage came due as collections inside the
 * next one's times: the baselines' (8,640 row objects per call, or one 414 KB hex string that V8
 * puts straight into its large-object space) swung the API's p99 35–65 ms and 50–190 ms before,
 * and even the hub's own read interleaved with the API put the API's p99 at 48–53 ms at 1,000
 * samples (BENCHMARKS.md, Storage, session 6).
 */
async function sampleTrails(db: Database, workers: number, days: number, n: number, seed: number, full = true): Promise<TrailTimes> {
  const rand = rng(seed);
  const samples = Array.from({ length: n }, () => {
    const workerId = `w-${String(Math.floor(rand() * workers)).padStart(5, '0')}`;
    const from = DAY0 + Math.floor(rand() * days) * 86_400_000;
    return { workerId, from, to: from + 86_400_000 };
  });
  const out: TrailTimes = { trail: [], packed: [], raw: [], rowPerFix: [] };
  const api = (s: (typeof samples)[number]) => trailGeoJson(db.pool, { ...s, maxPoints: 2000, stop: DEFAULT_STOP_RULE });
  for (const s of samples.slice(0, WARMUP_CALLS)) {
    await readTrack(db.pool, s.workerId, s.from, s.to);
    if (full) await api(s);
  }
  if (full) for (const s of samples) out.trail.push((await timed(() => api(s))).ms);
  for (const s of samples) out.packed.push((await timed(() => readTrack(db.pool, s.workerId, s.from, s.to))).ms);
  for (const s of samples) out.raw.push((await timed(() => readRawTrack(db.pool, s.workerId, s.from, s.to))).ms);
  for (const s of samples) out.rowPerFix.push((await timed(() => readFixesRowPerFix(db, s.workerId, s.from, s.to))).ms);
  return out;
}

interface KpiTimes {
  incidents: number;
  seedMs: number;
  /** The fast path (rollup days + raw tail, the default) and the raw path, per breakdown, interleaved. */
  report: Record<string, number[]>;
  raw: Record<string, number[]>;
  tiles: number[];
  rollupMs: number;
  regionRollupMs: number;
  regionRows: number;
  rebuild: { oneStatementMs: number; stepMs: number[] };
}

/**
 * What a change to the regions tree costs: the region rollup's full rebuild as one statement, and
 * in the hub's steps of REBUILD_DAYS_PER_STEP days (the longest step is what ingest waits behind on
 * the embedded engine's one connection). A no-op UPDATE of regions fires the invalidation.
 */
async function rebuildSteps(db: Database, now: number): Promise<{ oneStatementMs: number; stepMs: number[] }> {
  const step = (days: number) =>
    db.pool.query<{ more: boolean }>(`SELECT more FROM rollup_incident_region_daily(to_timestamp($1 / 1000.0), interval '15 minutes', $2)`, [now, days]);
  await db.pool.query(`UPDATE regions SET name = name WHERE code = 'D'`);
  const one = await timed(() => step(100_000));
  await db.pool.query(`UPDATE regions SET name = name WHERE code = 'D'`);
  const stepMs: number[] = [];
  for (let more = true; more; ) {
    const t = await timed(() => step(REBUILD_DAYS_PER_STEP));
    stepMs.push(t.ms);
    more = t.value.rows[0].more;
  }
  return { oneStatementMs: one.ms, stepMs };
}

/**
 * A district month of governance KPIs, one figure per breakdown, and the (uncached) tiles. The
 * month is "today" minus 30 days: the rollup passes ran 10 minutes ago, so the last day is read
 * raw (the unrolled tail) and the 29 before it from incident_region_daily.
 */
async function benchKpis(db: Database, days: number): Promise<KpiTimes> {
  const perDay = Number(args['incidents-per-day']);
  const seed = await timed(() => seedGovernance(db.pool, DAY0, days, perDay));
  const n = Number(args['kpi-queries']);
  const report: Record<string, number[]> = {};
  const raw: Record<string, number[]> = {};
  const from = DAY0;
  const to = DAY0 + days * 86_400_000;
  const now = to - 4 * 3_600_000;
  const rollup = await timed(() => rollupIncidents(db.pool, now - 600_000));
  const region = await timed(() => rollupKpiRegions(db.pool, now - 600_000));
  const rebuild = await rebuildSteps(db, now - 600_000);
  await db.pool.query('ANALYZE incident_region_daily');
  for (let q = 0; q < n; q++) {
    for (const by of ['none', 'region', 'category', 'department', 'day'] as KpiDimension[]) {
      // rollupAll: time the rollup for region too (kpiReport keeps region on the raw path, see FAST_DIMENSIONS).
      const req = { scope: 'D', from, to, by, now, hotspotRes: 10, hotspotLimit: 10, rollupAll: true };
      const fast = () => timed(() => kpiReport(db.pool, req));
      const slow = () => timed(() => kpiReport(db.pool, { ...req, rawOnly: true }));
      // Alternate which goes first, so neither always follows the other's cache effects.
      const [a, b] = q % 2 === 0 ? [await fast(), await slow()] : [await slow(), await fast()].reverse();
      (report[by] ??= []).push(a.ms);
      (raw[by] ??= []).push(b.ms);
    }
  }
  const tiles: number[] = [];
  for (let q = 0; q < n; q++) tiles.push((await timed(() => readTiles(db.pool, q % 2 === 0 ? 'D' : 'S3', now))).ms);
  return { incidents: seed.value, seedMs: seed.ms, report, raw, tiles, rollupMs: rollup.ms, regionRollupMs: region.ms, regionRows: region.value, rebuild };
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
  pack: PackTimes;
  /** trail_hours' bytes (with TOAST and index) per fix. */
  packedBytesPerFix: number;
  bytesPerFix: number;
  compressedBytesPerFix: number | null;
  kpis: KpiTimes | null;
}

interface PackTimes {
  pairs: number;
  stepMs: number[];
}

/**
 * Packs every ended hour as the hub's maintenance pass does (steps of PACK_PAIRS_PER_STEP
 * worker-hours, one statement each; looking back over the whole history, which the hub's pass
 * does not); each step's time is how long the embedded engine's one connection is held.
 */
async function packAll(db: Database, days: number): Promise<PackTimes> {
  const now = DAY0 + days * 86_400_000 + PACK_SETTLE_MS + 3_600_000;
  const out: PackTimes = { pairs: 0, stepMs: [] };
  for (let more = true; more; ) {
    const t = await timed(() =>
      db.pool.query<{ packed: number; more: boolean }>(
        `SELECT packed, more FROM pack_trail_hours(to_timestamp($1 / 1000.0), '3650 days', make_interval(secs => $2), '3650 days', $3)`,
        [now, PACK_SETTLE_MS / 1000, PACK_PAIRS_PER_STEP],
      ),
    );
    out.stepMs.push(t.ms);
    out.pairs += t.value.rows[0].packed;
    more = t.value.rows[0].more;
  }
  return out;
}

/**
 * Writes the history through the hub's writer, after a bare COPY of the same rows (then truncated)
 * on a server. The rows go out of scope on return: the hub never holds a day of fixes, and 864,000
 * live objects in this process made every major GC during the trail samples slower.
 */
async function loadHistory(engine: string, db: Database, workers: number, days: number): Promise<{ copyRps: number | null; writeMs: number; fixes: number }> {
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
  return { copyRps, writeMs: write.ms, fixes: rows.length };
}

async function run(engine: string, db: Database, workers: number, days: number): Promise<Result> {
  if (args['kpi-only']) {
    const none = { trail: [], packed: [], raw: [], rowPerFix: [] };
    return { engine, workers: 0, days: 0, rows: 0, writerRps: 0, copyRps: null, trail: none, oldIndex: null, compressedTrail: null, rollupMs: 0, pack: { pairs: 0, stepMs: [] }, packedBytesPerFix: 0, bytesPerFix: 0, compressedBytesPerFix: null, kpis: await benchKpis(db, 30) };
  }
  const { copyRps, writeMs, fixes } = await loadHistory(engine, db, workers, days);
  // What autovacuum does to an insert-only table (autovacuum_vacuum_insert_threshold, PG 13+):
  // statistics, and the visibility map that lets the trail read be index-only.
  await db.pool.query('VACUUM ANALYZE positions');
  const bytes = await positionsBytes(db.pool, db.timescale);
  const rollup = await timed(() => rollupActivity(db.pool, DAY0, DAY0 + 86_400_000));
  if (days > 1) await rollupActivity(db.pool, DAY0 + 86_400_000, DAY0 + days * 86_400_000);
  const pack = await packAll(db, days);
  await db.pool.query('VACUUM ANALYZE trail_hours');
  const packedBytes = (await db.pool.query<{ b: number }>(`SELECT pg_total_relation_size('trail_hours')::float8 AS b`)).rows[0].b;
  const n = Number(args.queries);
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
  const kpis = args['no-kpis'] ? null : await benchKpis(db, 30);
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

const f0 = (x: number | null) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const f1 = (x: number) => x.toFixed(1);

const results: Result[] = [];
const workers = Number(args.workers);
const days = Number(args.days);
if (args['write-variants']) {
  const server = await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '2GB' } });
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger, { timeouts: false });
  try {
    const cpu = os.cpus();
    console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} at the start.`);
    await writeVariants(db, history(workers, days), Number(args.rounds));
    console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} at the end.`);
  } finally {
    await db.close();
    await server.stop();
  }
  process.exit(0);
}
if (args.engine !== 'embedded') {
  // A bulk load and whole-table statements: no deadlines (the hub's are for its own short statements).
  const given = args['database-url'];
  const server = given ? await scratchDatabase(given, 'gdh_bench') : await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '2GB' } });
  const stopServer = () => ('drop' in server ? server.drop() : server.stop());
  let db: Database | null = null;
  try {
    db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger, { timeouts: false });
    const version = (await db.pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v;
    let flavour = 'plain';
    if (db.timescale) {
      flavour = `TimescaleDB ${(await db.pool.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0].v}`;
      // The history is months old: the server's own scheduler would compress it mid-run (and skew
      // the uncompressed samples). This scratch database's jobs are the bench's to pause.
      await db.pool.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE job_id >= 1000`);
    }
    results.push(await run(`PostgreSQL ${version} (${flavour}${given ? ', --database-url' : ''})`, db, workers, days));
  } finally {
    await db?.close();
    await stopServer();
  }
}
if (args.engine !== 'pg') {
  const db = await openDatabase({ DATA_DIR: '' }, silentLogger, { inMemory: true, timeouts: false });
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
console.log(`Command: \`npm run bench:storage -- ${args['database-url'] ? '--database-url … ' : ''}--workers ${workers} --days ${days} --engine ${args.engine} --embedded-workers ${args['embedded-workers']} --queries ${args.queries} --kpi-queries ${args['kpi-queries']}${args['kpi-only'] ? ' --kpi-only' : ''}${args['no-kpis'] ? ' --no-kpis' : ''}\`; one fix per 10 s per worker, writer batches of ${args.batch ? BATCH : `${defaultBatchRows(true)} rows on a server, ${defaultBatchRows(false)} embedded (the hub's defaults)`}${args.batch ? ' rows' : ''}.\n`);
// The positions' tables (not with --kpi-only, which loads none).
if (!args['kpi-only']) {
  console.log('| engine | rows | writer rows/s | bare COPY rows/s | ratio | full-day trail p50 / p99 (ms) | rollup 1 day (ms) | bytes/fix | bytes/fix compressed |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const ratio = r.copyRps ? (r.writerRps / r.copyRps).toFixed(2) : 'n/a';
    console.log(
      `| ${r.engine} | ${f0(r.rows)} (${r.workers} × ${r.days} d) | ${f0(r.writerRps)} | ${f0(r.copyRps)} | ${ratio} | ${pp(r.trail.trail)} | ${f0(r.rollupMs)} | ${f0(r.bytesPerFix)} | ${r.compressedBytesPerFix === null ? 'n/a (no extension)' : f0(r.compressedBytesPerFix)} |`,
    );
  }
  console.log(`\nTrail read path, same samples (p50 / p99 ms, after ${WARMUP_CALLS} untimed calls; ratio = baseline p50 / packed hours p50):\n`);
  console.log('| engine | variant | one DataRow per fix (baseline) | positions in one row (021) | packed hours (024, the API\'s read) | ratio | full trail API |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const line = (variant: string, t: TrailTimes) =>
      console.log(`| ${r.engine} | ${variant} | ${pp(t.rowPerFix)} | ${pp(t.raw)} | ${pp(t.packed)} | ${(p50(t.rowPerFix) / p50(t.packed)).toFixed(1)}× | ${pp(t.trail)} |`);
    line('covering index (worker_id, ts) INCLUDE (device_id, lat, lon)', r.trail);
    if (r.oldIndex) line('old index (worker_id, ts DESC)', r.oldIndex);
    if (r.compressedTrail) line('all chunks compressed (no packed hours: past their keep)', r.compressedTrail);
  }
  console.log('\nPacking the trail hours (what the maintenance pass does once an hour has ended):\n');
  console.log('| engine | worker-hours | steps | step p50 / longest (ms) | total (ms) | fixes/s | packed bytes/fix |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const total = r.pack.stepMs.reduce((a, b) => a + b, 0);
    console.log(`| ${r.engine} | ${f0(r.pack.pairs)} | ${r.pack.stepMs.length} | ${f1(pct(r.pack.stepMs, 50))} / ${f1(Math.max(...r.pack.stepMs))} | ${f0(total)} | ${f0(r.rows / (total / 1000))} | ${f1(r.packedBytesPerFix)} |`);
  }
}
if (!args['no-kpis']) console.log('\nGovernance KPIs, district scope (1 district, 10 streets, 100 communities, 3,300 grids, 3,400 workers), one month (p50 / p99 ms; fast = rollup days + raw tail, the default; raw = every incident row, the same-run baseline, interleaved; department and hour are always raw):\n');
if (!args['no-kpis']) console.log('| engine | incidents | path | total | by region | by category | by department | by day | tiles (uncached) | grid-day rollup, full | region-day rollup, full |');
if (!args['no-kpis']) console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const k = r.kpis;
  if (!k) continue;
  console.log(`| ${r.engine} | ${f0(k.incidents)} | fast | ${pp(k.report.none)} | ${pp(k.report.region)} | ${pp(k.report.category)} | ${pp(k.report.department)} | ${pp(k.report.day)} | ${pp(k.tiles)} | ${f0(k.rollupMs)} | ${f0(k.regionRollupMs)} (${f0(k.regionRows)} rows; after a tree change: one statement ${f0(k.rebuild.oneStatementMs)}, or ${k.rebuild.stepMs.length} steps of ${REBUILD_DAYS_PER_STEP} days, longest ${f0(Math.max(...k.rebuild.stepMs))}) |`);
  console.log(`| ${r.engine} | ${f0(k.incidents)} | raw | ${pp(k.raw.none)} | ${pp(k.raw.region)} | ${pp(k.raw.category)} | ${pp(k.raw.department)} | ${pp(k.raw.day)} | | | |`);
  const ratio = (by: string) => `${(p50(k.raw[by]) / p50(k.report[by])).toFixed(1)}×`;
  console.log(`| ${r.engine} | | raw p50 / fast p50 | ${ratio('none')} | ${ratio('region')} | ${ratio('category')} | ${ratio('department')} | ${ratio('day')} | | | |`);
}
if (!args['kpi-only']) console.log(`\nExtrapolation to 3,400 workers × 30 days (${f0(TARGET_ROWS)} fixes; live rate 340 fixes/s):`);
for (const r of args['kpi-only'] ? [] : results) {
  const hours = TARGET_ROWS / r.writerRps / 3600;
  const gb = (x: number) => ((x * TARGET_ROWS) / 1e9).toFixed(0);
  const compressed = r.compressedBytesPerFix === null ? '' : `, ${gb(r.compressedBytesPerFix)} GB compressed`;
  console.log(`- ${r.engine}: bulk reload ≈ ${hours.toFixed(1)} h at the writer rate (live needs 340 rows/s, headroom ×${f0(r.writerRps / 340)}); ${gb(r.bytesPerFix)} GB raw${compressed}; rollup of a district day ≈ ${f0((r.rollupMs * 3400) / r.workers / 1000)} s (linear in workers).`);
}
