// Wires the whole system in one process, a node: store → hub → broker (ingest inside it) →
// (simulated district). `npm start` runs this; tests start it the same way with ephemeral ports.
//
// Start runs the data's way: the database, then the hub (the path to it), then the broker opens its
// port, so no device is acknowledged before its messages can be committed. Stop runs it backwards:
// the broker stops taking connections and publishes and waits until what it took is committed (its
// PUBACKs written), then the hub, then the database. See README "Stop and restart".
import { randomBytes } from 'node:crypto';
import type { Config } from './common/config.js';
import type { Logger } from './common/logger.js';
import { watchEventLoop } from './common/event-loop-watch.js';
import { JT808_TEXT_REPLY_TIMEOUT_MS } from './gateways/jt808/jt808-gateway.js';
import { jt808TextRelay, type TextRelay } from './gateways/jt808/jt808-text-relay.js';
import { jt808Takeover } from './gateways/jt808/jt808-takeover.js';
import { Metrics } from './common/metrics.js';
import { systemClock, type Clock } from './common/clock.js';
import { openDatabase, type Database } from './storage/database.js';
import { createBroker, type RunningBroker } from './broker/mqtt-broker.js';
import { defaultMaxVerifications } from './broker/device-auth.js';
import { Hub } from './hub/hub.js';
import { startJt808 } from './system-jt808.js';
import type { RunningJt808Gateway } from './gateways/jt808/jt808-gateway.js';
import { ownTracksSink } from './gateways/owntracks/owntracks-sink.js';
import { ephemeralDeviceSecretKey, loadDeviceSecretKey, type DeviceSecretKey } from './common/secrets.js';

export interface SystemOptions {
  config: Config;
  logger: Logger;
  /** Keep the embedded database in memory (tests). */
  inMemoryDb?: boolean;
  /** The clock of dispatch and the simulation (sim:day runs an accelerated one). */
  clock?: Clock;
  /** How long a stop waits for taken messages to commit (default 10 s; only a database that is away
   *  makes it wait that long, and then those messages were never acknowledged). */
  drainTimeoutMs?: number;
  /** How long a task offer's text waits for a JT/T 808 terminal's answer (default 30 s; tests shorten it). */
  jt808TextReplyTimeoutMs?: number;
}

export interface RunningSystem {
  config: Config;
  db: Database;
  broker: RunningBroker;
  hub: Hub;
  metrics: Metrics;
  mqttUrl: string;
  httpUrl: string;
  /** The hub's MQTT service account, for tools that must publish as the hub. */
  service: { username: string; password: string };
  /** JT/T 808 terminals' gateway (its port, and sendText for a terminal's screen). */
  jt808: RunningJt808Gateway;
  /** HMAC key of device secrets (tools that register devices: upsertDevices(pool, devices, key)). */
  deviceSecretKey: DeviceSecretKey;
  stop(): Promise<void>;
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const { config, logger } = opts;
  const metrics = new Metrics();
  const started = Date.now();
  const db = await openDatabase(config, logger, { inMemory: opts.inMemoryDb ?? false });
  // Simulator code is loaded only when asked for: a production hub never imports it.
  const simulation = config.SIM ? await import('./simulators/simulation.js') : null;
  const district = simulation ? await simulation.seedDemoDistrict(db.pool, config) : null;

  // The service account (tools that publish as the hub, e.g. a task to a handset by hand); random
  // per start unless one is given.
  const service = { username: config.HUB_MQTT_USERNAME, password: config.HUB_MQTT_PASSWORD ?? randomBytes(18).toString('base64url') };
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  // Device secrets' key (issue 14): DEVICE_SECRET_KEY or DATA_DIR's key file; an in-memory database
  // dies with the process, and so may its key.
  const deviceSecretKey =
    opts.inMemoryDb && !config.DATABASE_URL && !config.DEVICE_SECRET_KEY ? ephemeralDeviceSecretKey() : loadDeviceSecretKey(config);
  logger.info(
    { mod: 'system', keyId: deviceSecretKey.id, source: 'source' in deviceSecretKey ? deviceSecretKey.source : 'ephemeral' },
    'device secret key',
  );
  // Task offers as text on JT/T 808 terminals' screens: the gateway starts after the hub (its
  // terminals' data needs the hub), so the hub holds this link and finds the gateway once it runs.
  const textLink: { relay: TextRelay | null } = { relay: null };
  const hub: Hub = new Hub({
    config,
    pool: db.pool,
    timescale: db.timescale,
    embedded: db.engine === 'embedded',
    metrics,
    logger,
    clock: opts.clock ?? systemClock,
    info: () => ({ engine: db.engine, timescale: db.timescale, uptimeS: Math.round((Date.now() - started) / 1000) }),
    notReady: () => (broker.listening ? null : 'mqtt broker not listening'),
    deviceSecretKey,
    onDeviceChanged: (deviceId) => broker.deviceChanged(deviceId),
    // A region import reaches the other nodes as the device changes do (docs/decisions/014).
    onRegionsChanged: (origin) => broker.regionsChanged(origin),
    deviceText: (deviceId, text) => textLink.relay?.sendText(deviceId, text) ?? Promise.resolve('not_connected'),
  });
  // On a PostgreSQL server, cap concurrent password checks so a connect storm cannot starve ingest
  // (docs/decisions/006); the embedded engine measured worse with the cap, so it keeps the default.
  const broker: RunningBroker = await createBroker({
    host: config.HOST,
    port: config.MQTT_PORT,
    topicRoot: config.TOPIC_ROOT,
    service,
    pool: db.pool,
    metrics,
    logger,
    maxVerifications: db.engine === 'server' ? defaultMaxVerifications() : undefined,
    ingest: ownTracksSink({ submit: hub.submit, topicRoot: config.TOPIC_ROOT, pool: db.pool, metrics, logger }),
    onTasksListener: (deviceId) => hub.tasksListener(deviceId),
    drainTimeoutMs,
    redisUrl: config.REDIS_URL,
    deviceSecretKey,
    onRegionsChanged: (origin) => hub.regionsChangedOn(origin),
  });
  await hub.start(broker);
  await broker.listen();
  // JT/T 808 terminals on their own port, into the same ingest (system-jt808.ts).
  const jt808 = await startJt808({
    pool: db.pool,
    config,
    key: deviceSecretKey,
    submit: hub.submit,
    metrics,
    logger,
    clock: opts.clock ?? systemClock,
    ...(opts.jt808TextReplyTimeoutMs === undefined ? {} : { textReplyTimeoutMs: opts.jt808TextReplyTimeoutMs }),
  });
  // A terminal connected to another node gets its texts through that node (jt808-text-relay.ts).
  textLink.relay = jt808TextRelay({
    gateway: jt808,
    bus: broker.bus,
    replyTimeoutMs: opts.jt808TextReplyTimeoutMs ?? JT808_TEXT_REPLY_TIMEOUT_MS,
    metrics,
    logger,
  });
  // A terminal that reconnects to another node closes its old connection here (jt808-takeover.ts).
  if (broker.bus) jt808Takeover({ gateway: jt808, bus: broker.bus, metrics, logger });
  const mqttUrl = `mqtt://${config.HOST}:${broker.port}`;
  const httpUrl = `http://${config.HOST}:${hub.httpPort}`;
  const sim =
    simulation && district
      ? await simulation.startSimulation({ mqttUrl, config, logger, clock: opts.clock ?? systemClock, district })
      : null;
  const people =
    simulation && district
      ? await simulation.startPeople({ httpUrl, district, clock: opts.clock ?? systemClock, logger, authRequired: config.AUTH_REQUIRED })
      : null;

  // Stalls of this process's event loop from now on (the start's own long steps are expected):
  // gauges on /metrics, a warning in the log (common/event-loop-watch.ts).
  const loopWatch = watchEventLoop({ metrics, logger });

  return {
    config,
    db,
    broker,
    hub,
    metrics,
    mqttUrl,
    httpUrl,
    service,
    deviceSecretKey,
    jt808,
    async stop() {
      const log = logger.child({ mod: 'system' });
      const t0 = Date.now();
      await people?.stop();
      await sim?.stop();
      textLink.relay?.stop();
      await Promise.all([broker.stop(), jt808.stop()]);
      const t1 = Date.now();
      await hub.stop(drainTimeoutMs);
      await db.close();
      loopWatch.stop();
      log.info({ brokerMs: t1 - t0, totalMs: Date.now() - t0 }, 'stopped');
    },
  };
}
