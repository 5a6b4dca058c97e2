// The region tree in the database: judge an import (pure, also used offline by `npm run regions --
// check`), replace the whole tree in one transaction, and read it back as GeoJSON.
// Import policy (issue 3 item 1, DESIGN §4 "overlaps and gaps reported, not silently accepted"):
//  - structural errors (duplicate codes, unknown parents, cycles, wrong level order, degenerate
//    rings, no grid at all) always refuse the import;
//  - overlaps, gaps and children reaching outside their parent refuse it unless the operator
//    accepts that kind explicitly; accepted ones are still returned, with codes and areas;
//  - warnings (an unclosed ring, which the locator closes) never refuse.
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import type pg from 'pg';
import { parseRegions, RegionImportError, type Problem, type ProblemCode, type RegionTree } from './region-tree.js';
import { REGION_LEVELS, type RegionLevel } from '../../protocol/region-levels.js';
import { upsertRegionRows } from '../../storage/region-rows.js';
import { withTransaction } from '../../storage/database-transaction.js';

import { ACCEPT_FLAGS } from '../../protocol/region-api.js';

export { ACCEPT_FLAGS };
export type AcceptFlag = (typeof ACCEPT_FLAGS)[number];

/** Geometric problems an operator may accept, and the flag that accepts each. */
const ACCEPTABLE: Partial<Record<ProblemCode, AcceptFlag>> = { overlap: 'overlaps', gap: 'gaps', outside_parent: 'outside' };

/** Parses `overlaps,gaps` (also repeated flags); throws on an unknown word so a typo never accepts nothing silently. */
export function parseAcceptFlags(values: readonly string[]): Set<AcceptFlag> {
  const out = new Set<AcceptFlag>();
  for (const word of values
    .flatMap((v) => v.split(','))
    .map((w) => w.trim())
    .filter(Boolean)) {
    const flag = ACCEPT_FLAGS.find((f) => f === word || f === `${word}s`); // 'overlap' reads as 'overlaps'
    if (!flag) throw new Error(`unknown accept value "${word}" (use ${ACCEPT_FLAGS.join(', ')})`);
    out.add(flag);
  }
  return out;
}

export type ImportAssessment =
  | { verdict: 'unparseable'; issues: readonly string[] }
  | { verdict: 'invalid'; problems: Problem[]; noGrid: boolean }
  | { verdict: 'refused'; problems: Problem[]; needs: AcceptFlag[] }
  | { verdict: 'ok'; tree: RegionTree; problems: Problem[] };

export function isStructural(p: Problem): boolean {
  return p.severity === 'error' && ACCEPTABLE[p.code] === undefined;
}

/** Judges a GeoJSON region tree against the import policy; no I/O. */
export function assessRegionImport(input: unknown, accept: ReadonlySet<AcceptFlag>): ImportAssessment {
  let parsed: ReturnType<typeof parseRegions>;
  try {
    parsed = parseRegions(input);
  } catch (err) {
    if (err instanceof RegionImportError) return { verdict: 'unparseable', issues: err.issues };
    throw err;
  }
  const { tree, problems } = parsed;
  const noGrid = !tree.regions.some((r) => r.level === 'grid');
  if (noGrid || problems.some(isStructural)) return { verdict: 'invalid', problems, noGrid };
  const needs = new Set<AcceptFlag>();
  for (const p of problems) {
    const flag = ACCEPTABLE[p.code];
    if (p.severity === 'error' && flag && !accept.has(flag)) needs.add(flag);
  }
  if (needs.size > 0) return { verdict: 'refused', problems, needs: ACCEPT_FLAGS.filter((f) => needs.has(f)) };
  return { verdict: 'ok', tree, problems };
}

// The feature id has no column of its own; it rides in props under a key no GeoJSON producer uses.
const FEATURE_ID_KEY = '$featureId';
const CORE_KEYS = new Set(['code', 'parent', 'level', 'name']);

type Queryable = Pick<pg.Pool, 'query'>;
/** A region's properties as exported: its own extra fields, then the four the tree is made of. */
type RegionProperties = Record<string, unknown> & { code: string; parent: string | null; level: RegionLevel; name: string };
type RegionFeature = Feature<Polygon | MultiPolygon, RegionProperties>;

/** A row of `regions` as read (the directory reads the same columns but props). */
export interface RegionRow {
  code: string;
  parent_code: string | null;
  level: RegionLevel;
  name: string;
  geometry: Polygon | MultiPolygon;
  props: Record<string, unknown> | null;
}

export interface RegionFilter {
  /** Only regions at this level. */
  level?: RegionLevel;
  /** Only this region and everything under it. */
  root?: string;
}

const LEVEL_ORDER = `array_position(ARRAY[${REGION_LEVELS.map((l) => `'${l}'`).join(',')}], level)`;

/** Regions as GeoJSON, parents before children (so the file imports as it is). Null: root unknown. */
export async function readRegions(
  db: Queryable,
  filter: RegionFilter = {},
): Promise<FeatureCollection<Polygon | MultiPolygon, RegionProperties> | null> {
  const params: unknown[] = [];
  let source = 'regions';
  if (filter.root !== undefined) {
    const exists = await db.query('SELECT 1 FROM regions WHERE code = $1', [filter.root]);
    if (exists.rowCount === 0) return null;
    params.push(filter.root);
    source = `(WITH RECURSIVE sub AS (
                 SELECT * FROM regions WHERE code = $1
                 UNION ALL SELECT r.* FROM regions r JOIN sub ON r.parent_code = sub.code)
               SELECT * FROM sub) AS regions`;
  }
  let where = '';
  if (filter.level !== undefined) {
    params.push(filter.level);
    where = `WHERE level = $${params.length}`;
  }
  const r = await db.query<RegionRow>(
    `SELECT code, parent_code, level, name, geometry, props FROM ${source} ${where} ORDER BY ${LEVEL_ORDER}, code`,
    params,
  );
  return { type: 'FeatureCollection', features: r.rows.map(toFeature) };
}

function toFeature(row: RegionRow): RegionFeature {
  const { [FEATURE_ID_KEY]: featureId, ...extra } = row.props ?? {};
  return {
    type: 'Feature',
    ...(typeof featureId === 'string' || typeof featureId === 'number' ? { id: featureId } : {}),
    properties: { ...extra, code: row.code, parent: row.parent_code, level: row.level, name: row.name },
    geometry: row.geometry,
  };
}

export interface ReplaceOptions {
  accept: ReadonlySet<AcceptFlag>;
  /** Validate against the database (removed regions, devices, workers) and roll back. */
  dryRun?: boolean;
}

export interface WorkerOutsideTree {
  id: string;
  name: string;
  /** The worker's grid codes that are no longer grids after the import. */
  missingGridCodes: string[];
}

export interface ReplaceResult {
  outcome: 'replaced' | 'dry_run' | 'in_use';
  counts: { total: number; added: number; updated: number; removed: number };
  removedCodes: string[];
  /** Fixed devices (doors, cameras) that hang in a removed region. */
  devicesInRemovedRegions: Array<{ id: string; gridCode: string }>;
  /** Devices whose region was removed and that were detached (accept=detach). */
  devicesDetached: string[];
  workersOutsideTree: WorkerOutsideTree[];
  /** Open incidents owned by a removed grid: the hub must locate them again (no incident unowned). */
  openIncidentsInRemovedGrids: Array<{ id: string; gridCode: string }>;
}

/**
 * Replaces the whole tree in one transaction. Refuses (outcome 'in_use', nothing written) when
 * devices hang in regions the import removes, unless `detach` is accepted.
 */
export async function replaceRegions(pool: pg.Pool, tree: RegionTree, opts: ReplaceOptions): Promise<ReplaceResult> {
  return withTransaction(pool, async (client, end) => {
    // Two imports at once would interleave their deletes and upserts: the second waits.
    await client.query('LOCK TABLE regions IN SHARE ROW EXCLUSIVE MODE');
    const existing = new Set((await client.query<{ code: string }>('SELECT code FROM regions')).rows.map((r) => r.code));
    const incoming = new Set(tree.regions.map((r) => r.code));
    const removedCodes = [...existing].filter((c) => !incoming.has(c)).sort();
    const added = tree.regions.filter((r) => !existing.has(r.code)).length;

    const devices = (
      await client.query<{ id: string; grid_code: string }>(
        'SELECT id, grid_code FROM devices WHERE grid_code = ANY($1::text[]) ORDER BY id',
        [removedCodes],
      )
    ).rows.map((d) => ({ id: d.id, gridCode: d.grid_code }));
    const detach = opts.accept.has('detach');
    const result: ReplaceResult = {
      outcome: 'replaced',
      counts: { total: tree.regions.length, added, updated: tree.regions.length - added, removed: removedCodes.length },
      removedCodes,
      devicesInRemovedRegions: devices,
      devicesDetached: detach ? devices.map((d) => d.id) : [],
      workersOutsideTree: [],
      openIncidentsInRemovedGrids: [],
    };
    if (devices.length > 0 && !detach) {
      end.rollback();
      return { ...result, outcome: 'in_use' };
    }
    if (detach && devices.length > 0) {
      await client.query('UPDATE devices SET grid_code = NULL WHERE id = ANY($1::text[])', [devices.map((d) => d.id)]);
    }

    // Level by level, parents first: a child's parent row exists (new or updated) before the child.
    for (const level of REGION_LEVELS) {
      const rows = tree.regions
        .filter((r) => r.level === level)
        .map((r) => {
          const extra: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(r.properties)) if (!CORE_KEYS.has(k)) extra[k] = v;
          if (r.featureId !== undefined) extra[FEATURE_ID_KEY] = r.featureId;
          return { code: r.code, parent: r.parent, level, name: r.name, geometry: r.geometry, props: extra };
        });
      await upsertRegionRows(client, rows);
    }
    // One statement: the parent_code foreign key is checked at its end, when whole removed
    // subtrees are gone together.
    if (removedCodes.length > 0) await client.query('DELETE FROM regions WHERE code = ANY($1::text[])', [removedCodes]);

    const grids = tree.regions.filter((r) => r.level === 'grid').map((r) => r.code);
    const workers = await client.query<{ id: string; name: string; missing: string[] }>(
      `SELECT id, name, ARRAY(SELECT g FROM unnest(grid_codes) AS g WHERE NOT (g = ANY($1::text[])) ORDER BY g) AS missing
         FROM workers WHERE NOT (grid_codes <@ $1::text[]) ORDER BY id`,
      [grids],
    );
    result.workersOutsideTree = workers.rows.map((w) => ({ id: w.id, name: w.name, missingGridCodes: w.missing }));
    const incidents = await client.query<{ id: string; grid_code: string }>(
      `SELECT id, grid_code FROM incidents WHERE grid_code = ANY($1::text[]) AND state NOT IN ('closed', 'cancelled') ORDER BY id`,
      [removedCodes],
    );
    result.openIncidentsInRemovedGrids = incidents.rows.map((i) => ({ id: i.id, gridCode: i.grid_code }));
    if (opts.dryRun) {
      end.rollback();
      return { ...result, outcome: 'dry_run' };
    }
    return result;
  });
}
