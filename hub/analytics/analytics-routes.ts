// Analytics API: trails, activity rollups, patrol coverage and the governance KPIs (kpi-routes.ts).
// Registered by hub/http with the pool and whether TimescaleDB is enabled; every query here answers
// on both engines.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import { ANALYTICS_ROUTES as R } from '../../protocol/analytics-api.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
import { parseRange } from './analytics-errors.js';
import { readActivity } from './activity-query.js';
import { DEFAULT_PATROL_RULE } from './coverage-cells.js';
import { gridCoverage } from './coverage-query.js';
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

export async function analyticsRoutes(fastify: FastifyInstance, opts: AnalyticsRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { pool } = opts;
  await kpiRoutes(app, { pool, regions: opts.regions, clock: opts.clock, tilesTtlMs: opts.tilesTtlMs });

  app.route({
    ...R.trail,
    // A worker outside the caller's area is not found (hub/auth/request-area.ts).
    config: { access: 'read', target: 'worker' },
    handler: async (req) => {
      const q = req.query;
      const range = parseRange(q.from, q.to);
      return trailGeoJson(pool, {
        workerId: req.params.id,
        ...range,
        maxPoints: q.maxPoints,
        stop: { minDurationS: q.stopMinutes * 60, radiusM: q.stopRadiusM },
      });
    },
  });

  app.route({
    ...R.activity,
    config: { access: 'read', target: 'worker' },
    handler: async (req) => {
      // Rollups are small (one row per worker-hour), so a year per request is cheap.
      const range = parseRange(req.query.from, req.query.to, 366 * 86_400_000);
      return {
        workerId: req.params.id,
        bucket: req.query.bucket,
        items: await readActivity(pool, req.params.id, range.from, range.to, req.query.bucket),
      };
    },
  });

  app.route({
    ...R.coverage,
    config: { access: 'read', areaParam: 'grid' },
    handler: async (req) =>
      gridCoverage(pool, opts.regions, req.query.grid, req.query.date, { ...DEFAULT_PATROL_RULE, minShare: req.query.minShare }),
  });
}
