// The MQTT broker (Aedes over TCP): authentication, topic ACL, packet size cap and counters, and
// ingest inside the broker: a device's message is acknowledged once it is committed (ingest-gate.ts).
// Presence is the device's own retained message plus its last will; the broker adds nothing.
//
// Two steps so that no device is let in before the path to the database is in place (issue 13):
// `createBroker` builds it, `listen` opens the port and the ingest gate. `stop` runs the data's way
// backwards: no new connections or publishes, what was taken is committed and acknowledged, then the
// connections close.
import net from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { maxTopicDepth } from '../protocol/topics.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/schemas.js';
import { DeviceAuth, type ServiceAccount } from './device-auth.js';
import type { DeviceSecretKey } from '../common/secrets.js';
import type { BackoffPolicy } from './verify-limit.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { MqttConnection } from './mqtt-connection.js';
import { TopicAcl } from './topic-acl.js';
import { guardPublishBacklog } from './publish-backlog.js';
import { installOutgoingQueues } from './outgoing-queues.js';
import { IngestGate, type IngestSink } from './ingest-gate.js';
import mqemitter from 'mqemitter';
import { createRoutedMq, DEVICE_CHANGED_TOPIC } from './routed-mq.js';

/** Above the hub's payload limit, so an oversize payload still reaches the hub's dead letters;
 *  anything bigger than this never gets buffered at all. */
export const MAX_PACKET_BYTES = 4 * MAX_PAYLOAD_BYTES;

/**
 * Deliveries in flight at once (aedes `concurrency`, default 100). Each delivery takes at least two
 * event-loop turns (aedes defers the write and its callback with setImmediate), so 100 capped the
 * broker at 50 deliveries per turn: on a loop busy with 3,400 device sockets (20–60 ms a turn)
 * that is below 3,400/s, and the hub fell behind although the CPU was not saturated
 * (`bench:ingest`, 62 % CPU, commits of 58 ms, backlog growing). Beyond this the backlog holds
 * publishers back (broker/publish-backlog.ts).
 */
const DELIVERY_CONCURRENCY = 2000;

export interface BrokerOptions {
  host: string;
  port: number;
  topicRoot: string;
  service: ServiceAccount;
  pool: Pick<pg.Pool, 'query'>;
  metrics: Metrics;
  logger: Logger;
  /** scrypt password checks at once (broker/verify-limit.ts). Default 4 (libuv's pool, as before);
   *  `defaultMaxVerifications()` (cores − 1) with a PostgreSQL server, see decision 006. */
  maxVerifications?: number;
  /** Where devices' upstream messages go; the PUBACK waits for it (ingest-gate.ts). */
  ingest: IngestSink;
  /** How long a stop waits for taken messages to commit before it closes the connections anyway. */
  drainTimeoutMs?: number;
  /** Several nodes: task messages and takeover notices cross nodes through this Redis (routed-mq.ts). */
  redisUrl?: string;
  /** HMAC key of device secrets (common/secrets.ts loadDeviceSecretKey; issue 14). */
  deviceSecretKey?: DeviceSecretKey;
  /** Password-guessing backoff (broker/verify-limit.ts); tests shorten it. */
  authBackoff?: Partial<BackoffPolicy>;
}

export interface RunningBroker {
  /** The bound port; 0 until `listen`. */
  port: number;
  aedes: Aedes;
  /** Opens the port and the ingest gate: call once the hub is ready to commit. */
  listen(): Promise<void>;
  /** Publishes to devices (task messages) at QoS 1; resolves once the broker has taken it. */
  publish(topic: string, payload: string | Buffer): Promise<void>;
  /** Ready: listening, and the ingest gate open. */
  readonly listening: boolean;
  /** Device messages taken and not yet committed. */
  readonly ingestInFlight: number;
  /** Password checks: `peak` is the most that ever ran at once. */
  verifications: { readonly max: number; readonly peak: number; readonly queued: number };
  /** Re-reads every device's credentials in one query (after registering many devices at once,
   *  so their first connects cost no query each). */
  reloadDevices(): Promise<void>;
  /** The registry changed this device: reload its credentials, close its connection if it was
   *  deleted, disabled, re-keyed or changed kind (issue 15). */
  deviceChanged(deviceId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Builds and listens at once (tests of the broker alone). */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const broker = await createBroker(opts);
  await broker.listen();
  return broker;
}

export async function createBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.logger.child({ mod: 'broker' });
  const auth = new DeviceAuth(opts.pool, opts.service, opts.metrics, log, { maxVerifications: opts.maxVerifications, key: opts.deviceSecretKey, backoff: opts.authBackoff });
  await auth.preload();
  const acl = new TopicAcl(opts.topicRoot, (c) => auth.identities.get(c), opts.metrics, log);
  const gate = new IngestGate(opts.ingest, opts.metrics, log);
  // The ACL decides; a device's allowed message then goes to ingest and is answered after commit.
  // The service account's publishes (none upstream) pass straight through.
  const authorizePublish = (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    acl.authorizePublish(client, packet, (err) => {
      if (err) return done(err);
      const who = client ? auth.identities.get(client) : undefined;
      if (who?.service) return done(null);
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      gate.admit(packet.topic, payload, done);
    });
  };
  const routed = opts.redisUrl
    ? createRoutedMq({
        topicRoot: opts.topicRoot, redisUrl: opts.redisUrl, concurrency: DELIVERY_CONCURRENCY,
        onError: (err) => log.warn({ err: err.message }, 'redis (cross-node tasks and takeovers) unavailable; retrying'),
      })
    : null;
  // Our own emitter even on one node: the publish backlog guard wraps it, and the registry's notice
  // travels on it (the same options Aedes would give its default one).
  const local = routed?.local ?? mqemitter({ concurrency: DELIVERY_CONCURRENCY, matchEmptyLevels: true });
  const mq = routed?.mq ?? local;
  const aedes = await Aedes.createBroker({
    mq,
    authenticate: auth.authenticate,
    authorizePublish,
    authorizeSubscribe: acl.authorizeSubscribe,
    maxClientsIdLength: 64,
    maxTopicLevels: maxTopicDepth(opts.topicRoot),
    connectTimeout: 10_000,
    concurrency: DELIVERY_CONCURRENCY,
  });
  mq.on(DEVICE_CHANGED_TOPIC, (packet, done) => {
    auth.deviceChanged(String(packet.payload)).then(
      () => done(),
      (err: Error) => {
        log.error({ err: err.message }, 'device change not applied');
        done();
      },
    );
  });
  // A backlog must hold publishers back, never overflow the stack (mcollina/mqemitter#204).
  guardPublishBacklog(aedes, { metrics: opts.metrics, logger: log, mq: local });
  const outgoing = installOutgoingQueues(aedes);
  opts.metrics.gauge('mqtt_unacked_messages', () => outgoing.pending(), 'QoS 1 messages delivered to persistent sessions and not yet acknowledged');

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const guard = new PacketSizeGuard(MAX_PACKET_BYTES, (announced) => {
      opts.metrics.inc('mqtt_rejected_total', { reason: 'oversize_packet' });
      log.warn({ remote: socket.remoteAddress, announced, max: MAX_PACKET_BYTES }, 'mqtt packet too large: connection closed');
      socket.destroy();
    });
    socket.pipe(guard);
    // Aedes reads the guarded bytes and writes its answers back to the socket, coalesced.
    const conn = new MqttConnection(socket, guard);
    auth.addresses.set(conn, socket.remoteAddress ?? 'unknown'); // password-guessing backoff per address
    conn.on('error', () => socket.destroy());
    aedes.handle(conn);
  });

  aedes.on('clientError', (client, err) => {
    opts.metrics.inc('mqtt_client_errors_total');
    log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (client, err) => {
    opts.metrics.inc('mqtt_rejected_total', { reason: 'malformed_packet' });
    log.warn({ clientId: client?.id, err: err.message }, 'mqtt connection error (malformed packet?)');
  });
  opts.metrics.gauge('mqtt_connected_clients', () => aedes.connectedClients, 'MQTT clients connected to this broker');

  let listening = false;
  const running: RunningBroker = {
    port: 0,
    aedes,
    get listening() {
      return listening && gate.isOpen;
    },
    get ingestInFlight() {
      return gate.inFlight;
    },
    verifications: auth.verifications,
    reloadDevices: () => auth.preload(),
    // Every node must hear it (the device may be connected to any): a notice on the broker's
    // emitter, which crosses nodes through Redis when there is one (routed-mq.ts).
    deviceChanged: (deviceId) =>
      new Promise<void>((resolve, reject) => {
        mq.emit({ topic: DEVICE_CHANGED_TOPIC, payload: Buffer.from(deviceId) }, (err?: Error) => (err ? reject(err) : resolve()));
      }),
    async listen() {
      gate.open();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => resolve());
      });
      running.port = (server.address() as net.AddressInfo).port;
      listening = true;
      log.info({ host: opts.host, port: running.port }, 'mqtt broker listening');
    },
    publish(topic, payload) {
      return new Promise((resolve, reject) => {
        const packet = { cmd: 'publish' as const, topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: 1 as const, retain: false, dup: false };
        aedes.publish(packet, (err) => (err ? reject(err) : resolve()));
      });
    },
    async stop() {
      const started = Date.now();
      // 1. No new connections, no new publishes (refused ones are not acknowledged).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      listening = false;
      // 2. What was taken is committed, and its PUBACKs go out.
      const uncommitted = await gate.close(opts.drainTimeoutMs ?? 10_000);
      // Aedes writes a PUBACK a turn or two after the hook answers (it defers writes with setImmediate).
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      // 3. Then the connections close: end() lets the PUBACKs just written leave first.
      await Promise.all(
        [...sockets].map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.destroyed) return resolve();
              s.once('close', () => resolve());
              s.end();
              setTimeout(() => s.destroy(), 1000).unref();
            }),
        ),
      );
      await closed;
      await auth.stop();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      log.info({ ms: Date.now() - started, uncommitted }, 'mqtt broker stopped');
    },
  };
  return running;
}
