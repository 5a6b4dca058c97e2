// The packed trail hours a batch makes stale (migration 024): a fix stored into an hour that has
// ended may land in an hour the maintenance pass already packed, so that (worker, hour) row is
// marked stale in the same transaction as the fix (commit-rows.ts). Live fixes fall in the
// current hour and cost nothing here; only late uploads (store-and-forward) do.
import type pg from 'pg';
import type { PositionRow } from './row-types.js';

export const HOUR_MS = 3_600_000;

export interface HourPairs {
  workers: string[];
  /** Hour starts, epoch ms (UTC-aligned, as time_bucket('1 hour', ts)). */
  hours: number[];
}

/**
 * The distinct (worker, hour) pairs of fixes in hours that ended by `now`; null when none. The
 * packer waits 15 minutes past an hour's end (hub/upkeep/trail-pack.ts): that is the skew its clock may have
 * ahead of the writer's before a packed hour could miss a fix.
 */
export function endedHours(positions: readonly PositionRow[], now: number): HourPairs | null {
  const current = Math.floor(now / HOUR_MS) * HOUR_MS;
  let seen: Set<string> | null = null;
  const out: HourPairs = { workers: [], hours: [] };
  for (const p of positions) {
    if (p.workerId === null || p.ts >= current) continue;
    const hour = Math.floor(p.ts / HOUR_MS) * HOUR_MS;
    const key = `${hour}\u0000${p.workerId}`;
    seen ??= new Set();
    if (seen.has(key)) continue;
    seen.add(key);
    out.workers.push(p.workerId);
    out.hours.push(hour);
  }
  return out.workers.length > 0 ? out : null;
}

/**
 * Marks the pairs stale. Takes the table lock in its own statement first so that the UPDATE's
 * snapshot is taken after any packer holding SHARE ROW EXCLUSIVE has committed: a row that
 * packer inserted is then visible here and marked (migration 024's protocol).
 */
export async function markHoursStale(client: Pick<pg.ClientBase, 'query'>, pairs: HourPairs): Promise<void> {
  await client.query('LOCK TABLE trail_hours IN ROW EXCLUSIVE MODE');
  await client.query(
    `UPDATE trail_hours t SET fixes = NULL
       FROM unnest($1::text[], $2::float8[]) AS u(w, h)
      WHERE t.worker_id = u.w AND t.hour = to_timestamp(u.h / 1000.0) AND t.fixes IS NOT NULL`,
    [pairs.workers, pairs.hours],
  );
}
