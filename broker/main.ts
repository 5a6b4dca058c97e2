// Runs the broker alone, with the device registry in a PostgreSQL server (the many-machines shape,
// and on one machine a way to give broker and hub a core each):
//   DATABASE_URL=postgres://… HUB_MQTT_PASSWORD=… MQTT_PORT=1883 tsx broker/main.ts
// Then the hub alone: DATABASE_URL=… HUB_MQTT_URL=mqtt://127.0.0.1:1883 HUB_MQTT_PASSWORD=… tsx hub/main.ts
// The embedded engine cannot be shared this way: it serves one connection to one process
// (docs/decisions/002 and 005), so it runs broker and hub together (`npm start`).
// The broker does not migrate the schema (the hub does); it only reads the devices table.
import pg from 'pg';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { Metrics } from '../common/metrics.js';
import { startBroker } from './mqtt-broker.js';
import { defaultMaxVerifications } from './device-auth.js';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
if (!config.DATABASE_URL || !config.HUB_MQTT_PASSWORD) {
  logger.fatal('set DATABASE_URL (the device registry, a PostgreSQL server) and HUB_MQTT_PASSWORD (the hub\'s service account) to run the broker on its own');
  process.exit(2);
}
// Two connections: the registry preload and the rare lookup of a device not in the cache.
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
pool.on('error', (err) => logger.error({ mod: 'broker-main', err: err.message }, 'idle database connection failed'));
const metrics = new Metrics();
const broker = await startBroker({
  host: config.HOST,
  port: config.MQTT_PORT,
  topicRoot: config.TOPIC_ROOT,
  service: { username: config.HUB_MQTT_USERNAME, password: config.HUB_MQTT_PASSWORD },
  pool,
  metrics,
  logger,
  // A connect storm must leave a core to ingest (decision 006).
  maxVerifications: defaultMaxVerifications(),
}).catch((err: Error) => {
  logger.fatal({ err: err.message }, 'broker failed to start (is the schema migrated? start the hub once against this database)');
  process.exit(1);
});

// When forked (bench:ingest --split), the parent learns the port and may ask for the counters.
process.send?.({ ready: true, port: broker.port });
process.on('message', (m: { metrics?: boolean; reloadDevices?: boolean }) => {
  if (m.metrics) process.send?.({ metrics: metrics.snapshot() });
  if (m.reloadDevices) void broker.reloadDevices().then(() => process.send?.({ reloaded: true }));
});
const stop = async () => {
  await broker.stop();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
