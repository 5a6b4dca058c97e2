// The indexed outgoing queues answer like aedes-persistence's in-memory store: order kept,
// message ids assigned by broker counter, cleared by PUBACK, the rest streamed on reconnect.
import { describe, expect, it } from 'vitest';
import { OutgoingQueues } from '../../broker/outgoing-queues.js';

const hub = { id: 'hub', clientId: 'hub' };
const pkt = (n: number) => ({
  cmd: 'publish',
  brokerId: 'b1',
  brokerCounter: n,
  topic: `t/${n}`,
  payload: Buffer.from(String(n)),
  qos: 1,
  retain: false,
  dup: false,
  messageId: 999,
});

async function streamed(q: OutgoingQueues): Promise<{ topic?: string; messageId?: number }[]> {
  const out: { topic?: string; messageId?: number }[] = [];
  for await (const p of q.outgoingStream(hub)) out.push(p as { topic?: string; messageId?: number });
  return out;
}

describe('outgoing queues', () => {
  it('stores a copy without the publisher message id, assigns ids by broker counter and clears by id', async () => {
    const q = new OutgoingQueues();
    for (let n = 1; n <= 5; n++) await q.outgoingEnqueueCombi([hub], pkt(n));
    expect((await streamed(q)).map((p) => p.messageId)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    for (let n = 1; n <= 5; n++) await q.outgoingUpdate(hub, { ...pkt(n), messageId: 100 + n });
    expect(await q.outgoingClearMessageId(hub, { messageId: 102 })).toMatchObject({ topic: 't/2', messageId: 102 });
    expect(await q.outgoingClearMessageId(hub, { messageId: 102 })).toBeUndefined();
    expect((await streamed(q)).map((p) => p.topic)).toEqual(['t/1', 't/3', 't/4', 't/5']);
    expect(q.pending()).toBe(4);
  });

  it('re-ids a redelivered packet, replaces another broker id on the same message id, refuses the unknown', async () => {
    const q = new OutgoingQueues();
    await q.outgoingEnqueue(hub, pkt(1));
    await q.outgoingUpdate(hub, { ...pkt(1), messageId: 7 });
    await q.outgoingUpdate(hub, { ...pkt(1), messageId: 8 }); // after a reconnect: a new id
    expect(await q.outgoingClearMessageId(hub, { messageId: 7 })).toBeUndefined();
    await q.outgoingUpdate(hub, { cmd: 'pubrel', messageId: 8 });
    expect(await streamed(q)).toEqual([{ cmd: 'pubrel', messageId: 8 }]);
    await expect(q.outgoingUpdate(hub, { ...pkt(9), messageId: 9 })).rejects.toThrow('no such packet');
  });

  it('stays fast with tens of thousands outstanding', async () => {
    const q = new OutgoingQueues();
    const t0 = performance.now();
    for (let n = 1; n <= 60_000; n++) {
      await q.outgoingEnqueue(hub, pkt(n));
      await q.outgoingUpdate(hub, { ...pkt(n), messageId: n });
    }
    for (let n = 1; n <= 60_000; n++) await q.outgoingClearMessageId(hub, { messageId: n });
    expect(q.pending()).toBe(0);
    // The linear store needs minutes for this; generous bound for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
