// Hotspots of the KPI report (issue 5 item 5): the H3 cells with the most incidents in a scope
// and period, from the stored cells (incident_cells) of the raw incidents and, on the fast path,
// from the rollup's cell arrays (hub/analytics/kpi-fast.ts). Split from kpi-query.ts.
import type pg from 'pg';
import { cellToLatLng, cellToParent, latLngToCell } from 'h3-js';
import { COVERAGE_RES } from './coverage-cells.js';
import { scopeGridsCte } from './kpi-scope.js';
import { RANGE_SQL, type Hotspot, type KpiRequest } from './kpi-query.js';
import type { FastPlan } from './kpi-fast.js';

/**
 * H3 cells with the most incidents (ties: cell id), cancelled ones left out. Cells come from
 * incident_cells (resolution 10), filled here for incidents that have none yet: h3 is not in the
 * database, and computing ~40,000 cells per request (a district month) took longer than the rest
 * of the report. Coarser resolutions are the parents of the stored cells.
 */
export async function hotspots(
  pool: Pick<pg.Pool, 'query'>,
  req: Pick<KpiRequest, 'scope' | 'from' | 'to' | 'hotspotRes' | 'hotspotLimit'>,
  plan: FastPlan | null = null,
  wholeTree = false,
): Promise<Hotspot[]> {
  if (req.hotspotLimit === 0) return [];
  // The fast path's days count their cells from the rollup, unless a day had incidents without a
  // current cell at the pass (then everything is read raw, which also stores the missing cells).
  if (plan) {
    const m = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM incident_region_daily WHERE region_code = $1 AND day = ANY($2::timestamptz[]) AND cells_missing > 0`,
      [req.scope, plan.days.map((d) => new Date(d).toISOString())],
    );
    if (m.rows[0].n > 0) plan = null;
  }
  // Incidents whose stored cell is current are counted per cell in SQL (at resolution 10 only the
  // top ones come back); the others (new, or moved) come back one row each with their location, get
  // their cell and are stored, and the count runs again so the top list is exact.
  const exactTop = req.hotspotRes === COVERAGE_RES;
  const count = () =>
    pool.query<{ cell: string | null; id: string | null; lat: number | null; lon: number | null; n: number }>(
      `WITH ${scopeGridsCte(1, wholeTree)},
       x AS (SELECT i.id, i.lat, i.lon, c.cell, coalesce(c.lat = i.lat AND c.lon = i.lon, false) AS ok
               FROM ${plan ? `unnest($2::float8[], $3::float8[]) AS rr(s, e) JOIN incidents i ON ${RANGE_SQL}` : 'incidents i'}
               JOIN scope_grids g ON i.grid_code = g.grid_code
               LEFT JOIN incident_cells c ON c.incident_id = i.id
              WHERE ${plan ? '' : 'i.created_at >= to_timestamp($2 / 1000.0) AND i.created_at < to_timestamp($3 / 1000.0) AND'} i.state <> 'cancelled'),
       y AS (SELECT cell FROM x WHERE ok
             ${plan ? `UNION ALL SELECT unnest(r.cells) FROM incident_region_daily r WHERE r.region_code = $1 AND r.day = ANY($5::timestamptz[])` : ''})
       (SELECT cell, NULL AS id, NULL::float8 AS lat, NULL::float8 AS lon, count(*)::int AS n FROM y
         GROUP BY cell ORDER BY n DESC, cell ${exactTop || plan ? 'LIMIT $4::int' : ''})
       UNION ALL
       SELECT NULL, id, lat, lon, 1 FROM x WHERE NOT ok`,
      [
        req.scope,
        plan ? plan.raw.map((r) => r[0]) : req.from,
        plan ? plan.raw.map((r) => r[1]) : req.to,
        ...(exactTop || plan ? [exactTop ? req.hotspotLimit : null] : []),
        ...(plan ? [plan.days.map((d) => new Date(d).toISOString())] : []),
      ],
    );
  let r = await count();
  const fresh = r.rows
    .filter((row) => row.cell === null && row.id !== null && row.lat !== null && row.lon !== null)
    .map((row) => ({ id: row.id!, lat: row.lat!, lon: row.lon!, cell: latLngToCell(row.lat!, row.lon!, COVERAGE_RES) }));
  if (fresh.length > 0) {
    await pool.query(
      `INSERT INTO incident_cells (incident_id, lat, lon, cell)
       SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[])
       ON CONFLICT (incident_id) DO UPDATE SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, cell = EXCLUDED.cell`,
      [fresh.map((c) => c.id), fresh.map((c) => c.lat), fresh.map((c) => c.lon), fresh.map((c) => c.cell)],
    );
    r = await count();
  }
  const counts = new Map<string, number>();
  for (const row of r.rows) {
    if (row.cell === null) continue;
    const cell = req.hotspotRes === COVERAGE_RES ? row.cell : cellToParent(row.cell, req.hotspotRes);
    counts.set(cell, (counts.get(cell) ?? 0) + row.n);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, req.hotspotLimit)
    .map(([cell, incidents]) => {
      const [lat, lon] = cellToLatLng(cell);
      return { cell, incidents, lat, lon };
    });
}
