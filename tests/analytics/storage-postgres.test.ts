// Storage and analytics on a real plain PostgreSQL server (no TimescaleDB): the extras are off
// and the same queries answer through the time_bucket fallback.
import { openDatabase } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { startPostgres } from '../harness/postgres-server.js';
import { storageSuite } from './storage-suite.js';

storageSuite('plain PostgreSQL', async () => {
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
