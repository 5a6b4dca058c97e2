// The KPI fast path (hub/analytics/kpi-fast.ts) against the raw computation on one engine, on a
// seeded month (bench/storage/kpi-bench-data.ts at a smaller rate): every breakdown the rollup answers,
// scopes at each level, periods whose ends cut through Asia/Shanghai days, and freshness (changes
// and new incidents after the last pass count). Run by kpi-fast-{embedded,postgres}.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../storage/database.js';
import { seedGovernance } from '../../../bench/storage/kpi-bench-data.js';
import { kpiReport, type KpiDimension, type KpiReport, type KpiRequest } from '../../../hub/analytics/kpi-query.js';
import { planFastPath, rollupKpiRegions } from '../../../hub/analytics/kpi-fast.js';
import { resolveScopeTree, scopeGridsCte } from '../../../hub/analytics/kpi-scope.js';
import { shanghaiDayStart } from '../../../hub/analytics/coverage-cells.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const DAY0 = shanghaiDayStart('2026-10-01');
const DAYS = 12;
const PER_DAY = 240;

/** Means are float sums in another order: equal to 12 significant digits, everything else exactly. */
function normalise(r: KpiReport): unknown {
  return JSON.parse(JSON.stringify(r), (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v));
}

export function kpiFastSuite(engine: string, open: () => Promise<{ db: Database; stop(): Promise<void> }>): void {
  describe(`KPI fast path equals the raw path on ${engine}`, () => {
    let db: Database;
    let stop: () => Promise<void>;
    let regions: RegionDirectory;
    // The last pass ran at 06:00 Shanghai on day 11 (index 10); "now" is 09:00 that day.
    const pass = DAY0 + 10 * DAY + 6 * HOUR;
    const now = DAY0 + 10 * DAY + 9 * HOUR;

    const both = async (req: Omit<KpiRequest, 'now' | 'hotspotRes' | 'hotspotLimit' | 'rawOnly'> & Partial<KpiRequest>) => {
      const full: KpiRequest = { now, hotspotRes: 10, hotspotLimit: 8, rollupAll: true, ...req };
      const [fast, raw] = [await kpiReport(db.pool, regions, full), await kpiReport(db.pool, regions, { ...full, rawOnly: true })];
      expect(normalise(fast)).toEqual(normalise(raw));
      return fast;
    };

    beforeAll(async () => {
      ({ db, stop } = await open());
      await seedGovernance(db.pool, DAY0, DAYS, PER_DAY);
      regions = new RegionDirectory(db.pool);
      await regions.load();
      // Only incidents that existed at the pass are in it (the seed made all twelve days at once).
      const later = await db.pool.query(`DELETE FROM incidents WHERE created_at >= $1 RETURNING *`, [new Date(pass)]);
      expect(later.rowCount).toBeGreaterThan(0);
      expect(await rollupKpiRegions(db.pool, pass)).toBeGreaterThan(0);
      const cols = Object.keys(later.rows[0] as object);
      for (const row of later.rows as Record<string, unknown>[]) {
        await db.pool.query(
          `INSERT INTO incidents (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => row[c]),
        );
      }
    }, 180_000);
    afterAll(async () => {
      await stop?.();
    });

    it('takes whole days from the rollup and the rest from raw rows', async () => {
      // 10-01 15:30 → 10-08 02:00 Shanghai: partial first and last days.
      const from = DAY0 + 15.5 * HOUR;
      const to = DAY0 + 7 * DAY + 2 * HOUR;
      const plan = await planFastPath(db.pool, from, to);
      expect(plan?.days).toEqual([1, 2, 3, 4, 5, 6].map((d) => DAY0 + d * DAY));
      expect(plan?.raw).toEqual([
        [from, DAY0 + DAY],
        [DAY0 + 7 * DAY, to],
      ]);
      // The pass's own day (and after) is never from the rollup.
      expect((await planFastPath(db.pool, DAY0, DAY0 + DAYS * DAY))?.days.at(-1)).toBe(DAY0 + 9 * DAY);
    });

    it('gives the raw figures for every breakdown, scope and cut period', async () => {
      const periods: [number, number][] = [
        [DAY0, DAY0 + DAYS * DAY],
        [DAY0 + 15.5 * HOUR, DAY0 + 7 * DAY + 2 * HOUR],
        [DAY0 - 3 * HOUR, DAY0 + 2 * DAY + 23 * HOUR + 59 * 60_000],
      ];
      const dims: KpiDimension[] = ['none', 'region', 'category', 'source', 'priority', 'day', 'week', 'month'];
      for (const [from, to] of periods) {
        for (const by of dims) await both({ scope: 'D', from, to, by });
        for (const scope of ['S3', 'C31', 'G1023'])
          for (const by of ['none', 'region', 'day'] as KpiDimension[]) await both({ scope, from, to, by });
      }
      const month = await both({ scope: 'D', from: DAY0, to: DAY0 + DAYS * DAY, by: 'region', hotspotRes: 8 });
      expect(month.total.incidents).toBe(DAYS * PER_DAY);
      expect(month.total.acceptMs.n).toBeGreaterThan(0);
      expect(month.hotspots.cells.length).toBe(8);
    });

    it('answers the sole root without walking the tree, with the figures of the walk', async () => {
      expect(resolveScopeTree(regions, 'D').wholeTree).toBe(true);
      expect(resolveScopeTree(regions, 'S3').wholeTree).toBe(false);
      const grids = async (whole: boolean) =>
        (
          await db.pool.query<{ g: string }>(`WITH ${scopeGridsCte(1, whole)} SELECT grid_code AS g FROM scope_grids ORDER BY 1`, ['D'])
        ).rows.map((r) => r.g);
      expect(await grids(true)).toEqual(await grids(false));
      // By region walks the tree (it labels the streets); its total is the district's.
      const period = { scope: 'D', from: DAY0 + 15.5 * HOUR, to: DAY0 + DAYS * DAY };
      for (const rawOnly of [false, true]) {
        const [whole, walked] = [await both({ ...period, by: 'none', rawOnly }), await both({ ...period, by: 'region', rawOnly })];
        expect(normalise({ ...whole, by: 'region', groups: [] })).toEqual(normalise({ ...walked, groups: [] }));
      }
    });

    it('counts what changed after the pass: closures, new incidents, moved locations', async () => {
      const until = { scope: 'D', from: DAY0, to: DAY0 + DAYS * DAY, by: 'category' as KpiDimension };
      const before = await both(until);
      // An old open case closes now (day 3's row in the rollup is stale), a new one arrives, one moves.
      const old = await db.pool.query<{ id: string }>(
        `SELECT id FROM incidents WHERE state = 'accepted' AND created_at < $1 ORDER BY created_at LIMIT 1`,
        [new Date(DAY0 + 3 * DAY)],
      );
      await db.pool.query(`UPDATE incidents SET state = 'closed', resolved_at = $2, closed_at = $2, updated_at = $2 WHERE id = $1`, [
        old.rows[0].id,
        new Date(now),
      ]);
      await db.pool.query(
        `INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, created_at, updated_at, sla_started_at, accept_by, arrive_by, resolve_by)
         VALUES ('NEW', 'resident', 'drain', 'high', 27.9, 113.1, 'G5', 'reported', 1, $1, $1, $1, $1, $1, $1)`,
        [new Date(now - HOUR)],
      );
      await db.pool.query(`UPDATE incidents SET lat = 27.95, lon = 113.15, updated_at = $1 WHERE id = 'B100'`, [new Date(now)]);
      const after = await both(until);
      expect(after.total.incidents).toBe(before.total.incidents + 1);
      expect(after.total.closed).toBe(before.total.closed + 1);
      // The closed case was past its 72 h; the new one is past its (zero) deadline: one out, one in.
      expect(after.total.overdueOpen).toBe(before.total.overdueOpen);
      expect(after.groups.find((g) => g.key === 'drain')?.incidents).toBe(before.groups.find((g) => g.key === 'drain')!.incidents + 1);
      // The next pass takes them in; the figures do not move.
      await rollupKpiRegions(db.pool, now + HOUR);
      expect((await planFastPath(db.pool, until.from, until.to))?.days).toContain(DAY0 + 3 * DAY);
      expect(normalise(await both(until))).toEqual(normalise(after));
    });

    it('reads raw rows again once the regions tree changes, until the next pass', async () => {
      await db.pool.query(`UPDATE regions SET parent_code = 'C0' WHERE code = 'G1023'`);
      expect(await planFastPath(db.pool, DAY0, DAY0 + DAYS * DAY)).toBeNull();
      await both({ scope: 'C0', from: DAY0, to: DAY0 + DAYS * DAY, by: 'region' });
      await rollupKpiRegions(db.pool, now + 2 * HOUR);
      expect(await planFastPath(db.pool, DAY0, DAY0 + DAYS * DAY)).not.toBeNull();
      await both({ scope: 'C0', from: DAY0, to: DAY0 + DAYS * DAY, by: 'region' });
      await both({ scope: 'C31', from: DAY0, to: DAY0 + DAYS * DAY, by: 'none' });
    });

    it('rebuilds after a tree change in steps of days, raw rows until the last, over again if the tree changes mid-way', async () => {
      const all = { scope: 'D', from: DAY0, to: DAY0 + DAYS * DAY, by: 'region' as KpiDimension };
      const step = async () =>
        (
          await db.pool.query<{ n: number; more: boolean }>(
            `SELECT n, more FROM rollup_incident_region_daily(to_timestamp($1 / 1000.0), interval '15 minutes', 3)`,
            [now + 3 * HOUR],
          )
        ).rows[0];
      const days = (
        await db.pool.query<{ n: number }>(
          `SELECT count(DISTINCT time_bucket('1 day', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+08'))::int AS n FROM incidents`,
        )
      ).rows[0].n;
      expect(days).toBeGreaterThan(6);
      await db.pool.query(`UPDATE regions SET parent_code = 'C31' WHERE code = 'G1023'`);
      const first = await step();
      expect(first).toMatchObject({ more: true });
      expect(first.n).toBeGreaterThan(0);
      // Mid-rebuild the rollup is partial: the fast path stays off and the figures are the raw ones.
      expect(await planFastPath(db.pool, all.from, all.to)).toBeNull();
      await both(all);
      // The tree changes again: the rebuild starts over, from the first day.
      await db.pool.query(`UPDATE regions SET parent_code = 'C0' WHERE code = 'G1023'`);
      let steps = 0;
      let last = first;
      do {
        last = await step();
        steps++;
      } while (last.more && steps < 100);
      expect(steps).toBe(Math.ceil(days / 3));
      expect(await planFastPath(db.pool, all.from, all.to)).not.toBeNull();
      await both(all);
      await both({ ...all, scope: 'C0' });
      await both({ ...all, scope: 'C31', by: 'category' });
    });
  });
}
