// Hand-built history for the analytics tests: a 7-cell grid, a patrolling worker (w-a) and a
// worker walking due north (w-m) whose metres are R·Δφ, exact under haversine.
import { cellToLatLng, cellsToMultiPolygon, gridDisk, latLngToCell } from 'h3-js';
import type pg from 'pg';
import { upsertDevices, upsertWorkers } from '../../../storage/device-store.js';
import { writeRows } from '../../../hub/rows/row-writer.js';
import { emptyRows, type PositionRow } from '../../../hub/rows/row-types.js';
import { COVERAGE_RES, shanghaiDayStart } from '../../../hub/analytics/coverage-cells.js';

export const DATE = '2026-10-20';
export const DAY = shanghaiDayStart(DATE);
export const H = (hour: number, min = 0, sec = 0) => DAY + hour * 3_600_000 + min * 60_000 + sec * 1000;
export const iso = (ms: number) => new Date(ms).toISOString();

export const CENTRE = latLngToCell(27.87, 113.12, COVERAGE_RES);
export const SEVEN = gridDisk(CENTRE, 1);
export const OUTSIDE = gridDisk(CENTRE, 3).find((c) => !SEVEN.includes(c))!;
/** One step north: 0.0001° = 11.1195 m. */
export const STEP_M = 6_371_008.8 * (Math.PI / 180) * 0.0001;

export function fix(deviceId: string, workerId: string, ts: number, lat: number, lon: number): PositionRow {
  return { deviceId, workerId, ts, lat, lon, acc: 5, alt: null, speed: null, heading: null, battery: 80, seq: null };
}

function atCell(cell: string, ts: number): PositionRow {
  const [lat, lon] = cellToLatLng(cell);
  return fix('hs-a', 'w-a', ts, lat, lon);
}

/**
 * w-a: 08:00 one minute in each of cells 0..3, then 10 minutes still in cell 3 (a stop);
 * 15:00 one minute in each of cells 0..2; 15:30 one fix in a cell outside the grid.
 */
export function patrolFixes(): PositionRow[] {
  const out: PositionRow[] = [];
  SEVEN.slice(0, 4).forEach((c, k) => {
    for (let s = 0; s < 6; s++) out.push(atCell(c, H(8, k, s * 10)));
  });
  for (let s = 0; s <= 60; s++) out.push(atCell(SEVEN[3], H(8, 10, s * 10)));
  SEVEN.slice(0, 3).forEach((c, k) => {
    for (let s = 0; s < 6; s++) out.push(atCell(c, H(15, k, s * 10)));
  });
  out.push(atCell(OUTSIDE, H(15, 30)));
  return out;
}

/**
 * w-m: every 10 s from 09:00:00 to 10:59:50 (720 fixes), 0.0001° north each; then one fix at
 * 11:30, 30 minutes later and 1 km east (a gap: not walked).
 * Hour 09: 360 fixes, 359 segments; hour 10: 360 fixes, 360 segments (the one across 10:00
 * belongs to its later fix); hour 11: 1 fix, 0 m.
 */
export function northFixes(): PositionRow[] {
  const out: PositionRow[] = [];
  for (let i = 0; i < 720; i++) out.push(fix('hs-m', 'w-m', H(9, 0, i * 10), 27.86 + i * 0.0001, 113.12));
  out.push(fix('hs-m', 'w-m', H(11, 30), 27.86 + 719 * 0.0001, 113.13));
  return out;
}

export async function seedPeople(pool: pg.Pool): Promise<void> {
  const geometry = { type: 'MultiPolygon', coordinates: cellsToMultiPolygon(SEVEN, true) };
  await pool.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES
       ('D', NULL, 'district', '测试区', '{"type":"Polygon","coordinates":[[[113,27.8],[113.2,27.8],[113.2,27.9],[113,27.9],[113,27.8]]]}'),
       ('G1', 'D', 'grid', '一号网格', $1)`,
    [JSON.stringify(geometry)],
  );
  await upsertWorkers(pool, [
    { id: 'w-a', name: '网格员甲', role: 'grid_worker', gridCodes: ['G1'] },
    { id: 'w-m', name: '网格员乙', role: 'grid_worker', gridCodes: [] },
  ]);
  await upsertDevices(pool, [
    { id: 'hs-a', kind: 'handset', secret: 'secret-hs-a-0123456789', workerId: 'w-a', gridCode: null, lat: null, lon: null },
    { id: 'hs-m', kind: 'handset', secret: 'secret-hs-m-0123456789', workerId: 'w-m', gridCode: null, lat: null, lon: null },
  ]);
}

/** Writes fixes through the hub's batch writer path, one transaction per batch. */
export async function writeBatch(pool: pg.Pool, positions: PositionRow[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await writeRows(client, { ...emptyRows(), positions });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
