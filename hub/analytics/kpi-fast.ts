// The KPI fast path (issue 5 item 8: a district month under 200 ms). Whole Asia/Shanghai days
// that no incident changed since the last rollup pass come from incident_region_daily
// (storage/migrations/012_kpi_region_daily.sql: per region at every level, day, category, source
// and priority, with the durations and cells kept as arrays so percentiles and hotspots stay
// exact); the period's partial end days, today and days with recent changes come from the raw
// incidents, in the same SQL statement. The result equals the raw computation (kpi-query.ts),
// which tests/hub/analytics/kpi-fast-suite.ts checks on a seeded month on both engines.
import type pg from 'pg';
import { latLngToCell } from 'h3-js';
import { COVERAGE_RES } from './coverage-cells.js';
import { ROLLUP_MARGIN_MS } from './incident-rollup.js';
import { OPEN_SQL, scopedIncidentsSql, type KpiDimension } from './kpi-query.js';

const DAY_MS = 86_400_000;
const SHANGHAI_MS = 8 * 3_600_000;
const shanghaiDay = (t: number) => Math.floor((t + SHANGHAI_MS) / DAY_MS) * DAY_MS - SHANGHAI_MS;

/**
 * Breakdowns read through the rollup. Not hour (finer than its days) nor department (a join to
 * the assignee's current department). Not region either, although fastFiguresSql answers it
 * (and the tests check it equals the raw path): bench:storage 2026-11-25 measured it slower than
 * the raw path on PostgreSQL (p50 360 vs 220 ms; embedded 460 vs 529 ms), the sort of ~37,000
 * unnested durations by street costing more than the scan it saves. Add it back with a faster
 * per-group percentile (see BENCHMARKS.md, Storage).
 */
export const FAST_DIMENSIONS: ReadonlySet<KpiDimension> = new Set<KpiDimension>([
  'none',
  'category',
  'source',
  'priority',
  'day',
  'week',
  'month',
]);

/** What the fast path could answer (FAST_DIMENSIONS plus region): for the tests and the bench. */
export const ROLLUP_DIMENSIONS: ReadonlySet<KpiDimension> = new Set<KpiDimension>([...FAST_DIMENSIONS, 'region']);

export interface FastPlan {
  /** Day starts (epoch ms) read from the rollup. */
  days: number[];
  /** [start, end) ranges (epoch ms) read from the raw incidents: the rest of [from, to). */
  raw: [number, number][];
}

/**
 * Which days of [from, to) the rollup can answer: whole days, ended before the last pass's
 * watermark minus the margin, holding no incident updated since then (its change may not be
 * rolled up yet). Null when no day qualifies (short periods, no pass yet, regions changed).
 */
export async function planFastPath(
  pool: Pick<pg.Pool, 'query'>,
  from: number,
  to: number,
  marginMs = ROLLUP_MARGIN_MS,
): Promise<FastPlan | null> {
  let first = shanghaiDay(from);
  if (first < from) first += DAY_MS;
  const last = shanghaiDay(to);
  if (last - first < DAY_MS) return null;
  const w = await pool.query<{ upto: Date }>(`SELECT upto FROM analytics_watermarks WHERE name = 'incident_region_daily'`);
  if (w.rowCount === 0) return null;
  const since = w.rows[0].upto.getTime() - marginMs;
  const end = Math.min(last, shanghaiDay(since));
  if (end <= first) return null;
  const dirty = await pool.query<{ d: number }>(
    `SELECT DISTINCT (extract(epoch FROM time_bucket('1 day', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+08')) * 1000)::float8 AS d
       FROM incidents
      WHERE updated_at >= to_timestamp($1 / 1000.0) AND created_at >= to_timestamp($2 / 1000.0) AND created_at < to_timestamp($3 / 1000.0)`,
    [since, first, end],
  );
  const skip = new Set(dirty.rows.map((r) => Number(r.d)));
  const days: number[] = [];
  for (let d = first; d < end; d += DAY_MS) if (!skip.has(d)) days.push(d);
  if (days.length === 0) return null;
  const raw: [number, number][] = [];
  let at = from;
  for (const d of days) {
    if (d > at) raw.push([at, d]);
    at = d + DAY_MS;
  }
  if (at < to) raw.push([at, to]);
  return { days, raw };
}

/**
 * The figures over rollup rows and raw rows alike (`x`, one row per rollup row or incident),
 * for kpiReport's SELECT list and FROM. $1 scope, $2/$3 raw range starts/ends, $4 now, $5 the
 * rollup days. Durations are unnested once, side by side; the counts are taken from the first
 * unnested row of each source row only (ord 1, or no durations at all).
 */
export function fastFiguresSql(by: KpiDimension): string {
  const f = 'FILTER (WHERE coalesce(x.ord, 1) = 1)';
  const sum = (col: string, as = col) => `coalesce(sum(x.${col}) ${f}, 0)::int AS ${as}`;
  const open = OPEN_SQL('x.state');
  const region = by === 'region';
  const rollup = `
    SELECT ${region ? 'r.region_code' : 'NULL::text'} AS region, ${region ? 'rg.name' : 'NULL::text'} AS region_name,
           r.category, ${by === 'category' ? 'c.name_zh' : 'NULL::text'} AS category_name, r.source, r.priority,
           NULL::text AS department, r.day AS created_at,
           r.incidents, r.open, r.closed, r.cancelled, r.resolved, r.resolved_on_time,
           (SELECT count(*) FROM unnest(r.open_resolve_by) t WHERE t < to_timestamp($4 / 1000.0))::int AS overdue_open,
           r.rated, r.satisfied, r.rating_n, r.rating_sum, r.accept_ms, r.arrive_ms, r.resolve_ms
      FROM ${region ? `regions rg JOIN incident_region_daily r ON r.region_code = rg.code` : 'incident_region_daily r'}
      ${by === 'category' ? 'LEFT JOIN incident_categories c ON c.code = r.category' : ''}
     WHERE r.day = ANY($5::timestamptz[])
       -- By region: the scope's children, and the scope's own incidents (a grid is its own child).
       -- A join, not an OR, so each region is an index range of the primary key.
       AND ${region ? '(rg.parent_code = $1 OR (rg.code = $1 AND r.self))' : 'r.region_code = $1'}`;
  const raw = `
    SELECT x.region, x.region_name, x.category, x.category_name, x.source, x.priority, x.department, x.created_at,
           1, (${open})::int, (x.state = 'closed')::int, (x.state = 'cancelled')::int, (x.resolved_at IS NOT NULL)::int,
           (x.resolved_at <= x.resolve_by IS TRUE)::int,
           (x.resolved_at IS NULL AND ${open} AND x.resolve_by < to_timestamp($4 / 1000.0))::int,
           (x.rating IS NOT NULL)::int, (x.rating = 'satisfied' IS TRUE)::int, (x.rating_score IS NOT NULL)::int,
           coalesce(x.rating_score, 0)::int, ARRAY[x.accept_ms], ARRAY[x.arrive_ms], ARRAY[x.resolve_ms]
      FROM (${scopedIncidentsSql(by, true)}) x`;
  return `
  ${sum('incidents')}, ${sum('open')}, ${sum('closed')}, ${sum('cancelled')}, ${sum('resolved')},
  ${sum('resolved_on_time')}, ${sum('overdue_open')},
  count(x.acc)::int AS accept_n, avg(x.acc) AS accept_mean, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.acc) AS accept_p,
  count(x.arr)::int AS arrive_n, avg(x.arr) AS arrive_mean, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.arr) AS arrive_p,
  count(x.res)::int AS resolve_n, avg(x.res) AS resolve_mean, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.res) AS resolve_p,
  ${sum('rated')}, ${sum('satisfied')}, ${sum('rating_n')},
  (sum(x.rating_sum) ${f}::numeric / nullif(sum(x.rating_n) ${f}, 0))::float8 AS rating_mean
  FROM (SELECT ${keyCols(by)}
               x.incidents, x.open, x.closed, x.cancelled, x.resolved, x.resolved_on_time, x.overdue_open,
               x.rated, x.satisfied, x.rating_n, x.rating_sum, d.acc, d.arr, d.res, d.ord
          FROM (${rollup}
                UNION ALL ${raw}) x
          -- Unnested here, with only the breakdown's own key columns kept: a breakdown sorts these
          -- rows (one per duration, ~37,000 for a district month) by its key, and a wider row
          -- pushed that sort past work_mem onto disk.
          LEFT JOIN LATERAL unnest(x.accept_ms, x.arrive_ms, x.resolve_ms) WITH ORDINALITY AS d(acc, arr, res, ord) ON true) x`;
}

/** The `x` columns keyExpr (kpi-query.ts) reads for a breakdown, with a trailing comma. */
function keyCols(by: KpiDimension): string {
  switch (by) {
    case 'none':
      return '';
    case 'region':
      return 'x.region, x.region_name,';
    case 'category':
      return 'x.category, x.category_name,';
    case 'source':
    case 'priority':
    case 'department':
      return `x.${by},`;
    default:
      return 'x.created_at,';
  }
}

/** Days a full rebuild of incident_region_daily computes per statement (migration 023). */
export const REBUILD_DAYS_PER_STEP = 7;
/** A pass gives up after this many steps (the tree changing under every step); the next goes on. */
const MAX_STEPS = 1_000;

/**
 * One rollup pass of incident_region_daily, after storing the H3 cell of every incident the pass
 * will read that has none (or a stale one), so its rows carry complete cells for the hotspots.
 * A full rebuild runs as several statements of `daysPerStep` days, so that other queries (ingest,
 * on the embedded engine's one connection) get their turn between them.
 */
export async function rollupKpiRegions(
  pool: Pick<pg.Pool, 'query'>,
  now: number,
  marginMs = ROLLUP_MARGIN_MS,
  daysPerStep = REBUILD_DAYS_PER_STEP,
): Promise<number> {
  const missing = await pool.query<{ id: string; lat: number; lon: number }>(
    `SELECT i.id, i.lat, i.lon FROM incidents i LEFT JOIN incident_cells c ON c.incident_id = i.id
      WHERE (c.incident_id IS NULL OR c.lat <> i.lat OR c.lon <> i.lon) AND i.state <> 'cancelled'
        AND i.updated_at >= coalesce((SELECT upto FROM analytics_watermarks WHERE name = 'incident_region_daily') - make_interval(secs => $1), '-infinity')`,
    [marginMs / 1000],
  );
  if (missing.rows.length > 0) {
    const rows = missing.rows;
    await pool.query(
      `INSERT INTO incident_cells (incident_id, lat, lon, cell)
       SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[])
       ON CONFLICT (incident_id) DO UPDATE SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, cell = EXCLUDED.cell`,
      [rows.map((r) => r.id), rows.map((r) => r.lat), rows.map((r) => r.lon), rows.map((r) => latLngToCell(r.lat, r.lon, COVERAGE_RES))],
    );
  }
  let written = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    const r = await pool.query<{ n: number; more: boolean }>(
      `SELECT n, more FROM rollup_incident_region_daily(to_timestamp($1 / 1000.0), make_interval(secs => $2), $3)`,
      [now, marginMs / 1000, daysPerStep],
    );
    written += r.rows[0].n;
    if (!r.rows[0].more) break;
  }
  return written;
}
