// Several nodes on one machine (NODES=auto|N): node:cluster workers, each a whole node (broker with
// ingest, hub, HTTP, Socket.IO, dispatch: system.ts), sharing the MQTT and HTTP ports; the kernel
// and the cluster module spread connections across them. They meet only in the database server and
// in Redis (README, "Several nodes"). This primary does what must happen once: check the settings,
// migrate the schema, make the device-secret key file, build the dashboard; then it starts the
// nodes, replaces one that dies, and stops them all on SIGTERM/SIGINT.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './common/config.js';
import type { Logger } from './common/logger.js';
import { loadDeviceSecretKey } from './common/secrets.js';
import { openDatabase } from './storage/database.js';
import { buildDashboard } from './dashboard/build.js';

interface NodeReady {
  ready: true;
  mqttUrl: string;
  httpUrl: string;
}

export async function runPrimary(config: Config, nodes: number, logger: Logger): Promise<void> {
  const log = logger.child({ mod: 'cluster' });
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    console.error(
      `NODES=${nodes} needs DATABASE_URL (a PostgreSQL/TimescaleDB server all nodes share; the embedded database serves one process) ` +
        'and REDIS_URL (task messages, takeovers and live screens cross nodes through it). Set both, or run NODES=1.',
    );
    process.exit(2);
  }
  // Once, before any node: the schema (migrations must not race) and the key every node verifies with.
  const db = await openDatabase(config, logger);
  await db.close();
  loadDeviceSecretKey(config);
  await buildDashboard();

  let stopping = false;
  const started = new Map<number, number>();
  const fork = (index: number): Worker => {
    // One simulated district for the whole machine, in node 0.
    const w = cluster.fork({ NODE_INDEX: String(index), SIM: index === 0 && config.SIM ? 'true' : 'false' });
    started.set(w.id, Date.now());
    w.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ node: index, code, signal }, 'node died; starting a new one (its devices reconnect to the others meanwhile)');
      // A node that dies at once would loop: wait a little before the next try.
      const lived = Date.now() - (started.get(w.id) ?? 0);
      setTimeout(() => fork(index), lived < 5000 ? 2000 : 0);
    });
    return w;
  };
  const workers = Array.from({ length: nodes }, (_, i) => fork(i));
  const first = await Promise.all(workers.map((w) => new Promise<NodeReady>((resolve) => w.once('message', (m: NodeReady) => resolve(m)))));
  const { mqttUrl, httpUrl } = first[0]!;
  log.info({ nodes, mqtt: mqttUrl, http: httpUrl }, 'nodes running');
  console.log(`\n  ${nodes} nodes / 节点\n  指挥屏 / Command screen:  ${httpUrl}\n  MQTT broker:             ${mqttUrl}\n`);
  process.send?.({ ready: true, mqttUrl, httpUrl, nodes });

  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    const t0 = Date.now();
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    await Promise.all(
      live.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.process.kill(signal);
          }),
      ),
    );
    log.info({ ms: Date.now() - t0 }, 'all nodes stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGTERM'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
