// The KPI fast path against the raw path on a real plain PostgreSQL server (no TimescaleDB: the time_bucket fallback).
import { openDatabase } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { startPostgres } from '../harness/postgres-server.js';
import { kpiFastSuite } from './kpi-fast-suite.js';

kpiFastSuite('plain PostgreSQL', async () => {
  const server = await startPostgres();
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  return {
    db,
    async stop() {
      await db.close();
      await server.stop();
    },
  };
});
