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

/**
 * The rows of consecutive messages, merged as they arrive, and their acks in arrival order. A batch
 * takes messages until it holds maxRows rows, as one commit does. Merging at enqueue (rather than a
 * queue entry per message, merged at commit) leaves nothing of a message alive but its rows and its
 * ack while it waits for the commit: less for each young-generation GC to copy (GC is ~11 % of a
 * node's busy time at 2,500 fixes/s, most of it per-fix objects).
 */
interface Batch {
  rows: Rows;
  acks: (() => void)[];
  count: number;
  /** performance.now() of its first message: BATCH_MAX_WAIT_MS counts from here. */
  since: number;
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
  /** Oldest first; only the last one still takes messages. */
  private batches: Batch[] = [];
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
    let b = this.batches[this.batches.length - 1];
    if (!b || b.count >= this.opts.maxRows) this.batches.push((b = { rows: emptyRows(), acks: [], count: 0, since: performance.now() }));
    const n = rowCount(rows);
    append(b.rows.positions, rows.positions);
    append(b.rows.events, rows.events);
    append(b.rows.statuses, rows.statuses);
    append(b.rows.inbox, rows.inbox);
    append(b.rows.deadLetters, rows.deadLetters);
    b.acks.push(ack);
    b.count += n;
    this.queuedRows += n;
    if (!this.pressured && this.queuedRows >= this.highWater) {
      this.pressured = true;
      this.opts.onPressure(true);
    }
    if (this.queuedRows >= this.opts.maxRows) this.kick();
    else if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.opts.maxWaitMs);
  }

  /** Commits everything queued so far; resolves when it is durable. */
  async drain(): Promise<void> {
    while (this.batches.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.batches.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      // The rest of the oldest waiting message's wait, not a new one from now.
      const next = this.batches[0];
      if (next) this.timer = setTimeout(() => this.kick(), Math.max(0, next.since + this.opts.maxWaitMs - performance.now()));
    });
  }

  /**
   * Keeps committing while a full batch waits, or one whose first message has waited its
   * maxWaitMs already (it came during the last commit); a younger partial one waits for its timer.
   * A message that came during a commit used to wait a whole maxWaitMs after it, and then the next
   * commit: at 5,000 fixes/s a node, where commits take 50–100 ms, that was most of the PUBACK and
   * screen latency.
   */
  private async flushLoop(): Promise<void> {
    do {
      const batch = this.batches.shift()!;
      this.queuedRows -= batch.count;
      await this.commitWithRetry(batch);
    } while (
      this.queuedRows >= this.opts.maxRows ||
      (this.batches.length > 0 && this.batches[0]!.since + this.opts.maxWaitMs <= performance.now())
    );
  }

  private async commitWithRetry(batch: Batch): Promise<void> {
    const merged = batch.rows;
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
        for (const ack of batch.acks) ack();
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

function append<T>(to: T[], from: readonly T[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]!);
}
