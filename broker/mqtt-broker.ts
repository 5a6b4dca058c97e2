// The MQTT broker (Aedes over TCP): authentication, topic ACL, packet size cap and counters.
// Presence is the device's own retained message plus its last will; the broker adds nothing.
import net from 'node:net';
import { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { maxTopicDepth } from '../protocol/topics.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/schemas.js';
import { DeviceAuth, type ServiceAccount } from './device-auth.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { TopicAcl } from './topic-acl.js';

/** Above the hub's payload limit, so an oversize payload still reaches the hub's dead letters;
 *  anything bigger than this never gets buffered at all. */
export const MAX_PACKET_BYTES = 4 * MAX_PAYLOAD_BYTES;

export interface BrokerOptions {
  host: string;
  port: number;
  topicRoot: string;
  service: ServiceAccount;
  pool: Pick<pg.Pool, 'query'>;
  metrics: Metrics;
  logger: Logger;
}

export interface RunningBroker {
  port: number;
  aedes: Aedes;
  stop(): Promise<void>;
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.logger.child({ mod: 'broker' });
  const auth = new DeviceAuth(opts.pool, opts.service, opts.metrics, log);
  await auth.preload();
  const acl = new TopicAcl(opts.topicRoot, (c) => auth.identities.get(c), opts.metrics, log);
  const aedes = await Aedes.createBroker({
    authenticate: auth.authenticate,
    authorizePublish: acl.authorizePublish,
    authorizeSubscribe: acl.authorizeSubscribe,
    maxClientsIdLength: 64,
    maxTopicLevels: maxTopicDepth(opts.topicRoot),
    connectTimeout: 10_000,
  });

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
    // Aedes reads the guarded bytes and writes its answers straight back to the socket.
    const conn = Duplex.from({ readable: guard, writable: socket });
    conn.on('error', () => socket.destroy());
    conn.on('close', () => socket.destroy());
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
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      log.info('mqtt broker stopped');
    },
  };
}
