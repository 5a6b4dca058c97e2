// The KPI fast path against the raw path on the embedded TimescaleDB (WASM), in memory.
import { openDatabase } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { kpiFastSuite } from './kpi-fast-suite.js';

kpiFastSuite('embedded TimescaleDB', async () => {
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  return { db, stop: () => db.close() };
});
