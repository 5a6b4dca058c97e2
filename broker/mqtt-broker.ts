// The MQTT broker (Aedes over TCP): authentication, topic ACL, packet size cap and counters, and
// ingest inside the broker: a device's message is acknowledged once it is committed (ingest-gate.ts).
// Presence is the device's own retained message plus its last will; the broker adds nothing.
//
// Two steps so that no device is let in before the path to the database is in place (issue 13):
// `createBroker` builds it, `listen` opens the port and the ingest gate. `stop` runs the data's way
// backwards: no new connections or publishes, what was taken is committed and acknowledged, then the
// connections close.
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { deviceTopic, maxTopicDepth } from '../protocol/topics.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/schemas.js';
import { DeviceAuth, type ServiceAccount } from './device-auth.js';
import type { DeviceSecretKey } from '../common/secrets.js';
import type { BackoffPolicy } from './verify-limit.js';
import type { UnauthenticatedLimits } from './packet-size-guard.js';
import { LogBudget } from '../common/log-budget.js';
import { DeviceListener } from './device-listener.js';
import { TopicAcl } from './topic-acl.js';
import { guardPublishBacklog } from './publish-backlog.js';
import { BrokerPersistence } from './broker-persistence.js';
import { IngestGate, type IngestSink } from './ingest-gate.js';
import mqemitter from 'mqemitter';
import { createRoutedMq, DEVICE_CHANGED_TOPIC, emitOn, nodeBusOn, REGIONS_CHANGED_TOPIC } from './routed-mq.js';
import { countRefusals } from './aedes-refusals.js';
import type { NodeBus } from '../common/node-bus.js';

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

/**
 * The longest keepalive the server honours (issue 16, item 5). MQTT 3.1.1 has no way to tell a
 * client so, and keepalive 0 means "never time out": a client that asks for 0 or for more than this
 * is closed after 1.5 × this without a packet (as Aedes closes its own at 1.5 × keepalive). 15 min
 * of silence, the idle timeout of the HAProxy example in the README. Aedes' `keepaliveLimit` is not
 * used: it refuses such CONNECTs with return code 6, which 3.1.1 does not define.
 */
export const MAX_KEEPALIVE_S = 600;

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
  /** A node's regions-changed notice (any node's, this one's too): system.ts hands it to the hub. */
  onRegionsChanged?(origin: string): void | Promise<void>;
  /** Password-guessing backoff (broker/verify-limit.ts); tests shorten it. */
  authBackoff?: Partial<BackoffPolicy>;
  /** Keepalive ceiling, seconds (MAX_KEEPALIVE_S); tests shorten it. */
  maxKeepaliveS?: number;
  /** Connections waiting for their CONNACK at once (DEFAULT_UNAUTHENTICATED); tests shorten it. */
  unauthenticated?: Partial<UnauthenticatedLimits>;
  /**
   * A device subscribed to its own tasks topic on a connection that began with no session here
   * (CONNACK sessionPresent 0: a clean session, a session held by another node, or one this node
   * lost when it restarted): nothing queued for it reaches it, so the hub sends its pending offers
   * again (hub/dispatch/dispatch-service.ts, resendPendingOffers).
   */
  onTasksListener?(deviceId: string): void;
  /** Conformance test mode ONLY (the Paho interoperability tests, tests/hostile/): clients with no
   *  username get in and may use any topic but `test/nosubscribe`. No configuration sets it. */
  conformanceTest?: boolean;
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
  /** A region tree was imported on node `origin`: every node hears it (opts.onRegionsChanged). */
  regionsChanged(origin: string): Promise<void>;
  /** Several nodes: notices every node hears, this one too (topics under NODE_BUS_FILTER); null on one node. */
  bus: NodeBus | null;
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
  const auth = new DeviceAuth(opts.pool, opts.service, opts.metrics, log, {
    maxVerifications: opts.maxVerifications,
    key: opts.deviceSecretKey,
    backoff: opts.authBackoff,
    allowAnonymous: opts.conformanceTest,
  });
  await auth.preload();
  if (opts.conformanceTest) log.warn('conformance test mode: clients without credentials are let in (never in production)');
  const acl = new TopicAcl(
    opts.topicRoot,
    (c) => auth.identities.get(c),
    opts.metrics,
    log,
    (c) => auth.anonymous.has(c),
  );
  const gate = new IngestGate(opts.ingest, opts.metrics, log);
  // The ACL decides; a device's allowed message then goes to ingest and is answered after commit.
  // The service account's publishes (none upstream) pass straight through.
  const authorizePublish = (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    const refused = acl.checkPublish(client, packet);
    if (refused) return done(refused);
    if (client && (auth.identities.get(client)?.service || auth.anonymous.has(client))) return done(null);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    gate.admit(packet.topic, payload, done);
  };
  const routed = opts.redisUrl
    ? createRoutedMq({
        topicRoot: opts.topicRoot,
        redisUrl: opts.redisUrl,
        concurrency: DELIVERY_CONCURRENCY,
        onError: (err) => log.warn({ err: err.message }, 'redis (cross-node tasks and takeovers) unavailable; retrying'),
      })
    : null;
  // Our own emitter even on one node: the publish backlog guard wraps it, and the registry's notice
  // travels on it (the same options Aedes would give its default one).
  const local = routed?.local ?? mqemitter({ concurrency: DELIVERY_CONCURRENCY, matchEmptyLevels: true });
  const mq = routed?.mq ?? local;
  const persistence = new BrokerPersistence();
  const aedes = await Aedes.createBroker({
    mq,
    persistence,
    preConnect: (client, packet, done) => {
      // Keepalive 0 or above the ceiling: the server's idle limit instead (issue 16, item 5).
      const link = listener.linkOf(client.conn);
      if (link && (!packet.keepalive || packet.keepalive > maxKeepaliveS)) {
        opts.metrics.inc('mqtt_keepalive_capped_total');
        link.guard.closeWhenIdle(maxKeepaliveS * 1500, () => {
          opts.metrics.inc('mqtt_clients_closed_total', { reason: 'idle' });
          if (logs.take(link.address))
            log.info(
              { clientId: client.id, address: link.address, keepalive: packet.keepalive, idleS: maxKeepaliveS * 1.5 },
              'mqtt client idle past the server limit: closed',
            );
          link.socket.destroy();
        });
      }
      auth.preConnect(client, packet, done);
    },
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
  // The broker only carries it: regions are the hub's (system.ts wires both ends).
  mq.on(REGIONS_CHANGED_TOPIC, (packet, done) => {
    Promise.resolve(opts.onRegionsChanged?.(String(packet.payload))).then(
      () => done(),
      (err: Error) => {
        log.error({ err: err.message }, 'regions change not applied');
        done();
      },
    );
  });
  // A backlog must hold publishers back, never overflow the stack (mcollina/mqemitter#204).
  guardPublishBacklog(aedes, { metrics: opts.metrics, logger: log, mq: local });
  opts.metrics.gauge(
    'mqtt_unacked_messages',
    () => persistence.queues.pending(),
    'QoS 1 messages delivered to persistent sessions and not yet acknowledged',
  );

  const maxKeepaliveS = opts.maxKeepaliveS ?? MAX_KEEPALIVE_S;
  // Warn lines of hostile input: 5 per address a minute, 60 overall; the counters count them all.
  const logs = new LogBudget({ perKey: 5, total: 60, windowMs: 60_000, windows: 'start' });
  // The port's sockets: capped before authentication, size-guarded, answered coalesced (device-listener.ts).
  const listener = new DeviceListener({
    maxPacketBytes: MAX_PACKET_BYTES,
    limits: opts.unauthenticated,
    metrics: opts.metrics,
    log,
    logs,
    onConnection: (conn, address) => {
      auth.addresses.set(conn, address); // password-guessing backoff per address
      aedes.handle(conn);
    },
  });
  /** Connections whose CONNACK said "no session here", until they subscribe to their tasks. */
  const sessionless = new WeakSet<Client>();
  aedes.on('connackSent', (packet, client) => {
    const link = listener.linkOf(client.conn);
    if (!link || packet.returnCode !== 0) return;
    listener.authenticated(link);
    if (!packet.sessionPresent) sessionless.add(client);
  });
  // Aedes emits 'subscribe' for SUBSCRIBE packets only (not for a session it restores), after the
  // ACL granted them: a refused topic comes with qos 128.
  aedes.on('subscribe', (subs, client) => {
    if (!opts.onTasksListener || !client || !sessionless.has(client)) return;
    const identity = auth.identities.get(client);
    if (!identity || identity.service) return;
    const tasks = deviceTopic(opts.topicRoot, identity.deviceId, 'tasks');
    if (!subs.some((s) => s.topic === tasks && (s.qos as number) !== 128)) return;
    sessionless.delete(client);
    opts.onTasksListener(identity.deviceId);
  });

  // Aedes' own refusals and broken connections: a reason label and a budgeted warn line each.
  countRefusals(aedes, { metrics: opts.metrics, log, logs, addressOf: (client) => listener.linkOf(client.conn)?.address ?? 'unknown' });
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
    deviceChanged: (deviceId) => emitOn(mq, DEVICE_CHANGED_TOPIC, Buffer.from(deviceId)),
    regionsChanged: (origin) => emitOn(mq, REGIONS_CHANGED_TOPIC, Buffer.from(origin)),
    bus: routed ? nodeBusOn(mq) : null,
    async listen() {
      gate.open();
      running.port = await listener.listen(opts.port, opts.host);
      listening = true;
      log.info({ host: opts.host, port: running.port }, 'mqtt broker listening');
    },
    publish(topic, payload) {
      return new Promise((resolve, reject) => {
        const packet = {
          cmd: 'publish' as const,
          topic,
          payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
          qos: 1 as const,
          retain: false,
          dup: false,
        };
        aedes.publish(packet, (err) => (err ? reject(err) : resolve()));
      });
    },
    async stop() {
      const started = Date.now();
      // 1. No new connections, no new publishes (refused ones are not acknowledged).
      const closed = listener.close();
      listening = false;
      // 2. What was taken is committed, and its PUBACKs go out.
      const uncommitted = await gate.close(opts.drainTimeoutMs ?? 10_000);
      // Aedes writes a PUBACK a turn or two after the hook answers (it defers writes with setImmediate).
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      // 3. Then the connections close: end() lets the PUBACKs just written leave first.
      await listener.endAll();
      await closed;
      await auth.stop();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      log.info({ ms: Date.now() - started, uncommitted }, 'mqtt broker stopped');
    },
  };
  return running;
}
