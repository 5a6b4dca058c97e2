// The engines every storage suite runs on: a real PostgreSQL server and the embedded TimescaleDB
// in memory. The server is a plain PostgreSQL started by the harness (no TimescaleDB: the
// time_bucket fallback), or, when TEST_DATABASE_URL names one, a server someone already runs
// (typically TimescaleDB: compression, retention and continuous aggregates on a real server), in
// a scratch database created for the suite and dropped after it.
import { openDatabase, type Database } from '../../../storage/database.js';
import { silentLogger } from '../../../common/logger.js';
import { scratchDatabase, startPostgres } from '../../../testkit/postgres-server.js';

export interface OpenedEngine {
  db: Database;
  /** A server's connection string with its password (db.url hides it), to open the database again. */
  url?: string;
  stop(): Promise<void>;
}

/** postgres://user:pass@host:port/db of an existing server, or undefined (the default: start one here). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** What postgresServer() opens, for suite names (no password). */
export const postgresServerName = TEST_DATABASE_URL
  ? `the server in TEST_DATABASE_URL (${TEST_DATABASE_URL.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')})`
  : 'plain PostgreSQL';

/** The server engine of the suites: TEST_DATABASE_URL's server when set, else plainPostgres(). */
export function postgresServer(): Promise<OpenedEngine> {
  return TEST_DATABASE_URL ? existingServer(TEST_DATABASE_URL) : plainPostgres();
}

export async function plainPostgres(): Promise<OpenedEngine> {
  const server = await startPostgres();
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  return {
    db,
    url: server.url,
    async stop() {
      await db.close();
      await server.stop();
    },
  };
}

/** A scratch database on a server that is already running; nothing else on it is touched. */
export async function existingServer(serverUrl: string): Promise<OpenedEngine> {
  const scratch = await scratchDatabase(serverUrl);
  try {
    const db = await openDatabase({ DATABASE_URL: scratch.url, DATA_DIR: '' }, silentLogger);
    return {
      db,
      url: scratch.url,
      async stop() {
        await db.close();
        await scratch.drop();
      },
    };
  } catch (err) {
    await scratch.drop();
    throw err;
  }
}

export async function embeddedTimescale(): Promise<OpenedEngine> {
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  return { db, stop: () => db.close() };
}
