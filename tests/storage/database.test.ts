// The store on both engines: the embedded TimescaleDB (data on disk, survives a restart) and a
// plain PostgreSQL server (time-series extras off, same schema, same answers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { openDatabase } from '../../storage/database.js';
import { listMigrations } from '../../storage/migrate.js';
import { writeRows } from '../../hub/rows/row-writer.js';
import { emptyRows, type Rows } from '../../hub/rows/row-types.js';
import { startPostgres } from '../../testkit/postgres-server.js';
import type pg from 'pg';

function someFixes(n: number, t0: number): Rows {
  const rows = emptyRows();
  for (let i = 0; i < n; i++) {
    rows.positions.push({
      deviceId: 'hs-s',
      workerId: null,
      ts: t0 + i * 1000,
      lat: 27.87 + i * 1e-5,
      lon: 113.12,
      acc: 5,
      alt: null,
      speed: 1.2,
      heading: null,
      battery: 90,
      seq: i,
    });
  }
  return rows;
}

async function write(pool: pg.Pool, rows: Rows) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await writeRows(c, rows);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

const t0 = Date.parse('2026-11-25T00:00:00Z');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('embedded TimescaleDB', () => {
  it('creates hypertables, writes idempotently and keeps its data across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grid-db-'));
    dirs.push(dir);
    const first = await openDatabase({ DATA_DIR: dir }, silentLogger);
    expect(first.engine).toBe('embedded');
    expect(first.timescale).toBe(true);
    const ht = await first.pool.query(`SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1`);
    expect(ht.rows.map((r) => r.hypertable_name)).toEqual(['device_events', 'device_status', 'positions']);
    await write(first.pool, someFixes(3000, t0)); // > 64 KB in one statement
    await write(first.pool, someFixes(3000, t0)); // the same rows again
    await first.close();

    const second = await openDatabase({ DATA_DIR: dir }, silentLogger);
    const n = await second.pool.query(`SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM positions`);
    expect(n.rows[0]).toEqual({ n: 3000, lo: 0, hi: 2999 });
    const applied = await second.pool.query(`SELECT count(*) AS n FROM schema_migrations`);
    expect(applied.rows[0].n).toBe(listMigrations().length);
    await second.close();
    // Two embedded starts from disk: 6-26 s each on this 2-core box when other jobs run.
  }, 120_000);
});

describe('plain PostgreSQL', () => {
  it('runs the same migrations without the extension and answers the same', async () => {
    const server = await startPostgres();
    try {
      const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
      expect(db.engine).toBe('server');
      expect(db.timescale).toBe(false);
      await write(db.pool, someFixes(500, t0));
      await write(db.pool, someFixes(500, t0));
      const n = await db.pool.query(`SELECT count(*) AS n FROM positions`);
      expect(n.rows[0].n).toBe(500);
      const applied = await db.pool.query(`SELECT name FROM schema_migrations`);
      expect(applied.rows.every((r) => !String(r.name).endsWith('.timescale'))).toBe(true);
      await db.close();
    } finally {
      await server.stop();
    }
  });
});
