// Stage: validate against the wire contract's schema for the channel.
import { UPSTREAM_SCHEMAS } from '../../protocol/schemas.js';
import type { UpstreamChannel } from '../../protocol/topics.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export const schemaStage: IngestStage = {
  name: 'schema',
  run(ctx: IngestContext): StageOutcome {
    const schema = UPSTREAM_SCHEMAS[ctx.channel as UpstreamChannel];
    const parsed = schema.safeParse(ctx.json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : '(root)';
      return { reject: `schema: ${where}: ${first?.message ?? 'invalid'}`.slice(0, 300) };
    }
    ctx.data = parsed.data;
    return undefined;
  },
};
