// Analytics API (trails, coverage, KPIs): placeholder plugin, filled in by the storage/analytics work.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';

export interface AnalyticsRouteOptions {
  pool: pg.Pool;
  timescale: boolean;
}

export async function analyticsRoutes(_app: FastifyInstance, _opts: AnalyticsRouteOptions): Promise<void> {}
