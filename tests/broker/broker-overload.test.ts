// Overload degrades into backpressure, never a crash. A persistent QoS 1 subscriber (the hub)
// stops reading while devices keep publishing; the broker's delivery queue (mqemitter) fills, and
// when that subscriber's connection then drops, the queued deliveries finish synchronously. Before
// broker/publish-backlog.ts this recursed once per queued message and overflowed the stack
// (`RangeError: Maximum call stack size exceeded` in qlobber, mcollina/mqemitter#204), killing
// the process; now the backlog is counted, drains, and the broker keeps serving.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.js';
import { eventually, registerDevices, type TestDevice } from '../../testkit/builders.js';

const service = { username: 'hub', password: 'overload-test-password-123' };
const PUBLISHERS = 24;
let db: Database;
let broker: RunningBroker;
let metrics: Metrics;
let devices: TestDevice[];

beforeAll(async () => {
  db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
  const registered = await registerDevices(
    db.pool,
    Array.from({ length: PUBLISHERS }, (_, i) => `o${i}`),
  );
  devices = Object.values(registered).filter((d) => d.kind === 'handset');
  metrics = new Metrics();
  broker = await startBroker({
    host: '127.0.0.1',
    port: 0,
    topicRoot: 'grid/v1',
    service,
    pool: db.pool,
    metrics,
    logger: silentLogger,
    ingest: async () => undefined,
  });
});
afterAll(async () => {
  await broker?.stop();
  await db?.close();
});

/** A raw MQTT connection; resolves once the CONNACK (and the SUBACK, if subscribing) is in. */
function rawClient(opts: {
  clientId: string;
  username: string;
  password: string;
  clean: boolean;
  subscribe?: string;
}): Promise<{ socket: net.Socket; acks: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: broker.port });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let acks = 0;
    const ready = () => resolve({ socket, acks: () => acks });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        if (p.returnCode !== 0) return reject(new Error(`connack ${p.returnCode}`));
        if (!opts.subscribe) return ready();
        socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: opts.subscribe, qos: 1 }] }));
      } else if (p.cmd === 'suback') ready();
      else if (p.cmd === 'puback') acks++;
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
    socket.on('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: opts.clean,
          clientId: opts.clientId,
          keepalive: 0,
          username: opts.username,
          password: Buffer.from(opts.password),
        }),
      ),
    );
  });
}

it('holds publishers back while the subscriber is slow and survives the subscriber dropping with a full queue', async () => {
  const hub = await rawClient({ clientId: 'hub-overload', ...service, clean: false, subscribe: 'grid/v1/devices/+/location' });
  hub.socket.pause(); // the hub stops reading, as it does while its database is slow

  const publishers = await Promise.all(devices.map((d) => rawClient({ clientId: d.id, username: d.id, password: d.secret, clean: true })));
  // Each device pipelines fixes without waiting for PUBACKs, far more than the sockets can buffer.
  const perDevice = 4000;
  publishers.forEach((p, k) => {
    const id = devices[k]!.id;
    const packets: Buffer[] = [];
    for (let i = 0; i < perDevice; i++) {
      const payload = Buffer.from(JSON.stringify({ ts: 1_795_000_000_000 + i * 1000, lat: 27.87, lon: 113.12, acc: 5, seq: i }));
      packets.push(
        mqttPacket.generate({
          cmd: 'publish',
          topic: `grid/v1/devices/${id}/location`,
          payload,
          qos: 1,
          messageId: (i % 65535) + 1,
          retain: false,
          dup: false,
        }),
      );
    }
    p.socket.write(Buffer.concat(packets));
  });

  // The broker's delivery queue fills up and stays full: publishers are held back, and counted.
  // (Read from aedes' emitter itself, so the test means the same without the guard.)
  const backlog = () => (broker.aedes as unknown as { mq: { length: number } }).mq.length;
  await eventually(backlog, (n) => n >= 5000, 30_000, 'a publish backlog of 5,000');
  const gaugedBacklog = metrics.snapshot()['mqtt_publish_backlog'];
  const ackedWhileHeld = publishers.reduce((s, p) => s + p.acks(), 0);
  expect(ackedWhileHeld).toBeLessThan(PUBLISHERS * perDevice);

  // The slow subscriber goes away (aedes' drain timeout does the same to a hub stuck for 60 s).
  hub.socket.destroy();

  // The backlog drains into the offline session instead of the stack, and the broker still serves.
  await eventually(
    () => publishers.reduce((s, p) => s + p.acks(), 0),
    (n) => n === PUBLISHERS * perDevice,
    60_000,
    'every publish acknowledged',
  );
  await eventually(backlog, (n) => n === 0, 30_000, 'the backlog drained');
  // …and the overload was visible: gauged while it lasted, counted, and the stack kept flat.
  expect(gaugedBacklog).toBeGreaterThanOrEqual(5000);
  expect(metrics.total('mqtt_publish_backpressure_total')).toBeGreaterThanOrEqual(5000);
  expect(metrics.total('mqtt_publish_deferred_total')).toBeGreaterThan(0);
  const late = await rawClient({ clientId: 'hub-overload-2', ...service, clean: true });
  expect(late.socket.destroyed).toBe(false);
  late.socket.destroy();
  for (const p of publishers) p.socket.destroy();
}, 120_000);
