// What flows through the ingest pipeline: one MQTT message, enriched stage by stage. The rows it
// turns into are the store's (hub/rows/row-types.ts).
import type { Channel } from '../../protocol/topics.js';
import type { DeviceInfo, Rows } from '../rows/row-types.js';

export interface IngestContext {
  topic: string;
  payload: Buffer;
  receivedAt: number;
  deviceId?: string;
  channel?: Channel;
  json?: unknown;
  /** The payload after schema validation. */
  data?: unknown;
  device?: DeviceInfo;
  rows: Rows;
}

/** A stage returns nothing to pass the message on, or the reason it is rejected. */
export type StageOutcome = { reject: string } | undefined;

export interface IngestStage {
  readonly name: string;
  run(ctx: IngestContext): StageOutcome | Promise<StageOutcome>;
}
