// A broker in conformance test mode for the Paho interoperability client tests (issue 16 item 6):
// clients without credentials get in, any topic but `test/nosubscribe`, nothing goes to ingest.
// Never a production setting (no configuration variable turns it on).
//   npx tsx tests/hostile/conformance-broker.ts [--port 1883]
// then, from a checkout of eclipse/paho.mqtt.testing:  python3 interoperability/client_test.py -p 1883
// (or tests/hostile/run-paho.sh /path/to/paho.mqtt.testing, which does both).
import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.js';
import { Metrics } from '../../common/metrics.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';

export async function startConformanceBroker(
  port = 0,
  logLevel = 'silent',
): Promise<{ broker: RunningBroker; db: Database; metrics: Metrics; stop(): Promise<void> }> {
  const logger = createLogger(logLevel);
  const db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, logger, { inMemory: true });
  const metrics = new Metrics();
  const broker = await startBroker({
    host: '127.0.0.1',
    port,
    topicRoot: 'grid/v1',
    service: { username: 'hub', password: 'conformance-service-password' },
    pool: db.pool,
    metrics,
    logger,
    ingest: async () => undefined,
    conformanceTest: true,
  });
  return {
    broker,
    db,
    metrics,
    async stop() {
      await broker.stop();
      await db.close();
    },
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '1883' }, 'log-level': { type: 'string', default: 'warn' } },
  });
  const b = await startConformanceBroker(Number(values.port), values['log-level']);
  console.log(`conformance broker on 127.0.0.1:${b.broker.port}`);
  const stop = () => void b.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
