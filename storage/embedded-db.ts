// The embedded default (DESIGN §6): PostgreSQL with TimescaleDB compiled to WASM, data on disk,
// served to `pg` over the PostgreSQL wire protocol on a loopback port.
//
// It runs in its own worker thread (embedded-db-worker.ts). WASM runs synchronously: on the main
// thread every statement stopped the broker, the hub and Socket.IO for as long as it took (a
// 2,000-row commit is tens to hundreds of milliseconds), and left the second core idle. In a
// worker the database gets its own core and the main thread only speaks the wire protocol.
// See docs/decisions/003-embedded-db-worker.md.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger.js';

/** What embedded-db-worker.mjs posts back. */
type EmbeddedDbWorkerMessage = { ready: true; conn: string } | { stopped: true } | { failed: string };

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

function nextMessage(worker: Worker): Promise<EmbeddedDbWorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: EmbeddedDbWorkerMessage) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(m);
    };
    const onError = (err: Error) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      reject(err);
    };
    const onExit = (code: number) => onError(new Error(`embedded database thread exited with code ${code}`));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}

/** dataDir null keeps the database in memory (tests that need no restart). */
export async function startEmbeddedDb(dataDir: string | null, logger: Logger): Promise<EmbeddedDb> {
  const log = logger.child({ mod: 'embedded-db' });
  const started = Date.now();
  const worker = new Worker(new URL('./embedded-db-worker.mjs', import.meta.url), { workerData: { dataDir } });
  const first = await nextMessage(worker);
  if (!('ready' in first)) {
    await worker.terminate();
    throw new Error(`embedded database failed to start: ${'failed' in first ? first.failed : 'unexpected message'}`);
  }
  worker.on('error', (err) => log.error({ err: err.message }, 'embedded database thread failed'));
  const url = `postgres://postgres@${first.conn}/postgres`;
  log.info({ dataDir: dataDir ?? '(memory)', ms: Date.now() - started }, 'embedded PostgreSQL + TimescaleDB started');
  return {
    url,
    async stop() {
      const stopped = nextMessage(worker);
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
      log.info('embedded database stopped');
    },
  };
}
