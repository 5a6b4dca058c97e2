// Makes one batch of rows durable, atomically, in as few round trips as the rows allow:
// - positions by COPY where the engine has it (a server; pglite-socket drops the connection on
//   COPY … FROM STDIN), falling back to the idempotent INSERT for a batch that repeats a fix;
// - everything else (and positions on the embedded engine) by row-writer.ts's unnest INSERTs.
// Used by the batch writer and by bench:storage, so the bench measures the hub's own path.
import type pg from 'pg';
import type { Rows } from '../ingest/ingest-types.js';
import { copyPositions, isDuplicate } from './positions-copy.js';
import { statementCount, writeRows } from './row-writer.js';
import { endedHours, markHoursStale } from './trail-hours-stale.js';

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
}

export interface CommitOptions {
  /** Positions by COPY (a server; see above). */
  copy: boolean;
  /** The writer's clock (epoch ms): fixes in hours ended by then mark their packed trail hour stale. */
  now?: number;
}

export async function commitRows(pool: pg.Pool, rows: Rows, opts: CommitOptions): Promise<CommitOutcome> {
  const copy = opts.copy && rows.positions.length > 0;
  // Late fixes (store-and-forward) also mark their packed trail hours stale, in this transaction.
  const stale = rows.positions.length > 0 ? endedHours(rows.positions, opts.now ?? Date.now()) : null;
  if (!copy && !stale && statementCount(rows) === 1) {
    // One statement is atomic on its own: one round trip instead of four (connect, BEGIN, INSERT,
    // COMMIT). Each round trip waits for a turn of the event loop, which the broker shares; under a
    // connect storm that multiplied the commit time (bench:ingest).
    await writeRows(pool, rows);
    return { copyFellBack: false };
  }
  const client = await pool.connect();
  try {
    if (copy && !stale && statementCount(rows) === 1) return await positionsAlone(client, rows);
    await client.query('BEGIN');
    let copyFellBack = false;
    if (copy) {
      await client.query('SAVEPOINT positions_copy');
      try {
        await copyPositions(client, rows.positions);
      } catch (err) {
        if (!isDuplicate(err)) throw err;
        copyFellBack = true;
        await client.query('ROLLBACK TO SAVEPOINT positions_copy');
        await writeRows(client, { ...rows, events: [], statuses: [], inbox: [], deadLetters: [] });
      }
      await writeRows(client, { ...rows, positions: [] });
    } else {
      await writeRows(client, rows);
    }
    if (stale) await markHoursStale(client, stale);
    await client.query('COMMIT');
    return { copyFellBack };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Positions only: the COPY is its own transaction, and so is the INSERT that replaces a refused one. */
async function positionsAlone(client: pg.PoolClient, rows: Rows): Promise<CommitOutcome> {
  try {
    await copyPositions(client, rows.positions);
    return { copyFellBack: false };
  } catch (err) {
    if (!isDuplicate(err)) throw err;
    await writeRows(client, rows);
    return { copyFellBack: true };
  }
}
