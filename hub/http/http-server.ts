// The hub's HTTP side (fastify): health, metrics, the read API the command screen needs, and the
// built dashboard as static files. One error envelope for every route.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import rateLimit from '@fastify/rate-limit';
import { AppError, errorEnvelope } from '../../common/error-codes.js';
import { useZodSchemas, type ZodTypeProvider } from '../../common/zod-schema.js';
import { HUB_ROUTES as R } from '../../protocol/hub-api.js';
import { docsPage, openApiDocument, type OpenApiDocument } from './openapi-document.js';
import type pg from 'pg';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { LiveState } from '../live/live-state.js';
import { analyticsRoutes } from '../analytics/analytics-routes.js';
import { regionRoutes } from '../regions/region-routes.js';
import type { RegionDirectory } from '../regions/region-directory.js';
import { workerRoutes } from '../people/worker-routes.js';
import type { Duty } from '../people/worker-store.js';
import { authPlugin } from '../auth/auth-plugin.js';
import helmet from '@fastify/helmet';
import { helmetOptions } from './http-security.js';
import { apiRoutesOf, routePolicy } from '../auth/route-policy.js';
import { healthRoutes, type Readiness } from './health-routes.js';
import { incidentRoutes } from '../dispatch/incident-routes.js';
import type { DispatchService } from '../dispatch/dispatch-service.js';
import type { AuthService } from '../auth/auth-service.js';
import { deviceRoutes } from '../devices/device-routes.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import { ownTracksRoutes, type OwnTracksHttpOptions } from '../../gateways/owntracks/owntracks-http.js';

/** The HTTP API's version in its OpenAPI document (the wire contract's, as the MQTT topics' grid/v1). */
const API_VERSION = '1';

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

export interface HttpDeps {
  pool: pg.Pool;
  /** The hub's region directory (hub/regions/region-directory.ts), loaded; the region routes reload it. */
  regions: RegionDirectory;
  live: LiveState;
  metrics: Metrics;
  logger: Logger;
  tileUrl: string | null;
  tileAttribution?: string | null;
  /** Login and scopes (hub/auth/auth-service.ts). Absent: no login, every screen sees all. */
  auth?: AuthService;
  /** Whether TimescaleDB is enabled (analytics picks its queries by this). */
  timescale: boolean;
  info: () => Record<string, unknown>;
  /** The checks behind /health/ready (health-routes.ts); absent: always ready (route tests). */
  readiness?: Readiness;
  /** Incidents, complaints, alarms, categories (hub/dispatch). */
  dispatch?: DispatchService;
  /** The device registry behind /api/devices (hub/devices). */
  devices?: DeviceRegistry;
  /** OwnTracks phones in HTTP mode and their setup link (gateways/owntracks); absent: no such routes. */
  ownTracks?: Omit<OwnTracksHttpOptions, 'pool' | 'metrics' | 'logger'>;
  /** After a committed PUT /api/regions: reload the grid locator and live state. */
  onRegionsChanged?: () => void | Promise<void>;
  /** After PUT /api/workers/:id/duty changed a worker's duty. */
  onDutyChanged?: (workerId: string, duty: Duty) => void | Promise<void>;
  /** After a committed PUT /api/workers (bulk upsert): reload the worker registry. */
  onWorkersChanged?: () => void | Promise<void>;
  /** Whom to believe about client address and scheme (http-security.ts parseTrustProxy); default nobody. */
  trustProxy?: boolean | string;
}

/** Refusals of bad input counted by reason (issue 16): the codes a caller can provoke on purpose. */
const REJECTED = new Set([400, 401, 403, 404, 405, 413, 415]);

export async function buildHttpServer(deps: HttpDeps) {
  // Request lines stay out of the log (a wall screen polls); warnings and errors go in.
  const app = Fastify({
    // At most warn, never below the hub's own level (a silent test logger stays silent).
    loggerInstance: deps.logger.child({ mod: 'http' }, { level: deps.logger.levelVal > 40 ? deps.logger.level : 'warn' }),
    trustProxy: deps.trustProxy ?? false,
    // A parameter or field the schema does not name is refused (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  // Every /api route declares its access, body class and schemas (a gap is logged, and fails the route walk test).
  app.addHook('onRoute', routePolicy(app, { pool: deps.pool, guarded: deps.auth !== undefined, warn: (msg) => app.log.warn(msg) }));

  // Every route's schemas are zod, from the contract in protocol/ (common/zod-schema.ts): requests
  // parsed by them, replies checked against them (a mismatch is a bug: 500, counted and logged).
  useZodSchemas(app, {
    mismatch: (route, status, issues) => {
      deps.metrics.inc('http_response_mismatch_total', { route });
      app.log.error({ route, status, issues: issues.slice(0, 10) }, 'reply does not match its schema');
    },
  });

  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: err.message, url: req.url }, 'request failed');
    else if (REJECTED.has(status) && req.url.startsWith('/api/')) {
      const reason = err.code ?? `HTTP_${status}`;
      const route = req.routeOptions.url ?? 'unknown';
      deps.metrics.inc('http_rejected_total', { route, reason });
      req.log.warn({ ip: req.ip, route, method: req.method, reason, status }, 'request refused');
    }
    // One envelope (common/error-codes.ts), with a registered error's details beside it; 5xx never leaks internals.
    if (err instanceof AppError && status < 500) return reply.status(status).send(errorEnvelope(err.code, err.details));
    const message = status >= 500 ? '服务器内部错误 / internal error' : err.message;
    return reply.status(status).send({ ok: false, error: { code: err.code ?? `HTTP_${status}`, message } });
  });

  // First, so every reply carries the headers, refusals and 429s too.
  await app.register(helmet, helmetOptions(deps.tileUrl));

  // One limiter for the public endpoints that take a rate per route (resident complaints, login): a
  // flood gets 429 in the envelope, a counter and a log line, and never reaches the handler.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => Object.assign(new AppError('RATE_LIMITED'), { retryAfterS: Math.ceil(ctx.ttl / 1000) }),
    onExceeded: (req) => {
      deps.metrics.inc('http_rate_limited_total', { route: req.routeOptions.url ?? 'unknown' });
      req.log.warn({ ip: req.ip, route: req.routeOptions.url }, 'rate limit hit');
    },
  });

  if (deps.auth) await app.register(authPlugin, { auth: deps.auth });

  await app.register(healthRoutes, { readiness: deps.readiness ?? (async () => ({})), info: deps.info, metrics: deps.metrics });

  app.get('/metrics', async (_req, reply) => {
    void reply.type('text/plain; version=0.0.4');
    return deps.metrics.render();
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.route({
    ...R.config,
    config: { access: 'public' },
    handler: async () => ({ tileUrl: deps.tileUrl, tileAttribution: deps.tileAttribution ?? null }),
  });

  await app.register(regionRoutes, { pool: deps.pool, regions: deps.regions, onRegionsChanged: deps.onRegionsChanged });

  // Cut to the caller's scope by the same rule as the /live push.
  api.route({
    ...R.live,
    config: { access: 'read' },
    handler: async (req) => {
      const snap = deps.live.snapshot();
      return deps.auth && req.viewer ? deps.auth.scopes.filterSnapshot(snap, req.viewer.scope) : snap;
    },
  });

  if (deps.dispatch) await app.register(incidentRoutes, { pool: deps.pool, dispatch: deps.dispatch });
  if (deps.devices) await app.register(deviceRoutes, { registry: deps.devices, metrics: deps.metrics });
  if (deps.ownTracks)
    await app.register(ownTracksRoutes, { ...deps.ownTracks, pool: deps.pool, metrics: deps.metrics, logger: deps.logger });
  await app.register(analyticsRoutes, { pool: deps.pool, regions: deps.regions, timescale: deps.timescale });
  await app.register(workerRoutes, {
    pool: deps.pool,
    live: deps.live,
    onDutyChanged: deps.onDutyChanged,
    onWorkersChanged: deps.onWorkersChanged,
  });

  api.route({
    ...R.deadLetters,
    // Device payloads of the whole hub: diagnostics for the district's admins only.
    config: { access: 'system' },
    handler: async (req) => {
      const r = await deps.pool.query<{
        id: string;
        received_at: Date;
        topic: string;
        device_id: string | null;
        reason: string;
        size: number;
        preview: string | null;
      }>(
        `SELECT id, received_at, topic, device_id, reason, size, encode(substring(payload from 1 for 512), 'escape') AS preview
           FROM dead_letters ORDER BY id DESC LIMIT $1`,
        [req.query.limit],
      );
      // The instant as JSON always wrote it; typed here so the reply meets its schema.
      return { items: r.rows.map((row) => ({ ...row, received_at: row.received_at.toISOString() })) };
    },
  });

  // The OpenAPI document of every /api route, from the same schemas (openapi-document.ts), made on
  // the first request, once every route is registered. Signed-in callers only, as every other /api
  // read: it names no data, but an unknown /api path already tells strangers nothing (decision 011),
  // and the document would tell them the whole surface.
  let doc: OpenApiDocument | null = null;
  const openApi = (): OpenApiDocument => (doc ??= openApiDocument(apiRoutesOf(app), API_VERSION));
  api.route({ ...R.openApi, config: { access: 'read' }, handler: async () => openApi() });
  api.route({
    ...R.docs,
    config: { access: 'read' },
    handler: async (_req, reply) => reply.type('text/html; charset=utf-8').send(docsPage(openApi())),
  });

  if (existsSync(DASHBOARD_DIST)) {
    await app.register(fastifyStatic, { root: DASHBOARD_DIST, prefix: '/' });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<p>指挥屏尚未构建 / dashboard not built: run <code>npm run build:dashboard</code></p>'),
    );
  }
  return app;
}
export type HttpApp = Awaited<ReturnType<typeof buildHttpServer>>;
