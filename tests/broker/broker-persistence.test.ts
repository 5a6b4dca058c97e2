// The broker's persistence remembers which persistent sessions a topic reaches; any change of the
// subscriptions must show at once, or a handset that subscribes (or leaves) gets the wrong messages.
import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { BrokerPersistence } from '../../broker/broker-persistence.js';

const client = (id: string) => ({ id }) as Client;
const sub = (topic: string, qos: 0 | 1) => ({ topic, qos }) as Parameters<BrokerPersistence['addSubscriptions']>[1][number];
const reached = async (p: BrokerPersistence, topic: string) => (await p.subscriptionsByTopic(topic)).map((s) => s.clientId).sort();

describe('broker persistence', () => {
  it('answers subscriptionsByTopic as the subscriptions stand after every change', async () => {
    const p = new BrokerPersistence();
    const topic = 'grid/v1/devices/hs-1/tasks';
    expect(await reached(p, topic)).toEqual([]);
    await p.addSubscriptions(client('hs-1'), [sub(topic, 1)]);
    expect(await reached(p, topic)).toEqual(['hs-1']);
    await p.addSubscriptions(client('recorder'), [sub('grid/v1/devices/+/tasks', 1)]);
    expect(await reached(p, topic)).toEqual(['hs-1', 'recorder']);
    // QoS 0 subscriptions keep nothing offline: the store takes the session out of the answer.
    await p.addSubscriptions(client('recorder'), [sub('grid/v1/devices/+/tasks', 0)]);
    expect(await reached(p, topic)).toEqual(['hs-1']);
    await p.removeSubscriptions(client('hs-1'), [topic]);
    expect(await reached(p, topic)).toEqual([]);
    await p.addSubscriptions(client('hs-1'), [sub(topic, 1)]);
    expect(await reached(p, topic)).toEqual(['hs-1']);
    await p.cleanSubscriptions(client('hs-1'));
    expect(await reached(p, topic)).toEqual([]);
  });

  it('keeps the messages of a persistent session in the indexed queues', async () => {
    const p = new BrokerPersistence();
    const packet = {
      cmd: 'publish',
      brokerId: 'b1',
      brokerCounter: 1,
      topic: 't',
      payload: Buffer.from('x'),
      qos: 1,
      retain: false,
      dup: false,
    };
    await p.outgoingEnqueueCombi([{ clientId: 'hs-1' }], packet as Parameters<BrokerPersistence['outgoingEnqueue']>[1]);
    expect(p.queues.pending()).toBe(1);
    const streamed: unknown[] = [];
    for await (const m of p.outgoingStream(client('hs-1'))) streamed.push(m);
    expect(streamed).toMatchObject([{ topic: 't', brokerCounter: 1 }]);
  });
});
