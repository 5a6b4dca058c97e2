// The one scope check of the HTTP API (issue 16 item 0): what a request may see is its viewer's
// area, a region code, and a thing (worker, incident, alarm, device) belongs to a grid. The rule is
// the live push's (hub/auth/region-scope.ts: the grid or one of its ancestors), so a screen's REST
// answers and its Socket.IO rooms never disagree. Routes use it in three ways, all declared where
// the route is (route-policy.ts): `target` (the :id names a thing, checked before the body is
// read), `areaParam` (a query parameter names a region the caller must reach), and in the handler
// for lists (`areaOf(req).sql(…)` / `.covers(…)`).
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { AppError, type ErrorCode } from '../../common/error-codes.js';
import { ALL_SCOPE, type RegionScopes } from './region-scope.js';

export interface Area {
  /** A region code, or ALL_SCOPE (auth off, or no login service wired). */
  readonly scope: string;
  readonly all: boolean;
  /** Whether a thing in this grid is the viewer's (null: no grid, owned by the district). */
  covers(gridCode: string | null): boolean;
  /** Whether the viewer may ask about region `code`: its own scope or a region under it. */
  reaches(code: string): boolean;
  /** Whether the area is the whole tree (hub-wide settings need it). */
  whole(): boolean;
  /** SQL: `column` among the grids under the scope, or `true`; pushes its parameter. */
  sql(column: string, params: unknown[]): string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook (auth-plugin.ts); null without a login service: read with areaOf(). */
    area: Area | null;
  }
}

/** The area of an all-seeing screen: auth off, or an app built without the login service. */
export const ALL_AREA: Area = Object.freeze({
  scope: ALL_SCOPE,
  all: true,
  covers: () => true,
  reaches: () => true,
  whole: () => true,
  sql: () => 'true',
});

/** The area of a request with no session (public routes): it reaches nothing. */
export const NO_AREA: Area = Object.freeze({
  scope: '',
  all: false,
  covers: () => false,
  reaches: () => false,
  whole: () => false,
  sql: () => 'false',
});

export function areaFor(scope: string, scopes: RegionScopes): Area {
  if (scope === ALL_SCOPE) return ALL_AREA;
  return {
    scope,
    all: false,
    covers: (gridCode) => scopes.covers(scope, gridCode),
    reaches: (code) => scopes.covers(scope, code),
    whole: () => scopes.isWholeTree(scope),
    sql(column, params) {
      // The codes under the scope from the region directory (as the live rooms), not a walk of the
      // table per query: the directory is loaded again on every change of the tree.
      params.push(scopes.regions.under(scope));
      return `${column} = ANY($${params.length}::text[])`;
    },
  };
}

export function areaOf(req: FastifyRequest): Area {
  return (req as FastifyRequest & { area?: Area | null }).area ?? ALL_AREA;
}

/** Things a route's `:id` can name; each maps the id to the grid that owns the thing. */
export const TARGETS = {
  worker: {
    // A worker belongs to its first grid, as on the live screen (LiveState: grid_codes[0]).
    sql: 'SELECT grid_codes[1] AS grid FROM workers WHERE id = $1',
    notFound: 'WORKER_NOT_FOUND',
  },
  incident: { sql: 'SELECT grid_code AS grid FROM incidents WHERE id = $1', notFound: 'INCIDENT_NOT_FOUND' },
  alarm: {
    sql: 'SELECT i.grid_code AS grid FROM incident_alarms a JOIN incidents i ON i.id = a.incident_id WHERE a.id = $1::bigint',
    notFound: 'ALARM_NOT_FOUND',
    id: /^[1-9]\d{0,17}$/,
  },
} as const satisfies Record<string, { sql: string; notFound: ErrorCode; id?: RegExp }>;
export type TargetKind = keyof typeof TARGETS;

/**
 * An onRequest hook for a route whose `:id` names a `kind`: a thing outside the viewer's area is
 * "not found" (404, as a missing one: the answer does not tell that it exists), before the body is
 * parsed. A missing thing counts as having no grid: the district's, so a district screen gets the
 * route's own answer (an empty trail, a 404).
 */
export function targetHook(pool: Pick<pg.Pool, 'query'>, kind: TargetKind) {
  const t: { sql: string; notFound: ErrorCode; id?: RegExp } = TARGETS[kind];
  return async (req: FastifyRequest): Promise<void> => {
    const area = areaOf(req);
    if (area.all) return;
    const id = (req.params as Record<string, unknown> | undefined)?.id;
    // A malformed id is left to the schema (400); it cannot name anything.
    if (typeof id !== 'string' || id.length > 128 || (t.id && !t.id.test(id))) return;
    const r = await pool.query<{ grid: string | null }>(t.sql, [id]);
    if (!area.covers(r.rows[0]?.grid ?? null)) throw new AppError(t.notFound);
  };
}

/** An onRequest hook for a route whose query parameter `name` names a region: 403 outside the area. */
export function areaParamHook(name: string) {
  return async (req: FastifyRequest): Promise<void> => {
    const asked = (req.query as Record<string, unknown> | undefined)?.[name];
    if (typeof asked === 'string' && !areaOf(req).reaches(asked)) throw new AppError('OUT_OF_SCOPE');
  };
}
