// A connect storm: every device connects at once. Each must get CONNACK 0, the broker must never
// run more scrypt checks at once than its cap (so ingest keeps a core, BENCHMARKS.md), and a
// device reconnecting with the secret it proved must not cost another scrypt check.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';
import { ConcurrencyLimit } from '../../broker/verify-limit.js';
import { registerDevices, type TestDevice } from '../support/builders.js';

const service = { username: 'hub', password: 'storm-test-password-123' };
const CAP = 2;
let db: Database;
let broker: RunningBroker;
let metrics: Metrics;
let devices: TestDevice[];

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  // 20 suffixes → 60 devices (a handset, a door and a camera each).
  devices = Object.values(await registerDevices(db.pool, Array.from({ length: 20 }, (_, i) => `s${i}`)));
  metrics = new Metrics();
  broker = await startBroker({ host: '127.0.0.1', port: 0, topicRoot: 'grid/v1', service, pool: db.pool, metrics, logger: silentLogger, maxVerifications: CAP, ingest: async () => undefined });
});
afterAll(async () => {
  await broker?.stop();
  await db?.close();
});

/** CONNECT with the given secret; resolves with the CONNACK's return code, then disconnects. */
function connack(d: { id: string; secret: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: broker.port });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd !== 'connack') return;
      resolve(p.returnCode ?? -1);
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: d.id, clean: true, keepalive: 60, username: d.id, password: Buffer.from(d.secret) })),
    );
  });
}

describe('connect storm', () => {
  it('accepts every device, never running more than the cap of scrypt checks at once', async () => {
    const codes = await Promise.all(devices.map((d) => connack(d)));
    expect(codes).toEqual(devices.map(() => 0));
    expect(broker.verifications.peak).toBe(CAP); // the storm filled the cap and never went past it
    expect(broker.verifications.queued).toBe(0);
    expect(metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' })).toBe(devices.length);
  });

  it('lets a reconnect with the proven secret skip scrypt, and still refuses a wrong one', async () => {
    const d = devices[0]!;
    const before = metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' });
    expect(await connack(d)).toBe(0);
    expect(metrics.get('mqtt_auth_verifications_total', { via: 'cache' })).toBe(1);
    expect(metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' })).toBe(before);
    expect(await connack({ id: d.id, secret: 'not-the-secret-at-all' })).toBe(4);
    expect(await connack(d)).toBe(0); // a wrong attempt does not evict the proven secret
  });
});

describe('ConcurrencyLimit', () => {
  it('runs waiting tasks in arrival order and releases on failure', async () => {
    const limit = new ConcurrencyLimit(1);
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = [0, 1, 2].map((i) =>
      limit.run(
        () =>
          new Promise<void>((resolve, reject) => {
            order.push(i);
            gates.push(i === 1 ? () => reject(new Error('boom')) : resolve);
          }),
      ),
    );
    await Promise.resolve();
    expect(order).toEqual([0]);
    expect(limit.queued).toBe(2);
    gates[0]!();
    await tasks[0];
    await new Promise((r) => setImmediate(r));
    gates[1]!();
    await expect(tasks[1]).rejects.toThrow('boom');
    await new Promise((r) => setImmediate(r));
    gates[2]!();
    await tasks[2];
    expect(order).toEqual([0, 1, 2]);
    expect(limit.peak).toBe(1);
    expect(limit.running).toBe(0);
  });
});
