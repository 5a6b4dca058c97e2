// The schema stage: the channel's schema from the wire contract decides, and a refusal names the
// first field that failed (it goes into logs and dead letters).
import { describe, expect, it } from 'vitest';
import type { UpstreamChannel } from '../../../protocol/topics.js';
import { schemaStage } from '../../../hub/ingest/stage-schema.js';
import { T0, aContext } from './ingest-context.js';

async function run(channel: UpstreamChannel, json: unknown) {
  const ctx = aContext({ channel, json });
  return { outcome: await schemaStage.run(ctx), ctx };
}

/** Why the stage refused, or undefined when it passed the message on. */
const refusal = async (channel: UpstreamChannel, json: unknown) => (await run(channel, json)).outcome?.reject;

describe('schema stage', () => {
  it('hands on the parsed payload (ISO time turned into epoch ms, unknown fields kept)', async () => {
    const { outcome, ctx } = await run('location', { ts: '2026-12-01T08:00:00Z', lat: 27.87, lon: 113.12, vendor: 'x' });
    expect(outcome).toBeUndefined();
    expect(ctx.data).toEqual({ ts: T0, lat: 27.87, lon: 113.12, vendor: 'x' });
  });

  it('checks each channel against its own schema', async () => {
    expect(await refusal('status', { ts: T0, duty: 'on' })).toBeUndefined();
    expect(await refusal('presence', { ts: T0, online: false })).toBeUndefined();
    expect(await refusal('events', { ts: T0, type: 'door.forced' })).toBeUndefined();
    expect(await refusal('reports', { ts: T0, category: 'garbage', lat: 27.87, lon: 113.12 })).toBeUndefined();
    expect(await refusal('task-replies', { ts: T0, taskId: 't-1', reply: 'accept' })).toBeUndefined();
    // A status is not a presence: the channel, not the payload, picks the schema.
    expect(await refusal('presence', { ts: T0, duty: 'on' })).toBe('schema: online: Invalid input: expected boolean, received undefined');
  });

  it('names the first failing field by its path', async () => {
    expect(
      await refusal('location', {
        fixes: [
          { ts: T0, lat: 27.87, lon: 113.12 },
          { ts: T0, lat: 91, lon: 113.12 },
        ],
      }),
    ).toMatch(/^schema: /);
    expect(await refusal('status', { ts: T0, duty: 'maybe' })).toMatch(/^schema: duty: /);
    expect(await refusal('events', { ts: 1, type: 'door.forced' })).toBe(
      'schema: ts: ts must be ISO-8601 or epoch milliseconds between 2000 and 2100',
    );
    expect(await refusal('reports', { ts: T0, category: 'garbage', lat: 27.87, lon: 113.12, photos: ['a'.repeat(5000)] })).toMatch(
      /^schema: photos\.0: /,
    );
  });

  it('says (root) when the payload as a whole is wrong', async () => {
    expect(await refusal('task-replies', 'accept')).toMatch(/^schema: \(root\): /);
  });
});
