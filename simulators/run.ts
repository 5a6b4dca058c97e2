// Runs the simulators alone, against any broker. This is a main: it alone reads the environment.
//
//   npx tsx simulators/run.ts geojson > district.geojson     the demo district's regions
//   npx tsx simulators/run.ts seed                           write it into the store (DATABASE_URL or embedded)
//   npx tsx simulators/run.ts play [--url mqtt://…]          play every handset, door and camera
//   npx tsx simulators/run.ts load [--url …] [--rate 1] [--duration 60]   raw-socket load, SIM_HANDSETS connections
//
// Sizes and seed come from SIM_HANDSETS and SIM_SEED; the broker must know the demo devices
// (run `seed` against the hub's database first, or use a broker without auth).
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { openDatabase } from '../storage/database.js';
import { demoDistrictFromConfig } from './demo-district.js';
import { startDistrictSim } from './district-sim.js';
import { startLoad } from './load-generator.js';
import { seedDistrict } from './seed-district.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    rate: { type: 'string', default: '1' },
    duration: { type: 'string', default: '60' },
  },
});
const command = positionals[0] ?? 'play';
const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, process.stdout.isTTY);
const url = new URL(values.url ?? `mqtt://${config.HOST}:${config.MQTT_PORT}`);

/** Resolves on the first Ctrl-C or SIGTERM, so every mode can stop cleanly. */
const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const district = demoDistrictFromConfig(config);

switch (command) {
  case 'geojson':
    process.stdout.write(`${JSON.stringify(district.regions, null, 1)}\n`);
    break;
  case 'seed': {
    const db = await openDatabase(config, logger);
    const summary = await seedDistrict(db.pool, district);
    logger.info(summary, 'demo district seeded');
    await db.close();
    break;
  }
  case 'play': {
    const sim = await startDistrictSim({ mqttUrl: url.toString(), config, logger, clock: systemClock, district });
    await interrupted;
    await sim.stop();
    break;
  }
  case 'load': {
    const ac = new AbortController();
    void interrupted.then(() => ac.abort());
    const result = await startLoad({
      host: url.hostname,
      port: Number(url.port || 1883),
      devices: district.handsets,
      rateHz: Number(values.rate),
      durationS: Number(values.duration),
      topicRoot: config.TOPIC_ROOT,
      signal: ac.signal,
      onProgress: (p) => logger.info(p, 'load'),
    });
    logger.info(result, 'load finished');
    break;
  }
  default:
    logger.error(`unknown command ${command}: use geojson, seed, play or load`);
    process.exitCode = 2;
}
