// Patrol coverage of one grid on one Asia/Shanghai day: share of its H3 cells visited by the
// workers who answer for it, the twice-a-day rule, and the visit heat map for the screen.
import type pg from 'pg';
import type { TimedPoint } from './geo-distance.js';
import { AnalyticsError } from './analytics-errors.js';
import type { RegionDirectory } from '../regions/region-directory.js';
import {
  CELL_AREA_M2,
  COVERAGE_RES,
  cellVisits,
  coverageShare,
  evaluatePatrolDay,
  gridCells,
  shanghaiDayStart,
  type PatrolDay,
  type PatrolRule,
  type Share,
} from './coverage-cells.js';

export interface GridCoverage extends Share {
  grid: string;
  date: string;
  resolution: number;
  cellAreaM2: number;
  workers: string[];
  patrol: PatrolDay;
  heat: { cell: string; fixes: number; visits: number; inGrid: boolean }[];
}

export async function gridCoverage(
  pool: Pick<pg.Pool, 'query'>,
  regions: RegionDirectory,
  grid: string,
  date: string,
  rule: PatrolRule,
): Promise<GridCoverage> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new AnalyticsError('BAD_DATE');
  const dayStart = shanghaiDayStart(date);
  // The grid's polygon from the hub's region directory, not a read of the table per request.
  const g = regions.get(grid);
  if (g?.level !== 'grid') throw new AnalyticsError('GRID_NOT_FOUND');
  const cells = gridCells(g.geometry);
  const w = await pool.query<{ id: string }>(`SELECT id FROM workers WHERE $1 = ANY (grid_codes) ORDER BY id`, [grid]);
  const workers = w.rows.map((r) => r.id);
  // One track per device, in fix order: visits count entries into a cell along each track.
  const r = await pool.query<{ device_id: string; t: number; lat: number; lon: number }>(
    `SELECT device_id, (extract(epoch FROM ts) * 1000)::float8 AS t, lat, lon FROM positions
      WHERE worker_id = ANY ($1) AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
      ORDER BY device_id, ts`,
    [workers, dayStart, dayStart + 86_400_000],
  );
  const tracks = new Map<string, TimedPoint[]>();
  for (const row of r.rows) {
    let t = tracks.get(row.device_id);
    if (!t) tracks.set(row.device_id, (t = []));
    t.push({ ts: Math.round(row.t), lat: row.lat, lon: row.lon });
  }
  const all = [...tracks.values()];
  const heat = cellVisits(all).map((v) => ({ ...v, inGrid: cells.has(v.cell) }));
  return {
    grid,
    date,
    resolution: COVERAGE_RES,
    cellAreaM2: CELL_AREA_M2,
    workers,
    ...coverageShare(
      cells,
      heat.map((h) => h.cell),
    ),
    patrol: evaluatePatrolDay(cells, all, dayStart, rule),
    heat,
  };
}
