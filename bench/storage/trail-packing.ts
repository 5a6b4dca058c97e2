// Packing the trail hours as the hub's maintenance pass does once an hour has ended, timed per step:
// on the embedded engine a step is how long its one connection is held away from ingest.
import type { Database } from '../../storage/database.js';
import { PACK_PAIRS_PER_STEP, PACK_SETTLE_MS } from '../../hub/upkeep/trail-pack.js';
import { DAY0, timed } from './storage-history.js';

export interface PackTimes {
  pairs: number;
  stepMs: number[];
}

/**
 * Packs every ended hour as the hub's maintenance pass does (steps of PACK_PAIRS_PER_STEP
 * worker-hours, one statement each; looking back over the whole history, which the hub's pass
 * does not); each step's time is how long the embedded engine's one connection is held.
 */
export async function packAll(db: Database, days: number): Promise<PackTimes> {
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
