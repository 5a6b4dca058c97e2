// The command screen's KPI tiles (issue 4 item 5): one small answer per scope, polled every 10 s
// by every screen of that scope. One round trip of index-served aggregates, and a short cache per
// scope that also merges concurrent requests, so a wall of screens costs one query per TTL.
import type pg from 'pg';
import type { KpiTiles } from '../../protocol/http-api.js';
import type { Clock } from '../../common/clock.js';
import { shanghaiDayStart } from './coverage-cells.js';
import { OPEN_SQL } from './kpi-query.js';
import { resolveScopeTree, scopeGridsCte } from './kpi-scope.js';
import type { RegionDirectory } from '../regions/region-directory.js';

// The reply's shape is the wire contract's (protocol/http-api.ts), shared with the screen.
export type { KpiTiles };

interface TileRow {
  incidents_today: number;
  closed: number;
  open: number;
  resolved_today: number;
  on_time: number;
  median_accept: number | null;
  median_resolve: number | null;
  workers_online: number;
  workers_on_patrol: number;
}

const inScope = `grid_code IN (SELECT grid_code FROM scope_grids)`;
const sinceDay = `to_timestamp($2 / 1000.0)`;

// Workers belong to a scope by their grids; one with no grid (department staff, command) belongs
// to the root regions, as on the live screen (hub/auth/region-scope.ts). The grid match is a join
// on unnest(grid_codes), not `grid_codes && ARRAY(scope grids)`: that compares each worker against
// every grid of a district (3,300), which made the district tiles 200 ms.
const tilesSql = (wholeTree: boolean) => `
  WITH ${scopeGridsCte(1, wholeTree)}
  SELECT a.*, b.*, c.*, d.*, e.*
    FROM (SELECT count(*) FILTER (WHERE state <> 'cancelled')::int AS incidents_today,
                 count(*) FILTER (WHERE state = 'closed')::int AS closed
            FROM incidents WHERE created_at >= ${sinceDay} AND ${inScope}) a,
         (SELECT count(*)::int AS open FROM incidents WHERE ${OPEN_SQL('state')} AND ${inScope}) b,
         (SELECT count(*)::int AS resolved_today, count(*) FILTER (WHERE resolved_at <= resolve_by)::int AS on_time,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', resolved_at - sla_started_at) * 1000) AS median_resolve
            FROM incidents WHERE resolved_at >= ${sinceDay} AND ${inScope}) c,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', accepted_at - sla_started_at) * 1000) AS median_accept
            FROM incidents WHERE accepted_at >= ${sinceDay} AND ${inScope}) d,
         (SELECT count(DISTINCT w.id) FILTER (WHERE p.online)::int AS workers_online,
                 count(DISTINCT w.id) FILTER (WHERE p.online AND
                   CASE WHEN s.ts IS NULL OR (w.duty_since IS NOT NULL AND w.duty_since > s.ts) THEN w.duty ELSE s.duty END = 'on')::int AS workers_on_patrol
            FROM (SELECT w.id FROM workers w, unnest(w.grid_codes) gc WHERE gc IN (SELECT grid_code FROM scope_grids)
                  UNION
                  SELECT w.id FROM workers w
                   WHERE cardinality(w.grid_codes) = 0 AND EXISTS (SELECT 1 FROM regions WHERE code = $1 AND parent_code IS NULL)) sw
            JOIN workers w ON w.id = sw.id
            JOIN devices d ON d.worker_id = w.id AND d.kind = 'handset' AND d.enabled
            LEFT JOIN LATERAL (SELECT online FROM device_status
                                WHERE device_id = d.id AND kind = 'presence' ORDER BY ts DESC LIMIT 1) p ON true
            LEFT JOIN LATERAL (SELECT duty, ts FROM device_status
                                WHERE device_id = d.id AND kind = 'status' AND duty IS NOT NULL ORDER BY ts DESC LIMIT 1) s ON true) e`;

const TILES_SUBTREE = tilesSql(false);
const TILES_WHOLE_TREE = tilesSql(true);

export async function readTiles(pool: Pick<pg.Pool, 'query'>, regions: RegionDirectory, scope: string, now: number): Promise<KpiTiles> {
  const { wholeTree } = resolveScopeTree(regions, scope);
  const day = new Date(now + 8 * 3_600_000).toISOString().slice(0, 10);
  const r = await pool.query<TileRow>(wholeTree ? TILES_WHOLE_TREE : TILES_SUBTREE, [scope, shanghaiDayStart(day)]);
  const t = r.rows[0];
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    scope,
    day,
    asOf: new Date(now).toISOString(),
    incidentsToday: t.incidents_today,
    open: t.open,
    closed: t.closed,
    closureRate: t.incidents_today === 0 ? null : t.closed / t.incidents_today,
    onTimeRate: t.resolved_today === 0 ? null : t.on_time / t.resolved_today,
    medianAcceptMs: num(t.median_accept),
    medianResolveMs: num(t.median_resolve),
    workersOnline: t.workers_online,
    workersOnPatrol: t.workers_on_patrol,
  };
}

/** Tiles per scope, reused for ttlMs; concurrent misses share one query. */
export class TileCache {
  private readonly entries = new Map<string, { at: number; value: Promise<KpiTiles> }>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly regions: RegionDirectory,
    private readonly clock: Clock,
    readonly ttlMs = 5_000,
  ) {}

  get(scope: string): Promise<KpiTiles> {
    const now = this.clock.now();
    const hit = this.entries.get(scope);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = readTiles(this.pool, this.regions, scope, now);
    this.entries.set(scope, { at: now, value });
    // A failure (unknown scope, database down) is not cached: the next poll asks again.
    value.catch(() => {
      if (this.entries.get(scope)?.value === value) this.entries.delete(scope);
    });
    // Bounded by the number of regions a caller may name (resolveScope rejects others), but keep
    // the map from holding stale scopes forever.
    if (this.entries.size > 10_000) for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }
}
