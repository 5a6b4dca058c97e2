// Per-worker activity (fixes, metres walked, time inside their own grid, time on duty) per hour or
// per Asia/Shanghai day, read from the rollup table (both engines) that rollup_worker_activity
// keeps current.
import type pg from 'pg';
import { DISTANCE_RULE, type DistanceRule } from './geo-distance.js';

export interface ActivityRow {
  bucket: string;
  fixes: number;
  distanceM: number;
  /** Seconds between consecutive fixes both inside the worker's own grid (gaps over the rule's maxGapS not counted). */
  inGridS: number;
  /** Seconds on duty, as the worker's handsets reported it. */
  onDutyS: number;
  /** null: an hour on duty without a fix. */
  firstTs: string | null;
  lastTs: string | null;
}

/** Recomputes the hours overlapping [from, to); returns the number of (worker, hour) rows written. */
export async function rollupActivity(
  pool: Pick<pg.Pool, 'query'>,
  from: number,
  to: number,
  rule: DistanceRule = DISTANCE_RULE,
): Promise<number> {
  const r = await pool.query<{ n: number }>(
    `SELECT rollup_worker_activity(to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), make_interval(secs => $3), $4) AS n`,
    [from, to, rule.maxGapS, rule.maxSpeedMps],
  );
  return r.rows[0].n;
}

export async function readActivity(
  pool: Pick<pg.Pool, 'query'>,
  workerId: string,
  from: number,
  to: number,
  bucket: 'hour' | 'day',
): Promise<ActivityRow[]> {
  const sql =
    bucket === 'hour'
      ? `SELECT bucket AS b, fixes, distance_m, in_grid_s, on_duty_s, first_ts, last_ts FROM worker_activity_hourly
          WHERE worker_id = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0) ORDER BY bucket`
      : `SELECT day AS b, fixes, distance_m, in_grid_s, on_duty_s, first_ts, last_ts FROM worker_activity_daily
          WHERE worker_id = $1 AND day >= to_timestamp($2 / 1000.0) AND day < to_timestamp($3 / 1000.0) ORDER BY day`;
  const r = await pool.query<{
    b: Date;
    fixes: number;
    distance_m: number;
    in_grid_s: number;
    on_duty_s: number;
    first_ts: Date | null;
    last_ts: Date | null;
  }>(sql, [workerId, from, to]);
  return r.rows.map((row) => ({
    bucket: row.b.toISOString(),
    fixes: row.fixes,
    distanceM: Math.round(row.distance_m * 10) / 10,
    inGridS: Math.round(row.in_grid_s),
    onDutyS: Math.round(row.on_duty_s),
    firstTs: row.first_ts?.toISOString() ?? null,
    lastTs: row.last_ts?.toISOString() ?? null,
  }));
}
