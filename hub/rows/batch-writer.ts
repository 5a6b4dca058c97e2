// Collects the rows of many messages and commits them together, then acks those messages in
// arrival order. A failed commit is retried (nothing is acked, nothing is dropped) while the
// ingest client is paused, so the broker holds the backlog instead of our memory.
import type pg from 'pg';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { dbFailureKind } from '../../storage/database.js';
import { emptyRows, type Rows } from './row-types.js';
import { commitRows } from './commit-rows.js';
import { rowCount } from './row-writer.js';

interface Pending {
  rows: Rows;
  ack: () => void;
}

export interface BatchWriterOptions {
  pool: pg.Pool;
  maxRows: number;
  maxWaitMs: number;
  /** Positions by COPY (server engines); the embedded engine's socket cannot carry COPY. */
  copyPositions: boolean;
  metrics: Metrics;
  logger: Logger;
  /** Called after each commit with everything it made durable. */
  onCommitted(rows: Rows, committedAt: number): void;
  /** Called with true when the backlog is too big to keep reading, false when it has drained. */
  onPressure(high: boolean): void;
}

export class BatchWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private pressured = false;
  private lastCommitFailed = false;
  private readonly log: Logger;
  private readonly highWater: number;

  constructor(private readonly opts: BatchWriterOptions) {
    this.log = opts.logger.child({ mod: 'batch-writer' });
    this.highWater = opts.maxRows * 8;
    opts.metrics.gauge('ingest_queued_rows', () => this.queuedRows, 'rows waiting for the next commit');
  }

  /** For readiness: rows waiting, whether that is past the high-water mark, whether the last commit failed. */
  get backlog(): { rows: number; high: boolean; failing: boolean } {
    return { rows: this.queuedRows, high: this.queuedRows >= this.highWater, failing: this.lastCommitFailed };
  }

  enqueue(rows: Rows, ack: () => void): void {
    this.queue.push({ rows, ack });
    this.queuedRows += rowCount(rows);
    if (!this.pressured && this.queuedRows >= this.highWater) {
      this.pressured = true;
      this.opts.onPressure(true);
    }
    if (this.queuedRows >= this.opts.maxRows) this.kick();
    else if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.opts.maxWaitMs);
  }

  /** Commits everything queued so far; resolves when it is durable. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.timer = setTimeout(() => this.kick(), this.opts.maxWaitMs);
    });
  }

  private async flushLoop(): Promise<void> {
    // Keep committing while a full batch is waiting; a partial one waits for its timer.
    do {
      const batch = this.take();
      await this.commitWithRetry(batch);
    } while (this.queuedRows >= this.opts.maxRows);
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n < this.opts.maxRows || batch.length === 0)) {
      const p = this.queue.shift()!;
      n += rowCount(p.rows);
      batch.push(p);
    }
    this.queuedRows -= n;
    return batch;
  }

  private async commitWithRetry(batch: Pending[]): Promise<void> {
    const merged = emptyRows();
    for (const p of batch) {
      merged.positions.push(...p.rows.positions);
      merged.events.push(...p.rows.events);
      merged.statuses.push(...p.rows.statuses);
      merged.inbox.push(...p.rows.inbox);
      merged.deadLetters.push(...p.rows.deadLetters);
    }
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      try {
        const { copyFellBack, conflictingDuplicates } = await commitRows(this.opts.pool, merged, { copy: this.opts.copyPositions });
        if (conflictingDuplicates > 0)
          this.opts.metrics.inc('ingest_fixes_rejected_total', { reason: 'conflicting_duplicate' }, conflictingDuplicates);
        if (copyFellBack) this.opts.metrics.inc('ingest_copy_fallbacks_total');
        const committedAt = Date.now();
        this.opts.metrics.inc('ingest_commits_total');
        this.opts.metrics.inc('ingest_commit_ms_total', undefined, committedAt - started);
        this.opts.metrics.inc('ingest_rows_committed_total', undefined, rowCount(merged));
        this.lastCommitFailed = false;
        for (const p of batch) p.ack();
        if (this.pressured && this.queuedRows < this.highWater / 2) {
          this.pressured = false;
          this.opts.onPressure(false);
        }
        this.log.debug({ rows: rowCount(merged), ms: committedAt - started }, 'batch committed');
        this.opts.onCommitted(merged, committedAt);
        return;
      } catch (err) {
        // A timeout (the database stopped answering, storage/database.ts) is counted apart from an
        // error the database returned: the first wants the network or the server looked at.
        const reason = dbFailureKind(err);
        this.opts.metrics.inc('ingest_commit_failures_total', { reason });
        this.lastCommitFailed = true;
        const waitMs = Math.min(100 * 2 ** attempt, 5000);
        this.log.error(
          { err: (err as Error).message, reason, attempt, ms: Date.now() - started, rows: rowCount(merged), retryInMs: waitMs },
          reason === 'timeout'
            ? 'batch commit timed out; nothing was acked, retrying (is the database hung or unreachable?)'
            : 'batch commit failed; nothing was acked, retrying (check the database is reachable)',
        );
        if (!this.pressured) {
          this.pressured = true;
          this.opts.onPressure(true);
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }
}
