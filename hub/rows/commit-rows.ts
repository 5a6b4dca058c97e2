// Makes one batch of rows durable, atomically, in as few round trips as the rows allow:
// - positions by COPY where the engine has it (a server; pglite-socket drops the connection on
//   COPY … FROM STDIN), falling back to the idempotent INSERT for a batch that repeats a fix;
// - a fix whose device and time are taken by another position becomes a dead letter, on both
//   paths and within one batch (position-conflicts.ts, issue 16 item 2);
// - everything else (and positions on the embedded engine) by row-writer.ts's unnest INSERTs.
// Used by the batch writer and by bench:storage, so the bench measures the hub's own path.
import type pg from 'pg';
import type { Rows } from './row-types.js';
import { copyPositions, isDuplicate } from './positions-copy.js';
import { isFlagged, statementCount, writeRows } from './row-writer.js';
import { dedupeBatch, type Conflict } from './position-conflicts.js';
import { endedHours, markHoursStale } from './trail-hours-stale.js';
import { isAbandonedQuery } from '../../storage/database.js';

/**
 * Rows per commit when a backlog waits (BATCH_MAX_ROWS unset). COPY gains from bigger batches
 * (bench:storage --write-variants: 0.72–0.77 of a bare COPY at 2,000 rows, 0.94–1.12 at 5,000);
 * the unnest INSERT does not (0.50 at 2,000, 0.47 at 10,000), so the embedded engine keeps 2,000.
 */
export function defaultBatchRows(copy: boolean): number {
  return copy ? 5000 : 2000;
}

export interface CommitOutcome {
  /** True when positions went by COPY and the COPY refused a repeated fix (the INSERT wrote them). */
  copyFellBack: boolean;
  /** Fixes refused as conflicting duplicates (another position at their device and time), now dead letters. */
  conflictingDuplicates: number;
}

export interface CommitOptions {
  /** Positions by COPY (a server; see above). */
  copy: boolean;
  /** The writer's clock (epoch ms): fixes in hours ended by then mark their packed trail hour stale. */
  now?: number;
}

/**
 * Commits the rows. On return `rows` says what was committed: a fix refused as a conflicting
 * duplicate has left `rows.positions` for `rows.deadLetters`, so commit listeners (live state)
 * never see it. A failed commit leaves `rows` as it was, for the retry.
 */
export async function commitRows(pool: pg.Pool, rows: Rows, opts: CommitOptions): Promise<CommitOutcome> {
  // Repeats inside the batch are settled here, for both paths: COPY would refuse an exact repeat
  // too (and fall back), and the INSERT needs distinct keys to tell what it skipped.
  const batch = dedupeBatch(rows.positions);
  const prepared: Rows = {
    ...rows,
    positions: batch.rows,
    deadLetters: batch.conflicts.length > 0 ? [...rows.deadLetters, ...batch.conflicts.map((c) => c.letter)] : rows.deadLetters,
  };
  const { copyFellBack, conflicts } = await commitPrepared(pool, prepared, opts);
  const lost = [...batch.conflicts, ...conflicts];
  if (lost.length > 0) {
    const losers = new Set(lost.map((c) => c.row));
    rows.positions = rows.positions.filter((r) => !losers.has(r));
    rows.deadLetters = [...rows.deadLetters, ...lost.map((c) => c.letter)];
  }
  return { copyFellBack, conflictingDuplicates: lost.length };
}

async function commitPrepared(pool: pg.Pool, rows: Rows, opts: CommitOptions): Promise<{ copyFellBack: boolean; conflicts: Conflict[] }> {
  const valid = rows.positions.some(isFlagged) ? rows.positions.filter((r) => !isFlagged(r)) : rows.positions;
  const copy = opts.copy && valid.length > 0;
  // Late fixes (store-and-forward) also mark their packed trail hours stale, in this transaction.
  // Flagged fixes are in no trail, so they mark nothing.
  const stale = valid.length > 0 ? endedHours(valid, opts.now ?? Date.now()) : null;
  if (!copy && !stale && statementCount(rows) === 1) {
    // One statement is atomic on its own: one round trip instead of four (connect, BEGIN, INSERT,
    // COMMIT). Each round trip waits for a turn of the event loop, which the broker shares; under a
    // connect storm that multiplied the commit time (bench:ingest). A conflict found after it adds
    // statements (the probe, the dead letters) outside a transaction: a retry finds it again.
    return { copyFellBack: false, conflicts: await writeRows(pool, rows) };
  }
  const client = await pool.connect();
  try {
    if (copy && !stale && statementCount(rows) === 1) return await positionsAlone(client, rows);
    await client.query('BEGIN');
    let copyFellBack = false;
    let conflicts: Conflict[];
    if (copy) {
      await client.query('SAVEPOINT positions_copy');
      try {
        await copyPositions(client, valid);
      } catch (err) {
        if (!isDuplicate(err)) throw err;
        copyFellBack = true;
        await client.query('ROLLBACK TO SAVEPOINT positions_copy');
      }
      // After a refused COPY the INSERT writes the valid fixes and finds which repeat stored ones.
      conflicts = await writeRows(client, copyFellBack ? rows : { ...rows, positions: rows.positions.filter(isFlagged) });
    } else {
      conflicts = await writeRows(client, rows);
    }
    if (stale) await markHoursStale(client, stale);
    await client.query('COMMIT');
    return { copyFellBack, conflicts };
  } catch (err) {
    // An abandoned statement still holds the connection: a ROLLBACK would wait behind it; the pool drops it on release.
    if (!isAbandonedQuery(err)) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Valid positions only: the COPY is its own transaction, and so is the INSERT that replaces a refused one. */
async function positionsAlone(client: pg.PoolClient, rows: Rows): Promise<{ copyFellBack: boolean; conflicts: Conflict[] }> {
  try {
    await copyPositions(client, rows.positions);
    return { copyFellBack: false, conflicts: [] };
  } catch (err) {
    if (!isDuplicate(err)) throw err;
    return { copyFellBack: true, conflicts: await writeRows(client, rows) };
  }
}
