// Stages: size cap, then JSON.
import { MAX_PAYLOAD_BYTES } from '../../protocol/schemas.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export const sizeStage: IngestStage = {
  name: 'size',
  run(ctx: IngestContext): StageOutcome {
    if (ctx.payload.length === 0) return { reject: 'empty_payload' };
    if (ctx.payload.length > MAX_PAYLOAD_BYTES) return { reject: 'oversize' };
    return undefined;
  },
};

export const jsonStage: IngestStage = {
  name: 'json',
  run(ctx: IngestContext): StageOutcome {
    try {
      ctx.json = JSON.parse(ctx.payload.toString('utf8'));
    } catch {
      return { reject: 'bad_json' };
    }
    if (typeof ctx.json !== 'object' || ctx.json === null || Array.isArray(ctx.json)) return { reject: 'bad_json: not an object' };
    return undefined;
  },
};
