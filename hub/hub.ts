// The hub service: upstream messages handed in by the broker (and gateways) through `submit` →
// ingest pipeline → batch writer (the promise resolves after commit, and only then does the broker
// send the PUBACK) → live state → Socket.IO push; plus dispatch, the HTTP API and the dashboard.
// start()/stop(); all dependencies come in as arguments.
import type pg from 'pg';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { IngestPipeline, ingestStages } from './ingest/ingest-pipeline.js';
import { fixFilterSettings } from './ingest/stage-position-filter.js';
import { storedFixHeads } from './rows/fix-heads.js';
import type { Rows } from './rows/row-types.js';
import { defaultBatchRows } from './rows/commit-rows.js';
import { BatchWriter } from './rows/batch-writer.js';
import { DeviceDirectory } from './rows/device-directory.js';
import { OwnGridFence } from './regions/own-grid-fence.js';
import { LiveState } from './live/live-state.js';
import { LivePush } from './live/live-push.js';
import { buildHttpServer, type HttpApp } from './http/http-server.js';
import { applyStoragePolicies, DEFAULT_STORAGE_POLICY } from './upkeep/storage-policies.js';
import { StorageMaintenance } from './upkeep/storage-maintenance.js';
import { systemClock, type Clock } from '../common/clock.js';
import { DispatchService } from './dispatch/dispatch-service.js';
import { TaskPublisher, type DeviceTextOutcome } from './dispatch/task-publisher.js';
import { syncDutyFromStatuses } from './people/duty-sync.js';
import { AuthService } from './auth/auth-service.js';
import type { ReadinessCheck } from './http/health-routes.js';
import { parseTrustProxy } from './http/http-security.js';
import { openPeerRedis } from './live/live-peer-redis.js';
import type { Redis } from 'ioredis';
import { DeviceRegistry } from './devices/device-registry.js';
import { loadDeviceSecretKey, type DeviceSecretKey } from '../common/secrets.js';
import type { DeviceChange } from '../protocol/device-api.js';

export interface HubDeps {
  config: Config;
  pool: pg.Pool;
  metrics: Metrics;
  logger: Logger;
  timescale: boolean;
  /** The embedded engine: storage policy jobs must be run by the hub, and positions cannot go by COPY. */
  embedded: boolean;
  info?: () => Record<string, unknown>;
  /** Readiness of what lies outside the hub (the broker listening); null when ready, else the reason. */
  notReady?: () => string | null;
  /** Dispatch's clock (deadlines, SLA); sim:day passes an accelerated one. Default: the system clock. */
  clock?: Clock;
  /** HMAC key of device secrets, the broker's (system.ts); default DEVICE_SECRET_KEY or DATA_DIR's key file. */
  deviceSecretKey?: DeviceSecretKey;
  /** After the device registry committed a change: the broker reloads the device, closes its link if it must go. */
  onDeviceChanged?(deviceId: string, change: DeviceChange): void | Promise<void>;
  /**
   * Text to a handset's screen (a JT/T 808 terminal, 0x8300), resolved with its answer; system.ts
   * wires the gateway here, as the broker is the Downstream. Absent: such terminals get no offers
   * and the operators are asked to call (hub/dispatch/task-publisher.ts, docs/decisions/013).
   */
  deviceText?(deviceId: string, text: string): Promise<DeviceTextOutcome>;
}

/** How the hub reaches devices: the broker's publish (QoS 1), resolved once the broker took it. */
export interface Downstream {
  publish(topic: string, payload: string | Buffer): Promise<void>;
}

export interface CommitListener {
  (rows: Rows, committedAt: number): void;
}

export class Hub {
  readonly devices: DeviceDirectory;
  private readonly fence = new OwnGridFence();
  readonly live: LiveState;
  private writer!: BatchWriter;
  private pipeline!: IngestPipeline;
  private push!: LivePush;
  private redis: { pub: Redis; sub: Redis } | null = null;
  /** Login and scopes for the HTTP API and the /live namespace. */
  auth!: AuthService;
  /** /api/devices and the devices CLI's logic (hub/devices/). */
  deviceRegistry!: DeviceRegistry;
  private http!: HttpApp;
  private maintenance!: StorageMaintenance;
  private publisher!: TaskPublisher;
  dispatch!: DispatchService;
  private readonly commitListeners: CommitListener[] = [];
  private readonly log: Logger;
  httpPort = 0;

  constructor(private readonly deps: HubDeps) {
    // The hub's clock, not the wall's: a dot never moves to a fix far ahead of it (sim:day runs faster).
    this.live = new LiveState(() => (deps.clock ?? systemClock).now());
    this.devices = new DeviceDirectory(deps.pool);
    this.log = deps.logger.child({ mod: 'hub' });
  }

  /** Re-reads devices and workers (after registering new ones). */
  async reloadRegistry(): Promise<void> {
    await this.devices.load();
    await this.fence.load(this.deps.pool);
    await this.live.load(this.deps.pool);
    await this.dispatch?.reload();
    await this.auth?.scopes.load();
  }

  /** The checks behind /health/ready: can this node take devices' data now? */
  async readiness(): Promise<Record<string, ReadinessCheck>> {
    const database = await this.deps.pool
      .query({ text: 'SELECT 1', query_timeout: 2000 } as { text: string })
      .then(() => ({ ok: true }), (err: Error) => ({ ok: false, reason: `database: ${err.message}` }));
    const notReady = this.deps.notReady?.() ?? null;
    const backlog = this.writer?.backlog;
    const ingest = !backlog
      ? { ok: false, reason: 'ingest not started' }
      : backlog.failing
        ? { ok: false, reason: 'ingest: the last commit failed; retrying, nothing acknowledged meanwhile' }
        : backlog.high
          ? { ok: false, reason: `ingest: ${backlog.rows} rows waiting, commits are behind` }
          : { ok: true };
    return { database, broker: notReady ? { ok: false, reason: notReady } : { ok: true }, ingest };
  }

  /** For benchmarks and tests: observe each commit. */
  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  async start(downstream: Downstream): Promise<void> {
    const { config, pool, metrics, logger } = this.deps;
    await this.devices.load();
    await this.fence.load(pool);
    await this.live.load(pool);
    await applyStoragePolicies(pool, this.deps.timescale, DEFAULT_STORAGE_POLICY);
    // Rollups (distance walked) on both engines; the policy jobs too where no background worker
    // runs them (the embedded WASM engine has none).
    // On a server several nodes may share the database: one maintenance pass at a time (its lease).
    this.maintenance = new StorageMaintenance({ pool, timescale: this.deps.timescale, runPolicies: this.deps.embedded, lease: !this.deps.embedded, clock: systemClock, logger });

    this.publisher = new TaskPublisher({
      downstream, topicRoot: config.TOPIC_ROOT, metrics, protocolOf: (id) => this.devices.protocolOf(id),
      ...(this.deps.deviceText ? { deviceText: this.deps.deviceText } : {}),
    });
    this.dispatch = new DispatchService({
      pool, clock: this.deps.clock ?? systemClock, config, live: this.live, metrics, logger, publisher: this.publisher,
      // The push exists once the HTTP server does; dispatch only notifies after it started.
      notify: { incident: (v) => this.push.publishIncident(v), alarm: (a) => this.push.publishAlarm(a) },
    });

    this.auth = new AuthService(pool, { required: config.AUTH_REQUIRED, sessionTtlMin: config.SESSION_TTL_MIN });
    await this.auth.start();
    this.deviceRegistry = new DeviceRegistry({
      pool, key: this.deps.deviceSecretKey ?? loadDeviceSecretKey(config), metrics, logger, scopes: this.auth.scopes, live: this.live,
      onChanged: async (id, change) => {
        await this.reloadRegistry();
        await this.deps.onDeviceChanged?.(id, change);
      },
    });
    await this.deviceRegistry.start();
    this.onCommit((rows, at) => this.deviceRegistry.observe(rows, at));

    this.http = await buildHttpServer({
      pool, live: this.live, metrics, logger, timescale: this.deps.timescale, info: this.deps.info ?? (() => ({})),
      readiness: () => this.readiness(),
      trustProxy: parseTrustProxy(config.TRUST_PROXY),
      // OwnTracks phones in HTTP mode, and their one-scan setup link (gateways/owntracks).
      ownTracks: { submit: this.submit, topicRoot: config.TOPIC_ROOT, key: this.deviceRegistry.key, mqttPort: config.MQTT_PORT },
      tileUrl: config.TILE_URL ?? null, tileAttribution: config.TILE_ATTRIBUTION ?? null, auth: this.auth,
      dispatch: this.dispatch,
      devices: this.deviceRegistry,
      onRegionsChanged: () => this.reloadRegistry(),
      onWorkersChanged: () => this.reloadRegistry(),
      onDutyChanged: (workerId, duty) => {
        const change = this.live.setDuty(workerId, duty, Date.now());
        if (change) this.push.publish({ positions: [], presence: [], alerts: [], duty: [change] });
      },
    });
    // Several nodes: the Socket.IO Redis adapter carries each node's live changes to the others.
    if (config.REDIS_URL) this.redis = openPeerRedis(config.REDIS_URL, this.log);
    this.push = new LivePush({ httpServer: this.http.server, state: this.live, intervalMs: config.PUSH_INTERVAL_MS, metrics, logger, auth: this.auth, peers: this.redis ?? undefined });

    this.writer = new BatchWriter({
      pool,
      maxRows: config.BATCH_MAX_ROWS ?? defaultBatchRows(!this.deps.embedded),
      maxWaitMs: config.BATCH_MAX_WAIT_MS,
      copyPositions: !this.deps.embedded,
      metrics,
      logger,
      onCommitted: (rows, at) => {
        this.push.publish(this.live.apply(rows));
        // The roster's duty column follows the handsets (the API may set it too, newest wins).
        if (rows.statuses.length > 0) {
          void syncDutyFromStatuses(pool, rows.statuses).catch((err) => this.log.error({ err: (err as Error).message }, 'duty sync failed'));
        }
        // Alerts, patrol reports and task replies wait in the inbox: dispatch takes them now.
        if (rows.inbox.length > 0) this.dispatch.poke();
        for (const l of this.commitListeners) l(rows, at);
      },
      // No reading to pause any more: each device connection waits for its own commit (broker/ingest-gate.ts).
      onPressure: (high) => this.log.warn({ backlog: high }, high ? 'ingest backlog high: commits are behind' : 'ingest backlog cleared'),
    });
    this.pipeline = new IngestPipeline(ingestStages(config.TOPIC_ROOT, this.devices, this.fence, { settings: fixFilterSettings(config), heads: storedFixHeads(pool), metrics, logger }), this.writer, metrics, logger,
      // "Now" for receive times (the future-fix filter) is the hub's clock: sim:day and tests run a faster one.
      () => (this.deps.clock ?? systemClock).now());

    await this.http.listen({ host: config.HOST, port: config.HTTP_PORT });
    this.httpPort = (this.http.server.address() as { port: number }).port;
    this.push.start();
    this.maintenance.start();
    await this.dispatch.start();
    this.log.info({ httpPort: this.httpPort }, 'hub started');
  }

  /**
   * Hands one message of the wire contract (native topic and JSON payload) to the ingest pipeline;
   * resolves once its rows, or its dead letter, are committed. Gateways for other protocols
   * (JT/T 808, OwnTracks) translate and call this, then acknowledge their device.
   */
  submit = (topic: string, payload: Buffer): Promise<void> => {
    return new Promise((resolve) => this.pipeline.handle({ topic, payload, ack: resolve }));
  };

  /** Commits everything received so far (benchmarks read the database right after). */
  async drainForBench(): Promise<void> {
    await this.pipeline.settled();
    await this.writer.drain();
  }

  /**
   * Commits what was handed in (the broker has already stopped taking messages and waited for its
   * own), then closes. With the database away the drain gives up after `drainTimeoutMs`: what it
   * held was never acknowledged to any device.
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pipeline.settled().then(() => this.writer.drain()),
      new Promise((r) => (timer = setTimeout(r, drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    await this.deviceRegistry.stop();
    await this.dispatch.stop();
    await this.maintenance.stop();
    await this.push.stop();
    if (this.redis) await Promise.all([this.redis.pub.quit(), this.redis.sub.quit()]).catch(() => undefined);
    await this.http.close().catch(() => undefined);
    this.log.info('hub stopped');
  }
}
