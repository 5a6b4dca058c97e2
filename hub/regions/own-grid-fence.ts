// Whether a fix lies inside one of its worker's own grids: decided once, at ingest, and stored
// with the fix (positions.in_grid), so that the hourly rollup can sum the time a worker spent in
// their grid without testing polygons in SQL. Reloaded with the registry when regions or workers
// change (the polygons from the region directory, read just before); a fix keeps the answer of the
// grids its worker had when it arrived.
import type pg from 'pg';
import type { MultiPolygon, Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { RegionDirectory } from './region-directory.js';

export interface Fence {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
  geometry: Polygon | MultiPolygon;
}

/**
 * A worker's last answer and how far from it any answer holds: half the distance (in the lon/lat
 * plane turf tests in) from that point to the nearest edge of any of the worker's fences. A point
 * closer than that to the last one cannot lie across an edge from it, so the answer is the same;
 * a point on an edge has no room at all. A handset walks metres between fixes and its grid's edges
 * are typically tens of metres or more away, so most fixes skip the polygon test (the fence was
 * 1.7 % of a node's busy time in bench:ingest at 2,500 fixes/s; a real grid has more vertices than
 * the bench's 24).
 */
interface LastAnswer {
  lon: number;
  lat: number;
  /** The squared distance within which the answer holds. */
  room2: number;
  inside: boolean;
}

export class OwnGridFence {
  private byWorker = new Map<string, Fence[]>();
  /** Per worker; emptied with every load, so an answer never outlives the grids it was given for. */
  private last = new Map<string, LastAnswer>();

  /** The workers' grids from the table, their polygons from the (loaded) region directory. */
  async load(pool: Pick<pg.Pool, 'query'>, regions: RegionDirectory): Promise<void> {
    const r = await pool.query<{ id: string; grid_codes: string[] }>('SELECT id, grid_codes FROM workers');
    const next = new Map<string, Fence[]>();
    for (const row of r.rows) {
      // A grid an import removed is no fence: as the join on regions this replaces left it out.
      const fences = row.grid_codes.flatMap((code) => {
        const region = regions.get(code);
        return region ? [fence(region.geometry)] : [];
      });
      if (fences.length > 0) next.set(row.id, fences);
    }
    this.byWorker = next;
    this.last = new Map();
  }

  /** null: no worker, or a worker without a grid (nothing to be inside of). */
  inside(workerId: string | null, lon: number, lat: number): boolean | null {
    if (workerId === null) return null;
    const fences = this.byWorker.get(workerId);
    if (!fences) return null;
    const last = this.last.get(workerId);
    if (last) {
      const dx = lon - last.lon;
      const dy = lat - last.lat;
      if (dx * dx + dy * dy < last.room2) return last.inside;
    }
    const inside = insideAny(fences, lon, lat);
    const room = clearance(fences, lon, lat) / 2;
    if (last) {
      last.lon = lon;
      last.lat = lat;
      last.room2 = room * room;
      last.inside = inside;
    } else {
      this.last.set(workerId, { lon, lat, room2: room * room, inside });
    }
    return inside;
  }
}

/** Inside any of the fences: a bounding-box test first, then turf (the boundary counts as inside). */
export function insideAny(fences: readonly Fence[], lon: number, lat: number): boolean {
  for (const f of fences) {
    if (lon < f.minLon || lon > f.maxLon || lat < f.minLat || lat > f.maxLat) continue;
    if (booleanPointInPolygon([lon, lat], f.geometry)) return true;
  }
  return false;
}

export function fence(geometry: Polygon | MultiPolygon): Fence {
  const f: Fence = { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity, geometry };
  const rings = geometry.type === 'Polygon' ? [geometry.coordinates[0]] : geometry.coordinates.map((p) => p[0]);
  for (const ring of rings) {
    for (const [lon, lat] of ring) {
      if (lon < f.minLon) f.minLon = lon;
      if (lon > f.maxLon) f.maxLon = lon;
      if (lat < f.minLat) f.minLat = lat;
      if (lat > f.maxLat) f.maxLat = lat;
    }
  }
  return f;
}

/**
 * A lower bound of the distance (lon/lat plane) from the point to the nearest edge of any fence:
 * the exact distance for fences whose box holds the point, the distance to the box for the others
 * (their edges lie inside their box, so no nearer).
 */
export function clearance(fences: readonly Fence[], lon: number, lat: number): number {
  let best2 = Infinity;
  for (const f of fences) {
    const bx = lon < f.minLon ? f.minLon - lon : lon > f.maxLon ? lon - f.maxLon : 0;
    const by = lat < f.minLat ? f.minLat - lat : lat > f.maxLat ? lat - f.maxLat : 0;
    if (bx > 0 || by > 0) {
      best2 = Math.min(best2, bx * bx + by * by);
      continue;
    }
    const polygons = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const rings of polygons) {
      for (const ring of rings) {
        // From the last position back to the first too: a ring left open is still tested as closed.
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
          best2 = Math.min(best2, segmentDistance2(lon, lat, ring[j]!, ring[i]!));
      }
    }
  }
  return Math.sqrt(best2);
}

/** Squared distance from (x, y) to the segment a–b. */
function segmentDistance2(x: number, y: number, a: number[], b: number[]): number {
  const ax = a[0]!;
  const ay = a[1]!;
  const dx = b[0]! - ax;
  const dy = b[1]! - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
  const ex = ax + t * dx - x;
  const ey = ay + t * dy - y;
  return ex * ex + ey * ey;
}
