// The schema stage: the channel's schema from the wire contract decides, and a refusal names the
// first field that failed (it goes into logs and dead letters).
import { describe, expect, it } from 'vitest';
import { locationSchema } from '../../../protocol/schemas.js';
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

  it('judges a single fix as the location union does: same value, same refusal', async () => {
    // The stage checks a fix without `fixes` against the single-fix option alone (a shortcut for
    // speed); it must agree with the union of the wire contract on every payload.
    const payloads: unknown[] = [
      { ts: T0, lat: 27.87, lon: 113.12, acc: 8, seq: 3, vendor: { x: 1 } },
      { ts: '2026-12-01T08:00:00.250+08:00', lat: 27.87, lon: 113.12, crs: 'gcj02' },
      { ts: T0, lat: 91, lon: 113.12 },
      { lat: 27.87, lon: 113.12 },
      { ts: 'soon', lat: 27.87, lon: 113.12 },
      { ts: T0, lat: 27.87, lon: 113.12, crs: 'utm' },
      { ts: T0, lat: 27.87, lon: 113.12, seq: -1 },
      {},
      { fixes: 3 },
    ];
    for (const json of payloads) {
      const union = locationSchema.safeParse(json);
      const { outcome, ctx } = await run('location', json);
      if (union.success) {
        expect(outcome).toBeUndefined();
        expect(ctx.data).toEqual(union.data);
      } else {
        const first = union.error.issues[0]!;
        expect(outcome?.reject).toBe(`schema: ${first.path.length ? first.path.join('.') : '(root)'}: ${first.message}`);
      }
    }
  });

  it('says (root) when the payload as a whole is wrong', async () => {
    expect(await refusal('task-replies', 'accept')).toMatch(/^schema: \(root\): /);
  });
});
