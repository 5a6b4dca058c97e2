// Per grid per day incident aggregate (issue 5 item 2): incidents by category and state, closure
// and on-time rates. rollup_incident_grid_daily (storage/migrations/011_kpis.sql) recomputes the
// (grid, day) pairs of incidents changed since its watermark; StorageMaintenance runs it each pass.
import type pg from 'pg';
import { scopeGridsCte } from './kpi-scope.js';

/** Margin for transactions that stamped updated_at before the last pass but committed after it. */
export const ROLLUP_MARGIN_MS = 15 * 60_000;

export async function rollupIncidents(pool: Pick<pg.Pool, 'query'>, now: number, marginMs = ROLLUP_MARGIN_MS): Promise<number> {
  const r = await pool.query<{ n: number }>(
    `SELECT rollup_incident_grid_daily(to_timestamp($1 / 1000.0), make_interval(secs => $2)) AS n`,
    [now, marginMs / 1000],
  );
  return r.rows[0].n;
}

export interface GridDay {
  grid: string;
  /** 00:00 Asia/Shanghai as an ISO instant, and the local date. */
  day: string;
  date: string;
  incidents: number;
  closed: number;
  cancelled: number;
  resolved: number;
  resolvedOnTime: number;
  overdue: number;
  closureRate: number | null;
  onTimeRate: number | null;
  /** Incidents per category and per current state. */
  byCategory: Record<string, number>;
  byState: Record<string, number>;
}

/** Grid-days in scope with day in [from, to), from the rollup (not the raw incidents). */
export async function readGridDaily(pool: Pick<pg.Pool, 'query'>, scope: string, from: number, to: number): Promise<GridDay[]> {
  const r = await pool.query<{
    grid_code: string;
    day: Date;
    category: string;
    state: string;
    incidents: number;
    resolved: number;
    resolved_on_time: number;
    overdue: number;
  }>(
    `WITH ${scopeGridsCte(1)}
     SELECT d.grid_code, d.day, d.category, d.state, d.incidents, d.resolved, d.resolved_on_time, d.overdue
       FROM incident_grid_daily d JOIN scope_grids g ON g.grid_code = d.grid_code
      WHERE d.day >= to_timestamp($2 / 1000.0) AND d.day < to_timestamp($3 / 1000.0)
      ORDER BY d.day, d.grid_code`,
    [scope, from, to],
  );
  const out = new Map<string, GridDay>();
  for (const row of r.rows) {
    const key = `${row.grid_code}/${row.day.getTime()}`;
    let g = out.get(key);
    if (!g) {
      const day = row.day.toISOString();
      g = {
        grid: row.grid_code,
        day,
        date: new Date(row.day.getTime() + 8 * 3_600_000).toISOString().slice(0, 10),
        incidents: 0,
        closed: 0,
        cancelled: 0,
        resolved: 0,
        resolvedOnTime: 0,
        overdue: 0,
        closureRate: null,
        onTimeRate: null,
        byCategory: {},
        byState: {},
      };
      out.set(key, g);
    }
    g.incidents += row.incidents;
    if (row.state === 'closed') g.closed += row.incidents;
    if (row.state === 'cancelled') g.cancelled += row.incidents;
    g.resolved += row.resolved;
    g.resolvedOnTime += row.resolved_on_time;
    g.overdue += row.overdue;
    g.byCategory[row.category] = (g.byCategory[row.category] ?? 0) + row.incidents;
    g.byState[row.state] = (g.byState[row.state] ?? 0) + row.incidents;
  }
  for (const g of out.values()) {
    g.closureRate = g.incidents - g.cancelled === 0 ? null : g.closed / (g.incidents - g.cancelled);
    g.onTimeRate = g.resolved === 0 ? null : g.resolvedOnTime / g.resolved;
  }
  return [...out.values()];
}
