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
  close(): Promise<void>;
}

// int8 (count(*), bigserial) as JS number: our counts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>,
  logger: Logger,
  opts: { inMemory?: boolean } = {},
): Promise<Database> {
  const log = logger.child({ mod: 'database' });
  let embedded: EmbeddedDb | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedDb(opts.inMemory ? null : `${config.DATA_DIR}/pg`, logger);
    url = embedded.url;
  }
  // JIT off on a server: our queries are short and planned often; JIT compilation added ~100 ms to
  // KPI reports (bench:storage, 2026-11-25) and never paid back. The embedded engine has no JIT.
  const pool = new pg.Pool({ connectionString: url, max: embedded ? 1 : 8, idleTimeoutMillis: embedded ? 0 : 30000, ...(embedded ? {} : { options: '-c jit=off' }) });
  pool.on('error', (err) => log.error({ err: err.message }, 'idle database connection failed'));
  const timescale = await enableTimescale(pool, log);
  await migrate(pool, { timescale }, logger);
  const safeUrl = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log.info({ engine: embedded ? 'embedded' : 'server', timescale, url: safeUrl }, 'database ready');
  return {
    pool,
    timescale,
    engine: embedded ? 'embedded' : 'server',
    url: safeUrl,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

async function enableTimescale(pool: pg.Pool, log: Logger): Promise<boolean> {
  const available = await pool.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
  if (available.rowCount === 0) {
    log.warn('timescaledb extension not available: plain PostgreSQL, hypertables/compression/retention off');
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
