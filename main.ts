// `npm start`: the whole system on one machine, embedded database and simulated district included.
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

try {
  await buildDashboard();
  const system = await startSystem({ config, logger });
  const url = system.httpUrl;
  logger.info({ dashboard: url, mqtt: system.mqttUrl, database: system.db.url }, 'grid dispatch hub running');
  console.log(`\n  指挥屏 / Command screen:  ${url}\n  MQTT broker:             ${system.mqttUrl}\n`);
  // The demo accounts are documented in the README; only the simulated district has them.
  if (config.SIM && config.AUTH_REQUIRED) console.log('  演示账号 / demo sign-in:  admin / grid-admin-2026  (others: README, "Command screen")\n');
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
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'failed to start');
  process.exit(1);
}
