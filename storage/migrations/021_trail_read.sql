-- A worker's fixes between two times in fix-time order, packed as 24-byte records: the fix time
-- as sent by timestamptz_send (big-endian int8, microseconds since 2000-01-01 UTC), then lat and
-- lon as big-endian float8 (hub/analytics/trail-query.ts decodes them). Fixes of one worker at the
-- same instant (two handsets) come in index order.
--
-- A function so that it can carry its own planner setting: on TimescaleDB chunks the planner
-- prices the index-only scan of positions_worker_ts_cover_idx as if every fix needed a heap
-- visit and picks a bitmap heap scan instead, which reads one heap page per fix (fixes arrive
-- time-major, so a worker's day is spread over ~8,640 pages). With bitmap scans off for this
-- query it is an index-only scan. The send functions and the order by ts alone (the index's order,
-- so no sort) cut the rest: on the embedded engine a full-day read went from 38 ms p50 (bitmap
-- heap scan, float8send of date_part, ORDER BY ts, device_id) to 24 (index-only) to 15
-- (bench/storage-bench.ts and BENCHMARKS.md). On plain PostgreSQL the plan was index-only already.
CREATE FUNCTION trail_fixes_packed(p_worker text, p_from timestamptz, p_to timestamptz) RETURNS bytea
  LANGUAGE sql STABLE
  SET enable_bitmapscan = off
AS $$
  SELECT string_agg(timestamptz_send(ts) || float8send(lat) || float8send(lon), ''::bytea ORDER BY ts)
    FROM positions
   WHERE worker_id = p_worker AND ts >= p_from AND ts < p_to
$$;
