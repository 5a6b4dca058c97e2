// Stage: the topic must be `{root}/devices/{id}/{upstream channel}`.
import { UPSTREAM_CHANNELS, parseDeviceTopic } from '../../protocol/topics.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export function topicStage(root: string): IngestStage {
  return {
    name: 'topic',
    run(ctx: IngestContext): StageOutcome {
      const parsed = parseDeviceTopic(root, ctx.topic);
      if (!parsed) return { reject: 'unknown_topic' };
      ctx.deviceId = parsed.deviceId;
      // A `tasks` topic is the hub's own output (an older session may still hold a wildcard): not input.
      if (!(UPSTREAM_CHANNELS as readonly string[]).includes(parsed.channel)) return { reject: 'downstream_topic' };
      ctx.channel = parsed.channel;
      return undefined;
    },
  };
}
