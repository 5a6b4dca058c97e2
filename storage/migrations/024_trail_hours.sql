-- A worker's trail packed per hour (issue 5): each ended hour's fixes as one row of
-- trail_fixes_packed's 24-byte records, so that a full-day trail is 24 small rows instead of
-- 8,640 index entries. On the embedded engine the per-fix read had a p50 of 24 ms but a p99 of
-- 42–76 ms (the WASM engine's own tail, bench:storage); these rows take the per-fix work out of
-- the read on both engines and make it independent of the planner's choices.
--
-- Written by the hub's maintenance pass (pack_trail_hours) for hours that ended a while ago and
-- kept as long as the raw fixes stay uncompressed (the hub passes the compression age): older
-- trails are read from the compressed chunks, which are small; a packed copy of them would more
-- than double the bytes kept per fix (14 compressed, 24 packed).
--
-- Correctness with late uploads (store-and-forward batches that arrive hours late):
-- - the writer, in the transaction that stores fixes into an hour that has ended, sets that
--   (worker, hour)'s fixes to NULL after taking ROW EXCLUSIVE on this table (hub/rows/commit-rows.ts);
-- - the packer takes SHARE ROW EXCLUSIVE, which conflicts with that, before it reads positions.
--   Either the writer committed first (the packer then sees its fixes) or the writer waits for
--   the packer's commit and then marks the row it just packed stale;
-- - the read (trail_read_packed) skips stale rows and reads those hours from positions, all in
--   the caller's one snapshot.
CREATE TABLE trail_hours (
  worker_id text NOT NULL,
  hour      timestamptz NOT NULL,
  -- NULL: stale, a late upload wrote into the hour after it was packed.
  fixes     bytea,
  PRIMARY KEY (worker_id, hour)
);
-- The packer's two searches by hour: stale rows (few), and rows past their keep (every step).
CREATE INDEX trail_hours_stale_idx ON trail_hours (hour) WHERE fixes IS NULL;
CREATE INDEX trail_hours_hour_idx ON trail_hours (hour);
-- Out of line, never compressed: pglz finds nothing to take out of fix times and float8 degrees
-- (26.3 bytes per fix stored either way, bench:storage), so trying only cost the packer time.
ALTER TABLE trail_hours ALTER COLUMN fixes SET STORAGE EXTERNAL;

-- Packs at most p_max (worker, hour) pairs whose hour ended at least p_settle before p_now:
-- stale ones first, then hours the activity rollup knows fixes for and that have no row yet,
-- looking back p_lookback from the newest packable hour (the hub passes the activity rollup's
-- lookback: older hours have no fresh rollup rows either, e.g. after the hub was down; they are
-- read from positions). So a first pass over months of fixes does not pack them all, and every
-- step's search stays a few hours of rollup rows wide. Rows for hours older than p_keep are
-- deleted. `more` says another call has work to do.
CREATE FUNCTION pack_trail_hours(p_now timestamptz, p_keep interval, p_settle interval, p_lookback interval,
                                 p_max integer, OUT packed integer, OUT more boolean)
  LANGUAGE plpgsql AS $$
DECLARE
  oldest CONSTANT timestamptz := time_bucket('1 hour', p_now - p_keep);
  -- Hours starting before this one ended at least p_settle ago.
  upto CONSTANT timestamptz := time_bucket('1 hour', p_now - p_settle);
  since CONSTANT timestamptz := greatest(oldest, upto - p_lookback);
  ws text[];
  hs timestamptz[];
BEGIN
  LOCK TABLE trail_hours IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM trail_hours WHERE hour < oldest;
  SELECT coalesce(array_agg(w), '{}'), coalesce(array_agg(h), '{}') INTO ws, hs FROM (
    SELECT w, h FROM (
      SELECT worker_id AS w, hour AS h, 0 AS pri FROM trail_hours WHERE fixes IS NULL AND hour < upto
      UNION ALL
      SELECT a.worker_id, a.bucket, 1 FROM worker_activity_hourly a
       WHERE a.bucket >= since AND a.bucket < upto AND a.fixes > 0
         AND NOT EXISTS (SELECT 1 FROM trail_hours t WHERE t.worker_id = a.worker_id AND t.hour = a.bucket)
    ) todo ORDER BY pri, h, w LIMIT p_max + 1
  ) pick;
  more := cardinality(ws) > p_max;
  packed := least(cardinality(ws), p_max);
  -- An hour whose fixes are gone (none left) packs as an empty record set, not as stale.
  INSERT INTO trail_hours (worker_id, hour, fixes)
  SELECT u.w, u.h, coalesce(trail_fixes_packed(u.w, u.h, u.h + interval '1 hour'), ''::bytea)
    FROM unnest(ws[1:packed], hs[1:packed]) AS u(w, h)
  ON CONFLICT (worker_id, hour) DO UPDATE SET fixes = EXCLUDED.fixes;
END $$;

-- trail_fixes_packed's answer, from the packed hours where there are fresh ones and from
-- positions for the rest (partial hours at the ends, the current hour, stale or unpacked hours).
-- STABLE: every statement runs in the caller's snapshot, so a pack or a late upload committing
-- mid-read cannot make a fix appear twice or not at all.
CREATE FUNCTION trail_read_packed(p_worker text, p_from timestamptz, p_to timestamptz) RETURNS bytea
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  parts bytea[] := '{}';
  cur timestamptz := p_from;
  r record;
BEGIN
  FOR r IN SELECT hour, fixes FROM trail_hours
            WHERE worker_id = p_worker AND hour >= p_from AND hour <= p_to - interval '1 hour' AND fixes IS NOT NULL
            ORDER BY hour
  LOOP
    IF r.hour > cur THEN parts := parts || trail_fixes_packed(p_worker, cur, r.hour); END IF;
    parts := parts || r.fixes;
    cur := r.hour + interval '1 hour';
  END LOOP;
  IF cur < p_to THEN parts := parts || trail_fixes_packed(p_worker, cur, p_to); END IF;
  RETURN (SELECT string_agg(p, ''::bytea) FROM unnest(parts) p);
END $$;

-- trail_read_packed's bytes in slices of 2,048 fixes, in order (n from 0). A full day in one
-- value is 207 KB, sent as 414 KB of hex text; node-postgres turns a value into a JS string first,
-- and a string that size goes straight to V8's large-object space, so every trail read grew the
-- old generation and brought the next full collection closer (bench:storage: the trail API's p99
-- was those collections). A slice is 98 KB of text: an ordinary young object, gone in a scavenge.
CREATE FUNCTION trail_read_slices(p_worker text, p_from timestamptz, p_to timestamptz, p_slice_bytes integer DEFAULT 49152)
  RETURNS TABLE (n integer, b bytea)
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  whole CONSTANT bytea := trail_read_packed(p_worker, p_from, p_to);
BEGIN
  IF whole IS NULL THEN RETURN; END IF;
  FOR k IN 0 .. (length(whole) - 1) / p_slice_bytes LOOP
    n := k;
    b := substring(whole FROM k * p_slice_bytes + 1 FOR p_slice_bytes);
    RETURN NEXT;
  END LOOP;
END $$;
