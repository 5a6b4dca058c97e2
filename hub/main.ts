// Runs the hub alone, against a broker and a database that run elsewhere (the many-machines shape):
//   DATABASE_URL=… HUB_MQTT_URL=mqtt://broker:1883 HUB_MQTT_PASSWORD=… tsx hub/main.ts
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { Metrics } from '../common/metrics.js';
import { openDatabase } from '../storage/database.js';
import { Hub } from './hub.js';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
if (!config.HUB_MQTT_URL || !config.HUB_MQTT_PASSWORD) {
  logger.fatal('set HUB_MQTT_URL (e.g. mqtt://127.0.0.1:1883) and HUB_MQTT_PASSWORD to run the hub on its own');
  process.exit(2);
}
const broker = new URL(config.HUB_MQTT_URL);
const db = await openDatabase(config, logger);
const hub = new Hub({
  config,
  pool: db.pool,
  timescale: db.timescale,
  embedded: db.engine === 'embedded',
  metrics: new Metrics(),
  logger,
  mqtt: { host: broker.hostname, port: Number(broker.port || 1883), username: config.HUB_MQTT_USERNAME, password: config.HUB_MQTT_PASSWORD },
});
await hub.start();
process.send?.({ ready: true, httpPort: hub.httpPort });
const stop = async () => {
  await hub.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
