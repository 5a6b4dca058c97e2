// Distance walked along a trail. The same rule runs in SQL (rollup_worker_activity in
// storage/migrations/010_analytics.sql), which takes DISTANCE_RULE as arguments, so the hourly
// rollups and the trail API report the same metres.

/** Mean Earth radius (IUGG), metres; the SQL haversine_m uses the same constant. */
export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export interface DistanceRule {
  /** Segments across a longer gap are an unknown route (device off, tunnel), not walked. */
  maxGapS: number;
  /** Faster than this is a GPS jump: grid workers walk or ride e-bikes (GB 17761: 25 km/h). */
  maxSpeedMps: number;
}

export const DISTANCE_RULE: DistanceRule = Object.freeze({ maxGapS: 15 * 60, maxSpeedMps: 15 });

export interface TimedPoint {
  /** epoch ms */
  ts: number;
  lat: number;
  lon: number;
}

/** Great-circle distance in metres. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Whether the segment a→b (b later) counts as walked under the rule. */
export function segmentCounts(a: TimedPoint, b: TimedPoint, metres: number, rule: DistanceRule = DISTANCE_RULE): boolean {
  const dt = (b.ts - a.ts) / 1000;
  return dt > 0 && dt <= rule.maxGapS && metres <= rule.maxSpeedMps * dt;
}

/** Metres walked along points ordered by time, skipping gaps and jumps. */
export function pathDistanceM(points: readonly TimedPoint[], rule: DistanceRule = DISTANCE_RULE): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const d = haversineM(a.lat, a.lon, b.lat, b.lon);
    if (segmentCounts(a, b, d, rule)) total += d;
  }
  return total;
}
