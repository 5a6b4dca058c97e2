// The ingest path, read top to bottom: each stage has one job; the runner (not the stages) counts,
// logs and dead-letters rejections. Adding a stage is one line here and one new file.
//   topic → size → json → schema → device → rows (normalise + order) → position filter → batch writer (store, ack)
import { LogBudget } from '../../common/log-budget.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { DeviceDirectory } from '../rows/device-directory.js';
import type { BatchWriter } from '../rows/batch-writer.js';
import { emptyRows } from '../rows/row-types.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';
import { topicStage } from './stage-topic.js';
import { jsonStage, sizeStage } from './stage-decode.js';
import { schemaStage } from './stage-schema.js';
import { deviceStage } from './stage-device.js';
import { rowsStage } from './stage-rows.js';
import { positionFilterStage, type PositionFilterDeps } from './stage-position-filter.js';
import type { OwnGridFence } from '../regions/own-grid-fence.js';

export function ingestStages(
  topicRoot: string,
  devices: DeviceDirectory,
  fence: Pick<OwnGridFence, 'inside'>,
  filter: PositionFilterDeps = {},
): IngestStage[] {
  return [topicStage(topicRoot), sizeStage, jsonStage, schemaStage, deviceStage(devices), rowsStage(fence), positionFilterStage(filter)];
}

/** One upstream message, as the broker (or a gateway) hands it in. */
export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** Called once the message's rows (or its dead letter) are committed; the device's ack waits for it. */
  ack(): void;
}

export class IngestPipeline {
  /** Messages that arrived while an earlier one waits on a stage that went async; run in order after it. */
  private readonly waiting: IncomingMessage[] = [];
  /** Set while a message waits on an async stage; resolves once the waiting ones have passed too. */
  private busy: Promise<void> | null = null;
  private readonly log: Logger;
  /** A flood is counted, not echoed: at most LOG_PER_REASON_PER_S rejection lines per reason per second. */
  private readonly logBudget: LogBudget;

  constructor(
    private readonly stages: IngestStage[],
    private readonly writer: BatchWriter,
    private readonly metrics: Metrics,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = logger.child({ mod: 'ingest' });
    this.logBudget = LogBudget.perReasonPerSecond({ now });
  }

  /**
   * Messages are handled strictly in arrival order, so acks leave in that order too. A message runs
   * through the stages at once, synchronously, unless a stage returns a promise (a device not yet in
   * the directory, the filter's first read of stored fixes): then it and every message behind it
   * wait. Before, each message was a link in a promise chain and each stage an `await`: 9 promises
   * and microtask turns per fix, part of the pipeline's 9.8 % of a node's busy time at 2,500 fixes/s.
   */
  handle(msg: IncomingMessage): void {
    if (this.busy) {
      this.waiting.push(msg);
      return;
    }
    const pending = this.process(msg);
    if (pending) this.busy = pending.then(() => this.runWaiting());
  }

  /** Resolves once everything handed in so far has passed the stages. */
  settled(): Promise<void> {
    return this.busy ?? Promise.resolve();
  }

  private runWaiting(): Promise<void> | undefined {
    for (let msg = this.waiting.shift(); msg !== undefined; msg = this.waiting.shift()) {
      const pending = this.process(msg);
      if (pending) return pending.then(() => this.runWaiting());
    }
    this.busy = null;
    return undefined;
  }

  /** Runs the message through the stages from `from` on; returns a promise only if a stage went async. */
  private process(msg: IncomingMessage, ctx: IngestContext = this.contextOf(msg), from = 0): Promise<void> | undefined {
    for (let i = from; i < this.stages.length; i++) {
      const stage = this.stages[i]!;
      let outcome: StageOutcome | Promise<StageOutcome>;
      try {
        outcome = stage.run(ctx);
      } catch (err) {
        outcome = internalError(stage, err);
      }
      if (outcome instanceof Promise) {
        return outcome.then(
          (o) => (o ? this.reject(ctx, stage.name, o.reject, msg) : this.process(msg, ctx, i + 1)),
          (err: unknown) => this.reject(ctx, stage.name, internalError(stage, err).reject, msg),
        );
      }
      if (outcome) {
        this.reject(ctx, stage.name, outcome.reject, msg);
        return undefined;
      }
    }
    this.metrics.inc('ingest_accepted_total', { channel: ctx.channel ?? 'unknown' });
    this.writer.enqueue(ctx.rows, msg.ack);
    return undefined;
  }

  private contextOf(msg: IncomingMessage): IngestContext {
    this.metrics.inc('ingest_messages_total');
    // Every field the stages fill in is declared here, so the context is built whole, not grown.
    return {
      topic: msg.topic,
      payload: msg.payload,
      receivedAt: this.now(),
      deviceId: undefined,
      channel: undefined,
      json: undefined,
      data: undefined,
      device: undefined,
      rows: emptyRows(),
    };
  }

  private reject(ctx: IngestContext, stage: string, reason: string, msg: IncomingMessage): undefined {
    const label = reason.split(':')[0]!;
    this.metrics.inc('ingest_rejected_total', { reason: label });
    if (this.logBudget.take(label)) {
      this.log.warn(
        { stage, reason, topic: ctx.topic.slice(0, 200), deviceId: ctx.deviceId, size: ctx.payload.length },
        'message rejected',
      );
    }
    const rows = emptyRows();
    rows.deadLetters.push({ topic: ctx.topic, deviceId: ctx.deviceId ?? null, reason, size: ctx.payload.length, payload: ctx.payload });
    // The dead letter is committed like any row before the message is acked: kept, not lost.
    this.writer.enqueue(rows, msg.ack);
    return undefined;
  }
}

/** A stage that throws is our bug, not the device's: the message is dead-lettered, the pipeline goes on. */
function internalError(stage: IngestStage, err: unknown): { reject: string } {
  return { reject: `internal: ${stage.name}: ${(err as Error).message}` };
}
