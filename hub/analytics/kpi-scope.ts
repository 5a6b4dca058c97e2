// A KPI scope is any region code (district, street, community, grid, …). Incidents belong to the
// scope when their grid_code is the region itself or any region under it in the regions tree;
// each is also labelled with the child of the scope it lies under, for "by region" breakdowns
// (a district by street, a street by community, a community by grid; a grid is its own child).
import { AppError } from '../../common/error-codes.js';
import type { RegionDirectory } from '../regions/region-directory.js';

export interface Scope {
  code: string;
  level: string;
  name: string;
}

/**
 * The scope, and whether it is the whole tree (the sole root: a city's district screen), where
 * every region is in scope and the tree need not be walked (see scopeGridsCte). From the hub's
 * region directory, as every other "what is this code" question.
 */
export function resolveScopeTree(regions: RegionDirectory, code: string): { scope: Scope; wholeTree: boolean } {
  const r = regions.get(code);
  if (!r) throw new AppError('REGION_NOT_FOUND');
  return { scope: { code: r.code, level: r.level, name: r.name }, wholeTree: regions.isWholeTree(code) };
}

/**
 * The scope a request asks for, checked against the viewer's own (hub/auth/auth-plugin.ts): a
 * community screen may ask for its community or anything under it, never its street. With no
 * viewer scope (auth off) or the all-seeing one ('*'), any region; `asked` defaults to the
 * viewer's scope, else to the root region when there is only one.
 */
export function allowedScope(regions: RegionDirectory, asked: string | undefined, viewerScope: string | null): string {
  const own = viewerScope === null || viewerScope === '*' ? null : viewerScope;
  const code = asked ?? own ?? regions.soleRoot();
  if (code === null) throw new AppError('REGION_NOT_FOUND');
  if (own === null || code === own) return code;
  if (!regions.covers(own, code)) throw new AppError('OUT_OF_SCOPE');
  return code;
}

/**
 * A CTE, `scope_grids(grid_code, region, region_name)`, with the scope code as parameter $n.
 * The one walk of the tree left in SQL (the KPI report, tiles, hotspots and the per grid per day
 * read): it labels each region with the scope's child it lies under inside the aggregate's own
 * statement, and sees the tree in the same snapshot as `incident_region_daily`, whose rollup the
 * trigger on `regions` invalidates in the transaction that changes the tree. Walked per query: a few milliseconds
 * on a server, 12–24 ms embedded for a 3,411-region city (bench/storage-bench.ts, KPIs). With
 * `wholeTree` (the scope is the sole root, resolveScopeTree) every region is in scope and the walk
 * is skipped; region and region_name are then null, so not for breakdowns by region. Regions, not
 * "every incident": an incident of a grid an import removed is in no scope either way.
 */
export function scopeGridsCte(param: number, wholeTree = false): string {
  if (wholeTree)
    return `scope_grids(grid_code, region, region_name) AS (SELECT code, NULL::text, NULL::text FROM regions WHERE $${param}::text IS NOT NULL)`;
  return `RECURSIVE sub(code, name, top, top_name) AS (
      SELECT code, name, code, name FROM regions WHERE parent_code = $${param}
      UNION ALL
      SELECT r.code, r.name, s.top, s.top_name FROM regions r JOIN sub s ON r.parent_code = s.code
    ), scope_grids(grid_code, region, region_name) AS (
      SELECT code, top, top_name FROM sub
      UNION ALL
      SELECT code, code, name FROM regions WHERE code = $${param}
    )`;
}
