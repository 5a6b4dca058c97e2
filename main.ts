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
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await system.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'failed to start');
  process.exit(1);
}
