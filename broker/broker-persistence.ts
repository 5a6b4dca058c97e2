// Aedes' persistence (its `persistence` option; Aedes 1.x takes the async interface directly):
// aedes-persistence's in-memory store (v11) with two changes, both on the path of every QoS 1
// message and both with the store's own meaning.
//
// - Outgoing queues indexed (outgoing-queues.ts, decision 004): the store scans an array per
//   subscriber on every delivery and every PUBACK.
// - `subscriptionsByTopic` remembered per topic. Aedes asks it of every QoS 1 publish (aedes.js
//   `enqueueOffline`: which persistent sessions must keep the message), and the store answers by
//   splitting the topic and walking its trie each time: with 2,500 persistent sessions subscribed
//   to their tasks, that was 0.5 µs of a 1.9 µs publish after the PUBACK (micro-benchmark of
//   Aedes' publish path). Subscriptions change at connects; in between, the same topics come every
//   second. The memo is dropped whenever the subscriptions change, so an answer is always the trie's
//   answer at that moment, as before.
import { createRequire } from 'node:module';
import type { Client, Subscription } from 'aedes';
import type MemoryPersistenceClass from 'aedes-persistence/types/asyncPersistence.js';
import type { Readable } from 'node:stream';
import { OutgoingQueues, type OutPacket } from './outgoing-queues.js';

// The store's class is not the package's main export (that is the callback wrapper Aedes 0.x used).
const MemoryPersistence = createRequire(import.meta.url)('aedes-persistence/asyncPersistence.js') as typeof MemoryPersistenceClass;

type AedesPacket = Parameters<MemoryPersistenceClass['outgoingEnqueue']>[1];
type Subscriptions = Awaited<ReturnType<MemoryPersistenceClass['subscriptionsByTopic']>>;

/** Aedes' packet as the queues see it (the fields they read or keep). */
const out = (packet: AedesPacket) => packet as unknown as OutPacket;

/** Distinct topics remembered before the memo starts again (about 4 a device at 10,000 devices). */
const MEMO_MAX_TOPICS = 50_000;

export class BrokerPersistence extends MemoryPersistence {
  readonly queues = new OutgoingQueues();
  private byTopic = new Map<string, Promise<Subscriptions>>();

  // Every change of the trie goes through these three; each changes it synchronously, before its
  // first await, so the memo is dropped after the call.
  override addSubscriptions(client: Client, subs: Subscription[]): Promise<void> {
    const done = super.addSubscriptions(client, subs);
    this.byTopic.clear();
    return done;
  }

  override removeSubscriptions(client: Client, subs: string[]): Promise<void> {
    const done = super.removeSubscriptions(client, subs);
    this.byTopic.clear();
    return done;
  }

  override cleanSubscriptions(client: Client): Promise<void> {
    const done = super.cleanSubscriptions(client);
    this.byTopic.clear();
    return done;
  }

  /** The same array for the same topic until the subscriptions change: Aedes only reads it. */
  override subscriptionsByTopic(topic: string): Promise<Subscriptions> {
    let subs = this.byTopic.get(topic);
    if (subs === undefined) {
      if (this.byTopic.size >= MEMO_MAX_TOPICS) this.byTopic = new Map();
      subs = super.subscriptionsByTopic(topic);
      this.byTopic.set(topic, subs);
    }
    return subs;
  }

  override outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    return this.queues.outgoingEnqueue(sub, out(packet));
  }

  override outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    return this.queues.outgoingEnqueueCombi(subs, out(packet));
  }

  override outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    return this.queues.outgoingUpdate(client, out(packet));
  }

  override outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket> {
    return this.queues.outgoingClearMessageId(client, out(packet)) as Promise<AedesPacket>;
  }

  override outgoingStream(client: Client): Readable {
    return this.queues.outgoingStream(client);
  }
}
