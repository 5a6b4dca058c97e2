-- A worker's fixes between two times, packed as big-endian float8 triples (epoch ms, lat, lon)
-- in fix-time order, device breaking ties (hub/analytics/trail-query.ts decodes them).
--
-- A function so that it can carry its own planner setting: on TimescaleDB chunks the planner
-- prices the index-only scan of positions_worker_ts_cover_idx as if every fix needed a heap
-- visit and picks a bitmap heap scan instead, which reads one heap page per fix (fixes arrive
-- time-major, so a worker's day is spread over ~8,640 pages). With bitmap scans off for this
-- query it is an index-only scan: on the embedded engine a full-day read went from 38 to 24 ms
-- p50 (bench/storage-bench.ts). On plain PostgreSQL the plan is the index-only scan either way.
CREATE FUNCTION trail_fixes_packed(p_worker text, p_from timestamptz, p_to timestamptz) RETURNS bytea
  LANGUAGE sql STABLE
  SET enable_bitmapscan = off
AS $$
  SELECT string_agg(float8send(date_part('epoch', ts) * 1000) || float8send(lat) || float8send(lon), ''::bytea ORDER BY ts, device_id)
    FROM positions
   WHERE worker_id = p_worker AND ts >= p_from AND ts < p_to
$$;
