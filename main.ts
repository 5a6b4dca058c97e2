// `npm start`: the whole system on one machine, embedded database and simulated district included.
// NODES=N (or auto) runs N nodes as node:cluster workers sharing the ports (node-cluster.ts).
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadConfig } from './common/config.js';
import { createLogger } from './common/logger.js';
import { buildDashboard } from './dashboard/build.js';
import { startSystem } from './system.js';

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
})();
const logger = createLogger(config.LOG_LEVEL, process.stdout.isTTY);
const nodes = config.NODES === 'auto' ? availableParallelism() : config.NODES;

if (nodes > 1 && cluster.isPrimary) {
  const { runPrimary } = await import('./node-cluster.js');
  await runPrimary(config, nodes, logger);
} else
  try {
    // A node of a cluster: the primary built the dashboard and stops us with SIGTERM.
    if (cluster.isPrimary) await buildDashboard();
    const system = await startSystem({ config, logger });
    const url = system.httpUrl;
    logger.info({ dashboard: url, mqtt: system.mqttUrl, database: system.db.url }, 'grid dispatch hub running');
    if (cluster.isPrimary) console.log(`\n  指挥屏 / Command screen:  ${url}\n  MQTT broker:             ${system.mqttUrl}\n`);
    // The demo accounts are documented in the README; only the simulated district has them.
    if (config.SIM && config.AUTH_REQUIRED)
      console.log('  演示账号 / demo sign-in:  admin / grid-admin-2026  (others: README, "Command screen")\n');
    // Forked by a test or a supervisor: say where we listen.
    process.send?.({ ready: true, mqttUrl: system.mqttUrl, httpUrl: url });
    let stopping = false;
    const shutdown = async (signal: string) => {
      // A second Ctrl-C means "now": what was not committed was not acknowledged either.
      if (stopping) process.exit(130);
      stopping = true;
      const t0 = Date.now();
      logger.info({ signal }, 'shutting down: no new connections, committing what was taken');
      await system.stop();
      logger.info({ ms: Date.now() - t0 }, 'stopped');
      process.exit(0);
    };
    // In a cluster, Ctrl-C reaches every process of the group: the primary turns it into one SIGTERM
    // per node, so a node's own SIGINT must not count as a second, forcing signal.
    process.on('SIGINT', () => (cluster.isWorker ? undefined : void shutdown('SIGINT')));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'failed to start');
    process.exit(1);
  }
