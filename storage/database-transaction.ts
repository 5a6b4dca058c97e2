// One transaction on one pooled connection, written once (issue 17 item 6): the hub had the same
// connect / BEGIN / COMMIT / ROLLBACK / release block in eight places, and only two of them knew that
// a ROLLBACK must not be sent on a connection whose statement our deadline gave up on.
import type pg from 'pg';
import { isAbandonedQuery } from './database.js';

/** Handed to the work: ends the transaction with ROLLBACK instead of COMMIT when the work returns. */
export interface TransactionEnd {
  /** A dry run, or a refusal found after the first statements: nothing of this transaction stays. */
  rollback(): void;
}

/**
 * Runs `work` between BEGIN and COMMIT on one connection of the pool and returns what it returns.
 * An error rolls back and is thrown again; the connection goes back to the pool either way. An
 * abandoned statement (isAbandonedQuery: our own query deadline gave up, the server may still run
 * it) still holds the connection, so no ROLLBACK is queued behind it: the pool closes a connection
 * given back with a query outstanding (storage/README.md, Deadlines), which ends the transaction.
 */
export async function withTransaction<T>(
  pool: Pick<pg.Pool, 'connect'>,
  work: (client: pg.PoolClient, end: TransactionEnd) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let rollback = false;
  try {
    await client.query('BEGIN');
    const out = await work(client, { rollback: () => void (rollback = true) });
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
    return out;
  } catch (err) {
    if (!isAbandonedQuery(err)) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
