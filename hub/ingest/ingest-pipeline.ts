// The ingest path, read top to bottom: each stage has one job; the runner (not the stages) counts,
// logs and dead-letters rejections. Adding a stage is one line here and one new file.
//   topic → size → json → schema → device → rows (normalise + order) → position filter → batch writer (store, ack)
import { LogBudget } from '../../common/log-budget.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { DeviceDirectory } from '../rows/device-directory.js';
import type { BatchWriter } from '../rows/batch-writer.js';
import { emptyRows } from '../rows/row-types.js';
import type { IngestContext, IngestStage } from './ingest-types.js';
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
  private chain: Promise<void> = Promise.resolve();
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

  /** Messages are handled strictly in arrival order, so acks leave in that order too. */
  handle(msg: IncomingMessage): void {
    this.chain = this.chain.then(() => this.process(msg));
  }

  /** Resolves once everything handed in so far has passed the stages. */
  settled(): Promise<void> {
    return this.chain;
  }

  private async process(msg: IncomingMessage): Promise<void> {
    const ctx: IngestContext = { topic: msg.topic, payload: msg.payload, receivedAt: this.now(), rows: emptyRows() };
    this.metrics.inc('ingest_messages_total');
    for (const stage of this.stages) {
      let outcome;
      try {
        outcome = await stage.run(ctx);
      } catch (err) {
        // A stage that throws is our bug, not the device's: dead-letter the message, keep going.
        outcome = { reject: `internal: ${stage.name}: ${(err as Error).message}` };
      }
      if (outcome) {
        this.reject(ctx, stage.name, outcome.reject, msg);
        return;
      }
    }
    this.metrics.inc('ingest_accepted_total', { channel: ctx.channel ?? 'unknown' });
    this.writer.enqueue(ctx.rows, msg.ack);
  }

  private reject(ctx: IngestContext, stage: string, reason: string, msg: IncomingMessage): void {
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
  }
}
