// A worker's trail between two times as GeoJSON: the path ordered by fix time (not arrival, so
// store-and-forward batches that came late or out of order land in place), downsampled on the
// server, with stops and fixes outside the worker's own grids flagged.
import type pg from 'pg';
import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { DISTANCE_RULE, pathDistanceM, type TimedPoint } from './geo-distance.js';
import { downsampleIndices, lonLatToMetres } from './trail-downsample.js';
import { detectStops, type StopRule } from './trail-stops.js';

export interface TrailRequest {
  workerId: string;
  from: number;
  to: number;
  maxPoints: number;
  stop: StopRule;
}

export async function readFixes(pool: Pick<pg.Pool, 'query'>, workerId: string, from: number, to: number): Promise<TimedPoint[]> {
  // trail_fixes_packed (migration 021) is an index-only scan of positions_worker_ts_cover_idx
  // (worker_id, ts) INCLUDE (device_id, lat, lon) once autovacuum has marked the pages visible.
  // The device breaks ties so the order is total even for a worker who carried two handsets.
  //
  // One row, not one per fix: the fixes come back packed as big-endian float8 triples
  // (epoch ms, lat, lon). A day is 8,640 fixes; as rows, the wire protocol and row parsing cost
  // 3–5× the query on the embedded engine (pglite-socket relays every DataRow) and about half of
  // it on PostgreSQL. float8send is exact, so nothing is lost against the text form.
  const r = await pool.query<{ b: Buffer | null }>(
    'SELECT trail_fixes_packed($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0)) AS b',
    [workerId, from, to],
  );
  return unpackFixes(r.rows[0]?.b ?? null);
}

/** Decodes the (epoch ms, lat, lon) float8 triples of readFixes. */
export function unpackFixes(b: Buffer | null): TimedPoint[] {
  if (!b) return [];
  const out: TimedPoint[] = [];
  for (let o = 0; o < b.length; o += 24) out.push({ ts: Math.round(b.readDoubleBE(o)), lat: b.readDoubleBE(o + 8), lon: b.readDoubleBE(o + 16) });
  return out;
}

async function ownGrids(pool: Pick<pg.Pool, 'query'>, workerId: string): Promise<(Polygon | MultiPolygon)[]> {
  const r = await pool.query<{ geometry: Polygon | MultiPolygon }>(
    `SELECT r.geometry FROM workers w JOIN regions r ON r.code = ANY (w.grid_codes) WHERE w.id = $1`,
    [workerId],
  );
  return r.rows.map((row) => row.geometry);
}

export async function trailGeoJson(pool: Pick<pg.Pool, 'query'>, req: TrailRequest): Promise<FeatureCollection<Geometry | null>> {
  // Both at once: on a server pool they run on two connections (the embedded pool queues them).
  const [points, grids] = await Promise.all([readFixes(pool, req.workerId, req.from, req.to), ownGrids(pool, req.workerId)]);
  // No assigned grid means nothing to be outside of: flag nothing rather than everything.
  // Flags and kept indices sit beside the points rather than in copies of them: copying 8,640
  // fixes into new objects cost more than the simplification itself (bench:storage).
  const outside = new Uint8Array(points.length);
  let outsideFixes = 0;
  if (grids.length > 0) {
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (!grids.some((g) => booleanPointInPolygon([p.lon, p.lat], g))) {
        outside[i] = 1;
        outsideFixes++;
      }
    }
  }
  const refLat = points.length > 0 ? points[0].lat : 0;
  const kept = downsampleIndices(points, req.maxPoints, lonLatToMetres(refLat));
  const stops = detectStops(points, req.stop);
  const trail: Feature<Geometry | null> = {
    type: 'Feature',
    // A LineString needs two positions; fewer is a trail with no line yet.
    geometry: kept.length >= 2 ? { type: 'LineString', coordinates: kept.map((i) => [points[i].lon, points[i].lat]) } : null,
    properties: {
      kind: 'trail',
      workerId: req.workerId,
      from: new Date(req.from).toISOString(),
      to: new Date(req.to).toISOString(),
      fixes: points.length,
      returned: kept.length,
      distanceM: Math.round(pathDistanceM(points, DISTANCE_RULE) * 10) / 10,
      outsideFixes,
      // Per-coordinate arrays, as togeojson's coordTimes: the screen can colour and label points.
      coordTimes: kept.map((i) => new Date(points[i].ts).toISOString()),
      outsideOwnGrid: kept.map((i) => outside[i] === 1),
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
