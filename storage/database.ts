// Opens the store: the embedded TimescaleDB by default, or the server named by DATABASE_URL
// (TimescaleDB when the extension is there, plain PostgreSQL with the time-series extras off).
import pg from 'pg';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { startEmbeddedDb, type EmbeddedDb } from './embedded-db.js';
import { migrate } from './migrate.js';

export interface Database {
  pool: pg.Pool;
  /** True when the timescaledb extension is installed in this database. */
  timescale: boolean;
  engine: 'embedded' | 'server';
  /** Connection string (without password) for tools that need their own client. */
  url: string;
  /** The deadlines the pool runs with (all 0 when opened with `timeouts: false`). */
  timeouts: DatabaseTimeouts;
  close(): Promise<void>;
}

/** How long the hub waits on its database before it calls a call failed (issue 13: a hung database). */
export interface DatabaseTimeouts {
  /** Opening a connection, and waiting for a free one of the pool (ms). */
  connectMs: number;
  /** The server's own statement_timeout (ms): it cancels the statement and the connection stays usable. */
  statementMs: number;
  /** Our deadline per query (ms), for a server that cannot answer at all (stopped, network gone). */
  queryMs: number;
  /** The server closes a session left idle inside a transaction this long (ms): its locks go with it. */
  idleInTransactionMs: number;
}

/**
 * A PostgreSQL/TimescaleDB server. The hub's statements take milliseconds; the longest measured are
 * a KPI region rebuild (1.5 s in one statement, BENCHMARKS) and a 5,000-row COPY commit under load
 * (well under 1 s): 30 s is twenty times that. Maintenance that may take minutes runs through
 * withLongStatements. Our own deadline fires only after the server's had its chance to cancel.
 */
export const SERVER_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({
  connectMs: 10_000,
  statementMs: 30_000,
  queryMs: 40_000,
  idleInTransactionMs: 60_000,
});

/**
 * The embedded engine: one connection (pool of 1) to a WASM backend in a worker thread, which also
 * runs the maintenance pass (hub/upkeep/storage-maintenance.ts): rollups and trail packing in
 * steps of 0.1-1.1 s, VACUUMs by hand, TimescaleDB's policy jobs. Everyone waits for that one
 * connection, so waiting for it gets the same bound as a statement. PGlite does not enforce
 * statement_timeout (single-user backend without timer signals: a 200 ms timeout let an 18 s
 * statement finish, 2026-12-03), and a statement we give up on still runs to its end in the worker,
 * so the deadline here detects a stuck engine rather than freeing it: generous, 120 s.
 */
export const EMBEDDED_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({
  connectMs: 120_000,
  statementMs: 0,
  queryMs: 120_000,
  idleInTransactionMs: 0,
});

const NO_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({ connectMs: 0, statementMs: 0, queryMs: 0, idleInTransactionMs: 0 });

export interface OpenDatabaseOptions {
  inMemory?: boolean;
  /** Overrides of the engine's defaults; false: no deadlines at all (bulk loads, benchmarks). */
  timeouts?: Partial<DatabaseTimeouts> | false;
}

// int8 (count(*), bigserial) as JS number: our counts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>,
  logger: Logger,
  opts: OpenDatabaseOptions = {},
): Promise<Database> {
  const log = logger.child({ mod: 'database' });
  let embedded: EmbeddedDb | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedDb(opts.inMemory ? null : `${config.DATA_DIR}/pg`, logger);
    url = embedded.url;
  }
  const timeouts: DatabaseTimeouts =
    opts.timeouts === false ? { ...NO_TIMEOUTS } : { ...(embedded ? EMBEDDED_TIMEOUTS : SERVER_TIMEOUTS), ...opts.timeouts };
  let timescale: boolean;
  try {
    // Setting up runs without deadlines, on its own connection closed before the pool opens (the
    // embedded engine takes one at a time): a migration on a big table may take minutes, once.
    const setup = new pg.Pool({ connectionString: url, max: 1 });
    try {
      timescale = await enableTimescale(setup, embedded !== null, log);
      await migrate(setup, { timescale }, logger);
    } finally {
      await setup.end();
    }
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const pool = new pg.Pool(poolConfig(url, embedded !== null, timeouts));
  pool.on('error', (err) => log.error({ err: err.message }, 'idle database connection failed'));
  dropAbandonedConnections(pool, log);
  if (embedded) {
    try {
      await firstConnection(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      await embedded.stop();
      throw err;
    }
  }
  const safeUrl = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log.info({ engine: embedded ? 'embedded' : 'server', timescale, url: safeUrl, timeouts }, 'database ready');
  return {
    pool,
    timescale,
    engine: embedded ? 'embedded' : 'server',
    url: safeUrl,
    timeouts,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

/**
 * The embedded engine takes one connection at a time and notices the setup connection's close a
 * moment after our side has: a connection opened in between is reset (ECONNRESET in 158 of 300 tries
 * back to back, 2026-12-03). Only the first connection of the pool meets that; it is retried.
 */
async function firstConnection(pool: pg.Pool): Promise<void> {
  for (let attempt = 1, delay = 10; ; attempt++, delay = Math.min(delay * 2, 200)) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      // Mostly ECONNRESET (Node's own connection limit); past the socket, pglite-socket answers
      // "Too many connections" as text, which pg reads as a broken message. A dead engine fails
      // every attempt and surfaces here after about 3 s.
      if (attempt >= 20) throw err;
    }
    // Back-off between connection attempts (waiting for the engine to let go of the setup connection).
    await new Promise((r) => setTimeout(r, delay));
  }
}

function poolConfig(url: string, embedded: boolean, t: DatabaseTimeouts): pg.PoolConfig {
  // JIT off on a server: our queries are short and planned often; JIT compilation added ~100 ms to
  // KPI reports (bench:storage, 2026-11-25) and never paid back. The embedded engine has no JIT.
  const server = embedded
    ? {}
    : {
        options: '-c jit=off',
        ...(t.statementMs > 0 ? { statement_timeout: t.statementMs } : {}),
        ...(t.idleInTransactionMs > 0 ? { idle_in_transaction_session_timeout: t.idleInTransactionMs } : {}),
      };
  return {
    connectionString: url,
    max: embedded ? 1 : 8,
    idleTimeoutMillis: embedded ? 0 : 30000,
    ...(t.connectMs > 0 ? { connectionTimeoutMillis: t.connectMs } : {}),
    ...(t.queryMs > 0 ? { query_timeout: t.queryMs } : {}),
    // A server that vanishes from the network (host down, NAT dropped the flow) while a connection
    // is idle in the pool is found by the kernel's probes instead of by the next commit.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...server,
  };
}

/**
 * pg's query_timeout fails the caller's promise but leaves the query on the wire: the connection is
 * still waiting for the answer, and a caller that releases it normally (as every `pool.connect()`
 * user does in its `finally`) would hand the next caller a connection that answers the old query
 * first, or one left inside an open transaction. A connection given back while a query is still
 * outstanding is closed instead (client.end() destroys the socket when a query is active, and the
 * pool drops an ending client). `readyForQuery` is pg's own flag for "no query outstanding".
 */
function dropAbandonedConnections(pool: pg.Pool, log: Logger): void {
  pool.on('connect', (client) => {
    // A checked-out connection whose socket dies emits 'error' with nobody listening (pg-pool
    // listens only while it is idle), which would crash the process; its queries fail anyway.
    client.on('error', (err) => log.warn({ err: err.message }, 'database connection lost'));
  });
  pool.on('release', (err, client) => {
    if (err) return; // dropped by the pool already
    if ((client as unknown as { readyForQuery?: boolean }).readyForQuery === false) {
      log.warn('closing a database connection that still had a query outstanding (timed out)');
      void client.end().catch(() => undefined);
    }
  });
}

/** Why a call failed, for the retry's log and its metric label. */
export function dbFailureKind(err: unknown): 'timeout' | 'error' {
  const e = err as { code?: string; message?: string } | null;
  // 57014: canceled by statement_timeout; 55P03: lock_timeout; 25P03: idle_in_transaction_session_timeout.
  if (e?.code === '57014' || e?.code === '55P03' || e?.code === '25P03') return 'timeout';
  const m = e?.message ?? '';
  // pg's query_timeout, pg-pool's connectionTimeoutMillis (waiting for a pooled or a new connection).
  if (/Query read timeout|timeout exceeded when trying to connect|Connection terminated due to connection timeout/.test(m))
    return 'timeout';
  return 'error';
}

/**
 * True when our own deadline (query_timeout) ended the call: the statement may still be running
 * and its connection is unusable until dropped. A ROLLBACK sent on it would queue behind the
 * statement and wait out a deadline of its own; releasing the client drops it instead.
 */
export function isAbandonedQuery(err: unknown): boolean {
  return /Query read timeout/.test((err as Error | null)?.message ?? '');
}

/**
 * Runs `fn` on one connection whose deadlines are raised to `ms` (server: statement_timeout for
 * the session, restored after; ours: query_timeout per statement), for maintenance that may
 * legitimately take minutes: compressing chunks, TimescaleDB's policy jobs, VACUUM. Not a
 * transaction: CALL run_job commits inside (a compression job commits per chunk).
 */
export async function withLongStatements<T>(pool: pg.Pool, ms: number, fn: (query: LongQuery) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let drop: Error | undefined;
  try {
    await client.query(`SET statement_timeout = ${Math.max(0, Math.round(ms))}`);
    return await fn(<R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      // query_timeout per query is pg's (client.js); @types/pg leaves it out of QueryConfig.
      const config: pg.QueryConfig<unknown[]> & { query_timeout: number } = { text, values, query_timeout: ms };
      return client.query<R, unknown[]>(config);
    });
  } catch (err) {
    if (isAbandonedQuery(err)) drop = err as Error;
    throw err;
  } finally {
    // A failed statement leaves the session usable and RESET restores the pool's deadline; an
    // abandoned one does not, nor does a session that cannot RESET: the pool drops those.
    if (!drop) await client.query('RESET statement_timeout').catch((e: Error) => (drop = e));
    client.release(drop);
  }
}

export type LongQuery = <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** What the server says about the extension; a role that may not read the preload list gets null there. */
export interface TimescaleProbe {
  available: boolean;
  installed: boolean;
  preloaded: boolean | null;
}

/**
 * Whether to use TimescaleDB on a server. Installed in this database: yes (it worked for whoever
 * installed it). Available but not preloaded: no, and the extension is not even tried; CREATE
 * EXTENSION there fails (TimescaleDB must be in shared_preload_libraries) and a server whose
 * machine merely has the package installed, like the test harness's plain PostgreSQL, stays plain.
 */
export function timescaleDecision(p: TimescaleProbe): 'use' | 'create' | 'plain-missing' | 'plain-not-preloaded' {
  if (p.installed) return 'use';
  if (!p.available) return 'plain-missing';
  if (p.preloaded === false) return 'plain-not-preloaded';
  return 'create';
}

async function enableTimescale(pool: pg.Pool, embedded: boolean, log: Logger): Promise<boolean> {
  // The embedded build is TimescaleDB's own (loaded by the worker at start).
  if (embedded) {
    await pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    return true;
  }
  const r = await pool.query<{ available: boolean; installed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed`,
  );
  let preloaded: boolean | null = null;
  try {
    const s = await pool.query<{ v: string }>(`SELECT current_setting('shared_preload_libraries') AS v`);
    preloaded = s.rows[0].v.split(',').some((lib) => lib.trim().replace(/^"|"$/g, '') === 'timescaledb');
  } catch {
    // Only superusers and pg_read_all_settings may read it: then CREATE EXTENSION tells.
  }
  const decision = timescaleDecision({ ...r.rows[0], preloaded });
  if (decision === 'use') return true;
  if (decision === 'plain-missing') {
    log.warn('timescaledb extension not available: plain PostgreSQL, hypertables/compression/retention off');
    return false;
  }
  if (decision === 'plain-not-preloaded') {
    log.warn(
      'timescaledb is installed on the server but not in shared_preload_libraries (add it and restart PostgreSQL); running on plain PostgreSQL',
    );
    return false;
  }
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    return true;
  } catch (err) {
    // Typically: not in shared_preload_libraries. Say what to do, then carry on without it.
    log.warn(
      { err: (err as Error).message },
      'timescaledb could not be enabled (add it to shared_preload_libraries and restart PostgreSQL); running on plain PostgreSQL',
    );
    return false;
  }
}
