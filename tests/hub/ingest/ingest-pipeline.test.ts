// The runner: messages leave the stages in arrival order whether a stage answers at once or later,
// a rejection (or a stage's own failure) becomes a dead letter, and `settled` waits for what waits.
// The stages here are stand-ins; the writer is a recorder of what the batch writer would be handed.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../common/metrics.js';
import { silentLogger } from '../../../common/logger.js';
import type { BatchWriter } from '../../../hub/rows/batch-writer.js';
import type { Rows } from '../../../hub/rows/row-types.js';
import { IngestPipeline } from '../../../hub/ingest/ingest-pipeline.js';
import type { IngestContext, IngestStage, StageOutcome } from '../../../hub/ingest/ingest-types.js';

/** What reached the writer, in order: the message's topic and its dead letter's reason, if any. */
function recorder() {
  const got: { topic: string; reason: string | null }[] = [];
  const writer = {
    enqueue(rows: Rows, ack: () => void) {
      const letter = rows.deadLetters[0];
      got.push({ topic: letter?.topic ?? rows.statuses[0]!.deviceId, reason: letter?.reason ?? null });
      ack();
    },
  } as unknown as BatchWriter;
  return { got, writer };
}

/** Marks the message accepted: a status row named after its topic. */
const accept: IngestStage = {
  name: 'accept',
  run(ctx: IngestContext): StageOutcome {
    ctx.rows.statuses.push({ deviceId: ctx.topic, workerId: null, ts: 0, kind: 'status', duty: 'on', battery: null, online: null });
    return undefined;
  },
};

/** A stage that makes the topics in `slow` wait until released; the others pass at once. */
function gate(slow: string[]) {
  const release: Record<string, (o: StageOutcome) => void> = {};
  const stage: IngestStage = {
    name: 'gate',
    run(ctx: IngestContext) {
      if (!slow.includes(ctx.topic)) return undefined;
      return new Promise<StageOutcome>((resolve) => (release[ctx.topic] = resolve));
    },
  };
  return { stage, release };
}

function pipelineOf(stages: IngestStage[]) {
  const { got, writer } = recorder();
  const metrics = new Metrics();
  const acked: string[] = [];
  const pipeline = new IngestPipeline(stages, writer, metrics, silentLogger);
  const send = (topic: string) => pipeline.handle({ topic, payload: Buffer.from('{}'), ack: () => acked.push(topic) });
  return { pipeline, got, acked, metrics, send };
}

describe('ingest pipeline', () => {
  it('runs a message through stages that answer at once before handle returns', () => {
    const { got, send } = pipelineOf([accept]);
    send('a');
    send('b');
    expect(got).toEqual([
      { topic: 'a', reason: null },
      { topic: 'b', reason: null },
    ]);
  });

  it('holds every later message behind one whose stage waits, and keeps their order', async () => {
    const g = gate(['a', 'c']);
    const { pipeline, got, acked, send } = pipelineOf([g.stage, accept]);
    send('a');
    send('b');
    send('c');
    send('d');
    expect(got).toEqual([]);
    let settled = false;
    void pipeline.settled().then(() => (settled = true));
    g.release.a!(undefined);
    await new Promise<void>((r) => setImmediate(r));
    // b passed behind a; c waits in its turn, d behind it.
    expect(got.map((x) => x.topic)).toEqual(['a', 'b']);
    expect(settled).toBe(false);
    g.release.c!({ reject: 'slow_no' });
    await pipeline.settled();
    expect(got).toEqual([
      { topic: 'a', reason: null },
      { topic: 'b', reason: null },
      { topic: 'c', reason: 'slow_no' },
      { topic: 'd', reason: null },
    ]);
    expect(acked).toEqual(['a', 'b', 'c', 'd']);
    // Idle again: the next message runs at once.
    send('e');
    expect(got.at(-1)).toEqual({ topic: 'e', reason: null });
  });

  it('dead-letters a message whose stage throws or rejects, counts it, and goes on', async () => {
    const boom: IngestStage = {
      name: 'boom',
      run(ctx: IngestContext) {
        if (ctx.topic === 'sync') throw new Error('sync bug');
        if (ctx.topic === 'async') return Promise.reject(new Error('async bug'));
        return undefined;
      },
    };
    const { pipeline, got, metrics, send } = pipelineOf([boom, accept]);
    send('sync');
    send('async');
    send('fine');
    await pipeline.settled();
    expect(got).toEqual([
      { topic: 'sync', reason: 'internal: boom: sync bug' },
      { topic: 'async', reason: 'internal: boom: async bug' },
      { topic: 'fine', reason: null },
    ]);
    expect(metrics.get('ingest_rejected_total', { reason: 'internal' })).toBe(2);
    expect(metrics.get('ingest_messages_total')).toBe(3);
  });
});
