-- The district-month KPI fast path (issue 5 item 8: a district KPI query for a month under 200 ms).
--
-- incident_grid_daily (011) does not shrink a district month: at the bench's 1,300 incidents a day
-- over 3,300 grids a grid-day holds 0.4 incidents, so the rollup had as many rows as the raw
-- incidents (39,000 for 39,000). This rollup is per region at every level of the tree (grid,
-- community, street, district: each incident counts for its grid and every region above it), per
-- Asia/Shanghai day of creation, category, source and priority, so a district month is ~700 rows
-- and a street breakdown ~7,000. Percentiles stay exact: each row keeps the durations themselves
-- (sorted arrays), and overdueOpen, which depends on the asking time, keeps the resolve_by of the
-- open unresolved incidents. hub/analytics/kpi-fast.ts reads it for whole days that no incident
-- changed since the last pass, and the raw incidents for the rest (the period's partial end days,
-- today, days with recent changes); results equal the raw computation.
CREATE TABLE incident_region_daily (
  region_code      text NOT NULL,
  -- true: the incidents whose grid_code is region_code itself (a scope's own "child" in a
  -- breakdown by region); false: those of the regions under it.
  self             boolean NOT NULL,
  day              timestamptz NOT NULL,   -- 00:00 Asia/Shanghai of created_at
  category         text NOT NULL,
  source           text NOT NULL,
  priority         text NOT NULL,
  incidents        integer NOT NULL,
  open             integer NOT NULL,
  closed           integer NOT NULL,
  cancelled        integer NOT NULL,
  resolved         integer NOT NULL,
  resolved_on_time integer NOT NULL,
  open_resolve_by  timestamptz[] NOT NULL, -- open, unresolved: overdue once past
  accept_ms        float8[] NOT NULL,      -- sla_started_at → accepted_at, ms, those reached
  arrive_ms        float8[] NOT NULL,
  resolve_ms       float8[] NOT NULL,
  rated            integer NOT NULL,
  satisfied        integer NOT NULL,
  rating_n         integer NOT NULL,
  rating_sum       integer NOT NULL,
  -- Hotspots: the stored H3 cells (incident_cells, resolution 10) of the incidents not cancelled,
  -- and how many of those had no current cell at the pass (the fast path then reads raw rows).
  cells            text[] NOT NULL,
  cells_missing    integer NOT NULL,
  PRIMARY KEY (region_code, day, self, category, source, priority)
);

-- Recomputes every whole day (all regions) that holds an incident changed since the watermark
-- (minus p_margin, as in rollup_incident_grid_daily), then moves the watermark to p_now. A day is
-- ~1,300 incidents at district scale, so day granularity keeps the function simple and a pass cheap.
-- No watermark (first run, or the regions tree changed): everything is rebuilt.
CREATE FUNCTION rollup_incident_region_daily(p_now timestamptz, p_margin interval) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  since timestamptz;
  days timestamptz[];
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rollup_incident_region_daily'));
  SELECT upto - p_margin INTO since FROM analytics_watermarks WHERE name = 'incident_region_daily';
  IF since IS NULL THEN
    DELETE FROM incident_region_daily;
  END IF;
  SELECT coalesce(array_agg(DISTINCT time_bucket('1 day', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+08')), '{}') INTO days
    FROM incidents WHERE since IS NULL OR updated_at >= since;
  DELETE FROM incident_region_daily WHERE day = ANY(days);
  WITH RECURSIVE up(code, anc, depth) AS (
      SELECT code, code, 0 FROM regions
      UNION ALL
      SELECT up.code, r.parent_code, up.depth + 1 FROM up JOIN regions r ON r.code = up.anc
       WHERE r.parent_code IS NOT NULL AND up.depth < 16
    ), x AS (
      SELECT i.*, t.d,
             date_part('epoch', i.accepted_at - i.sla_started_at) * 1000 AS a_ms,
             date_part('epoch', i.arrived_at - i.sla_started_at) * 1000 AS r_ms,
             date_part('epoch', i.resolved_at - i.sla_started_at) * 1000 AS s_ms,
             i.state NOT IN ('resolved', 'verified', 'closed', 'cancelled') AS is_open,
             c.cell AS h3
        FROM unnest(days) AS t(d)
        JOIN incidents i ON i.created_at >= t.d AND i.created_at < t.d + interval '1 day'
        LEFT JOIN incident_cells c ON c.incident_id = i.id AND c.lat = i.lat AND c.lon = i.lon
    )
  INSERT INTO incident_region_daily
  SELECT up.anc, up.depth = 0, x.d, x.category, x.source, x.priority,
         count(*), count(*) FILTER (WHERE x.is_open), count(*) FILTER (WHERE x.state = 'closed'),
         count(*) FILTER (WHERE x.state = 'cancelled'), count(x.resolved_at),
         count(*) FILTER (WHERE x.resolved_at <= x.resolve_by),
         coalesce(array_agg(x.resolve_by ORDER BY x.resolve_by) FILTER (WHERE x.is_open AND x.resolved_at IS NULL), '{}'),
         coalesce(array_agg(x.a_ms ORDER BY x.a_ms) FILTER (WHERE x.a_ms IS NOT NULL), '{}'),
         coalesce(array_agg(x.r_ms ORDER BY x.r_ms) FILTER (WHERE x.r_ms IS NOT NULL), '{}'),
         coalesce(array_agg(x.s_ms ORDER BY x.s_ms) FILTER (WHERE x.s_ms IS NOT NULL), '{}'),
         count(x.rating), count(*) FILTER (WHERE x.rating = 'satisfied'),
         count(x.rating_score), coalesce(sum(x.rating_score), 0),
         coalesce(array_agg(x.h3) FILTER (WHERE x.state <> 'cancelled' AND x.h3 IS NOT NULL), '{}'),
         count(*) FILTER (WHERE x.state <> 'cancelled' AND x.h3 IS NULL)
    FROM x JOIN up ON up.code = x.grid_code
   GROUP BY up.anc, up.depth = 0, x.d, x.category, x.source, x.priority;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_region_daily', p_now)
    ON CONFLICT (name) DO UPDATE SET upto = greatest(analytics_watermarks.upto, EXCLUDED.upto);
  RETURN n;
END $$;

-- An incident whose grid is not (yet) in the regions tree counts in no region row; the raw path
-- does the same (the scope join finds it nowhere). A change to the tree moves incidents between
-- regions without touching them, so it drops the watermark: the fast path reads raw rows until
-- the next pass rebuilds the rollup.
CREATE FUNCTION incident_region_daily_invalidate() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  -- Wait for a pass in progress (it read the old tree), and hold the next one until this commits.
  PERFORM pg_advisory_xact_lock(hashtext('rollup_incident_region_daily'));
  DELETE FROM analytics_watermarks WHERE name = 'incident_region_daily';
  RETURN NULL;
END $$;
CREATE TRIGGER regions_invalidate_kpi_rollup AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON regions
  FOR EACH STATEMENT EXECUTE FUNCTION incident_region_daily_invalidate();
