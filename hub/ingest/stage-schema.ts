// Stage: validate against the wire contract's schema for the channel.
import { fixSchema, UPSTREAM_SCHEMAS } from '../../protocol/schemas.js';
import type { UpstreamChannel } from '../../protocol/topics.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export const schemaStage: IngestStage = {
  name: 'schema',
  run(ctx: IngestContext): StageOutcome {
    const json = ctx.json;
    // A location without `fixes` can only be the union's single-fix option (the batch option
    // requires `fixes`): checked against that option alone, the union's result exactly, without
    // first failing the batch option for every live fix (0.5 µs of ~2 µs per fix in zod). Anything
    // it refuses goes through the union as before, so a refusal names the same field.
    if (ctx.channel === 'location' && typeof json === 'object' && json !== null && !Object.hasOwn(json, 'fixes')) {
      const single = fixSchema.safeParse(json);
      if (single.success) {
        ctx.data = single.data;
        return undefined;
      }
    }
    const parsed = UPSTREAM_SCHEMAS[ctx.channel as UpstreamChannel].safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : '(root)';
      return { reject: `schema: ${where}: ${first?.message ?? 'invalid'}`.slice(0, 300) };
    }
    ctx.data = parsed.data;
    return undefined;
  },
};
