-- TimescaleDB extras for positions (issue 5). Ages here are defaults; the hub re-applies its
-- configured ages at start (hub/upkeep/storage-policies.ts).

-- Columnar compression: one segment per device, newest first inside it, which is exactly how
-- the trail query reads (device/worker, time range).
ALTER TABLE positions SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'device_id',
  timescaledb.compress_orderby = 'ts DESC'
);
SELECT add_compression_policy('positions', INTERVAL '7 days', if_not_exists => true);
-- Raw fixes kept 180 days; worker_activity_hourly (a plain table) and the continuous aggregate
-- below are not touched by it (the refresh window never reaches that far back).
SELECT add_retention_policy('positions', INTERVAL '180 days', if_not_exists => true);

-- Fixes per worker per hour, kept current by TimescaleDB itself. Distance is not here (window
-- functions are not allowed in continuous aggregates): see worker_activity_hourly.
CREATE MATERIALIZED VIEW positions_hourly WITH (timescaledb.continuous) AS
SELECT worker_id, time_bucket(INTERVAL '1 hour', ts) AS bucket, count(*) AS fixes, min(ts) AS first_ts, max(ts) AS last_ts
  FROM positions
 GROUP BY worker_id, time_bucket(INTERVAL '1 hour', ts)
  WITH NO DATA;
SELECT add_continuous_aggregate_policy('positions_hourly',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes',
  if_not_exists => true);
