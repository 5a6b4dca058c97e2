-- Analytics support that runs on both engines (issue 5): a time_bucket fallback for plain
-- PostgreSQL, haversine distance, and the per-worker hourly activity rollup.

-- Plain PostgreSQL has no time_bucket; date_bin (PG 14+) gives the same buckets when given
-- TimescaleDB's default origin (2000-01-03, a Monday) so the same SQL answers on both engines.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    EXECUTE $f$CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS 'SELECT date_bin(bucket_width, ts, TIMESTAMPTZ ''2000-01-03 00:00:00+00'')'$f$;
    EXECUTE $f$CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz, origin timestamptz) RETURNS timestamptz
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS 'SELECT date_bin(bucket_width, ts, origin)'$f$;
  END IF;
END $$;

-- Great-circle distance in metres (mean Earth radius, IUGG), the same formula as
-- hub/analytics/geo-distance.ts so SQL rollups and the trail API agree.
CREATE FUNCTION haversine_m(lat1 float8, lon1 float8, lat2 float8, lon2 float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT 2 * 6371008.8 * asin(least(1, sqrt(
          sin(radians(lat2 - lat1) / 2) ^ 2
          + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2))) $$;

-- Per worker per hour. A plain table filled by a rollup job, not a continuous aggregate:
-- distance needs consecutive fixes (lag() over the device's trail) and TimescaleDB rejects
-- window functions in continuous aggregates. Being a plain table, it also outlives the
-- retention policy on raw positions.
CREATE TABLE worker_activity_hourly (
  worker_id  text NOT NULL,
  bucket     timestamptz NOT NULL,
  fixes      integer NOT NULL,
  distance_m double precision NOT NULL,
  first_ts   timestamptz NOT NULL,
  last_ts    timestamptz NOT NULL,
  PRIMARY KEY (worker_id, bucket)
);
CREATE INDEX worker_activity_hourly_bucket_idx ON worker_activity_hourly (bucket);

-- Recomputes whole hours overlapping [p_from, p_to). A segment between consecutive fixes of one
-- device counts toward the hour of its later fix, and only when the gap is at most p_max_gap and
-- the implied speed at most p_max_speed (a GPS jump or an unknown route otherwise). Looking back
-- p_max_gap before the first hour finds every segment that can count, so the result is exact.
CREATE FUNCTION rollup_worker_activity(p_from timestamptz, p_to timestamptz,
                                       p_max_gap interval, p_max_speed float8) RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  h_from timestamptz := time_bucket('1 hour', p_from);
  h_to   timestamptz := time_bucket('1 hour', p_to - interval '1 microsecond') + interval '1 hour';
  n integer;
BEGIN
  DELETE FROM worker_activity_hourly WHERE bucket >= h_from AND bucket < h_to;
  INSERT INTO worker_activity_hourly (worker_id, bucket, fixes, distance_m, first_ts, last_ts)
  SELECT worker_id, time_bucket('1 hour', ts), count(*),
         coalesce(sum(seg_m) FILTER (WHERE dt > 0 AND dt <= extract(epoch FROM p_max_gap)
                                       AND seg_m <= p_max_speed * dt), 0),
         min(ts), max(ts)
    FROM (SELECT worker_id, ts,
                 haversine_m(lag(lat) OVER w, lag(lon) OVER w, lat, lon) AS seg_m,
                 extract(epoch FROM ts - lag(ts) OVER w) AS dt
            FROM positions
           WHERE ts >= h_from - p_max_gap AND ts < h_to
          WINDOW w AS (PARTITION BY device_id ORDER BY ts)) s
   WHERE ts >= h_from AND worker_id IS NOT NULL
   GROUP BY worker_id, time_bucket('1 hour', ts);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Days in Asia/Shanghai (UTC+8, no DST since 1991, so whole UTC hours tile its days). A fixed
-- origin rather than a time-zone name: the embedded WASM build drops the connection on
-- time_bucket(..., 'Asia/Shanghai').
CREATE VIEW worker_activity_daily AS
SELECT worker_id, time_bucket('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+08') AS day,
       sum(fixes)::integer AS fixes, sum(distance_m) AS distance_m, min(first_ts) AS first_ts, max(last_ts) AS last_ts
  FROM worker_activity_hourly
 GROUP BY worker_id, time_bucket('1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+08');
