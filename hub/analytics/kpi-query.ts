// Governance KPIs (issue 5 item 5) for any scope and period, read from the incidents table the
// dispatch service keeps: counts, closure and on-time rates, times to accept / arrive / resolve
// (mean, median, p90), resident satisfaction, broken down by one dimension, plus hotspots.
//
// Definitions (also in hub/README.md):
// - An incident is in the period when it was created in [from, to); cancelled ones count in
//   `incidents` and `cancelled` and nowhere else.
// - closureRate = closed / (incidents − cancelled): the seeds' "99.78 % closed" (Shifeng).
// - onTimeRate = resolved by resolve_by / resolved; overdueOpen counts the unresolved ones already
//   past resolve_by at `asOf`, so a period with late open cases does not look on time.
// - Times run from sla_started_at (the report, or the last reopen: accepted_at … resolved_at are
//   the milestones of the current round) to accepted_at, arrived_at, resolved_at.
// - Department: the assignee's workers.department, or 'grid' when there is no assignee or the
//   assignee belongs to no department (grid staff).
import type pg from 'pg';
import { resolveScopeTree, scopeGridsCte, type Scope } from './kpi-scope.js';
import type { RegionDirectory } from '../regions/region-directory.js';
import { FAST_DIMENSIONS, ROLLUP_DIMENSIONS, fastFiguresSql, planFastPath } from './kpi-fast.js';
import { hotspots } from './kpi-hotspots.js';

// The breakdowns are the API's (protocol/analytics-api.ts).
export { KPI_DIMENSIONS, type KpiDimension } from '../../protocol/analytics-api.js';
import type { KpiDimension } from '../../protocol/analytics-api.js';

/**
 * Open = not yet done: every state but these (hub/dispatch/incident-state-machine.ts OPEN). Written
 * as NOT IN so the planner can use incidents_state_idx (WHERE state NOT IN ('closed', 'cancelled')).
 */
export const OPEN_SQL = (col: string) => `${col} NOT IN ('resolved', 'verified', 'closed', 'cancelled')`;

export interface Durations {
  /** How many incidents reached the milestone. */
  n: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
}

export interface KpiFigures {
  incidents: number;
  open: number;
  closed: number;
  cancelled: number;
  closureRate: number | null;
  resolved: number;
  resolvedOnTime: number;
  onTimeRate: number | null;
  overdueOpen: number;
  acceptMs: Durations;
  arriveMs: Durations;
  resolveMs: Durations;
  rated: number;
  satisfied: number;
  satisfactionRate: number | null;
  ratingScoreN: number;
  ratingScoreMean: number | null;
}

export interface KpiGroup extends KpiFigures {
  key: string;
  /** Region or category name, or the bucket's Asia/Shanghai label (2026-10-20, 2026-10). */
  label: string;
}

export interface Hotspot {
  cell: string;
  incidents: number;
  /** Cell centre. */
  lat: number;
  lon: number;
}

export interface KpiReport {
  scope: Scope;
  from: string;
  to: string;
  by: KpiDimension;
  asOf: string;
  total: KpiFigures;
  groups: KpiGroup[];
  hotspots: { resolution: number; cells: Hotspot[] };
}

export interface KpiRequest {
  scope: string;
  from: number;
  to: number;
  by: KpiDimension;
  /** The clock's now, for overdueOpen. */
  now: number;
  hotspotRes: number;
  hotspotLimit: number;
  /** Skip the rollup fast path (hub/analytics/kpi-fast.ts): the same-run baseline and the tests' reference. */
  rawOnly?: boolean;
  /** Use the rollup for every breakdown it can answer (ROLLUP_DIMENSIONS), region included: tests and bench. */
  rollupAll?: boolean;
}

// Asia/Shanghai buckets with fixed origins (UTC+8, no DST; the WASM build cannot take zone names
// in time_bucket). Months are calendar months, which date_bin cannot do, so they go through
// local wall time: shift to +08:00, truncate, shift back.
const SHANGHAI_DAY_ORIGIN = `TIMESTAMPTZ '2000-01-01 00:00:00+08'`;
const SHANGHAI_MONDAY_ORIGIN = `TIMESTAMPTZ '2000-01-03 00:00:00+08'`;
const BUCKET: Record<'hour' | 'day' | 'week' | 'month', string> = {
  hour: `time_bucket('1 hour', x.created_at)`,
  day: `time_bucket('1 day', x.created_at, ${SHANGHAI_DAY_ORIGIN})`,
  week: `time_bucket('7 days', x.created_at, ${SHANGHAI_MONDAY_ORIGIN})`,
  month: `((date_trunc('month', x.created_at AT TIME ZONE 'UTC' + interval '8 hours') - interval '8 hours') AT TIME ZONE 'UTC')`,
};

function keyExpr(by: KpiDimension): { key: string; label: string } {
  switch (by) {
    case 'none':
      return { key: '', label: '' };
    case 'region':
      return { key: 'x.region', label: 'x.region_name' };
    case 'category':
      return { key: 'x.category', label: `coalesce(x.category_name, x.category)` };
    case 'source':
    case 'priority':
    case 'department':
      return { key: `x.${by}`, label: `x.${by}` };
    default:
      return { key: `to_char(${BUCKET[by]} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`, label: '' };
  }
}

const ms = (a: string, b: string) => `date_part('epoch', ${b} - ${a}) * 1000`;

/** The aggregate list behind the KPIs and CSV. $4 is the clock's now. One sort per duration (both percentiles at once). */
export const FIGURES_SQL = `
  count(*)::int AS incidents,
  count(*) FILTER (WHERE ${OPEN_SQL('x.state')})::int AS open,
  count(*) FILTER (WHERE x.state = 'closed')::int AS closed,
  count(*) FILTER (WHERE x.state = 'cancelled')::int AS cancelled,
  count(x.resolved_at)::int AS resolved,
  count(*) FILTER (WHERE x.resolved_at <= x.resolve_by)::int AS resolved_on_time,
  count(*) FILTER (WHERE x.resolved_at IS NULL AND ${OPEN_SQL('x.state')} AND x.resolve_by < to_timestamp($4 / 1000.0))::int AS overdue_open,
  count(x.accept_ms)::int AS accept_n, avg(x.accept_ms) AS accept_mean,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.accept_ms) AS accept_p,
  count(x.arrive_ms)::int AS arrive_n, avg(x.arrive_ms) AS arrive_mean,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.arrive_ms) AS arrive_p,
  count(x.resolve_ms)::int AS resolve_n, avg(x.resolve_ms) AS resolve_mean,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY x.resolve_ms) AS resolve_p,
  count(x.rating)::int AS rated, count(*) FILTER (WHERE x.rating = 'satisfied')::int AS satisfied,
  count(x.rating_score)::int AS rating_n, avg(x.rating_score)::float8 AS rating_mean`;

/**
 * Incidents in scope created in [$2, $3) (epoch ms), with derived columns, as `x`. $1 is the scope.
 * Only the columns the figures use, and the workers / categories joins only for the breakdowns
 * that need them: at a district month (~40,000 rows) every hash join costs. With `ranges`, $2 and
 * $3 are arrays of range starts and ends (the fast path's raw parts).
 */
export function scopedIncidentsSql(by: KpiDimension, ranges = false): string {
  return `
  SELECT i.state, i.category, i.source, i.priority, i.created_at, i.resolved_at, i.resolve_by, i.rating, i.rating_score,
         g.region, g.region_name,
         ${by === 'category' ? 'c.name_zh' : 'NULL::text'} AS category_name,
         ${by === 'department' ? `coalesce(w.department, 'grid')` : 'NULL::text'} AS department,
         ${ms('i.sla_started_at', 'i.accepted_at')} AS accept_ms,
         ${ms('i.sla_started_at', 'i.arrived_at')} AS arrive_ms,
         ${ms('i.sla_started_at', 'i.resolved_at')} AS resolve_ms
    FROM ${ranges ? `unnest($2::float8[], $3::float8[]) AS rr(s, e) JOIN incidents i ON ${RANGE_SQL}` : 'incidents i'}
    JOIN scope_grids g ON i.grid_code = g.grid_code
    ${by === 'department' ? 'LEFT JOIN workers w ON w.id = i.assignee_id' : ''}
    ${by === 'category' ? 'LEFT JOIN incident_categories c ON c.code = i.category' : ''}
   ${ranges ? '' : 'WHERE i.created_at >= to_timestamp($2 / 1000.0) AND i.created_at < to_timestamp($3 / 1000.0)'}`;
}

/** The fast path's raw ranges, `rr(s, e)` in epoch ms, against incidents `i`. */
export const RANGE_SQL = `i.created_at >= to_timestamp(rr.s / 1000.0) AND i.created_at < to_timestamp(rr.e / 1000.0)`;

type FigureRow = Record<string, number | null | (number | null)[]>;

const num = (v: number | string | null) => (v === null ? null : Number(v));
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
const scalar = (r: FigureRow, k: string) => r[k] as number | null | undefined;
const dur = (r: FigureRow, p: string): Durations => {
  const ps = (r[`${p}_p`] as (number | null)[] | null | undefined) ?? [null, null];
  return { n: scalar(r, `${p}_n`) ?? 0, mean: num(scalar(r, `${p}_mean`) ?? null), p50: num(ps[0]), p90: num(ps[1]) };
};

export function figuresFromRow(r: FigureRow): KpiFigures {
  const n = (k: string) => scalar(r, k) ?? 0;
  return {
    incidents: n('incidents'),
    open: n('open'),
    closed: n('closed'),
    cancelled: n('cancelled'),
    closureRate: ratio(n('closed'), n('incidents') - n('cancelled')),
    resolved: n('resolved'),
    resolvedOnTime: n('resolved_on_time'),
    onTimeRate: ratio(n('resolved_on_time'), n('resolved')),
    overdueOpen: n('overdue_open'),
    acceptMs: dur(r, 'accept'),
    arriveMs: dur(r, 'arrive'),
    resolveMs: dur(r, 'resolve'),
    rated: n('rated'),
    satisfied: n('satisfied'),
    satisfactionRate: ratio(n('satisfied'), n('rated')),
    ratingScoreN: n('rating_n'),
    ratingScoreMean: num(scalar(r, 'rating_mean') ?? null),
  };
}

/** Asia/Shanghai label of a bucket start (an ISO instant). */
function bucketLabel(by: KpiDimension, iso: string): string {
  const local = new Date(Date.parse(iso) + 8 * 3_600_000).toISOString();
  if (by === 'hour') return `${local.slice(0, 10)} ${local.slice(11, 16)}`;
  if (by === 'month') return local.slice(0, 7);
  return local.slice(0, 10);
}

export async function kpiReport(pool: Pick<pg.Pool, 'query'>, regions: RegionDirectory, req: KpiRequest): Promise<KpiReport> {
  const { scope, wholeTree } = resolveScopeTree(regions, req.scope);
  // The sole root needs no walk of the tree, unless the breakdown labels its children.
  const whole = wholeTree && req.by !== 'region';
  const { key, label } = keyExpr(req.by);
  // Whole days the rollup holds from incident_region_daily, the rest from the raw rows.
  const fast = !req.rawOnly && (req.rollupAll ? ROLLUP_DIMENSIONS : FAST_DIMENSIONS).has(req.by);
  const plan = fast ? await planFastPath(pool, req.from, req.to) : null;
  const params = plan
    ? [req.scope, plan.raw.map((r) => r[0]), plan.raw.map((r) => r[1]), req.now, plan.days.map((d) => new Date(d).toISOString())]
    : [req.scope, req.from, req.to, req.now];
  // One pass: GROUPING SETS gives the total (grouping = 1) and every group from the same rows.
  const grouped = req.by !== 'none';
  // Time buckets have no label column (it is made in JS below); grouping by a constant is an error.
  const cols = label ? `${key}, ${label}` : key;
  // The figures and the hotspots are independent scans: on a server (a pool of connections) they
  // run side by side; the embedded engine has one connection and runs them in turn.
  const figures = pool.query<FigureRow & { g: number; key: string; label: string }>(
    `WITH ${scopeGridsCte(1, whole)}
     SELECT ${grouped ? `grouping(${cols})::int AS g, ${key} AS key, ${label || `''`} AS label,` : `1 AS g,`} ${
       plan
         ? fastFiguresSql(req.by)
         : `${FIGURES_SQL}
       FROM (${scopedIncidentsSql(req.by)}) x`
     }
      ${grouped ? `GROUP BY GROUPING SETS ((), (${cols})) ORDER BY g DESC, 2` : ''}`,
    params,
  );
  const [r, cells] = await Promise.all([figures, hotspots(pool, req, plan, wholeTree)]);
  const totalRow = r.rows.find((row) => row.g !== 0);
  const total = figuresFromRow(totalRow ?? {});
  const groups: KpiGroup[] =
    req.by === 'none'
      ? []
      : r.rows
          .filter((row) => row.g === 0)
          .map((row) => {
            const time = row.label === '';
            const key = time ? new Date(row.key).toISOString() : row.key;
            return { key, label: time ? bucketLabel(req.by, key) : row.label, ...figuresFromRow(row) };
          });
  return {
    scope,
    from: new Date(req.from).toISOString(),
    to: new Date(req.to).toISOString(),
    by: req.by,
    asOf: new Date(req.now).toISOString(),
    total,
    groups,
    hotspots: { resolution: req.hotspotRes, cells },
  };
}
