// A KPI scope is any region code (district, street, community, grid, …). Incidents belong to the
// scope when their grid_code is the region itself or any region under it in the regions tree;
// each is also labelled with the child of the scope it lies under, for "by region" breakdowns
// (a district by street, a street by community, a community by grid; a grid is its own child).
import type pg from 'pg';
import { AppError } from '../../common/error-codes.js';

export interface Scope {
  code: string;
  level: string;
  name: string;
}

export async function resolveScope(pool: Pick<pg.Pool, 'query'>, code: string): Promise<Scope> {
  return (await resolveScopeTree(pool, code)).scope;
}

/**
 * The scope, and whether it is the whole tree (the sole root: a city's district screen), where
 * every region is in scope and the tree need not be walked (see scopeGridsCte).
 */
export async function resolveScopeTree(pool: Pick<pg.Pool, 'query'>, code: string): Promise<{ scope: Scope; wholeTree: boolean }> {
  const r = await pool.query<Scope & { whole: boolean }>(
    `SELECT code, level, name,
            parent_code IS NULL AND NOT EXISTS (SELECT 1 FROM regions o WHERE o.parent_code IS NULL AND o.code <> r.code) AS whole
       FROM regions r WHERE code = $1`,
    [code],
  );
  if (r.rowCount === 0) throw new AppError('REGION_NOT_FOUND');
  const { whole, ...scope } = r.rows[0];
  return { scope, wholeTree: whole };
}

/** The district when the tree has exactly one root: the natural default scope. */
async function soleRoot(pool: Pick<pg.Pool, 'query'>): Promise<string | null> {
  const r = await pool.query<{ code: string }>(`SELECT code FROM regions WHERE parent_code IS NULL LIMIT 2`);
  return r.rows.length === 1 ? r.rows[0].code : null;
}

/**
 * The scope a request asks for, checked against the viewer's own (hub/auth/auth-plugin.ts): a
 * community screen may ask for its community or anything under it, never its street. With no
 * viewer scope (auth off) or the all-seeing one ('*'), any region; `asked` defaults to the
 * viewer's scope, else to the root region when there is only one.
 */
export async function allowedScope(pool: Pick<pg.Pool, 'query'>, asked: string | undefined, viewerScope: string | null): Promise<string> {
  const own = viewerScope === null || viewerScope === '*' ? null : viewerScope;
  const code = asked ?? own ?? (await soleRoot(pool));
  if (code === null) throw new AppError('REGION_NOT_FOUND');
  if (own === null || code === own) return code;
  const r = await pool.query(
    `WITH RECURSIVE up(code, parent_code, depth) AS (
        SELECT code, parent_code, 0 FROM regions WHERE code = $1
        UNION ALL
        SELECT r.code, r.parent_code, up.depth + 1 FROM regions r JOIN up ON r.code = up.parent_code WHERE up.depth < 16
      ) SELECT 1 FROM up WHERE code = $2`,
    [code, own],
  );
  if (r.rowCount === 0) throw new AppError('OUT_OF_SCOPE');
  return code;
}

/**
 * A CTE, `scope_grids(grid_code, region, region_name)`, with the scope code as parameter $n.
 * Walked per query, so it stays correct when the tree is re-imported: a few milliseconds on a
 * server, 12–24 ms embedded for a 3,411-region city (bench/storage-bench.ts, KPIs). With
 * `wholeTree` (the scope is the sole root, resolveScopeTree) every region is in scope and the walk
 * is skipped; region and region_name are then null, so not for breakdowns by region. Regions, not
 * "every incident": an incident of a grid an import removed is in no scope either way.
 */
export function scopeGridsCte(param: number, wholeTree = false): string {
  if (wholeTree) return `scope_grids(grid_code, region, region_name) AS (SELECT code, NULL::text, NULL::text FROM regions WHERE $${param}::text IS NOT NULL)`;
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
