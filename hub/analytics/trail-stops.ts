// Stop detection: a stay of at least minDurationS during which every fix is within radiusM of
// the first fix of the stay (the classic anchor rule of Li et al., "Mining user similarity based
// on location history", 2008). Pure: points in, stops out.
import type { Track } from './geo-distance.js';
import { EARTH_RADIUS_M } from '../regions/geo-measure.js';

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

/** The track must be ordered by ts. */
export function detectStops(t: Track, rule: StopRule = DEFAULT_STOP_RULE): Stop[] {
  const stops: Stop[] = [];
  const r2 = rule.radiusM * rule.radiusM;
  const ky = EARTH_RADIUS_M * RAD;
  let i = 0;
  while (i < t.length) {
    const aLat = t.lat[i];
    const aLon = t.lon[i];
    // Within radiusM of the anchor, on the anchor's tangent plane: at stop radii (tens of metres)
    // it agrees with the haversine to a millionth, without its four trig calls per fix, which
    // were most of a full-day trail's stop detection (bench:storage).
    const kx = ky * Math.cos(aLat * RAD);
    let j = i + 1;
    while (j < t.length) {
      const dx = (t.lon[j] - aLon) * kx;
      const dy = (t.lat[j] - aLat) * ky;
      if (dx * dx + dy * dy > r2) break;
      j++;
    }
    if ((t.ts[j - 1] - t.ts[i]) / 1000 >= rule.minDurationS) {
      let lat = 0;
      let lon = 0;
      for (let k = i; k < j; k++) {
        lat += t.lat[k];
        lon += t.lon[k];
      }
      const n = j - i;
      stops.push({ lat: lat / n, lon: lon / n, start: t.ts[i], end: t.ts[j - 1], fixes: n });
      i = j;
    } else {
      i++;
    }
  }
  return stops;
}
