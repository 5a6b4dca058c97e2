// Patrol coverage on H3 cells. Resolution 10: average cell 15,047 m², edge ~66 m, about one
// street segment or a block face, so a grid of ~400 households (0.05–0.3 km²) has a few to a few
// dozen cells. A grid's cells are those whose centre lies in its polygon (h3 polygonToCells);
// "share of area" is the share of those cells visited (equal-area to within a few % at one latitude).
import { getHexagonAreaAvg, latLngToCell, polygonToCells } from 'h3-js';
import type { MultiPolygon, Polygon } from 'geojson';
import type { TimedPoint } from './geo-distance.js';

// The resolution is the API's (protocol/analytics-api.ts: hotspots reach down to it).
import { COVERAGE_RES } from '../../protocol/analytics-api.js';
export { COVERAGE_RES };
export const CELL_AREA_M2 = Math.round(getHexagonAreaAvg(COVERAGE_RES, 'm2'));

/** Cells of a grid polygon; a grid smaller than one cell gets the cell of its first vertex. */
export function gridCells(geometry: Polygon | MultiPolygon, res = COVERAGE_RES): Set<string> {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  const cells = new Set<string>();
  for (const rings of polys) for (const c of polygonToCells(rings, res, true)) cells.add(c);
  if (cells.size === 0) {
    const [lon, lat] = polys[0][0][0];
    cells.add(latLngToCell(lat, lon, res));
  }
  return cells;
}

export interface CellVisits {
  cell: string;
  fixes: number;
  /** Entries into the cell: a run of consecutive fixes in one cell is one visit. */
  visits: number;
}

/** Visits per cell over several tracks, each ordered by time. */
export function cellVisits(tracks: readonly (readonly TimedPoint[])[], res = COVERAGE_RES): CellVisits[] {
  const byCell = new Map<string, CellVisits>();
  for (const track of tracks) {
    let prev: string | null = null;
    for (const p of track) {
      const cell = latLngToCell(p.lat, p.lon, res);
      let v = byCell.get(cell);
      if (!v) byCell.set(cell, (v = { cell, fixes: 0, visits: 0 }));
      v.fixes++;
      if (cell !== prev) v.visits++;
      prev = cell;
    }
  }
  return [...byCell.values()].sort((a, b) => b.visits - a.visits || b.fixes - a.fixes || a.cell.localeCompare(b.cell));
}

export interface Share {
  visited: number;
  total: number;
  share: number;
}

export function coverageShare(grid: ReadonlySet<string>, visitedCells: Iterable<string>): Share {
  const seen = new Set<string>();
  for (const c of visitedCells) if (grid.has(c)) seen.add(c);
  return { visited: seen.size, total: grid.size, share: grid.size === 0 ? 0 : seen.size / grid.size };
}

/**
 * The "twice a day" patrol rule (issue 5, after the seeds' 人在格中走): a morning and an
 * afternoon round, each passing when the grid's workers cover at least minShare of its cells
 * inside the window. Windows are hours of the day in Asia/Shanghai.
 */
export interface PatrolRule {
  morning: [number, number];
  afternoon: [number, number];
  minShare: number;
}

export const DEFAULT_PATROL_RULE: PatrolRule = Object.freeze<PatrolRule>({ morning: [6, 12], afternoon: [12, 18], minShare: 0.5 });

export interface RoundResult extends Share {
  from: string;
  to: string;
  pass: boolean;
}

export interface PatrolDay {
  morning: RoundResult;
  afternoon: RoundResult;
  pass: boolean;
}

/** dayStartMs: 00:00 Asia/Shanghai of the day, as epoch ms. */
export function evaluatePatrolDay(
  grid: ReadonlySet<string>,
  tracks: readonly (readonly TimedPoint[])[],
  dayStartMs: number,
  rule: PatrolRule = DEFAULT_PATROL_RULE,
  res = COVERAGE_RES,
): PatrolDay {
  const round = ([h0, h1]: [number, number]): RoundResult => {
    const from = dayStartMs + h0 * 3_600_000;
    const to = dayStartMs + h1 * 3_600_000;
    const cells: string[] = [];
    for (const t of tracks) for (const p of t) if (p.ts >= from && p.ts < to) cells.push(latLngToCell(p.lat, p.lon, res));
    const s = coverageShare(grid, cells);
    return { ...s, from: new Date(from).toISOString(), to: new Date(to).toISOString(), pass: s.total > 0 && s.share >= rule.minShare };
  };
  const morning = round(rule.morning);
  const afternoon = round(rule.afternoon);
  return { morning, afternoon, pass: morning.pass && afternoon.pass };
}

/** 00:00 of a calendar date (YYYY-MM-DD) in Asia/Shanghai (UTC+8 all year), as epoch ms. */
export function shanghaiDayStart(date: string): number {
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${date}`);
  return ms;
}
