-- Position filters (issue 16 item 1, docs/decisions/010-position-filters.md).
--
-- Fixes the filter stage (hub/ingest/stage-position-filter.ts) stores but does not trust: an
-- impossible jump from the device's previous fix, or an accuracy worse than FIX_MAX_ACC_M. They
-- live beside positions, not in it, so every reader of positions (trails and their packed hours,
-- the activity rollup, coverage, the continuous aggregate, the live state, the benchmarks) stays
-- "valid fixes only" without a filter it could forget, and the trail read keeps its index-only
-- scan of positions_worker_ts_cover_idx. Few rows (a filtered fix is the exception), so a plain
-- table on both engines, kept like dead_letters. Same key as positions: one fix per device and
-- time, a redelivery is the same row.
CREATE TABLE positions_flagged (
  device_id   text NOT NULL,
  ts          timestamptz NOT NULL,
  worker_id   text,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  acc         real,
  alt         real,
  speed       real,
  heading     real,
  battery     real,
  seq         bigint,
  in_grid     boolean,
  -- Why it is not trusted: 'jump', 'accuracy' (one or both).
  flags       text[] NOT NULL CHECK (cardinality(flags) > 0),
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts)
);
CREATE INDEX positions_flagged_worker_ts_idx ON positions_flagged (worker_id, ts);

-- Fixes from the future stored before the filter existed (issue 16 found 2099 and now + 1 day):
-- they held a worker's dot at 2099 across restarts. Moved to dead_letters as the filter would
-- have refused them. Ten minutes is above any allowed clock skew (FIX_MAX_FUTURE_S ≤ 600). Only
-- chunks in the future are touched, and those are never compressed.
WITH moved AS (
  DELETE FROM positions WHERE ts > now() + interval '10 minutes'
  RETURNING device_id, ts, lat, lon, acc, received_at
)
INSERT INTO dead_letters (received_at, topic, device_id, reason, size, payload)
SELECT received_at, 'positions', device_id, 'future_fix: stored before the position filter (migration 031)',
       octet_length(j), convert_to(j, 'UTF8')
  FROM (SELECT received_at, device_id,
               json_build_object('ts', (extract(epoch FROM ts) * 1000)::bigint, 'lat', lat, 'lon', lon, 'acc', acc)::text AS j
          FROM moved) m;
