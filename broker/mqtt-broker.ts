// The MQTT broker (Aedes over TCP): authentication, topic ACL, packet size cap and counters.
// Presence is the device's own retained message plus its last will; the broker adds nothing.
import net from 'node:net';
import { Aedes } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { maxTopicDepth } from '../protocol/topics.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/schemas.js';
import { DeviceAuth, type ServiceAccount } from './device-auth.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { MqttConnection } from './mqtt-connection.js';
import { TopicAcl } from './topic-acl.js';
import { guardPublishBacklog } from './publish-backlog.js';
import { installOutgoingQueues } from './outgoing-queues.js';

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
}

export interface RunningBroker {
  port: number;
  aedes: Aedes;
  /** Password checks: `peak` is the most that ever ran at once. */
  verifications: { readonly max: number; readonly peak: number; readonly queued: number };
  /** Re-reads every device's credentials in one query (after registering many devices at once,
   *  so their first connects cost no query each). */
  reloadDevices(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.logger.child({ mod: 'broker' });
  const auth = new DeviceAuth(opts.pool, opts.service, opts.metrics, log, opts.maxVerifications);
  await auth.preload();
  const acl = new TopicAcl(opts.topicRoot, (c) => auth.identities.get(c), opts.metrics, log);
  const aedes = await Aedes.createBroker({
    authenticate: auth.authenticate,
    authorizePublish: acl.authorizePublish,
    authorizeSubscribe: acl.authorizeSubscribe,
    maxClientsIdLength: 64,
    maxTopicLevels: maxTopicDepth(opts.topicRoot),
    connectTimeout: 10_000,
    concurrency: DELIVERY_CONCURRENCY,
  });
  // A backlog must hold publishers back, never overflow the stack (mcollina/mqemitter#204).
  guardPublishBacklog(aedes, { metrics: opts.metrics, logger: log });
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  log.info({ host: opts.host, port }, 'mqtt broker listening');

  return {
    port,
    aedes,
    verifications: auth.verifications,
    reloadDevices: () => auth.preload(),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      log.info('mqtt broker stopped');
    },
  };
}
