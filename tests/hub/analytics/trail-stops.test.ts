import { describe, expect, it } from 'vitest';
import { detectStops } from '../../../hub/analytics/trail-stops.js';
import { trackOf } from '../../../hub/analytics/geo-distance.js';

const t0 = Date.parse('2026-11-25T00:00:00Z');
const MIN = 60_000;
// 0.001° of latitude = 111.2 m; 0.00005° = 5.6 m.
const at = (minute: number, dLat: number) => ({ ts: t0 + minute * MIN, lat: 27.8 + dLat, lon: 113.1 });

describe('detectStops', () => {
  it('finds one stay of 5 minutes within 50 m between walks', () => {
    const walk1 = [0, 1, 2, 3, 4].map((m) => at(m, m * 0.001));
    // Minutes 5..10 within 6 m of the first of them.
    const stay = [5, 6, 7, 8, 9, 10].map((m) => at(m, 0.005 + (m % 2) * 0.00005));
    const walk2 = [11, 12, 13].map((m) => at(m, 0.005 + (m - 10) * 0.001));
    const stops = detectStops(trackOf([...walk1, ...stay, ...walk2]), { minDurationS: 300, radiusM: 50 });
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ start: t0 + 5 * MIN, end: t0 + 10 * MIN, fixes: 6 });
    expect(stops[0].lon).toBeCloseTo(113.1, 9);
    expect(stops[0].lat).toBeCloseTo(27.805 + 0.00005 / 2, 6);
  });

  it('does not count a stay shorter than the minimum', () => {
    const pts = [0, 1, 2, 3].map((m) => at(m, 0));
    expect(detectStops(trackOf(pts), { minDurationS: 300, radiusM: 50 })).toEqual([]);
  });

  it('measures the radius from the first fix of the stay, so a slow drift ends it', () => {
    // 20 m per minute: after 3 minutes the fix is 60 m from the anchor, over 50 m.
    const drift = [0, 1, 2, 3, 4, 5, 6].map((m) => at(m, m * 0.00018));
    expect(detectStops(trackOf(drift), { minDurationS: 180, radiusM: 50 })).toEqual([]);
  });

  it('returns nothing for no points', () => {
    expect(detectStops(trackOf([]))).toEqual([]);
  });
});
