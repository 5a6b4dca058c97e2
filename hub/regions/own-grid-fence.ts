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

export class OwnGridFence {
  private byWorker = new Map<string, Fence[]>();

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
  }

  /** null: no worker, or a worker without a grid (nothing to be inside of). */
  inside(workerId: string | null, lon: number, lat: number): boolean | null {
    if (workerId === null) return null;
    const fences = this.byWorker.get(workerId);
    if (!fences) return null;
    return insideAny(fences, lon, lat);
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
