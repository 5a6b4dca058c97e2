// A hub killed mid-stream (SIGKILL, no goodbye) and restarted loses no fix the broker acknowledged
// to a handset: the hub acks only after commit, so the broker redelivers the rest to the
// persistent session. Real PostgreSQL server, real broker, hub in its own process.
import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';
import { startPostgres } from '../harness/postgres-server.js';
import { eventually, registerDevices } from '../support/builders.js';

let pg: Awaited<ReturnType<typeof startPostgres>>;
let db: Database;
let broker: RunningBroker;
const service = { username: 'hub', password: 'crash-test-password-123' };

beforeAll(async () => {
  pg = await startPostgres();
  db = await openDatabase({ DATABASE_URL: pg.url, DATA_DIR: '' }, silentLogger);
  await registerDevices(db.pool, ['k']);
  broker = await startBroker({ host: '127.0.0.1', port: 0, topicRoot: 'grid/v1', service, pool: db.pool, metrics: new Metrics(), logger: silentLogger });
});
afterAll(async () => {
  await broker?.stop();
  await db?.close();
  await pg?.stop();
});

function startHub(): Promise<ChildProcess> {
  const child = fork('hub/main.ts', [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      HUB_MQTT_URL: `mqtt://127.0.0.1:${broker.port}`,
      HUB_MQTT_PASSWORD: service.password,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      SIM: 'false',
      BATCH_MAX_WAIT_MS: '200',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`hub exited early with ${code}`)));
  });
}

it('loses no acknowledged fix when the hub is killed and restarted', async () => {
  let hub = await startHub();
  const handset = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    clientId: 'hs-k',
    username: 'hs-k',
    password: 'secret-hs-k-0123456789',
  });
  const acked: number[] = [];
  const base = Date.parse('2026-11-25T09:00:00Z');
  const send = async (i: number) => {
    await handset.publishAsync('grid/v1/devices/hs-k/location', JSON.stringify({ ts: base + i * 1000, lat: 27.87, lon: 113.12, seq: i }), { qos: 1 });
    acked.push(i);
  };
  // Stream, kill the hub while fixes are in flight, keep streaming while it is down, restart it.
  const stream = (async () => {
    for (let i = 0; i < 600; i++) await send(i);
  })();
  await eventually(() => acked.length, (n) => n >= 150, 20_000, '150 acks before the kill');
  hub.kill('SIGKILL');
  await new Promise((r) => hub.once('exit', r));
  await eventually(() => acked.length, (n) => n >= 300, 20_000, 'acks while the hub is down');
  hub = await startHub();
  await stream;
  const rows = await eventually(
    async () => (await db.pool.query(`SELECT seq FROM positions WHERE device_id = 'hs-k' ORDER BY seq`)).rows.map((r) => Number(r.seq)),
    (seqs) => seqs.length >= acked.length,
    30_000,
    'every acknowledged fix in the database',
  );
  expect(rows).toEqual(acked.slice().sort((a, b) => a - b));
  hub.kill('SIGTERM');
  await new Promise((r) => hub.once('exit', r));
  await handset.endAsync();
});
