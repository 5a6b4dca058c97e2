-- Hypertables where TimescaleDB is enabled. Chunk intervals: positions at district scale
-- (3,400 handsets, one fix per 10 s) are ~29 M rows a day, so one-day chunks keep the newest
-- chunk and its indexes well inside memory; alerts and status are sparse, a week per chunk.
SELECT create_hypertable('positions', by_range('ts', INTERVAL '1 day'), migrate_data => true);
SELECT create_hypertable('device_events', by_range('ts', INTERVAL '7 days'), migrate_data => true);
SELECT create_hypertable('device_status', by_range('ts', INTERVAL '7 days'), migrate_data => true);
