import { describe, expect, it } from 'vitest';
import type { Polygon } from 'geojson';
import {
  bboxOf,
  closeRings,
  distanceToEdgesM,
  haversineM,
  localProjection,
  pointSegmentDistance,
  ringIsClosed,
} from '../../../hub/regions/geo-measure.js';

describe('geo-measure', () => {
  it('measures great-circle distance (one degree of latitude ≈ 111.2 km)', () => {
    expect(haversineM(27, 113, 28, 113)).toBeCloseTo(111_195, -1);
    expect(haversineM(27.83, 113.12, 27.83, 113.12)).toBe(0);
  });

  it('agrees with haversine within 0.1 % across a grid-sized distance in the local projection', () => {
    const p = localProjection(27.83);
    const planar = Math.hypot(p.x(113.13) - p.x(113.12), p.y(27.835) - p.y(27.83));
    expect(Math.abs(planar - haversineM(27.83, 113.12, 27.835, 113.13)) / planar).toBeLessThan(0.001);
  });

  it('measures point-to-segment distance, clamped to the ends', () => {
    expect(pointSegmentDistance(0, 1, -1, 0, 1, 0)).toBe(1);
    expect(pointSegmentDistance(3, 4, -1, 0, 0, 0)).toBe(5);
    expect(pointSegmentDistance(2, 0, 1, 1, 1, 1)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('measures to the nearest edge, including a hole and an unclosed ring', () => {
    const p = localProjection(0);
    const square: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
        [
          [0.4, 0.4],
          [0.6, 0.4],
          [0.6, 0.6],
          [0.4, 0.6],
          [0.4, 0.4],
        ],
      ],
    };
    expect(distanceToEdgesM(0.5, 0.5, square, p)).toBeCloseTo(p.y(0.1), 6); // to the hole
    expect(distanceToEdgesM(-0.5, 0.5, square, p)).toBeCloseTo(p.x(0.5), 6); // across the closing edge
  });

  it('closes rings without touching closed ones, and boxes geometry', () => {
    const open: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [1, 0],
          [1, 1],
        ],
      ],
    };
    const closed = closeRings(open);
    expect(ringIsClosed(closed.coordinates[0])).toBe(true);
    expect(ringIsClosed(open.coordinates[0])).toBe(false); // input untouched
    expect(closeRings(closed).coordinates[0]).toBe(closed.coordinates[0]);
    expect(bboxOf(open)).toEqual({ minLon: 0, minLat: 0, maxLon: 1, maxLat: 1 });
  });
});
