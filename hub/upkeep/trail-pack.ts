// Packs ended hours of every worker's trail into trail_hours (migration 024), a bounded number
// of (worker, hour) pairs per statement: on the embedded engine's one connection, ingest commits
// wait behind each statement, so a step holds it briefly and the pass yields between steps.
import type pg from 'pg';

/** An hour is packed once it ended this long ago: late fixes of the last minutes have landed by then. */
export const PACK_SETTLE_MS = 15 * 60_000;
/** Pairs per statement: 200 worker-hours are 72,000 fixes at one fix per 10 s (bench:storage times a step). */
export const PACK_PAIRS_PER_STEP = 200;

export interface TrailPackOptions {
  /** PostgreSQL interval: packed hours older than this are deleted (the hub passes the compression age). */
  keep: string;
  /** How far back from the newest packable hour new hours are looked for (the activity rollup's lookback). */
  lookbackMs?: number;
  pairsPerStep?: number;
  /** Steps stop once this much time has gone by; the next pass continues. */
  budgetMs?: number;
}

export interface TrailPackResult {
  packed: number;
  steps: number;
  /** False when the budget ran out with work left. */
  done: boolean;
}

export async function packTrailHours(pool: Pick<pg.Pool, 'query'>, now: number, opts: TrailPackOptions): Promise<TrailPackResult> {
  const started = Date.now();
  const out: TrailPackResult = { packed: 0, steps: 0, done: false };
  while (Date.now() - started < (opts.budgetMs ?? 30_000)) {
    const r = await pool.query<{ packed: number; more: boolean }>(
      `SELECT packed, more FROM pack_trail_hours(to_timestamp($1 / 1000.0), $2::interval, make_interval(secs => $3), make_interval(secs => $4), $5)`,
      [now, opts.keep, PACK_SETTLE_MS / 1000, (opts.lookbackMs ?? 3 * 3_600_000) / 1000, opts.pairsPerStep ?? PACK_PAIRS_PER_STEP],
    );
    out.steps++;
    out.packed += r.rows[0].packed;
    if (!r.rows[0].more) {
      out.done = true;
      break;
    }
  }
  return out;
}
