-- The region rollup's full rebuild (first run, or after a change to the regions tree) in steps of
-- a few days, each its own statement and transaction. In one statement a month of the benchmark's
-- district (39,000 incidents) held the embedded engine's only connection for 5.9 s, and ingest
-- waited behind it; a step of 7 days holds it about a quarter of that.
--
-- While a rebuild is under way there is no 'incident_region_daily' watermark, so the fast path
-- keeps reading raw rows (as before); 'incident_region_daily_rebuild_from' is when the rebuild
-- began and 'incident_region_daily_rebuilt_to' the day up to which it has rebuilt. The last step
-- sets the watermark to the rebuild's start, so the next pass recomputes every day with an
-- incident changed while the rebuild ran. A change to the tree mid-rebuild clears all three: the
-- next step starts over.
DROP FUNCTION rollup_incident_region_daily(timestamptz, interval);

CREATE FUNCTION rollup_incident_region_daily(p_now timestamptz, p_margin interval, p_max_days integer,
                                             OUT n integer, OUT more boolean)
  LANGUAGE plpgsql AS $$
DECLARE
  origin CONSTANT timestamptz := TIMESTAMPTZ '2000-01-01 00:00:00+08';
  wm timestamptz;
  done timestamptz;
  started timestamptz;
  days timestamptz[];
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rollup_incident_region_daily'));
  more := false;
  SELECT upto INTO wm FROM analytics_watermarks WHERE name = 'incident_region_daily';
  IF wm IS NOT NULL THEN
    -- Incremental: every whole day holding an incident changed since the watermark (minus margin).
    SELECT coalesce(array_agg(DISTINCT time_bucket('1 day', created_at, origin)), '{}') INTO days
      FROM incidents WHERE updated_at >= wm - p_margin;
  ELSE
    SELECT upto INTO started FROM analytics_watermarks WHERE name = 'incident_region_daily_rebuild_from';
    SELECT upto INTO done FROM analytics_watermarks WHERE name = 'incident_region_daily_rebuilt_to';
    IF started IS NULL OR done IS NULL THEN
      DELETE FROM incident_region_daily;
      started := p_now;
      done := '-infinity';
      INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_region_daily_rebuild_from', started)
        ON CONFLICT (name) DO UPDATE SET upto = EXCLUDED.upto;
    END IF;
    SELECT coalesce(array_agg(d ORDER BY d), '{}') INTO days
      FROM (SELECT DISTINCT time_bucket('1 day', created_at, origin) AS d FROM incidents
             WHERE created_at >= done ORDER BY 1 LIMIT p_max_days) s;
    more := cardinality(days) = p_max_days
            AND EXISTS (SELECT 1 FROM incidents WHERE created_at >= days[p_max_days] + interval '1 day');
    IF more THEN
      INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_region_daily_rebuilt_to', days[p_max_days] + interval '1 day')
        ON CONFLICT (name) DO UPDATE SET upto = EXCLUDED.upto;
    ELSE
      DELETE FROM analytics_watermarks WHERE name IN ('incident_region_daily_rebuild_from', 'incident_region_daily_rebuilt_to');
    END IF;
  END IF;
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
  IF wm IS NOT NULL THEN
    INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_region_daily', p_now)
      ON CONFLICT (name) DO UPDATE SET upto = greatest(analytics_watermarks.upto, EXCLUDED.upto);
  ELSIF NOT more THEN
    INSERT INTO analytics_watermarks (name, upto) VALUES ('incident_region_daily', started)
      ON CONFLICT (name) DO UPDATE SET upto = EXCLUDED.upto;
  END IF;
END $$;

-- A change to the tree drops the watermark and any rebuild under way.
CREATE OR REPLACE FUNCTION incident_region_daily_invalidate() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  -- Wait for a step in progress (it read the old tree), and hold the next one until this commits.
  PERFORM pg_advisory_xact_lock(hashtext('rollup_incident_region_daily'));
  DELETE FROM analytics_watermarks
   WHERE name IN ('incident_region_daily', 'incident_region_daily_rebuild_from', 'incident_region_daily_rebuilt_to');
  RETURN NULL;
END $$;
