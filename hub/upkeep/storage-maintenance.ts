// Periodic storage work the hub schedules: the activity and incident rollups (both engines) and, where no
// background worker runs (the embedded WASM build: TimescaleDB's scheduler and PostgreSQL's autovacuum
// both need one), the policy jobs and autovacuum's work by hand.
//
// Several nodes on one database server: one pass at a time, on whichever node holds a PostgreSQL
// advisory lock for it (session level, on a connection held for the pass). Why the database and not
// a Redis lease: it is the one engine every node must reach anyway, the lock dies with the session
// of a node that dies (no expiry to tune, no clock), and a node without Redis still works.
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { rollupActivity } from '../analytics/activity-query.js';
import { rollupIncidents } from '../analytics/incident-rollup.js';
import { rollupKpiRegions } from '../analytics/kpi-fast.js';
import { DEFAULT_STORAGE_POLICY, runPolicyJobs } from './storage-policies.js';
import { packTrailHours } from './trail-pack.js';
import { vacuumByHand } from './vacuum-by-hand.js';

export interface StorageMaintenanceOptions {
  pool: pg.Pool;
  timescale: boolean;
  /** True for the embedded engine: no background worker runs the policies or autovacuum there. */
  runPolicies: boolean;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** How far back each run recomputes hours: covers store-and-forward uploads arriving late. */
  rollupLookbackMs?: number;
  /** PostgreSQL interval: how long packed trail hours are kept (default: the compression age). */
  trailKeep?: string;
  /** Take the cross-node advisory lock for each pass (a server; the embedded engine has one
   *  connection and one node, so it must not hold one aside). */
  lease?: boolean;
}

/** pg_advisory_lock key of the maintenance pass ('grid' 'mnt' in ASCII, any fixed number would do). */
export const MAINTENANCE_LOCK_KEY = 0x67726964_6d6e74;

export class StorageMaintenance {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: StorageMaintenanceOptions) {
    this.log = opts.logger.child({ mod: 'storage-maintenance' });
  }

  start(): void {
    // A cadence, not a deadline (STYLE: deadlines are rows); missing a tick only delays a rollup.
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs ?? 10 * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; concurrent calls share the pass in progress. */
  runOnce(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const lease = this.opts.lease ? await this.opts.pool.connect().catch(() => null) : null;
    if (this.opts.lease) {
      const got =
        lease &&
        (await lease.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MAINTENANCE_LOCK_KEY]).then(
          (r) => r.rows[0]!.ok,
          () => false,
        ));
      if (!got) {
        lease?.release();
        this.log.debug('storage maintenance: another node holds the lease (or the database is away); skipped');
        return;
      }
    }
    try {
      await this.work();
    } finally {
      if (lease) {
        await lease.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK_KEY]).catch(() => undefined);
        lease.release();
      }
    }
  }

  private async work(): Promise<void> {
    const now = this.opts.clock.now();
    try {
      const lookbackMs = this.opts.rollupLookbackMs ?? 3 * 3_600_000;
      const rows = await rollupActivity(this.opts.pool, now - lookbackMs, now);
      // After the activity rollup: it is what tells the packer which worker-hours have fixes.
      const trails = await packTrailHours(this.opts.pool, now, {
        keep: this.opts.trailKeep ?? DEFAULT_STORAGE_POLICY.compressAfter,
        lookbackMs,
      });
      const incidentRows = await rollupIncidents(this.opts.pool, now);
      const regionRows = await rollupKpiRegions(this.opts.pool, now);
      const jobs = this.opts.timescale && this.opts.runPolicies ? await runPolicyJobs(this.opts.pool) : [];
      const vacuum = this.opts.runPolicies ? await vacuumByHand(this.opts.pool) : null;
      this.log.info(
        {
          rollupRows: rows,
          trailHoursPacked: trails.packed,
          trailPackDone: trails.done,
          incidentRows,
          regionRows,
          jobs,
          vacuumed: vacuum?.vacuumed.length,
          ms: this.opts.clock.now() - now,
        },
        'storage maintenance done',
      );
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'storage maintenance failed; retried next tick');
    }
  }
}
