// broker/main.ts runs the broker alone against a PostgreSQL registry (the split shape of
// bench:ingest --split): a registered device gets CONNACK 0, the hub's service account too, a
// wrong secret gets 4; without DATABASE_URL it refuses to start and says why.
import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startPostgres } from '../harness/postgres-server.js';
import { registerDevices, type TestDevice } from '../support/builders.js';

const password = 'split-broker-service-password';
let server: Awaited<ReturnType<typeof startPostgres>>;
let db: Database;
let broker: ChildProcess;
let port = 0;
let device: TestDevice;

function startBrokerMain(env: Record<string, string>): ChildProcess {
  return fork(new URL('../../broker/main.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'silent', MQTT_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

beforeAll(async () => {
  server = await startPostgres();
  // The hub migrates the schema; the broker only reads it.
  db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  device = (await registerDevices(db.pool, ['m']))['hs-m']!;
  broker = startBrokerMain({ DATABASE_URL: server.url, HUB_MQTT_PASSWORD: password });
  port = await new Promise<number>((resolve, reject) => {
    broker.once('message', (m: { port?: number }) => (m.port ? resolve(m.port) : reject(new Error('no port'))));
    broker.once('exit', (code) => reject(new Error(`broker/main.ts exited with ${code}`)));
  });
}, 60_000);
afterAll(async () => {
  if (broker && broker.exitCode === null) {
    const exited = new Promise((r) => broker.once('exit', r));
    broker.kill('SIGTERM');
    await exited;
  }
  await db?.close();
  await server?.stop();
});

function connack(username: string, secret: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: username === 'hub' ? 'hub-test' : username, username, password: secret, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.once('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
  });
}

it('authenticates devices and the hub from the PostgreSQL registry', async () => {
  expect(await connack(device.id, device.secret)).toBe(0);
  expect(await connack('hub', password)).toBe(0);
  expect(await connack(device.id, 'not-the-secret-0000')).toBe(4);
});

it('refuses to start without DATABASE_URL, naming what is missing', async () => {
  const child = fork(new URL('../../broker/main.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: '', HUB_MQTT_PASSWORD: password, LOG_LEVEL: 'fatal', MQTT_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  expect(code).toBe(2);
  expect(out).toContain('DATABASE_URL');
});
