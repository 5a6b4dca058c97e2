import { describe, expect, it } from 'vitest';
import { DISTANCE_RULE, pathDistanceM, trackOf } from '../../../hub/analytics/geo-distance.js';
import { haversineM } from '../../../hub/regions/geo-measure.js';

// Along a meridian haversine is exact arc length: R·Δφ. 1° = 6,371,008.8 m × π/180 = 111,195.08 m.
const M_PER_DEG = 111_195.08;

describe('haversineM', () => {
  it('gives R·Δφ along a meridian and 0 for the same point', () => {
    expect(haversineM(0, 113, 1, 113)).toBeCloseTo(M_PER_DEG, 1);
    expect(haversineM(27.87, 113.12, 27.87, 113.12)).toBe(0);
  });

  it('shrinks east-west distance by cos(latitude)', () => {
    // 0.001° of longitude at 60° N: 111.195 m × cos 60° = 55.598 m (sphere, small angle).
    expect(haversineM(60, 113, 60, 113.001)).toBeCloseTo(55.598, 2);
  });
});

describe('pathDistanceM', () => {
  const t0 = Date.parse('2026-11-25T00:00:00Z');
  const step = (i: number, dLat = 0.0001, dt = 10_000) => ({ ts: t0 + i * dt, lat: 27.8 + i * dLat, lon: 113.1 });

  it('sums consecutive segments: 3 × 0.0001° = 33.36 m', () => {
    expect(pathDistanceM(trackOf([0, 1, 2, 3].map((i) => step(i))))).toBeCloseTo(3 * M_PER_DEG * 0.0001, 2);
  });

  it('ignores a jump faster than the speed limit', () => {
    const pts = [step(0), step(1), { ts: t0 + 20_000, lat: 27.81, lon: 113.1 }];
    // The last segment is ~1.1 km in 10 s (111 m/s > 15 m/s): only the first 11.12 m count.
    expect(pathDistanceM(trackOf(pts))).toBeCloseTo(M_PER_DEG * 0.0001, 2);
  });

  it('ignores a gap longer than maxGap (unknown route) but counts one just under it', () => {
    const gap = DISTANCE_RULE.maxGapS * 1000;
    const under = [step(0), { ts: t0 + gap, lat: 27.801, lon: 113.1 }];
    const over = [step(0), { ts: t0 + gap + 1000, lat: 27.801, lon: 113.1 }];
    expect(pathDistanceM(trackOf(under))).toBeCloseTo(M_PER_DEG * 0.001, 1);
    expect(pathDistanceM(trackOf(over))).toBe(0);
  });

  it('is 0 for fewer than two points', () => {
    expect(pathDistanceM(trackOf([]))).toBe(0);
    expect(pathDistanceM(trackOf([step(0)]))).toBe(0);
  });
});
