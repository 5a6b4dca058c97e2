// The broker's queues of QoS 1 messages not yet acknowledged by persistent-session subscribers,
// indexed. aedes-persistence's in-memory store (v11) keeps one array per client and finds a packet
// by scanning it from the front: `outgoingUpdate` (every delivery) walks to the packet just
// appended at the end, `outgoingClearMessageId` (every PUBACK) splices. The hub acknowledges only
// after commit, so it always has thousands of messages outstanding, and at 3,400 handsets those
// scans were about 12 % of the broker's CPU (profile of `bench:ingest`), growing with the backlog:
// the slower the hub, the slower the broker. Here the same operations are O(1) amortised, with the
// same meaning (aedes-persistence asyncPersistence.js, outgoing*). broker-persistence.ts answers
// Aedes' outgoing* calls with these.
import { Readable } from 'node:stream';

/** The fields of an aedes packet this store reads or keeps. */
export interface OutPacket {
  cmd?: string;
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  [k: string]: unknown;
}

interface Entry {
  packet: OutPacket;
  live: boolean;
}

class ClientQueue {
  entries: Entry[] = [];
  dead = 0;
  readonly byCounter = new Map<string, Entry>();
  readonly byMessageId = new Map<number, Entry>();

  remove(e: Entry): void {
    e.live = false;
    if (e.packet.messageId !== undefined && this.byMessageId.get(e.packet.messageId) === e) this.byMessageId.delete(e.packet.messageId);
    const k = counterKey(e.packet);
    if (k && this.byCounter.get(k) === e) this.byCounter.delete(k);
    this.dead++;
    if (this.dead > 256 && this.dead * 2 > this.entries.length) {
      this.entries = this.entries.filter((x) => x.live);
      this.dead = 0;
    }
  }
}

function counterKey(p: OutPacket): string | null {
  return p.brokerId === undefined ? null : `${p.brokerId}\n${p.brokerCounter ?? 0}`;
}

/** The copy aedes-persistence stores (aedes-packet's constructor without a broker). */
function storedCopy(p: OutPacket): OutPacket {
  const s: OutPacket = {};
  for (const k of ['clientId', 'nl', 'properties', 'messageExpiry']) if (Object.hasOwn(p, k)) s[k] = p[k];
  s.cmd = p.cmd || 'publish';
  s.brokerId = p.brokerId;
  s.brokerCounter = p.brokerCounter || 0;
  s.topic = p.topic;
  s.payload = p.payload || Buffer.alloc(0);
  s.qos = p.qos || 0;
  s.retain = p.retain || false;
  s.dup = p.dup || false;
  if (s.qos > 0 || s.cmd !== 'publish') s.messageId = undefined;
  return s;
}

export class OutgoingQueues {
  private readonly queues = new Map<string, ClientQueue>();

  private queue(clientId: string): ClientQueue {
    let q = this.queues.get(clientId);
    if (!q) this.queues.set(clientId, (q = new ClientQueue()));
    return q;
  }

  private enqueue(clientId: string, packet: OutPacket): void {
    const q = this.queue(clientId);
    const e: Entry = { packet: storedCopy(packet), live: true };
    q.entries.push(e);
    const k = counterKey(e.packet);
    if (k) q.byCounter.set(k, e);
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: OutPacket): Promise<void> {
    this.enqueue(sub.clientId, packet);
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: OutPacket): Promise<void> {
    for (const s of subs) this.enqueue(s.clientId, packet);
  }

  /** The packet with this broker counter gets its message id; or, failing that, a packet of
   *  another broker with this message id is replaced (QoS 2's PUBREL). */
  async outgoingUpdate(client: { id: string }, packet: OutPacket): Promise<void> {
    const q = this.queue(client.id);
    const k = counterKey(packet);
    const same = k ? q.byCounter.get(k) : undefined;
    if (same?.live) {
      if (same.packet.messageId !== undefined && q.byMessageId.get(same.packet.messageId) === same)
        q.byMessageId.delete(same.packet.messageId);
      same.packet.messageId = packet.messageId;
      if (packet.messageId !== undefined) q.byMessageId.set(packet.messageId, same);
      return;
    }
    const byId = packet.messageId === undefined ? undefined : q.byMessageId.get(packet.messageId);
    if (byId?.live && byId.packet.brokerId !== packet.brokerId) {
      const old = counterKey(byId.packet);
      if (old && q.byCounter.get(old) === byId) q.byCounter.delete(old);
      byId.packet = packet;
      if (k) q.byCounter.set(k, byId);
      return;
    }
    throw new Error('no such packet');
  }

  async outgoingClearMessageId(client: { id: string }, packet: OutPacket): Promise<OutPacket | undefined> {
    const q = this.queues.get(client.id);
    const e = q && packet.messageId !== undefined ? q.byMessageId.get(packet.messageId) : undefined;
    if (!q || !e?.live) return undefined;
    q.remove(e);
    return e.packet;
  }

  outgoingStream(client: { id: string }): Readable {
    const q = this.queues.get(client.id);
    return Readable.from(q ? q.entries.filter((e) => e.live).map((e) => e.packet) : []);
  }

  /** Messages waiting for acknowledgement, all clients (a gauge). */
  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.entries.length - q.dead;
    return n;
  }
}
