// Stop detection: a stay of at least minDurationS during which every fix is within radiusM of
// the first fix of the stay (the classic anchor rule of Li et al., "Mining user similarity based
// on location history", 2008). Pure: points in, stops out.
import { EARTH_RADIUS_M, type TimedPoint } from './geo-distance.js';

const RAD = Math.PI / 180;

export interface StopRule {
  minDurationS: number;
  radiusM: number;
}

export const DEFAULT_STOP_RULE: StopRule = Object.freeze({ minDurationS: 5 * 60, radiusM: 50 });

export interface Stop {
  /** Mean position of the fixes in the stay. */
  lat: number;
  lon: number;
  /** epoch ms of the first and last fix of the stay */
  start: number;
  end: number;
  fixes: number;
}

/** Points must be ordered by ts. */
export function detectStops(points: readonly TimedPoint[], rule: StopRule = DEFAULT_STOP_RULE): Stop[] {
  const stops: Stop[] = [];
  let i = 0;
  while (i < points.length) {
    const anchor = points[i];
    // Within radiusM of the anchor, on the anchor's tangent plane: at stop radii (tens of metres)
    // it agrees with the haversine to a millionth, without its four trig calls per fix, which
    // were most of a full-day trail's stop detection (bench:storage).
    const ky = EARTH_RADIUS_M * RAD;
    const kx = ky * Math.cos(anchor.lat * RAD);
    const r2 = rule.radiusM * rule.radiusM;
    let j = i + 1;
    while (j < points.length) {
      const dx = (points[j].lon - anchor.lon) * kx;
      const dy = (points[j].lat - anchor.lat) * ky;
      if (dx * dx + dy * dy > r2) break;
      j++;
    }
    const last = points[j - 1];
    if ((last.ts - anchor.ts) / 1000 >= rule.minDurationS) {
      let lat = 0;
      let lon = 0;
      for (let k = i; k < j; k++) {
        lat += points[k].lat;
        lon += points[k].lon;
      }
      const n = j - i;
      stops.push({ lat: lat / n, lon: lon / n, start: anchor.ts, end: last.ts, fixes: n });
      i = j;
    } else {
      i++;
    }
  }
  return stops;
}
