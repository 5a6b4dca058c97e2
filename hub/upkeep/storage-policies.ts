// Compression and retention of raw positions (TimescaleDB only; plain PostgreSQL keeps
// everything uncompressed and says so), and running TimescaleDB's policy jobs by hand.
//
// The embedded WASM build registers policies but has no background worker, so nothing runs by
// itself there; CALL run_job(id) does work, so StorageMaintenance calls it on a timer. On a
// TimescaleDB server the background worker runs them and the hub leaves them alone.
import type pg from 'pg';
import { withLongStatements } from '../../storage/database.js';
import { withTransaction } from '../../storage/database-transaction.js';

export interface StoragePolicyConfig {
  /** PostgreSQL interval: chunks entirely older than this are compressed. */
  compressAfter: string;
  /** PostgreSQL interval: raw position chunks older than this are dropped (rollups stay). */
  retainRawFor: string;
}

export const DEFAULT_STORAGE_POLICY: StoragePolicyConfig = Object.freeze({ compressAfter: '7 days', retainRawFor: '180 days' });

export interface PolicyChange {
  policy: 'compression' | 'retention';
  /** kept: already as configured; altered: its age changed in place (same job); added; replaced. */
  action: 'kept' | 'altered' | 'added' | 'replaced';
  jobId: number;
}

const POLICIES = [
  {
    policy: 'compression',
    proc: 'policy_compression',
    key: 'compress_after',
    add: 'add_compression_policy',
    remove: 'remove_compression_policy',
    value: (c: StoragePolicyConfig) => c.compressAfter,
  },
  {
    policy: 'retention',
    proc: 'policy_retention',
    key: 'drop_after',
    add: 'add_retention_policy',
    remove: 'remove_retention_policy',
    value: (c: StoragePolicyConfig) => c.retainRawFor,
  },
] as const;

/** Brings the positions policies to the configured ages; false on plain PostgreSQL. */
export async function applyStoragePolicies(pool: pg.Pool, timescale: boolean, cfg: StoragePolicyConfig): Promise<boolean> {
  if (!timescale) return false;
  await syncStoragePolicies(pool, cfg);
  return true;
}

/**
 * Compares the positions policies with `cfg` and changes only what differs, in one transaction
 * (issue 13: every start used to remove and re-add both, outside a transaction, so each start made
 * new jobs and a crash in between left none). An age that differs is changed in place with
 * alter_job, keeping the job, its schedule and its run history. TimescaleDB's policy functions are
 * ordinary functions and run inside a transaction; a ROLLBACK undoes them (checked on the embedded
 * engine). Several hubs starting on one server take turns through an advisory lock.
 */
export async function syncStoragePolicies(pool: pg.Pool, cfg: StoragePolicyConfig): Promise<PolicyChange[]> {
  return withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('grid-hub:storage-policies'))`);
    const changes: PolicyChange[] = [];
    for (const p of POLICIES) {
      const want = p.value(cfg);
      const jobs = await client.query<{ job_id: number; same: boolean | null }>(
        `SELECT job_id, (config ->> '${p.key}')::interval = $1::interval AS same
           FROM timescaledb_information.jobs
          WHERE proc_name = $2 AND hypertable_schema = current_schema() AND hypertable_name = 'positions'`,
        [want, p.proc],
      );
      const [job, ...extra] = jobs.rows;
      if (job && extra.length === 0 && job.same === true) {
        changes.push({ policy: p.policy, action: 'kept', jobId: job.job_id });
      } else if (job && extra.length === 0 && job.same === false) {
        await client.query(
          `SELECT alter_job(j.job_id, config => jsonb_set(j.config, '{${p.key}}', to_jsonb($2::interval::text)))
             FROM timescaledb_information.jobs j WHERE j.job_id = $1`,
          [job.job_id, want],
        );
        changes.push({ policy: p.policy, action: 'altered', jobId: job.job_id });
      } else {
        // None yet (a database from before migration 010's policies), or one we do not recognise
        // (a config without the age, more than one job): made afresh.
        if (job) await client.query(`SELECT ${p.remove}('positions', if_exists => true)`);
        const added = await client.query<{ id: number }>(`SELECT ${p.add}('positions', $1::interval) AS id`, [want]);
        changes.push({ policy: p.policy, action: job ? 'replaced' : 'added', jobId: added.rows[0].id });
      }
    }
    return changes;
  });
}

// Refresh aggregates before retention drops the raw rows under them.
const JOB_ORDER = ['policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention'];

/**
 * How long one maintenance statement may run: a compression job compresses every chunk past its
 * age (a district day is millions of fixes, minutes in the embedded WASM engine), well past the
 * pool's deadlines (storage/database.ts), which are for the hub's short statements.
 */
export const MAINTENANCE_STATEMENT_MS = 30 * 60_000;

/** Runs every user policy job once, in a safe order; returns the procs run. */
export async function runPolicyJobs(pool: pg.Pool): Promise<string[]> {
  return withLongStatements(pool, MAINTENANCE_STATEMENT_MS, async (query) => {
    const r = await query<{ id: number; proc_name: string }>(
      `SELECT id, proc_name FROM _timescaledb_config.bgw_job WHERE proc_name = ANY ($1) ORDER BY id`,
      [JOB_ORDER],
    );
    const jobs = r.rows.sort((a, b) => JOB_ORDER.indexOf(a.proc_name) - JOB_ORDER.indexOf(b.proc_name));
    for (const j of jobs) await query('CALL run_job($1)', [j.id]);
    return jobs.map((j) => j.proc_name);
  });
}

/** Compresses, now, every positions chunk entirely older than `olderThan` (epoch ms). */
export async function compressOlderThan(pool: pg.Pool, olderThan: number): Promise<number> {
  return withLongStatements(pool, MAINTENANCE_STATEMENT_MS, async (query) => {
    const r = await query<{ n: number }>(
      `SELECT count(compress_chunk(c, if_not_compressed => true))::int AS n
         FROM show_chunks('positions', older_than => to_timestamp($1 / 1000.0)) c`,
      [olderThan],
    );
    return r.rows[0].n;
  });
}

/**
 * Drops, now, every positions chunk entirely older than `olderThan` (epoch ms), and the packed
 * trail hours before it (kept for the compression age, so normally long gone by then).
 */
export async function dropRawOlderThan(pool: pg.Pool, olderThan: number): Promise<number> {
  return withLongStatements(pool, MAINTENANCE_STATEMENT_MS, async (query) => {
    const r = await query(`SELECT drop_chunks('positions', older_than => to_timestamp($1 / 1000.0))`, [olderThan]);
    await query(`DELETE FROM trail_hours WHERE hour < time_bucket('1 day', to_timestamp($1 / 1000.0))`, [olderThan]);
    return r.rowCount ?? 0;
  });
}

/** On-disk bytes of positions (hypertable: all chunks, compressed or not). */
export async function positionsBytes(pool: Pick<pg.Pool, 'query'>, timescale: boolean): Promise<number> {
  const sql = timescale ? `SELECT hypertable_size('positions')::float8 AS b` : `SELECT pg_total_relation_size('positions')::float8 AS b`;
  return (await pool.query<{ b: number }>(sql)).rows[0].b;
}
