// bench:storage's governance data: a Zhuzhou-sized region tree (1 district, 10 streets, 100
// communities, 3,300 grids), 3,400 workers with handsets and presence/duty, and a month of
// incidents at a scale above the seeds' (Shifeng: 28,213 in two years for 232 grids; here
// ~1,300 a day for 3,300 grids). Generated in SQL from the row number, so every run and both
// engines get the same rows without shipping them over the wire.
import type pg from 'pg';

export const GRIDS = 3300;
export const WORKERS = 3400;

export async function seedGovernance(pool: Pick<pg.Pool, 'query'>, day0: number, days: number, perDay: number): Promise<number> {
  const square = `'{"type":"Polygon","coordinates":[[[113,27.8],[113.01,27.8],[113.01,27.81],[113,27.8]]]}'::jsonb`;
  await pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('D', NULL, 'district', '石峰区', ${square})`);
  await pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry)
    SELECT 'S' || s, 'D', 'street', '街道' || s, ${square} FROM generate_series(0, 9) s`);
  await pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry)
    SELECT 'C' || c, 'S' || (c / 10), 'community', '社区' || c, ${square} FROM generate_series(0, 99) c`);
  await pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry)
    SELECT 'G' || g, 'C' || (g / 33), 'grid', '网格' || g, ${square} FROM generate_series(0, ${GRIDS - 1}) g`);
  await pool.query(`INSERT INTO incident_categories (code, name_zh, name_en, default_priority, tier, deadlines)
    SELECT c, c, c, 'normal', 'grid', '{}' FROM unnest(ARRAY['garbage','drain','parking','noise','road','fire']) c
    ON CONFLICT (code) DO NOTHING`);
  // Every tenth worker is department staff (no grid), the rest answer for one grid each.
  await pool.query(`INSERT INTO workers (id, name, role, grid_codes, duty, department)
    SELECT 'w-' || lpad(w::text, 5, '0'), '网格员' || w,
           CASE WHEN w % 10 = 0 THEN 'department_staff' ELSE 'grid_worker' END,
           CASE WHEN w % 10 = 0 THEN '{}'::text[] ELSE ARRAY['G' || (w % ${GRIDS})] END,
           'off', CASE WHEN w % 10 = 0 THEN (ARRAY['城管','住建','市场监管','消防','环保'])[1 + (w / 10) % 5] END
      FROM generate_series(0, ${WORKERS - 1}) w
    ON CONFLICT (id) DO NOTHING`);
  await pool.query(`INSERT INTO devices (id, kind, secret_hash, worker_id)
    SELECT 'hs-' || lpad(w::text, 5, '0'), 'handset', 'bench', 'w-' || lpad(w::text, 5, '0') FROM generate_series(0, ${WORKERS - 1}) w
    ON CONFLICT (id) DO NOTHING`);
  const last = `to_timestamp(${(day0 + days * 86_400_000) / 1000} - 3600)`;
  // Presence and duty history: three of each per handset, the last one deciding.
  await pool.query(`INSERT INTO device_status (device_id, ts, kind, online)
    SELECT 'hs-' || lpad(w::text, 5, '0'), ${last} - make_interval(hours => k), 'presence', (w + k) % 5 <> 0
      FROM generate_series(0, ${WORKERS - 1}) w, generate_series(0, 2) k`);
  await pool.query(`INSERT INTO device_status (device_id, ts, kind, duty)
    SELECT 'hs-' || lpad(w::text, 5, '0'), ${last} - make_interval(hours => k), 'status', CASE WHEN (w + k) % 3 = 0 THEN 'off' ELSE 'on' END
      FROM generate_series(0, ${WORKERS - 1}) w, generate_series(0, 2) k`);
  const n = days * perDay;
  // r: a deterministic fraction per incident (Knuth's multiplicative hash), deciding the outcome.
  await pool.query(`INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, assignee_id,
                                           rating, rating_score, created_at, updated_at, sla_started_at, accept_by, arrive_by, resolve_by,
                                           accepted_at, arrived_at, resolved_at, closed_at, overdue_stages)
    SELECT 'B' || n, (ARRAY['device_alert','patrol_report','resident','operator'])[1 + n % 4],
           (ARRAY['garbage','drain','parking','noise','road','fire'])[1 + (n / 7) % 6], 'normal',
           27.8 + (n::bigint * 7919 % 100003) / 100003.0 * 0.3, 113.0 + (n::bigint * 104729 % 100019) / 100019.0 * 0.3,
           'G' || (n * 31 % ${GRIDS}), state, 1,
           CASE WHEN state NOT IN ('reported', 'cancelled') THEN 'w-' || lpad((n % ${WORKERS})::text, 5, '0') END,
           CASE WHEN state = 'closed' THEN CASE WHEN n % 10 = 0 THEN 'unsatisfied' ELSE 'satisfied' END END,
           CASE WHEN state = 'closed' THEN 5 - n % 3 END,
           c, c, c, c + interval '30 minutes', c + interval '2 hours', c + interval '72 hours',
           CASE WHEN state NOT IN ('reported', 'cancelled') THEN c + make_interval(mins => 5 + n % 55) END,
           CASE WHEN state IN ('closed', 'resolved') THEN c + make_interval(mins => 30 + n % 90) END,
           CASE WHEN state IN ('closed', 'resolved') THEN c + make_interval(hours => 1 + n % 80) END,
           CASE WHEN state = 'closed' THEN c + make_interval(hours => 2 + n % 80) END,
           CASE WHEN state IN ('closed', 'resolved') AND n % 80 >= 72 THEN ARRAY['resolve'] ELSE '{}'::text[] END
      FROM (SELECT n, to_timestamp(${day0 / 1000} + n * ${86_400 / perDay}) AS c,
                   CASE WHEN r < 0.80 THEN 'closed' WHEN r < 0.85 THEN 'resolved' WHEN r < 0.95 THEN 'accepted'
                        WHEN r < 0.98 THEN 'reported' ELSE 'cancelled' END AS state
              FROM (SELECT n, (n::bigint * 2654435761 % 1000) / 1000.0 AS r FROM generate_series(0, ${n - 1}) n) h) s`);
  await pool.query('ANALYZE incidents');
  await pool.query('ANALYZE regions');
  await pool.query('ANALYZE device_status');
  return n;
}
