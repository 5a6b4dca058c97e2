// Packed trail hours (migration 024) against late uploads committing at the same time, on a real
// PostgreSQL server: the two orders of the lock protocol, each held open mid-transaction so the
// other side provably waits. (The embedded engine has one connection, so its statements never
// overlap; the sequential orders are in storage-suite.ts on both engines.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { rollupActivity } from '../../../hub/analytics/activity-query.js';
import { PACK_SETTLE_MS, packTrailHours } from '../../../hub/upkeep/trail-pack.js';
import { readRawTrack, readTrack, unpackTrack } from '../../../hub/analytics/trail-query.js';
import { commitRows } from '../../../hub/rows/commit-rows.js';
import { writeRows } from '../../../hub/rows/row-writer.js';
import { endedHours, markHoursStale } from '../../../hub/rows/trail-hours-stale.js';
import { emptyRows } from '../../../hub/rows/row-types.js';
import { fix } from '../analytics/analytics-fixtures.js';
import { plainPostgres, type OpenedEngine } from '../analytics/engines.js';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3_600_000;
const NOW = T0 + 3 * HOUR;
const KEEP = { keep: '30 days' };

/** Resolves once some session waits for a lock on trail_hours; fails after 10 s. */
async function someoneWaitsOnTrailHours(pool: pg.Pool): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const r = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'trail_hours'::regclass`,
    );
    if (r.rows[0].n > 0) return;
    if (Date.now() > until) throw new Error('nobody waited for the trail_hours lock');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const packedTimes = async (pool: pg.Pool, hour: number) => {
  const r = await pool.query<{ fixes: Buffer | null }>(`SELECT fixes FROM trail_hours WHERE worker_id = 'w-r' AND hour = $1`, [
    new Date(hour),
  ]);
  return r.rows[0]?.fixes ? [...unpackTrack([r.rows[0].fixes]).ts] : null;
};

describe('packed trail hours and late uploads racing on a PostgreSQL server', () => {
  let e: OpenedEngine;
  beforeAll(async () => {
    e = await plainPostgres();
    // Two full hours of one fix a minute.
    const walk = Array.from({ length: 120 }, (_, i) => fix('hs-r', 'w-r', T0 + i * 60_000, 27.86 + i * 1e-5, 113.12));
    await commitRows(e.db.pool, { ...emptyRows(), positions: walk }, { copy: true, now: NOW });
    await rollupActivity(e.db.pool, T0, T0 + 2 * HOUR);
    expect(NOW - (T0 + 2 * HOUR)).toBeGreaterThanOrEqual(PACK_SETTLE_MS);
  }, 120_000);
  afterAll(async () => e?.stop());

  it('a packer starting while a late upload is uncommitted waits for it and packs its fix', async () => {
    const late = fix('hs-r2', 'w-r', T0 + 30 * 60_000 + 5_000, 27.9, 113.2);
    const writer = await e.db.pool.connect();
    try {
      // What commitRows does, held open before COMMIT.
      await writer.query('BEGIN');
      await writeRows(writer, { ...emptyRows(), positions: [late] });
      await markHoursStale(writer, endedHours([late], NOW)!);
      const packing = packTrailHours(e.db.pool, NOW, KEEP);
      await someoneWaitsOnTrailHours(e.db.pool);
      await writer.query('COMMIT');
      expect(await packing).toMatchObject({ packed: 2, done: true });
    } finally {
      writer.release();
    }
    expect(await packedTimes(e.db.pool, T0)).toContain(late.ts);
    expect([...(await readTrack(e.db.pool, 'w-r', T0, NOW)).ts]).toEqual([...(await readRawTrack(e.db.pool, 'w-r', T0, NOW)).ts]);
  });

  it('a late upload committing while a packer holds the table marks the hour it packed stale', async () => {
    await e.db.pool.query(`DELETE FROM trail_hours WHERE hour = $1`, [new Date(T0 + HOUR)]);
    const late = fix('hs-r2', 'w-r', T0 + HOUR + 45 * 60_000 + 5_000, 27.9, 113.2);
    const packer = await e.db.pool.connect();
    try {
      // One step of the maintenance pass, held open before COMMIT: it packs hour 1 without the late fix.
      await packer.query('BEGIN');
      const step = await packer.query<{ packed: number }>(
        `SELECT packed FROM pack_trail_hours(to_timestamp($1 / 1000.0), '30 days', '15 minutes', '3 hours', 10)`,
        [NOW],
      );
      expect(step.rows[0].packed).toBe(1);
      const upload = commitRows(e.db.pool, { ...emptyRows(), positions: [late] }, { copy: true, now: NOW });
      await someoneWaitsOnTrailHours(e.db.pool);
      await packer.query('COMMIT');
      await upload;
    } finally {
      packer.release();
    }
    expect(await packedTimes(e.db.pool, T0 + HOUR)).toBeNull();
    const read = await readTrack(e.db.pool, 'w-r', T0, NOW);
    expect([...read.ts]).toContain(late.ts);
    expect([...read.ts]).toEqual([...(await readRawTrack(e.db.pool, 'w-r', T0, NOW)).ts]);
    // The next pass packs it again, with the fix.
    expect(await packTrailHours(e.db.pool, NOW, KEEP)).toMatchObject({ packed: 1, done: true });
    expect(await packedTimes(e.db.pool, T0 + HOUR)).toContain(late.ts);
  });
});
