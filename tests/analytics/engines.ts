// The two engines every storage suite runs on: a real plain PostgreSQL server started by the
// harness (no TimescaleDB: the time_bucket fallback), and the embedded TimescaleDB in memory.
import { openDatabase, type Database } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { startPostgres } from '../harness/postgres-server.js';

export interface OpenedEngine {
  db: Database;
  stop(): Promise<void>;
}

export async function plainPostgres(): Promise<OpenedEngine> {
  const server = await startPostgres();
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  return {
    db,
    async stop() {
      await db.close();
      await server.stop();
    },
  };
}

export async function embeddedTimescale(): Promise<OpenedEngine> {
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  return { db, stop: () => db.close() };
}
