// The region tree district → street → community → grid (→ unit → cell), imported from and exported
// to GeoJSON (DESIGN §4 Regions; Rongcheng's three-level grid: base grid / unit / cell).
// Structure and geometry defects are *reported* as problems so an operator can fix a whole file in
// one pass; only input that is not a FeatureCollection of region features at all is thrown.
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { z } from 'zod';
import { checkRegionGeometry, type GeometryCheckOptions } from './region-geometry-check.js';
import { ringIsClosed, ringsOf } from './geo-measure.js';
import { problem, type Problem } from './region-problems.js';
import { REGION_LEVELS, levelRank, regionLevelSchema, type RegionLevel } from '../../protocol/region-levels.js';

export type { Problem, ProblemCode } from './region-problems.js';

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)], z.number());
// Short or unclosed rings parse (and are reported as problems below), so one bad ring does not
// hide every other defect in the file.
const ring = z.array(position).min(1);
const polygonSchema = z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1) }).loose();
const multiPolygonSchema = z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1)).min(1) }).loose();

export const regionPropertiesSchema = z
  .object({
    code: z.string().min(1).max(64),
    parent: z.string().min(1).max(64).nullable(),
    level: regionLevelSchema,
    name: z.string().min(1).max(200),
  })
  .loose(); // extra properties (population, households …) survive the round trip

export const regionFeatureSchema = z
  .object({
    type: z.literal('Feature'),
    id: z.union([z.string(), z.number()]).optional(),
    properties: regionPropertiesSchema,
    geometry: z.discriminatedUnion('type', [polygonSchema, multiPolygonSchema]),
  })
  .loose();

export const regionCollectionSchema = z.object({ type: z.literal('FeatureCollection'), features: z.array(regionFeatureSchema) }).loose();

export type RegionProperties = z.infer<typeof regionPropertiesSchema>;

export interface Region {
  code: string;
  parent: string | null;
  level: RegionLevel;
  name: string;
  geometry: Polygon | MultiPolygon;
  /** Every feature property, including code/parent/level/name, as imported. */
  properties: RegionProperties;
  featureId?: string | number;
}

export interface RegionTree {
  /** Regions in import order (first occurrence of each code). */
  readonly regions: readonly Region[];
  readonly byCode: ReadonlyMap<string, Region>;
  readonly children: ReadonlyMap<string, readonly string[]>;
  readonly roots: readonly string[];
}

export class RegionImportError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`region GeoJSON does not parse: ${issues.slice(0, 5).join('; ')}`);
    this.name = 'RegionImportError';
  }
}

export interface ParseRegionsOptions {
  /** Skip the geometric checks (overlaps, gaps) e.g. for a quick structural load. Default false. */
  skipGeometry?: boolean;
  geometry?: GeometryCheckOptions;
}

/** Parse and validate a GeoJSON FeatureCollection of regions. Throws RegionImportError only if unparseable. */
export function parseRegions(input: unknown, options: ParseRegionsOptions = {}): { tree: RegionTree; problems: Problem[] } {
  const parsed = regionCollectionSchema.safeParse(input);
  if (!parsed.success) {
    throw new RegionImportError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const problems: Problem[] = [];
  const regions: Region[] = [];
  const byCode = new Map<string, Region>();
  for (const f of parsed.data.features) {
    const p = f.properties;
    if (byCode.has(p.code)) {
      problems.push(problem('duplicate_code', 'error', p.code, `区划编码 ${p.code} 重复`, `region code ${p.code} is duplicated`));
      continue;
    }
    const region: Region = {
      code: p.code,
      parent: p.parent,
      level: p.level,
      name: p.name,
      geometry: f.geometry as Polygon | MultiPolygon,
      properties: p,
      ...(f.id === undefined ? {} : { featureId: f.id }),
    };
    regions.push(region);
    byCode.set(p.code, region);
  }

  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const r of regions) {
    if (r.parent === null) {
      roots.push(r.code);
    } else if (r.parent === r.code) {
      problems.push(problem('self_parent', 'error', r.code, `${r.code} 的上级是自己`, `${r.code} is its own parent`));
    } else {
      const parent = byCode.get(r.parent);
      if (!parent) {
        problems.push(
          problem(
            'parent_missing',
            'error',
            r.code,
            `${r.code} 的上级 ${r.parent} 不存在`,
            `parent ${r.parent} of ${r.code} does not exist`,
            r.parent,
          ),
        );
        continue;
      }
      if (levelRank(r.level) !== levelRank(parent.level) + 1) {
        problems.push(
          problem(
            'level_mismatch',
            'error',
            r.code,
            `${r.code}（${r.level}）不能直属于 ${parent.code}（${parent.level}）`,
            `${r.code} (${r.level}) cannot sit directly under ${parent.code} (${parent.level})`,
            parent.code,
          ),
        );
      }
      const list = children.get(r.parent) ?? [];
      list.push(r.code);
      children.set(r.parent, list);
    }
    problems.push(...ringProblems(r));
  }
  problems.push(...findCycles(regions, byCode));

  const tree: RegionTree = { regions, byCode, children, roots };
  if (!options.skipGeometry) problems.push(...checkRegionGeometry(tree, options.geometry));
  return { tree, problems };
}

function ringProblems(r: Region): Problem[] {
  const out: Problem[] = [];
  for (const ring of ringsOf(r.geometry)) {
    // A closed ring needs 4 positions (RFC 7946 §3.1.6); 3 distinct ones if the closing one is missing.
    const distinct = ringIsClosed(ring) ? ring.length - 1 : ring.length;
    if (distinct < 3) {
      out.push(
        problem(
          'ring_too_short',
          'error',
          r.code,
          `${r.code} 有少于 3 个顶点的环`,
          `${r.code} has a ring with fewer than 3 vertices`,
          undefined,
          ring[0],
        ),
      );
    } else if (!ringIsClosed(ring)) {
      out.push(
        problem(
          'ring_not_closed',
          'warning',
          r.code,
          `${r.code} 有未闭合的环（首尾坐标不同）`,
          `${r.code} has a ring whose first and last positions differ`,
          undefined,
          ring[0],
        ),
      );
    }
  }
  return out;
}

/** Parent chains that loop (only possible when levels are also wrong, but never trust input). */
function findCycles(regions: readonly Region[], byCode: ReadonlyMap<string, Region>): Problem[] {
  const out: Problem[] = [];
  const reported = new Set<string>();
  for (const start of regions) {
    const seen = new Set<string>();
    let cur: Region | undefined = start;
    while (cur && cur.parent !== null && cur.parent !== cur.code) {
      if (seen.has(cur.code)) {
        if (!reported.has(cur.code)) {
          for (const c of seen) reported.add(c);
          out.push(problem('cycle', 'error', cur.code, `${cur.code} 的上级链形成环`, `the parent chain of ${cur.code} loops`));
        }
        break;
      }
      seen.add(cur.code);
      cur = byCode.get(cur.parent);
    }
  }
  return out;
}

/** Back to GeoJSON: features in import order, properties and feature ids as imported. */
export function regionsToGeoJSON(tree: RegionTree): FeatureCollection<Polygon | MultiPolygon, RegionProperties> {
  const features = tree.regions.map(
    (r): Feature<Polygon | MultiPolygon, RegionProperties> => ({
      type: 'Feature',
      ...(r.featureId === undefined ? {} : { id: r.featureId }),
      properties: { ...r.properties, code: r.code, parent: r.parent, level: r.level, name: r.name },
      geometry: r.geometry,
    }),
  );
  return { type: 'FeatureCollection', features };
}

export function regionsAtLevel(tree: RegionTree, level: RegionLevel): Region[] {
  return tree.regions.filter((r) => r.level === level);
}

/** The ancestor (or the region itself) at `level`, or null when the chain does not reach it. */
export function ancestorAtLevel(tree: RegionTree, code: string, level: RegionLevel): Region | null {
  let cur = tree.byCode.get(code);
  for (let guard = 0; cur && guard < REGION_LEVELS.length + 1; guard++) {
    if (cur.level === level) return cur;
    cur = cur.parent === null ? undefined : tree.byCode.get(cur.parent);
  }
  return null;
}

/** Codes of the regions at `level` under `code` (itself if it is at that level), sorted. */
export function descendantsAtLevel(tree: RegionTree, code: string, level: RegionLevel): string[] {
  const out: string[] = [];
  const stack = [code];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const c = stack.pop() as string;
    if (seen.has(c)) continue;
    seen.add(c);
    const r = tree.byCode.get(c);
    if (!r) continue;
    if (r.level === level) out.push(c);
    else stack.push(...(tree.children.get(c) ?? []));
  }
  return out.sort();
}
