// Distance walked along a trail. The same rule runs in SQL (rollup_worker_activity in
// storage/migrations/010_analytics.sql), which takes DISTANCE_RULE as arguments, so the hourly
// rollups and the trail API report the same metres. The distance is the one haversine of
// regions/geo-measure.ts, whose Earth radius the SQL haversine_m uses too.
import { haversineM } from '../regions/geo-measure.js';

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

/**
 * A trail as columns, ordered by time: what the trail API works on. A full day is 8,640 fixes;
 * as one object each they were most of the API's garbage, and its p99 was the collections.
 */
export interface Track {
  /** Fixes in the track; the columns may be longer (reused memory, see track-scratch.ts). */
  readonly length: number;
  /** epoch ms */
  readonly ts: Float64Array;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
}

export function trackOf(points: readonly TimedPoint[]): Track {
  const n = points.length;
  const t: Track = { length: n, ts: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    t.ts[i] = points[i].ts;
    t.lat[i] = points[i].lat;
    t.lon[i] = points[i].lon;
  }
  return t;
}

/** Whether a segment of `metres` over `dtS` seconds (the later fix second) counts as walked. */
export function segmentCounts(dtS: number, metres: number, rule: DistanceRule = DISTANCE_RULE): boolean {
  return dtS > 0 && dtS <= rule.maxGapS && metres <= rule.maxSpeedMps * dtS;
}

/** Metres walked along a track, skipping gaps and jumps. */
export function pathDistanceM(t: Track, rule: DistanceRule = DISTANCE_RULE): number {
  let total = 0;
  for (let i = 1; i < t.length; i++) {
    const d = haversineM(t.lat[i - 1], t.lon[i - 1], t.lat[i], t.lon[i]);
    if (segmentCounts((t.ts[i] - t.ts[i - 1]) / 1000, d, rule)) total += d;
  }
  return total;
}
