// withTransaction (issue 17 item 6): commits what the work wrote, rolls back on an error and on
// end.rollback(), gives the connection back every time (the embedded engine has one: a leaked
// connection would hang the next caller), and sends no ROLLBACK behind an abandoned statement.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { withTransaction } from '../../storage/database-transaction.js';

describe('withTransaction on the embedded engine', () => {
  let db: Database;
  const names = async (): Promise<string[]> =>
    (await db.pool.query<{ name: string }>('SELECT name FROM tx_probe ORDER BY name')).rows.map((r) => r.name);

  beforeAll(async () => {
    db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
    await db.pool.query('CREATE TABLE tx_probe (name text PRIMARY KEY)');
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it('commits and returns what the work returns', async () => {
    const out = await withTransaction(db.pool, async (c) => {
      await c.query(`INSERT INTO tx_probe VALUES ('kept')`);
      return 42;
    });
    expect(out).toBe(42);
    expect(await names()).toEqual(['kept']);
  });

  it('rolls back and rethrows on an error, and the connection is free for the next caller', async () => {
    const boom = new Error('refused half way');
    await expect(
      withTransaction(db.pool, async (c) => {
        await c.query(`INSERT INTO tx_probe VALUES ('half')`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(withTransaction(db.pool, (c) => c.query(`INSERT INTO tx_probe VALUES ('kept')`))).rejects.toThrow(/duplicate key/);
    expect(await names()).toEqual(['kept']);
  });

  it('end.rollback() undoes the work and still returns its value (a dry run)', async () => {
    const out = await withTransaction(db.pool, async (c, end) => {
      await c.query(`INSERT INTO tx_probe VALUES ('dry')`);
      end.rollback();
      return 'dry_run';
    });
    expect(out).toBe('dry_run');
    expect(await names()).toEqual(['kept']);
  });
});

describe('withTransaction after an abandoned statement', () => {
  it('queues no ROLLBACK behind it and releases the connection', async () => {
    const sent: string[] = [];
    let released = 0;
    const client = {
      query: async (text: string) => {
        sent.push(text);
        // What pg says when our query_timeout gives up on a statement (storage/database.ts).
        if (text.startsWith('UPDATE')) throw new Error('Query read timeout');
        return { rows: [] };
      },
      release: () => void released++,
    };
    const pool = { connect: async () => client as unknown as pg.PoolClient };
    await expect(withTransaction(pool, (c) => c.query('UPDATE anything'))).rejects.toThrow('Query read timeout');
    expect(sent).toEqual(['BEGIN', 'UPDATE anything']);
    expect(released).toBe(1);
  });
});
