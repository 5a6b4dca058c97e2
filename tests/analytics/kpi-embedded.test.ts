// Governance KPIs on the embedded TimescaleDB (WASM), in memory.
import { openDatabase } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { kpiSuite } from './kpi-suite.js';

kpiSuite('embedded TimescaleDB', async () => {
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  return { db, stop: () => db.close() };
});
