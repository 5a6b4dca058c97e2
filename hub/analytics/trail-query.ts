// A worker's trail between two times as GeoJSON: the path ordered by fix time (not arrival, so
// store-and-forward batches that came late or out of order land in place), downsampled on the
// server, with stops and fixes outside the worker's own grids flagged.
import type pg from 'pg';
import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { DISTANCE_RULE, pathDistanceM, type TimedPoint } from './geo-distance.js';
import { downsample, lonLatToMetres } from './trail-downsample.js';
import { detectStops, type StopRule } from './trail-stops.js';

export interface TrailRequest {
  workerId: string;
  from: number;
  to: number;
  maxPoints: number;
  stop: StopRule;
}

interface Fix extends TimedPoint {
  outside: boolean;
}

export async function readFixes(pool: Pick<pg.Pool, 'query'>, workerId: string, from: number, to: number): Promise<TimedPoint[]> {
  // Served by positions_worker_ts_idx (worker_id, ts DESC); the device breaks ties so the order
  // is total even for a worker who carried two handsets.
  // rowMode 'array': a day is 8,640 rows and building one object per row costs more than the query.
  const r = await pool.query<[number, number, number]>({
    text: `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, lat, lon FROM positions
            WHERE worker_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
            ORDER BY ts, device_id`,
    values: [workerId, from, to],
    rowMode: 'array',
  });
  return r.rows.map(([t, lat, lon]) => ({ ts: Math.round(t), lat, lon }));
}

async function ownGrids(pool: Pick<pg.Pool, 'query'>, workerId: string): Promise<(Polygon | MultiPolygon)[]> {
  const r = await pool.query<{ geometry: Polygon | MultiPolygon }>(
    `SELECT r.geometry FROM workers w JOIN regions r ON r.code = ANY (w.grid_codes) WHERE w.id = $1`,
    [workerId],
  );
  return r.rows.map((row) => row.geometry);
}

export async function trailGeoJson(pool: Pick<pg.Pool, 'query'>, req: TrailRequest): Promise<FeatureCollection<Geometry | null>> {
  const points = await readFixes(pool, req.workerId, req.from, req.to);
  const grids = await ownGrids(pool, req.workerId);
  // No assigned grid means nothing to be outside of: flag nothing rather than everything.
  const fixes: Fix[] = points.map((p) => ({
    ...p,
    outside: grids.length > 0 && !grids.some((g) => booleanPointInPolygon([p.lon, p.lat], g)),
  }));
  const refLat = fixes.length > 0 ? fixes[0].lat : 0;
  const kept = downsample(fixes, req.maxPoints, lonLatToMetres(refLat));
  const stops = detectStops(points, req.stop);
  const trail: Feature<Geometry | null> = {
    type: 'Feature',
    // A LineString needs two positions; fewer is a trail with no line yet.
    geometry: kept.length >= 2 ? { type: 'LineString', coordinates: kept.map((p) => [p.lon, p.lat]) } : null,
    properties: {
      kind: 'trail',
      workerId: req.workerId,
      from: new Date(req.from).toISOString(),
      to: new Date(req.to).toISOString(),
      fixes: fixes.length,
      returned: kept.length,
      distanceM: Math.round(pathDistanceM(points, DISTANCE_RULE) * 10) / 10,
      outsideFixes: fixes.filter((f) => f.outside).length,
      // Per-coordinate arrays, as togeojson's coordTimes: the screen can colour and label points.
      coordTimes: kept.map((p) => new Date(p.ts).toISOString()),
      outsideOwnGrid: kept.map((p) => p.outside),
    },
  };
  const stopFeatures: Feature[] = stops.map((s) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
    properties: {
      kind: 'stop',
      start: new Date(s.start).toISOString(),
      end: new Date(s.end).toISOString(),
      durationS: Math.round((s.end - s.start) / 1000),
      fixes: s.fixes,
    },
  }));
  return { type: 'FeatureCollection', features: [trail, ...stopFeatures] };
}
