// Governance KPI routes: the report (JSON and CSV), the per grid per day rollup, and the command
// screen's tiles. Registered by analyticsRoutes; a logged-in viewer may ask only for its own scope
// or regions under it (hub/auth/auth-plugin.ts).
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { systemClock, type Clock } from '../../common/clock.js';
import { ANALYTICS_ROUTES as R } from '../../protocol/analytics-api.js';
import type { ZodApp } from '../../common/zod-schema.js';
import { parseRange } from './analytics-errors.js';
import { readGridDaily } from './incident-rollup.js';
import { csvFilename, kpiCsv } from './kpi-csv.js';
import { kpiReport, type KpiDimension } from './kpi-query.js';
import { allowedScope } from './kpi-scope.js';
import { TileCache } from './kpi-tiles.js';
import type { RegionDirectory } from '../regions/region-directory.js';

export interface KpiRouteOptions {
  pool: pg.Pool;
  regions: RegionDirectory;
  clock?: Clock;
  /** How long one scope's tiles are reused; screens poll every 10 s. */
  tilesTtlMs?: number;
}

interface KpiQuery {
  scope?: string;
  from: string;
  to: string;
  by: KpiDimension;
  hotspotRes: number;
  hotspots: number;
}

const YEAR_MS = 366 * 86_400_000;

/** Any signed-in screen; `scope` must lie in its area (checked again by allowedScope in the handler). */
const readScope = { access: 'read', areaParam: 'scope' } as const;

/** The viewer's scope when auth is on (set by the auth plugin's hook), else null. */
function viewerScope(req: FastifyRequest): string | null {
  return (req as FastifyRequest & { viewer?: { scope?: string } | null }).viewer?.scope ?? null;
}

export async function kpiRoutes(app: ZodApp, opts: KpiRouteOptions): Promise<void> {
  const { pool, regions } = opts;
  const clock = opts.clock ?? systemClock;
  const tiles = new TileCache(pool, regions, clock, opts.tilesTtlMs);

  const report = async (req: FastifyRequest, q: KpiQuery) => {
    const range = parseRange(q.from, q.to, YEAR_MS);
    const scope = allowedScope(regions, q.scope, viewerScope(req));
    return kpiReport(pool, regions, { scope, ...range, by: q.by, now: clock.now(), hotspotRes: q.hotspotRes, hotspotLimit: q.hotspots });
  };

  app.route({ ...R.kpis, config: readScope, handler: async (req) => report(req, req.query) });

  app.route({
    ...R.kpisCsv,
    config: readScope,
    handler: async (req, reply) => {
      const r = await report(req, req.query);
      void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${csvFilename(r)}"`);
      return kpiCsv(r);
    },
  });

  app.route({
    ...R.gridDaily,
    config: readScope,
    handler: async (req) => {
      const range = parseRange(req.query.from, req.query.to, YEAR_MS);
      const scope = allowedScope(regions, req.query.scope, viewerScope(req));
      return {
        scope,
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        items: await readGridDaily(pool, scope, range.from, range.to),
      };
    },
  });

  app.route({
    ...R.tiles,
    config: readScope,
    handler: async (req, reply) => {
      const scope = allowedScope(regions, req.query.scope, viewerScope(req));
      // Screens may reuse the answer as long as the hub does.
      void reply.header('cache-control', `private, max-age=${Math.floor(tiles.ttlMs / 1000)}`);
      return tiles.get(scope);
    },
  });
}
