import { describe, expect, it } from 'vitest';
import { cellToLatLng, cellsToMultiPolygon, getResolution, gridDisk, latLngToCell } from 'h3-js';
import type { MultiPolygon } from 'geojson';
import {
  CELL_AREA_M2,
  COVERAGE_RES,
  cellVisits,
  coverageShare,
  evaluatePatrolDay,
  gridCells,
  shanghaiDayStart,
} from '../../../hub/analytics/coverage-cells.js';

// A grid made of exactly one res-10 cell and its 6 neighbours (7 cells, ~0.105 km²).
const centre = latLngToCell(27.87, 113.12, COVERAGE_RES);
const seven = gridDisk(centre, 1);
const outline: MultiPolygon = { type: 'MultiPolygon', coordinates: cellsToMultiPolygon(seven, true) };
const pointIn = (cell: string, ts: number) => {
  const [lat, lon] = cellToLatLng(cell);
  return { ts, lat, lon };
};

describe('coverage cells', () => {
  it('uses resolution 10, ~15,000 m² a cell', () => {
    expect(CELL_AREA_M2).toBeGreaterThan(14_000);
    expect(CELL_AREA_M2).toBeLessThan(16_000);
    expect(getResolution(centre)).toBe(10);
  });

  it('finds exactly the 7 cells of a 7-cell grid', () => {
    expect([...gridCells(outline)].sort()).toEqual([...seven].sort());
  });

  it('counts entries into a cell as visits, fixes separately', () => {
    const [a, b] = seven;
    const v = cellVisits([[pointIn(a, 1), pointIn(a, 2), pointIn(b, 3), pointIn(a, 4)]]);
    expect(v).toEqual([
      { cell: a, fixes: 3, visits: 2 },
      { cell: b, fixes: 1, visits: 1 },
    ]);
  });

  it('shares only cells of the grid: 3 of 7 visited plus one outside = 3/7', () => {
    const outside = gridDisk(centre, 3).find((c) => !seven.includes(c))!;
    expect(coverageShare(new Set(seven), [seven[0], seven[1], seven[2], seven[2], outside])).toEqual({
      visited: 3,
      total: 7,
      share: 3 / 7,
    });
  });

  it('passes a round at ≥ 50 % and fails the day when the afternoon round falls short', () => {
    const day = shanghaiDayStart('2026-11-25');
    expect(day).toBe(Date.parse('2026-11-24T16:00:00Z'));
    const h = (hour: number) => day + hour * 3_600_000;
    // Morning 4/7 (57 %), afternoon 3/7 (43 %); one fix at 05:00 is before the morning window.
    const track = [
      pointIn(seven[6], h(5)),
      ...seven.slice(0, 4).map((c, i) => pointIn(c, h(8) + i * 60_000)),
      ...seven.slice(0, 3).map((c, i) => pointIn(c, h(15) + i * 60_000)),
    ];
    const r = evaluatePatrolDay(new Set(seven), [track], day);
    expect(r.morning).toMatchObject({ visited: 4, total: 7, pass: true, from: '2026-11-24T22:00:00.000Z' });
    expect(r.afternoon).toMatchObject({ visited: 3, total: 7, pass: false });
    expect(r.pass).toBe(false);
    const both = evaluatePatrolDay(new Set(seven), [[...track, pointIn(seven[5], h(17))]], day);
    expect(both.pass).toBe(true);
  });
});
