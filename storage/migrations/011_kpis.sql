-- Governance KPIs (issue 5 items 2 and 5, issue 4 item 5) and a faster trail read (issue 5 item 8).

-- Departments (城管, 住建, 市场监管 …): an incident counts for its assignee's department, or for
-- 'grid' when nobody from a department holds it (hub/analytics/kpi-query.ts).
ALTER TABLE workers ADD COLUMN department text;

-- The trail query reads (worker_id, ts range) → ts, device_id, lat, lon. With those columns in the
-- index it is an index-only scan once autovacuum has marked the pages visible; without them every
-- fix is a heap visit, and a worker's fixes of a day sit on ~8,640 different pages because rows
-- arrive time-major (all workers' fixes of one second together). bench:storage: 15 → 3.5 ms in the
-- database for a full day on PostgreSQL. It replaces the narrower index, so writes keep one index.
CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts) INCLUDE (device_id, lat, lon);
DROP INDEX positions_worker_ts_idx;

-- The KPI and tile queries select by milestone time as well as by creation time.
CREATE INDEX incidents_updated_idx ON incidents (updated_at);
CREATE INDEX incidents_closed_at_idx ON incidents (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX incidents_resolved_at_idx ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_accepted_at_idx ON incidents (accepted_at) WHERE accepted_at IS NOT NULL;

-- Per grid per Asia/Shanghai day of creation, per category and current state. A plain table kept
-- by rollup_incident_grid_daily on both engines, not a continuous aggregate: incidents is a plain
-- table whose rows change state for days after they are created (a continuous aggregate only
-- refreshes time windows of a hypertable, so it would miss a closure of last month's case).
CREATE TABLE incident_grid_daily (
  grid_code        text NOT NULL,
  day              timestamptz NOT NULL,   -- 00:00 Asia/Shanghai
  category         text NOT NULL,
  state            text NOT NULL,
  incidents        integer NOT NULL,
  resolved         integer NOT NULL,       -- resolved_at set (current round)
  resolved_on_time integer NOT NULL,       -- resolved_at <= resolve_by
  overdue          integer NOT NULL,       -- some stage went overdue
  PRIMARY KEY (grid_code, day, category, state)
);
CREATE INDEX incident_grid_daily_day_idx ON incident_grid_daily (day);

-- How far the rollup has read incidents.updated_at.
CREATE TABLE analytics_watermarks (
  name text PRIMARY KEY,
  upto timestamptz NOT NULL
);

-- Recomputes every (grid, day) that holds an incident changed since the watermark (minus p_margin,
-- for transactions that stamped updated_at before the last pass and committed after it), then
-- moves the watermark to p_now. The first run reads everything. Returns the rows written.
CREATE FUNCTION rollup_incident_grid_daily(p_now timestamptz, p_margin interval) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  since timestamptz;
  grids text[];
  days timestamptz[];
  n integer;
BEGIN
  -- Two hubs may run maintenance at once: one rollup at a time, or both would insert the same keys.
  PERFORM pg_advisory_xact_lock(hashtext('rollup_incident_grid_daily'));
  SELECT upto - p_margin INTO since FROM analytics_watermarks WHERE name = 'incident_grid_daily';
  SELECT coalesce(array_agg(g), '{}'), coalesce(array_agg(d), '{}') INTO grids, days
    FROM (SELECT DISTINCT grid_code AS g, time_bucket('1 day', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+08') AS d
            FROM incidents WHERE since IS NULL OR updated_at >= since) t;
  DELETE FROM incident_grid_daily x USING unnest(grids, days) AS t(g, d) WHERE x.grid_code = t.g AND x.day = t.d;
  INSERT INTO incident_grid_daily (grid_code, day, category, state, incidents, resolved, resolved_on_time, overdue)
  SELECT i.grid_code, t.d, i.category, i.state, count(*), count(i.resolved_at),
         count(*) FILTER (WHERE i.resolved_at <= i.resolve_by), count(*) FILTER (WHERE cardinality(i.overdue_stages) > 0)
    FROM unnest(grids, days) AS t(g, d)
    JOIN incidents i ON i.grid_code = t.g AND i.created_at >= t.d AND i.created_at < t.d + interval '1 day'
   GROUP BY i.grid_code, t.d, i.category, i.state;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_grid_daily', p_now)
    ON CONFLICT (name) DO UPDATE SET upto = greatest(analytics_watermarks.upto, EXCLUDED.upto);
  RETURN n;
END $$;

-- Rates per grid per day, as the screens and the KPI API name them.
CREATE VIEW incident_grid_daily_rates AS
SELECT grid_code, day,
       sum(incidents)::integer AS incidents,
       coalesce(sum(incidents) FILTER (WHERE state = 'closed'), 0)::integer AS closed,
       coalesce(sum(incidents) FILTER (WHERE state = 'cancelled'), 0)::integer AS cancelled,
       sum(resolved)::integer AS resolved,
       sum(resolved_on_time)::integer AS resolved_on_time,
       coalesce(sum(incidents) FILTER (WHERE state = 'closed'), 0)::float8 / nullif(sum(incidents) FILTER (WHERE state <> 'cancelled'), 0) AS closure_rate,
       sum(resolved_on_time)::float8 / nullif(sum(resolved), 0) AS on_time_rate
  FROM incident_grid_daily
 GROUP BY grid_code, day;

-- The H3 cell (resolution 10, hub/analytics/coverage-cells.ts) of each incident's location, for
-- the hotspots. h3 is not in the database, so the KPI code computes cells in JS, once per incident
-- (and again if the location was corrected), instead of for every incident on every request.
CREATE TABLE incident_cells (
  incident_id text PRIMARY KEY,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  cell        text NOT NULL
);
