// Which grid owns a point. DESIGN §4: every point belongs to exactly one grid; no incident is ever
// left without an owner. Seed 000: a clogged drain where two streets meet was accepted by neither.
//
// Ownership rule (deterministic, independent of the order grids were loaded in):
//  1. grids whose polygon contains the point strictly inside beat grids that only touch it
//     on their boundary (an overlap edge running through another grid's interior);
//  2. among equals (a point on a shared edge or vertex, or inside an overlap) the LOWEST grid code
//     in string (UTF-16 code unit) order owns it;
//  3. a point inside no grid goes to the grid whose edge is nearest (projected metres), lowest code
//     on a tie, and is flagged 'outside' with the distance so the screen can show it for review.
import Flatbush from 'flatbush';
import type { MultiPolygon, Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { bboxOf, closeRings, distanceToEdgesM, localProjection, type Projection } from './geo-measure.js';
import { regionsAtLevel, type RegionTree } from './region-tree.js';
import type { RegionLevel } from '../../protocol/region-levels.js';

export interface GridShape {
  code: string;
  geometry: Polygon | MultiPolygon;
}

export interface GridLocation {
  gridCode: string;
  flagged: 'outside' | null;
  /** Metres to the owning grid's nearest edge; only for 'outside' points. */
  distanceM?: number;
  /** Other grids that claimed the point equally (shared edge/vertex, overlap): kept for the audit. */
  tiedWith?: string[];
}

export interface GridLocator {
  readonly size: number;
  locate(lon: number, lat: number): GridLocation;
}

interface Entry {
  code: string;
  geometry: Polygon | MultiPolygon;
}

/** Candidates fetched per nearest-neighbour round before the exact-distance check. */
const NEAREST_BATCH = 8;

export function buildGridLocator(grids: readonly GridShape[]): GridLocator {
  if (grids.length === 0) throw new Error('grid locator needs at least one grid: without one no point can have an owner');
  // Sort by code first: the index, and so every answer, is the same whatever order grids arrive in.
  const entries: Entry[] = [...grids]
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map((g) => ({ code: g.code, geometry: closeRings(g.geometry) }));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].code === entries[i - 1].code) throw new Error(`duplicate grid code ${entries[i].code}`);
  }
  const boxes = entries.map((e) => bboxOf(e.geometry));
  const midLat = boxes.reduce((s, b) => s + (b.minLat + b.maxLat) / 2, 0) / boxes.length;
  const proj: Projection = localProjection(midLat);
  // One index in projected metres: linear per axis, so it answers both "which boxes hold the point"
  // and "which boxes are nearest" with distances comparable to the exact edge distance.
  const index = new Flatbush(entries.length);
  for (const b of boxes) index.add(proj.x(b.minLon), proj.y(b.minLat), proj.x(b.maxLon), proj.y(b.maxLat));
  index.finish();

  function locate(lon: number, lat: number): GridLocation {
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw new Error('locate needs finite lon/lat');
    const x = proj.x(lon);
    const y = proj.y(lat);
    // Ascending index order = ascending code order, so the first match is already the lowest code.
    const hits = index
      .search(x, y, x, y)
      .sort((a, b) => a - b)
      .filter((i) => booleanPointInPolygon([lon, lat], entries[i].geometry));
    if (hits.length === 1) return { gridCode: entries[hits[0]].code, flagged: null };
    if (hits.length > 1) {
      const strict = hits.filter((i) => booleanPointInPolygon([lon, lat], entries[i].geometry, { ignoreBoundary: true }));
      const pool = strict.length > 0 ? strict : hits;
      const [owner, ...rest] = pool;
      return { gridCode: entries[owner].code, flagged: null, tiedWith: rest.map((i) => entries[i].code) };
    }
    return nearest(lon, lat, x, y);
  }

  function nearest(lon: number, lat: number, x: number, y: number): GridLocation {
    // Box distance is a lower bound of edge distance: take a few nearest boxes, measure exactly,
    // then re-check every box closer than the best exact distance found.
    let best = Infinity;
    let bestIdx = -1;
    const consider = (i: number): void => {
      const d = distanceToEdgesM(lon, lat, entries[i].geometry, proj);
      if (d < best || (d === best && i < bestIdx)) {
        best = d;
        bestIdx = i;
      }
    };
    for (const i of index.neighbors(x, y, NEAREST_BATCH)) consider(i);
    for (const i of index.search(x - best, y - best, x + best, y + best)) consider(i);
    return { gridCode: entries[bestIdx].code, flagged: 'outside', distanceM: best };
  }

  return { size: entries.length, locate };
}

/** A locator over the tree's regions of one level (grids by default; 'unit'/'cell' for finer trees). */
export function gridLocatorFromTree(tree: RegionTree, level: RegionLevel = 'grid'): GridLocator {
  return buildGridLocator(regionsAtLevel(tree, level).map((r) => ({ code: r.code, geometry: r.geometry })));
}
