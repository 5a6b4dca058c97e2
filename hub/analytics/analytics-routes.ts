// Analytics API: trails, activity rollups, patrol coverage and the governance KPIs (kpi-routes.ts).
// Registered by hub/http with the pool and whether TimescaleDB is enabled; every query here answers
// on both engines.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import { parseRange } from './analytics-errors.js';
import { readActivity } from './activity-query.js';
import { DEFAULT_PATROL_RULE } from './coverage-cells.js';
import { gridCoverage } from './coverage-query.js';
import { DEFAULT_STOP_RULE } from './trail-stops.js';
import { trailGeoJson } from './trail-query.js';
import { kpiRoutes } from './kpi-routes.js';
import type { RegionDirectory } from '../regions/region-directory.js';

export interface AnalyticsRouteOptions {
  pool: pg.Pool;
  /** The hub's region directory: KPI scopes are looked up there. */
  regions: RegionDirectory;
  timescale: boolean;
  /** Defaults to the system clock (tests inject one: "today" of the KPI tiles). */
  clock?: Clock;
  tilesTtlMs?: number;
}

interface WorkerParams {
  id: string;
}

interface TrailQuery {
  from: string;
  to: string;
  maxPoints: number;
  stopMinutes: number;
  stopRadiusM: number;
}

interface ActivityQuery {
  from: string;
  to: string;
  bucket: 'hour' | 'day';
}

interface CoverageQuery {
  grid: string;
  date: string;
  minShare: number;
}

const workerParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const time = { type: 'string', minLength: 10, maxLength: 40 } as const;

export async function analyticsRoutes(app: FastifyInstance, opts: AnalyticsRouteOptions): Promise<void> {
  const { pool } = opts;
  await kpiRoutes(app, { pool, regions: opts.regions, clock: opts.clock, tilesTtlMs: opts.tilesTtlMs });

  app.get<{ Params: WorkerParams; Querystring: TrailQuery }>(
    '/api/workers/:id/trail',
    {
      // A worker outside the caller's area is not found (hub/auth/request-area.ts).
      config: { access: 'read', target: 'worker' },
      schema: {
        params: workerParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: time,
            to: time,
            maxPoints: { type: 'integer', minimum: 2, maximum: 20000, default: 2000 },
            stopMinutes: { type: 'number', minimum: 0.5, maximum: 720, default: DEFAULT_STOP_RULE.minDurationS / 60 },
            stopRadiusM: { type: 'number', minimum: 5, maximum: 2000, default: DEFAULT_STOP_RULE.radiusM },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const range = parseRange(q.from, q.to);
      return trailGeoJson(pool, {
        workerId: req.params.id,
        ...range,
        maxPoints: q.maxPoints,
        stop: { minDurationS: q.stopMinutes * 60, radiusM: q.stopRadiusM },
      });
    },
  );

  app.get<{ Params: WorkerParams; Querystring: ActivityQuery }>(
    '/api/workers/:id/activity',
    {
      config: { access: 'read', target: 'worker' },
      schema: {
        params: workerParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: time, to: time, bucket: { type: 'string', enum: ['hour', 'day'], default: 'hour' } },
        },
      },
    },
    async (req) => {
      // Rollups are small (one row per worker-hour), so a year per request is cheap.
      const range = parseRange(req.query.from, req.query.to, 366 * 86_400_000);
      return { workerId: req.params.id, bucket: req.query.bucket, items: await readActivity(pool, req.params.id, range.from, range.to, req.query.bucket) };
    },
  );

  app.get<{ Querystring: CoverageQuery }>(
    '/api/coverage',
    {
      config: { access: 'read', areaParam: 'grid' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['grid', 'date'],
          properties: {
            grid: { type: 'string', minLength: 1, maxLength: 64 },
            date: { type: 'string', minLength: 10, maxLength: 10 },
            minShare: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_PATROL_RULE.minShare },
          },
        },
      },
    },
    async (req) => gridCoverage(pool, opts.regions, req.query.grid, req.query.date, { ...DEFAULT_PATROL_RULE, minShare: req.query.minShare }),
  );
}
