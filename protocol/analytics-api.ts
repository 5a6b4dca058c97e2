// The analytics HTTP API as zod (issue 17 item 4): trails, activity, patrol coverage and the
// governance KPIs (report, CSV, per grid per day, the command screen's tiles). Served by
// hub/analytics/analytics-routes.ts and kpi-routes.ts; what each figure means is in hub/README.md.
// Times are ISO-8601 text, judged by the hub (400 BAD_TIME / BAD_RANGE), not by the schema.
import { z } from 'zod';
import { idParams, isoTime, regionCode, route } from './http-contract.js';

export const KPI_DIMENSIONS = ['none', 'region', 'category', 'source', 'priority', 'department', 'hour', 'day', 'week', 'month'] as const;
export type KpiDimension = (typeof KPI_DIMENSIONS)[number];

/** The H3 resolution of coverage cells and the finest hotspot resolution. */
export const COVERAGE_RES = 10;

const time = z.string().min(10).max(40);
const count = z.number();
const rate = z.number().nullable();

const durations = z.object({ n: count, mean: z.number().nullable(), p50: z.number().nullable(), p90: z.number().nullable() });
export const kpiFiguresSchema = z.object({
  incidents: count,
  open: count,
  closed: count,
  cancelled: count,
  closureRate: rate,
  resolved: count,
  resolvedOnTime: count,
  onTimeRate: rate,
  overdueOpen: count,
  acceptMs: durations,
  arriveMs: durations,
  resolveMs: durations,
  rated: count,
  satisfied: count,
  satisfactionRate: rate,
  ratingScoreN: count,
  ratingScoreMean: z.number().nullable(),
});
export const kpiReportSchema = z.object({
  scope: z.object({ code: z.string(), level: z.string(), name: z.string() }),
  from: isoTime,
  to: isoTime,
  by: z.enum(KPI_DIMENSIONS),
  asOf: isoTime,
  total: kpiFiguresSchema,
  groups: z.array(kpiFiguresSchema.extend({ key: z.string(), label: z.string() })),
  hotspots: z.object({
    resolution: z.number().int(),
    cells: z.array(z.object({ cell: z.string(), incidents: count, lat: z.number(), lon: z.number() })),
  }),
});

export const kpiTilesSchema = z.object({
  scope: z.string(),
  /** Today in Asia/Shanghai, YYYY-MM-DD, and the instant the figures were read. */
  day: z.string(),
  asOf: isoTime,
  /** Created today, not cancelled. */
  incidentsToday: count,
  /** Open now (any day): not resolved, verified, closed or cancelled. */
  open: count,
  /** Of today's incidents, closed already. */
  closed: count,
  /** closed / incidentsToday; null before the first incident of the day. */
  closureRate: rate,
  /** Of incidents resolved today, the share resolved by resolve_by; null when none. */
  onTimeRate: rate,
  /** Median time from report (or reopen) to acceptance, over incidents accepted today. */
  medianAcceptMs: z.number().nullable(),
  /** Median time from report (or reopen) to resolution, over incidents resolved today. */
  medianResolveMs: z.number().nullable(),
  /** Workers in scope whose handset's last presence is online. */
  workersOnline: count,
  /** Of those, on duty (the later of the handset's duty status and an operator's change). */
  workersOnPatrol: count,
});

export const gridDaySchema = z.object({
  grid: z.string(),
  day: isoTime,
  date: z.string(),
  incidents: count,
  closed: count,
  cancelled: count,
  resolved: count,
  resolvedOnTime: count,
  overdue: count,
  closureRate: rate,
  onTimeRate: rate,
  byCategory: z.record(z.string(), count),
  byState: z.record(z.string(), count),
});

const share = { visited: count, total: count, share: z.number() };
const round = z.object({ ...share, from: isoTime, to: isoTime, pass: z.boolean() });
export const gridCoverageSchema = z.object({
  ...share,
  grid: z.string(),
  date: z.string(),
  resolution: z.number().int(),
  cellAreaM2: z.number(),
  workers: z.array(z.string()),
  patrol: z.object({ morning: round, afternoon: round, pass: z.boolean() }),
  heat: z.array(z.object({ cell: z.string(), fixes: count, visits: count, inGrid: z.boolean() })),
});

export const activityRowSchema = z.object({
  bucket: isoTime,
  fixes: count,
  distanceM: z.number(),
  inGridS: z.number(),
  onDutyS: z.number(),
  firstTs: isoTime.nullable(),
  lastTs: isoTime.nullable(),
});

/**
 * A trail as GeoJSON: the LineString of the fixes (downsampled; `coordTimes`, `outsideOwnGrid` in
 * its properties) and one Point per stop. Geometry is left unchecked on the way out (up to 20,000
 * points a reply); the features' kinds are checked.
 */
export const trailSchema = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(
    z.object({ type: z.literal('Feature'), geometry: z.unknown(), properties: z.record(z.string(), z.unknown()).nullable() }),
  ),
});

const kpiQuery = z.strictObject({
  scope: regionCode.optional(),
  from: time,
  to: time,
  by: z.enum(KPI_DIMENSIONS).default('none'),
  hotspotRes: z.coerce.number().int().min(5).max(COVERAGE_RES).default(COVERAGE_RES),
  hotspots: z.coerce.number().int().min(0).max(500).default(10),
});
const rangeQuery = z.strictObject({ scope: regionCode.optional(), from: time, to: time });

export const ANALYTICS_ROUTES = {
  kpis: route('GET', '/api/kpis', {
    summary: 'The KPI report of a scope over [from, to) (≤ 366 days), grouped by `by`, with hotspots',
    querystring: kpiQuery,
    response: { 200: kpiReportSchema },
  }),
  kpisCsv: route('GET', '/api/kpis/export.csv', {
    summary: 'The same figures as CSV (UTF-8 with BOM): one total row, one row per group',
    querystring: kpiQuery,
    response: { 200: z.string() },
  }),
  gridDaily: route('GET', '/api/kpis/grid-daily', {
    summary: 'Per grid per day: incidents by category and state, closure and on-time rates',
    querystring: rangeQuery,
    response: { 200: z.object({ scope: z.string(), from: isoTime, to: isoTime, items: z.array(gridDaySchema) }) },
  }),
  tiles: route('GET', '/api/kpis/tiles', {
    summary: "The command screen's tiles for a scope (cached 5 s per scope)",
    querystring: z.strictObject({ scope: regionCode.optional() }),
    response: { 200: kpiTilesSchema },
  }),
  trail: route('GET', '/api/workers/:id/trail', {
    summary: "A worker's trail over [from, to) (≤ 7 days): the line in fix order and the stops",
    params: idParams,
    querystring: z.strictObject({
      from: time,
      to: time,
      maxPoints: z.coerce.number().int().min(2).max(20_000).default(2000),
      /** The stop rule: at least this long … */
      stopMinutes: z.coerce.number().min(0.5).max(720).default(5),
      /** … within this radius (hub/analytics/trail-stops.ts DEFAULT_STOP_RULE). */
      stopRadiusM: z.coerce.number().min(5).max(2000).default(50),
    }),
    response: { 200: trailSchema },
  }),
  activity: route('GET', '/api/workers/:id/activity', {
    summary: 'Per hour or day from the rollup: fixes, metres walked, seconds in the own grid and on duty',
    params: idParams,
    querystring: z.strictObject({ from: time, to: time, bucket: z.enum(['hour', 'day']).default('hour') }),
    response: { 200: z.object({ workerId: z.string(), bucket: z.enum(['hour', 'day']), items: z.array(activityRowSchema) }) },
  }),
  coverage: route('GET', '/api/coverage', {
    summary: "Share of a grid's H3 cells visited on a day, the twice-a-day rule, the heat map",
    querystring: z.strictObject({
      grid: regionCode,
      date: z.string().length(10),
      /** The share of cells a round must visit (hub/analytics/coverage-cells.ts DEFAULT_PATROL_RULE). */
      minShare: z.coerce.number().min(0).max(1).default(0.5),
    }),
    response: { 200: gridCoverageSchema },
  }),
} as const;
