// A database that stops answering without closing its sockets (issue 13, item 5): a real
// PostgreSQL server frozen with SIGSTOP. A commit fails by timeout within the pool's deadlines,
// nothing is acknowledged while the server is frozen, the retries are counted as timeouts, and
// after SIGCONT every row is committed exactly once. Short deadlines keep it to seconds.
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../common/metrics.js';
import { dbFailureKind, openDatabase, withLongStatements, type Database } from '../../storage/database.js';
import { BatchWriter } from '../../hub/rows/batch-writer.js';
import { emptyRows, type PositionRow, type Rows } from '../../hub/rows/row-types.js';
import { startPostgres, type PostgresServer } from '../../testkit/postgres-server.js';

const QUERY_MS = 1500;
const CONNECT_MS = 1000;

interface LogLine {
  msg: string;
  reason?: string;
  err?: string;
  ms?: number;
}

/** A pino logger whose lines can be awaited. */
function capturingLogger() {
  const lines = new EventEmitter();
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.emit('line', JSON.parse(s) as LogLine) });
  const next = (pred: (l: LogLine) => boolean) =>
    new Promise<LogLine>((resolve) => {
      const on = (l: LogLine) => {
        if (!pred(l)) return;
        lines.off('line', on);
        resolve(l);
      };
      lines.on('line', on);
    });
  return { logger, next };
}

/** Fixes of the current hour (no packed trail hour to mark): `n` of device `dev`, a second apart. */
function fixes(dev: string, n: number, t0: number): PositionRow[] {
  return Array.from({ length: n }, (_, i) => ({
    deviceId: dev,
    workerId: null,
    ts: t0 + i * 1000,
    lat: 27.87,
    lon: 113.12 + i * 1e-5,
    acc: 5,
    alt: null,
    speed: 1,
    heading: null,
    battery: 90,
    seq: i,
  }));
}

describe('a PostgreSQL server frozen by SIGSTOP', () => {
  let server: PostgresServer;
  let db: Database;
  beforeAll(async () => {
    server = await startPostgres();
    db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, pino({ level: 'silent' }), {
      timeouts: { connectMs: CONNECT_MS, statementMs: 1000, queryMs: QUERY_MS },
    });
  }, 60_000);
  afterAll(async () => {
    server?.resume();
    await db?.close();
    await server?.stop();
  });

  it('fails the commit by timeout, acknowledges nothing while frozen, then commits every row once', async () => {
    const { logger, next } = capturingLogger();
    const metrics = new Metrics();
    const acked: string[] = [];
    const writer = new BatchWriter({
      pool: db.pool,
      maxRows: 1000,
      maxWaitMs: 5,
      copyPositions: true,
      metrics,
      logger,
      onCommitted: () => undefined,
      onPressure: () => undefined,
    });
    const t0 = Date.now() - 60_000;
    // A batch like the hub's: fixes and a status report, one transaction.
    const batch = (dev: string, n: number): Rows => ({
      ...emptyRows(),
      positions: fixes(dev, n, t0),
      statuses: [{ deviceId: dev, workerId: null, ts: t0, kind: 'status', duty: 'on', battery: 90, online: null }],
    });
    const enqueue = (dev: string, n: number) =>
      new Promise<void>((resolve) => writer.enqueue(batch(dev, n), () => (acked.push(dev), resolve())));

    // Warm: the pool holds an open connection, as a running hub's does.
    await enqueue('hs-warm', 10);

    server.pause();
    const frozenAt = Date.now();
    const first = next((l) => l.msg.startsWith('batch commit'));
    const committed = Promise.all([0, 1, 2, 3, 4].map((k) => enqueue(`hs-${k}`, 40)));
    const failed = await first;
    const tookMs = Date.now() - frozenAt;
    expect(failed).toMatchObject({ reason: 'timeout' });
    expect(failed.err).toMatch(/Query read timeout/);
    // The deadline, not something else, ended it: at QUERY_MS. A transaction's ROLLBACK is queued
    // behind the abandoned statement on the same connection and waits out its own deadline before
    // the connection is dropped, hence up to twice.
    expect(tookMs).toBeGreaterThanOrEqual(QUERY_MS * 0.9);
    expect(tookMs).toBeLessThan(2 * QUERY_MS + 1500);
    // The retry opens a new connection, which the frozen server never answers.
    const second = await next((l) => l.msg.startsWith('batch commit'));
    expect(second).toMatchObject({ reason: 'timeout' });
    expect(second.err).toMatch(/timeout/);
    expect(acked).toEqual(['hs-warm']);

    server.resume();
    await committed;
    expect(acked.slice(1).sort()).toEqual(['hs-0', 'hs-1', 'hs-2', 'hs-3', 'hs-4']);
    const rows = await db.pool.query<{ n: number; keys: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (device_id, ts))::int AS keys FROM positions WHERE device_id LIKE 'hs-_'`,
    );
    expect(rows.rows[0]).toEqual({ n: 200, keys: 200 });
    expect((await db.pool.query(`SELECT 1 FROM device_status WHERE device_id LIKE 'hs-_'`)).rowCount).toBe(5);
    expect(metrics.get('ingest_commit_failures_total', { reason: 'timeout' })).toBeGreaterThanOrEqual(2);
    expect(metrics.get('ingest_commit_failures_total', { reason: 'error' })).toBe(0);
    await writer.drain();
  }, 30_000);

  it('cancels a slow statement on the server, and lets maintenance raise its deadline for one connection', async () => {
    // statementMs 1000: the server cancels (57014), a timeout for the writer's count, and the connection stays.
    const slow = await db.pool.query('SELECT pg_sleep(1.2)').catch((e: unknown) => e);
    expect(slow).toMatchObject({ code: '57014' });
    expect(dbFailureKind(slow)).toBe('timeout');
    // Maintenance that legitimately runs longer than the pool's deadlines.
    const r = await withLongStatements(db.pool, 5000, async (query) => {
      await query('SELECT pg_sleep(1.7)'); // past QUERY_MS too
      return (await query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`)).rows[0].t;
    });
    expect(r).toBe('5s');
    // Back to the pool's deadline afterwards, on every connection.
    const settings = await Promise.all(
      [1, 2, 3].map(() => db.pool.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`)),
    );
    expect(settings.map((x) => x.rows[0].t)).toEqual(['1s', '1s', '1s']);
  }, 30_000);

  it('never hands out a connection that still waits for a timed-out statement', async () => {
    const client = await db.pool.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO dead_letters (topic, device_id, reason, size, payload) VALUES ('t', 'hs-x', 'probe', 1, 'x')`);
    server.pause();
    await expect(client.query('SELECT 1')).rejects.toThrow(/Query read timeout/);
    // Given back normally, as every caller's `finally` does: it must not come back to the next one.
    client.release();
    server.resume();
    // The next caller is outside that transaction, and its insert is gone with the connection.
    const r = await db.pool.query<{ tx: string | null }>('SELECT txid_current_if_assigned()::text AS tx');
    expect(r.rows[0].tx).toBeNull();
    expect((await db.pool.query(`SELECT 1 FROM dead_letters WHERE reason = 'probe'`)).rowCount).toBe(0);
  }, 30_000);
});
