// Compression and retention of raw positions (TimescaleDB only; plain PostgreSQL keeps
// everything uncompressed and says so), and running TimescaleDB's policy jobs by hand.
//
// The embedded WASM build registers policies but has no background worker, so nothing runs by
// itself there; CALL run_job(id) does work, so StorageMaintenance calls it on a timer. On a
// TimescaleDB server the background worker runs them and the hub leaves them alone.
import type pg from 'pg';

export interface StoragePolicyConfig {
  /** PostgreSQL interval: chunks entirely older than this are compressed. */
  compressAfter: string;
  /** PostgreSQL interval: raw position chunks older than this are dropped (rollups stay). */
  retainRawFor: string;
}

export const DEFAULT_STORAGE_POLICY: StoragePolicyConfig = Object.freeze({ compressAfter: '7 days', retainRawFor: '180 days' });

/** Replaces the positions policies with the configured ages; false on plain PostgreSQL. */
export async function applyStoragePolicies(pool: Pick<pg.Pool, 'query'>, timescale: boolean, cfg: StoragePolicyConfig): Promise<boolean> {
  if (!timescale) return false;
  await pool.query(`SELECT remove_compression_policy('positions', if_exists => true)`);
  await pool.query(`SELECT add_compression_policy('positions', $1::interval)`, [cfg.compressAfter]);
  await pool.query(`SELECT remove_retention_policy('positions', if_exists => true)`);
  await pool.query(`SELECT add_retention_policy('positions', $1::interval)`, [cfg.retainRawFor]);
  return true;
}

// Refresh aggregates before retention drops the raw rows under them.
const JOB_ORDER = ['policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention'];

/** Runs every user policy job once, in a safe order; returns the procs run. */
export async function runPolicyJobs(pool: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const r = await pool.query<{ id: number; proc_name: string }>(
    `SELECT id, proc_name FROM _timescaledb_config.bgw_job WHERE proc_name = ANY ($1) ORDER BY id`,
    [JOB_ORDER],
  );
  const jobs = r.rows.sort((a, b) => JOB_ORDER.indexOf(a.proc_name) - JOB_ORDER.indexOf(b.proc_name));
  for (const j of jobs) await pool.query('CALL run_job($1)', [j.id]);
  return jobs.map((j) => j.proc_name);
}

/** Compresses, now, every positions chunk entirely older than `olderThan` (epoch ms). */
export async function compressOlderThan(pool: Pick<pg.Pool, 'query'>, olderThan: number): Promise<number> {
  const r = await pool.query<{ n: number }>(
    `SELECT count(compress_chunk(c, if_not_compressed => true))::int AS n
       FROM show_chunks('positions', older_than => to_timestamp($1 / 1000.0)) c`,
    [olderThan],
  );
  return r.rows[0].n;
}

/**
 * Drops, now, every positions chunk entirely older than `olderThan` (epoch ms), and the packed
 * trail hours before it (kept for the compression age, so normally long gone by then).
 */
export async function dropRawOlderThan(pool: Pick<pg.Pool, 'query'>, olderThan: number): Promise<number> {
  const r = await pool.query(`SELECT drop_chunks('positions', older_than => to_timestamp($1 / 1000.0))`, [olderThan]);
  await pool.query(`DELETE FROM trail_hours WHERE hour < time_bucket('1 day', to_timestamp($1 / 1000.0))`, [olderThan]);
  return r.rowCount ?? 0;
}

/** On-disk bytes of positions (hypertable: all chunks, compressed or not). */
export async function positionsBytes(pool: Pick<pg.Pool, 'query'>, timescale: boolean): Promise<number> {
  const sql = timescale ? `SELECT hypertable_size('positions')::float8 AS b` : `SELECT pg_total_relation_size('positions')::float8 AS b`;
  return (await pool.query<{ b: number }>(sql)).rows[0].b;
}
