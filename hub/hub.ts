// The hub service: upstream messages handed in by the broker (and gateways) through `submit` →
// ingest pipeline → batch writer (the promise resolves after commit, and only then does the broker
// send the PUBACK) → live state → Socket.IO push; plus dispatch, the HTTP API and the dashboard.
// start()/stop(); all dependencies come in as arguments.
//
// Longer than our ~300 lines on purpose: `wire` is the one list of the hub's services in start
// order, and it reads top to bottom only while it stays in one place (STYLE: clarity wins).
import { randomUUID } from 'node:crypto';
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
import { RegionDirectory } from './regions/region-directory.js';
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
import { HubBus } from './hub-events.js';
import type { DeviceChange } from '../protocol/device-api.js';
import { serviceOf, ServiceList, type HubService } from './hub-services.js';

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
   * After a region import committed on this node: tell the other nodes (system.ts sends the
   * broker's `$GRID/regions/changed` notice with `origin`; each node's hub gets `regionsChangedOn`).
   */
  onRegionsChanged?(origin: string): void | Promise<void>;
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

export type CommitListener = (rows: Rows, committedAt: number) => void;

export class Hub {
  readonly devices: DeviceDirectory;
  /** The region tree, read once per change and handed to auth, HTTP and dispatch. */
  readonly regions: RegionDirectory;
  /** This hub among the nodes: its own regions-changed notice is not applied twice. */
  readonly nodeId = randomUUID();
  private readonly fence = new OwnGridFence();
  readonly live: LiveState;
  private writer!: BatchWriter;
  private pipeline!: IngestPipeline;
  /** Login and scopes for the HTTP API and the /live namespace. */
  auth!: AuthService;
  /** /api/devices and the devices CLI's logic (hub/devices/). */
  deviceRegistry!: DeviceRegistry;
  dispatch!: DispatchService;
  /** The HTTP app (tests/hub/http/route-walk.test.ts reads the routes it registered). */
  private http!: HttpApp;
  /** What the services tell each other (hub-events.ts); tests and benchmarks may listen too. */
  readonly events: HubBus;
  private services: ServiceList | null = null;
  private drainTimeoutMs = 10_000;
  private readonly log: Logger;
  httpPort = 0;

  constructor(private readonly deps: HubDeps) {
    // The hub's clock, not the wall's: a dot never moves to a fix far ahead of it (sim:day runs faster).
    this.live = new LiveState(() => (deps.clock ?? systemClock).now());
    this.devices = new DeviceDirectory(deps.pool);
    this.regions = new RegionDirectory(deps.pool);
    this.log = deps.logger.child({ mod: 'hub' });
    this.events = new HubBus(this.log);
  }

  /** Re-reads regions, devices and workers (after an import, or registering new ones). */
  async reloadRegistry(): Promise<void> {
    await this.regions.load();
    await this.devices.load();
    await this.fence.load(this.deps.pool, this.regions);
    await this.live.load(this.deps.pool);
    await this.dispatch?.reload();
  }

  /** Another node imported regions (its `$GRID/regions/changed` notice): read them again, as after an import here. */
  async regionsChangedOn(origin: string): Promise<void> {
    if (origin === this.nodeId) return;
    await this.reloadRegistry();
  }

  /** The checks behind /health/ready: can this node take devices' data now? */
  async readiness(): Promise<Record<string, ReadinessCheck>> {
    const database = await this.deps.pool.query({ text: 'SELECT 1', query_timeout: 2000 } as { text: string }).then(
      () => ({ ok: true }),
      (err: Error) => ({ ok: false, reason: `database: ${err.message}` }),
    );
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

  /**
   * A handset subscribed to its tasks with no session on this node (a clean session, a session on
   * another node, or one lost in a restart): its pending offers are sent again. system.ts wires the
   * broker's onTasksListener here.
   */
  tasksListener(deviceId: string): void {
    this.events.tell('tasksListener', deviceId);
  }

  /** For benchmarks and tests: observe each commit. */
  onCommit(listener: CommitListener): void {
    this.events.on('rowsCommitted', listener);
  }

  async start(downstream: Downstream): Promise<void> {
    this.services = new ServiceList(this.wire(downstream), this.log);
    await this.services.start();
    this.log.info({ httpPort: this.httpPort }, 'hub started');
  }

  /**
   * The hub's services in start order; stop runs the list backwards (hub-services.ts). So a stop
   * first commits what ingest was handed (the broker waits on those commits for its PUBACKs), then
   * stops what reacts to commits (device activity, dispatch), then the screens' push, and closes the
   * HTTP server last. Services talk through `this.events`; each subscribes as it starts and
   * unsubscribes as it stops, and the order of the list is the order listeners hear a commit in.
   */
  private wire(downstream: Downstream): HubService[] {
    const { config, pool, metrics, logger } = this.deps;
    const clock = this.deps.clock ?? systemClock;
    const bus = this.events;
    let redis: { pub: Redis; sub: Redis } | null = null;

    // Built before the list runs: the HTTP routes are handed them; each is started by its entry.
    this.auth = new AuthService(pool, this.regions, { required: config.AUTH_REQUIRED, sessionTtlMin: config.SESSION_TTL_MIN });
    const publisher = new TaskPublisher({
      downstream,
      topicRoot: config.TOPIC_ROOT,
      metrics,
      protocolOf: (id) => this.devices.protocolOf(id),
      ...(this.deps.deviceText ? { deviceText: this.deps.deviceText } : {}),
    });
    this.dispatch = new DispatchService({
      pool,
      clock,
      config,
      live: this.live,
      metrics,
      logger,
      publisher,
      regions: this.regions,
      notify: { incident: (v) => bus.tell('incidentChanged', v), alarm: (a) => bus.tell('alarmChanged', a) },
    });
    this.deviceRegistry = new DeviceRegistry({
      pool,
      key: this.deps.deviceSecretKey ?? loadDeviceSecretKey(config),
      metrics,
      logger,
      scopes: this.auth.scopes,
      live: this.live,
      onChanged: (deviceId, change) => bus.emit('registryChanged', { kind: 'device', deviceId, change }),
    });
    // Rollups (distance walked) on both engines; the policy jobs too where no background worker
    // runs them (the embedded WASM engine has none).
    // On a server several nodes may share the database: one maintenance pass at a time (its lease).
    const maintenance = new StorageMaintenance({
      pool,
      timescale: this.deps.timescale,
      runPolicies: this.deps.embedded,
      lease: !this.deps.embedded,
      clock: systemClock,
      logger,
    });

    return [
      serviceOf('directory', async () => {
        await this.regions.load();
        await this.devices.load();
        await this.fence.load(pool, this.regions);
        await this.live.load(pool);
        return [
          bus.on('registryChanged', () => this.reloadRegistry()),
          // An import here, once reloaded: the other nodes read the tree again (docs/decisions/014).
          bus.on('registryChanged', async (c) => {
            if (c.kind === 'regions') await this.deps.onRegionsChanged?.(this.nodeId);
          }),
        ];
      }),
      {
        name: 'storage-policies',
        start: async () => {
          await applyStoragePolicies(pool, this.deps.timescale, DEFAULT_STORAGE_POLICY);
        },
      },
      {
        name: 'http',
        start: async () => {
          this.http = await buildHttpServer({
            pool,
            regions: this.regions,
            live: this.live,
            metrics,
            logger,
            timescale: this.deps.timescale,
            info: this.deps.info ?? (() => ({})),
            readiness: () => this.readiness(),
            trustProxy: parseTrustProxy(config.TRUST_PROXY),
            // OwnTracks phones in HTTP mode, and their one-scan setup link (gateways/owntracks).
            ownTracks: { submit: this.submit, topicRoot: config.TOPIC_ROOT, key: this.deviceRegistry.key, mqttPort: config.MQTT_PORT },
            tileUrl: config.TILE_URL ?? null,
            tileAttribution: config.TILE_ATTRIBUTION ?? null,
            auth: this.auth,
            dispatch: this.dispatch,
            devices: this.deviceRegistry,
            onRegionsChanged: () => bus.emit('registryChanged', { kind: 'regions' }),
            onWorkersChanged: () => bus.emit('registryChanged', { kind: 'workers' }),
            onDutyChanged: (workerId, duty) => bus.emit('dutyChanged', workerId, duty),
          });
        },
        // Last to stop: requests are answered until everything behind them has stopped.
        stop: () => this.http.close().catch(() => undefined),
      },
      {
        // Several nodes: the Socket.IO Redis adapter carries each node's live changes to the others.
        name: 'live-peers',
        start: () => {
          if (config.REDIS_URL) redis = openPeerRedis(config.REDIS_URL, this.log);
        },
        stop: async () => {
          if (redis) await Promise.all([redis.pub.quit(), redis.sub.quit()]).catch(() => undefined);
        },
      },
      serviceOf('live-push', () => {
        const push = new LivePush({
          httpServer: this.http.server,
          state: this.live,
          intervalMs: config.PUSH_INTERVAL_MS,
          metrics,
          logger,
          auth: this.auth,
          peers: redis ?? undefined,
        });
        push.start();
        return [
          bus.on('rowsCommitted', (rows) => push.publish(this.live.apply(rows))),
          bus.on('incidentChanged', (v) => push.publishIncident(v)),
          bus.on('alarmChanged', (a) => push.publishAlarm(a)),
          bus.on('dutyChanged', (workerId, duty) => {
            const change = this.live.setDuty(workerId, duty, Date.now());
            if (change) push.publish({ positions: [], presence: [], alerts: [], duty: [change] });
          }),
          () => push.stop(),
        ];
      }),
      // The roster's duty column follows the handsets (the API may set it too, newest wins).
      serviceOf('duty-sync', () => [
        bus.on('rowsCommitted', (rows) => {
          if (rows.statuses.length > 0) {
            void syncDutyFromStatuses(pool, rows.statuses).catch((err) =>
              this.log.error({ err: (err as Error).message }, 'duty sync failed'),
            );
          }
        }),
      ]),
      { name: 'storage-maintenance', start: () => maintenance.start(), stop: () => maintenance.stop() },
      serviceOf('dispatch', async () => {
        // Alerts, patrol reports and task replies wait in the inbox: dispatch takes them once committed.
        const off = bus.on('rowsCommitted', (rows) => {
          if (rows.inbox.length > 0) this.dispatch.poke();
        });
        const offListener = bus.on('tasksListener', async (deviceId) => {
          await this.dispatch.resendPendingOffers(deviceId);
        });
        await this.dispatch.start();
        return [off, offListener, () => this.dispatch.stop()];
      }),
      serviceOf('device-registry', async () => {
        const offs = [
          bus.on('rowsCommitted', (rows, at) => this.deviceRegistry.observe(rows, at)),
          // After the directory reloaded (it listens first): the broker reloads the device, closes its link if it must go.
          bus.on('registryChanged', async (c) => {
            if (c.kind === 'device') await this.deps.onDeviceChanged?.(c.deviceId, c.change);
          }),
        ];
        await this.deviceRegistry.start();
        return [...offs, () => this.deviceRegistry.stop()];
      }),
      {
        name: 'ingest',
        start: () => {
          this.writer = new BatchWriter({
            pool,
            maxRows: config.BATCH_MAX_ROWS ?? defaultBatchRows(!this.deps.embedded),
            maxWaitMs: config.BATCH_MAX_WAIT_MS,
            copyPositions: !this.deps.embedded,
            metrics,
            logger,
            onCommitted: (rows, at) => bus.tell('rowsCommitted', rows, at),
            // No reading to pause any more: each device connection waits for its own commit (broker/ingest-gate.ts).
            onPressure: (high) =>
              this.log.warn({ backlog: high }, high ? 'ingest backlog high: commits are behind' : 'ingest backlog cleared'),
          });
          this.pipeline = new IngestPipeline(
            ingestStages(config.TOPIC_ROOT, this.devices, this.fence, {
              settings: fixFilterSettings(config),
              heads: storedFixHeads(pool),
              metrics,
              logger,
            }),
            this.writer,
            metrics,
            logger,
            // "Now" for receive times (the future-fix filter) is the hub's clock: sim:day and tests run a faster one.
            () => clock.now(),
          );
        },
        // Commits what was handed in; with the database away it gives up after the drain timeout:
        // what it held was never acknowledged to any device.
        stop: async () => {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            this.pipeline.settled().then(() => this.writer.drain()),
            new Promise((r) => (timer = setTimeout(r, this.drainTimeoutMs))),
          ]);
          clearTimeout(timer);
        },
      },
      {
        name: 'http-listen',
        start: async () => {
          await this.http.listen({ host: config.HOST, port: config.HTTP_PORT });
          this.httpPort = (this.http.server.address() as { port: number }).port;
        },
      },
    ];
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
    this.drainTimeoutMs = drainTimeoutMs;
    await this.services?.stop();
    this.log.info('hub stopped');
  }
}
