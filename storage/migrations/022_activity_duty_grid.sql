-- Time on duty and time inside the worker's own grid, per worker per hour (issue 5), beside the
-- fixes and metres walked of migration 010.

-- Whether the fix lies inside one of its worker's own grids, decided by the hub at ingest against
-- the grids the worker had then (hub/regions/own-grid-fence.ts). NULL: a fix without a worker,
-- or a worker without a grid. Without PostGIS, containment in SQL would be a loop over every
-- polygon's vertices per fix; the hub already holds the polygons and tests a fix in about a
-- microsecond.
ALTER TABLE positions ADD COLUMN in_grid boolean;

ALTER TABLE worker_activity_hourly
  ADD COLUMN in_grid_s double precision NOT NULL DEFAULT 0,
  ADD COLUMN on_duty_s double precision NOT NULL DEFAULT 0,
  -- An hour on duty without a single fix (the handset reported its duty but no position) is
  -- still an hour on duty: it has a row with no fixes.
  ALTER COLUMN first_ts DROP NOT NULL,
  ALTER COLUMN last_ts DROP NOT NULL;

DROP VIEW worker_activity_daily;
CREATE VIEW worker_activity_daily AS
SELECT worker_id, time_bucket('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+08') AS day,
       sum(fixes)::integer AS fixes, sum(distance_m) AS distance_m, sum(in_grid_s) AS in_grid_s, sum(on_duty_s) AS on_duty_s,
       min(first_ts) AS first_ts, max(last_ts) AS last_ts
  FROM worker_activity_hourly
 GROUP BY worker_id, time_bucket('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+08');

DROP FUNCTION rollup_worker_activity(timestamptz, timestamptz, interval, float8);

-- Recomputes every (worker, hour) overlapping [p_from, p_to).
--
-- Fixes, metres and time in grid: a segment between consecutive fixes of one device counts
-- toward the hour of its later fix, and only when the gap is at most p_max_gap (and, for metres,
-- the implied speed at most p_max_speed). Time in grid is the segment's duration when both its
-- fixes lie inside the worker's own grid.
--
-- Time on duty: each status report of a worker's handset holds its duty until the worker's next
-- report (status or presence, from any of their handsets), for at most p_max_status_gap (a
-- handset that falls silent stops counting), and never past now(). "On" spans are cut at the
-- hours. The report before p_from (within p_max_status_gap) carries the duty into the window.
CREATE FUNCTION rollup_worker_activity(p_from timestamptz, p_to timestamptz,
                                       p_max_gap interval, p_max_speed float8,
                                       p_max_status_gap interval DEFAULT interval '30 minutes') RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  h_from timestamptz := time_bucket('1 hour', p_from);
  h_to   timestamptz := time_bucket('1 hour', p_to - interval '1 microsecond') + interval '1 hour';
  n integer;
BEGIN
  DELETE FROM worker_activity_hourly WHERE bucket >= h_from AND bucket < h_to;
  INSERT INTO worker_activity_hourly (worker_id, bucket, fixes, distance_m, in_grid_s, first_ts, last_ts, on_duty_s)
  WITH seg AS (
    SELECT worker_id, ts, in_grid AND lag(in_grid) OVER w AS both_in,
           haversine_m(lag(lat) OVER w, lag(lon) OVER w, lat, lon) AS seg_m,
           extract(epoch FROM ts - lag(ts) OVER w) AS dt
      FROM positions
     WHERE ts >= h_from - p_max_gap AND ts < h_to
    WINDOW w AS (PARTITION BY device_id ORDER BY ts)
  ),
  fix_hours AS (
    SELECT worker_id, time_bucket('1 hour', ts) AS bucket, count(*)::integer AS fixes,
           coalesce(sum(seg_m) FILTER (WHERE dt > 0 AND dt <= extract(epoch FROM p_max_gap)
                                         AND seg_m <= p_max_speed * dt), 0) AS distance_m,
           coalesce(sum(dt) FILTER (WHERE both_in AND dt > 0 AND dt <= extract(epoch FROM p_max_gap)), 0) AS in_grid_s,
           min(ts) AS first_ts, max(ts) AS last_ts
      FROM seg
     WHERE ts >= h_from AND worker_id IS NOT NULL
     GROUP BY worker_id, time_bucket('1 hour', ts)
  ),
  reports AS (
    SELECT d.worker_id, s.ts, s.kind, s.duty
      FROM device_status s JOIN devices d ON d.id = s.device_id
     WHERE d.worker_id IS NOT NULL AND s.ts >= h_from AND s.ts < h_to
    UNION ALL
    SELECT d.worker_id, l.ts, 'status', l.duty
      FROM devices d
      CROSS JOIN LATERAL (SELECT ts, duty FROM device_status
                           WHERE device_id = d.id AND kind = 'status' AND ts < h_from AND ts >= h_from - p_max_status_gap
                           ORDER BY ts DESC LIMIT 1) l
     WHERE d.worker_id IS NOT NULL
  ),
  spans AS (
    SELECT worker_id, greatest(ts, h_from) AS a,
           least(lead(ts) OVER (PARTITION BY worker_id ORDER BY ts), ts + p_max_status_gap, h_to, now()) AS b,
           kind, duty
      FROM reports
  ),
  duty_hours AS (
    SELECT worker_id, h AS bucket, sum(extract(epoch FROM least(b, h + interval '1 hour') - greatest(a, h))) AS on_duty_s
      FROM spans
      CROSS JOIN LATERAL generate_series(time_bucket('1 hour', a), b - interval '1 microsecond', interval '1 hour') h
     WHERE kind = 'status' AND duty = 'on' AND b > a
     GROUP BY worker_id, h
  )
  SELECT coalesce(f.worker_id, d.worker_id), coalesce(f.bucket, d.bucket), coalesce(f.fixes, 0), coalesce(f.distance_m, 0),
         coalesce(f.in_grid_s, 0), f.first_ts, f.last_ts, coalesce(d.on_duty_s, 0)
    FROM fix_hours f
    FULL JOIN duty_hours d ON d.worker_id = f.worker_id AND d.bucket = f.bucket;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
