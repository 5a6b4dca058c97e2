// Conflicting duplicates (issue 16 item 2). A fix is keyed by device and fix time (DESIGN §5): the
// same key again with the same position is a redelivery or a re-uploaded batch, a silent no-op;
// the same key with another position is two different fixes claiming one instant. The first to
// arrive stays (the stored row, or the earlier one within a batch); the other becomes a dead
// letter `conflicting_duplicate` carrying both positions, and is counted. Only lat/lon decide:
// the hub's own columns (worker, in_grid) may change between deliveries, and a handset that
// renumbers seq or refreshes battery on a resend has not sent another position.
import type pg from 'pg';
import type { DeadLetterRow, PositionRow } from './row-types.js';

export const CONFLICT_REASON = 'conflicting_duplicate';

export interface Conflict {
  /** The row that lost (not stored). */
  row: PositionRow;
  letter: DeadLetterRow;
}

/** Keeps the first row of each key; drops exact repeats silently and returns the conflicting ones. */
export function dedupeBatch(positions: readonly PositionRow[]): { rows: PositionRow[]; conflicts: Conflict[] } {
  // The common batch: each device's fixes in rising time (live traffic, one sorted upload). No key
  // can repeat then, and the check costs one map lookup per row (the cost is in decision 010).
  const last = new Map<string, number>();
  let rising = true;
  for (const r of positions) {
    const t = last.get(r.deviceId);
    if (t !== undefined && r.ts <= t) {
      rising = false;
      break;
    }
    last.set(r.deviceId, r.ts);
  }
  if (rising) return { rows: positions as PositionRow[], conflicts: [] };
  const first = new Map<string, Map<number, PositionRow>>();
  const rows: PositionRow[] = [];
  const conflicts: Conflict[] = [];
  for (const r of positions) {
    let byTs = first.get(r.deviceId);
    if (!byTs) first.set(r.deviceId, (byTs = new Map()));
    const kept = byTs.get(r.ts);
    if (!kept) {
      byTs.set(r.ts, r);
      rows.push(r);
    } else if (kept.lat !== r.lat || kept.lon !== r.lon) {
      conflicts.push({ row: r, letter: conflictLetter(r, kept) });
    }
  }
  return { rows, conflicts };
}

/**
 * After an INSERT … ON CONFLICT DO NOTHING that stored fewer rows than it was given: the rows whose
 * key is held, in `tables`, by a row at another position. Rows this transaction just stored match
 * themselves and exact repeats match their stored twin, so neither comes back.
 */
export async function storedConflicts(
  client: Pick<pg.ClientBase, 'query'>,
  rows: readonly PositionRow[],
  tables: readonly ('positions' | 'positions_flagged')[],
): Promise<Conflict[]> {
  const probe = tables
    .map(
      (t) => `SELECT u.i, p.lat, p.lon FROM u JOIN ${t} p ON p.device_id = u.dev AND p.ts = to_timestamp(u.t / 1000.0)
                   WHERE p.lat <> u.la OR p.lon <> u.lo`,
    )
    .join(' UNION ALL ');
  const r = await client.query<{ i: string; lat: number; lon: number }>(
    `WITH u AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS u(dev, t, la, lo, i))
     SELECT DISTINCT ON (i) i, lat, lon FROM (${probe}) c ORDER BY i`,
    [rows.map((x) => x.deviceId), rows.map((x) => x.ts), rows.map((x) => x.lat), rows.map((x) => x.lon)],
  );
  return r.rows.map((c) => {
    const row = rows[Number(c.i) - 1]!;
    return { row, letter: conflictLetter(row, { lat: c.lat, lon: c.lon }) };
  });
}

/** The loser as a dead letter: its fix and the position that was kept at its key. */
export function conflictLetter(loser: PositionRow, kept: { lat: number; lon: number }): DeadLetterRow {
  const payload = Buffer.from(
    JSON.stringify({
      fix: {
        ts: loser.ts,
        lat: loser.lat,
        lon: loser.lon,
        acc: loser.acc,
        alt: loser.alt,
        speed: loser.speed,
        heading: loser.heading,
        battery: loser.battery,
        seq: loser.seq,
        flags: loser.flags,
      },
      kept: { lat: kept.lat, lon: kept.lon },
    }),
  );
  // The store, not a topic, refused it: the message itself was valid and acknowledged.
  return {
    topic: 'positions',
    deviceId: loser.deviceId,
    reason: `${CONFLICT_REASON}: another position is stored for ${new Date(loser.ts).toISOString()}`,
    size: payload.length,
    payload,
  };
}
