// Trail replay maths, pure (tested in node): the day's time range on the Shanghai calendar, the
// trail cut into inside / outside-own-grid runs, and the interpolated position at a time.
import type { DayTrail } from './api-client.js';

/** Start and end of a Shanghai calendar day (UTC+8, no DST) as instants. */
export function shanghaiDayRange(day: string): { from: Date; to: Date } {
  const from = new Date(`${day}T00:00:00+08:00`);
  return { from, to: new Date(from.getTime() + 86_400_000) };
}

/** Splits a trail into runs of inside / outside the own grid; each run shares its end vertex. */
export function trailRuns(points: DayTrail['points']): Array<{ outside: boolean; latlngs: Array<[number, number]> }> {
  const runs: Array<{ outside: boolean; latlngs: Array<[number, number]> }> = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const last = runs[runs.length - 1];
    if (!last || last.outside !== p.outside) {
      const prev = points[i - 1];
      runs.push({ outside: p.outside, latlngs: prev ? [[prev.lat, prev.lon]] : [] });
    }
    runs[runs.length - 1]!.latlngs.push([p.lat, p.lon]);
  }
  return runs;
}

/** Where the worker was at time `ts`, interpolated between the kept vertices. */
export function positionAt(points: DayTrail['points'], ts: number): { lat: number; lon: number } | null {
  if (points.length === 0) return null;
  if (ts <= points[0]!.ts) return points[0]!;
  let lo = 0;
  let hi = points.length - 1;
  if (ts >= points[hi]!.ts) return points[hi]!;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.ts <= ts) lo = mid;
    else hi = mid;
  }
  const a = points[lo]!;
  const b = points[hi]!;
  const k = b.ts === a.ts ? 0 : (ts - a.ts) / (b.ts - a.ts);
  return { lat: a.lat + (b.lat - a.lat) * k, lon: a.lon + (b.lon - a.lon) * k };
}
