// A worker's trail between two times as GeoJSON: the path ordered by fix time (not arrival, so
// store-and-forward batches that came late or out of order land in place), downsampled on the
// server, with stops and fixes outside the worker's own grids flagged.
import type pg from 'pg';
import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon } from 'geojson';
import { fence, insideAny } from '../regions/own-grid-fence.js';
import { DISTANCE_RULE, pathDistanceM, type Track } from './geo-distance.js';
import { downsampleTrack } from './trail-downsample.js';
import { detectStops, type StopRule } from './trail-stops.js';
import { TrackScratch, unpackRecords } from './track-scratch.js';

export interface TrailRequest {
  workerId: string;
  from: number;
  to: number;
  maxPoints: number;
  stop: StopRule;
}

/**
 * The worker's fixes in [from, to) as a Track: from the packed trail hours (migration 024) where
 * fresh ones exist, from positions for the rest; in slices of 2,048 fixes (see trail_read_slices).
 */
export async function readTrack(pool: Pick<pg.Pool, 'query'>, workerId: string, from: number, to: number): Promise<Track> {
  const r = await pool.query<{ b: Buffer }>(
    'SELECT b FROM trail_read_slices($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0)) ORDER BY n',
    [workerId, from, to],
  );
  return unpackTrack(r.rows.map((x) => x.b));
}

/** The same fixes from positions alone (what the packed hours are built from; the bench's baseline). */
export async function readRawTrack(pool: Pick<pg.Pool, 'query'>, workerId: string, from: number, to: number): Promise<Track> {
  // trail_fixes_packed (migration 021) is an index-only scan of positions_worker_ts_cover_idx
  // (worker_id, ts) INCLUDE (device_id, lat, lon) once (auto)vacuum has marked the pages visible.
  //
  // One row, not one per fix: the fixes come back packed as 24-byte records (see unpackTrack).
  // A day is 8,640 fixes; as rows, the wire protocol and row parsing cost 3–5× the query on the
  // embedded engine (pglite-socket relays every DataRow) and about half of it on PostgreSQL. The
  // send functions are exact, so nothing is lost against the text form.
  const r = await pool.query<{ b: Buffer | null }>(
    'SELECT trail_fixes_packed($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0)) AS b',
    [workerId, from, to],
  );
  return unpackTrack(r.rows[0]?.b ? [r.rows[0].b] : []);
}

/** Decodes the trail's slices (records as in unpackRecords) in order into a new Track. */
export function unpackTrack(slices: readonly Buffer[]): Track {
  let n = 0;
  for (const b of slices) n += b.length / 24;
  const t: Track = { length: n, ts: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n) };
  let at = 0;
  for (const b of slices) {
    unpackRecords(b, 0, b.length / 24, t, at);
    at += b.length / 24;
  }
  return t;
}

const scratch = new TrackScratch();

export async function trailGeoJson(pool: Pick<pg.Pool, 'query'>, req: TrailRequest): Promise<FeatureCollection<Geometry | null>> {
  // The fixes (as readTrack) and the worker's own grids in one round trip: on the embedded engine's one
  // connection a second query queued behind the first and added its own tail.
  // Row n = -1 carries the grids, the rest the fixes' slices in order.
  // As base64 text rather than bytea (node-postgres receives bytea as hex): a third fewer bytes
  // through the embedded engine's thread, the socket and the strings here.
  const r = await pool.query<{ n: number; b: string | null; grids: (Polygon | MultiPolygon)[] | null }>(
    `SELECT -1 AS n, NULL AS b,
            (SELECT json_agg(r.geometry) FROM workers w JOIN regions r ON r.code = ANY (w.grid_codes) WHERE w.id = $1) AS grids
     UNION ALL
     SELECT n, encode(b, 'base64'), NULL FROM trail_read_slices($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0))
     ORDER BY n`,
    [req.workerId, req.from, req.to],
  );
  // From here to the return nothing awaits, so the scratch track cannot be overwritten under us.
  const track = scratch.fromBase64(r.rows.slice(1).map((x) => x.b!));
  const grids = r.rows[0]?.grids ?? [];
  // No assigned grid means nothing to be outside of: flag nothing rather than everything.
  // Flags and kept indices sit beside the track rather than in copies of its fixes: copying 8,640
  // fixes into new objects cost more than the simplification itself (bench:storage).
  const outside = new Uint8Array(track.length);
  let outsideFixes = 0;
  if (grids.length > 0) {
    // The same test as the ingest's positions.in_grid (hub/regions/own-grid-fence.ts).
    const fences = grids.map(fence);
    for (let i = 0; i < track.length; i++) {
      if (!insideAny(fences, track.lon[i], track.lat[i])) {
        outside[i] = 1;
        outsideFixes++;
      }
    }
  }
  const kept = downsampleTrack(track, req.maxPoints);
  const stops = detectStops(track, req.stop);
  const trail: Feature<Geometry | null> = {
    type: 'Feature',
    // A LineString needs two positions; fewer is a trail with no line yet.
    geometry: kept.length >= 2 ? { type: 'LineString', coordinates: kept.map((i) => [track.lon[i], track.lat[i]]) } : null,
    properties: {
      kind: 'trail',
      workerId: req.workerId,
      from: new Date(req.from).toISOString(),
      to: new Date(req.to).toISOString(),
      fixes: track.length,
      returned: kept.length,
      distanceM: Math.round(pathDistanceM(track, DISTANCE_RULE) * 10) / 10,
      outsideFixes,
      // Per-coordinate arrays, as togeojson's coordTimes: the screen can colour and label points.
      coordTimes: kept.map((i) => new Date(track.ts[i]).toISOString()),
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
