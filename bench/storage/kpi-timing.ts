// The governance KPIs for a district month (kpi-bench-data.ts seeds it): every breakdown on
// the fast path (rollup days + raw tail) against the raw path, interleaved, the uncached tiles, the
// rollup passes, and what a change to the regions tree costs the region rollup.
import type { Database } from '../../storage/database.js';
import { kpiReport, type KpiDimension } from '../../hub/analytics/kpi-query.js';
import { readTiles } from '../../hub/analytics/kpi-tiles.js';
import { RegionDirectory } from '../../hub/regions/region-directory.js';
import { rollupIncidents } from '../../hub/analytics/incident-rollup.js';
import { REBUILD_DAYS_PER_STEP, rollupKpiRegions } from '../../hub/analytics/kpi-fast.js';
import { seedGovernance } from './kpi-bench-data.js';
import type { StorageBenchOptions } from './storage-options.js';
import { DAY0, timed } from './storage-history.js';

export interface KpiTimes {
  incidents: number;
  seedMs: number;
  /** The fast path (rollup days + raw tail, the default) and the raw path, per breakdown, interleaved. */
  report: Record<string, number[]>;
  raw: Record<string, number[]>;
  tiles: number[];
  rollupMs: number;
  regionRollupMs: number;
  regionRows: number;
  rebuild: { oneStatementMs: number; stepMs: number[] };
}

/**
 * What a change to the regions tree costs: the region rollup's full rebuild as one statement, and
 * in the hub's steps of REBUILD_DAYS_PER_STEP days (the longest step is what ingest waits behind on
 * the embedded engine's one connection). A no-op UPDATE of regions fires the invalidation.
 */
async function rebuildSteps(db: Database, now: number): Promise<{ oneStatementMs: number; stepMs: number[] }> {
  const step = (days: number) =>
    db.pool.query<{ more: boolean }>(
      `SELECT more FROM rollup_incident_region_daily(to_timestamp($1 / 1000.0), interval '15 minutes', $2)`,
      [now, days],
    );
  await db.pool.query(`UPDATE regions SET name = name WHERE code = 'D'`);
  const one = await timed(() => step(100_000));
  await db.pool.query(`UPDATE regions SET name = name WHERE code = 'D'`);
  const stepMs: number[] = [];
  for (let more = true; more; ) {
    const t = await timed(() => step(REBUILD_DAYS_PER_STEP));
    stepMs.push(t.ms);
    more = t.value.rows[0].more;
  }
  return { oneStatementMs: one.ms, stepMs };
}

/**
 * A district month of governance KPIs, one figure per breakdown, and the (uncached) tiles. The
 * month is "today" minus 30 days: the rollup passes ran 10 minutes ago, so the last day is read
 * raw (the unrolled tail) and the 29 before it from incident_region_daily.
 */
export async function benchKpis(db: Database, days: number, o: StorageBenchOptions): Promise<KpiTimes> {
  const perDay = o.incidentsPerDay;
  const seed = await timed(() => seedGovernance(db.pool, DAY0, days, perDay));
  const n = o.kpiQueries;
  const report: Record<string, number[]> = {};
  const raw: Record<string, number[]> = {};
  const from = DAY0;
  const to = DAY0 + days * 86_400_000;
  const now = to - 4 * 3_600_000;
  const rollup = await timed(() => rollupIncidents(db.pool, now - 600_000));
  const region = await timed(() => rollupKpiRegions(db.pool, now - 600_000));
  const rebuild = await rebuildSteps(db, now - 600_000);
  await db.pool.query('ANALYZE incident_region_daily');
  const regions = new RegionDirectory(db.pool);
  await regions.load();
  for (let q = 0; q < n; q++) {
    for (const by of ['none', 'region', 'category', 'department', 'day'] as KpiDimension[]) {
      // rollupAll: time the rollup for region too (kpiReport keeps region on the raw path, see FAST_DIMENSIONS).
      const req = { scope: 'D', from, to, by, now, hotspotRes: 10, hotspotLimit: 10, rollupAll: true };
      const fast = () => timed(() => kpiReport(db.pool, regions, req));
      const slow = () => timed(() => kpiReport(db.pool, regions, { ...req, rawOnly: true }));
      // Alternate which goes first, so neither always follows the other's cache effects.
      const [a, b] = q % 2 === 0 ? [await fast(), await slow()] : [await slow(), await fast()].reverse();
      (report[by] ??= []).push(a.ms);
      (raw[by] ??= []).push(b.ms);
    }
  }
  const tiles: number[] = [];
  for (let q = 0; q < n; q++) tiles.push((await timed(() => readTiles(db.pool, regions, q % 2 === 0 ? 'D' : 'S3', now))).ms);
  return {
    incidents: seed.value,
    seedMs: seed.ms,
    report,
    raw,
    tiles,
    rollupMs: rollup.ms,
    regionRollupMs: region.ms,
    regionRows: region.value,
    rebuild,
  };
}
