// Aedes' `mq` option for several nodes (issue 14): the messages that must cross nodes go through
// Redis (mqemitter-redis), everything else stays in this process (mqemitter).
//
// What crosses: task messages to handsets (`{root}/devices/+/tasks`: dispatch on node A offers a
// case to a handset connected to node B), Aedes' takeover notice (`$SYS/+/new/clients`: a handset
// that reconnects to node B makes node A close its old connection, Aedes' own mechanism), and the
// registry's device-changed notice (a device disabled on A's screen is cut off on B), the
// regions-changed notice (a tree imported on A is read again by B's hub), and texts to JT/T 808
// terminals held by another node (gateways/jt808/jt808-text-relay.ts). What does
// not: upstream telemetry (ingested where it arrives, broadcasting 10,000 fixes/s to every node would
// cost each node the whole fleet), Aedes' heartbeats and births (each node's wills are its own).
//
// A message is emitted on exactly one of the two emitters, chosen by its topic; a subscription is
// made on the local one always, and on Redis too when its pattern can match a crossing topic. So a
// listener on both still receives each message once.
import mqemitter, { type MQEmitter, type Message } from 'mqemitter';
import MQEmitterRedis from 'mqemitter-redis';
import type { NodeBus } from '../common/node-bus.js';

type Listener = (message: Message, done: () => void) => void;

/** True when some topic matches both MQTT filters (level by level: equal, `+`, or `#` from there on). */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== q && p !== '+' && q !== '+') return false;
  }
}

/**
 * True when the topic of a message (no wildcards) matches the MQTT filter, as `filtersOverlap`
 * says, without splitting either string: `emit` asks it of every message against each crossing
 * filter, and the splitting version was 1.2 % of a node's busy time in `bench:nodes` at 3,000
 * handsets (plus the garbage of eight arrays per fix). A telemetry topic usually fails at its
 * first or fourth level.
 */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  let t = 0;
  let f = 0;
  for (;;) {
    let fEnd = filter.indexOf('/', f);
    if (fEnd === -1) fEnd = filter.length;
    // `#` matches this level and everything below it, and the level above (MQTT 4.7.1.2).
    if (fEnd - f === 1 && filter.charCodeAt(f) === 35) return true;
    if (t > topic.length) return false; // the topic ended a level earlier
    let tEnd = topic.indexOf('/', t);
    if (tEnd === -1) tEnd = topic.length;
    if (!(fEnd - f === 1 && filter.charCodeAt(f) === 43)) {
      if (fEnd - f !== tEnd - t) return false;
      for (let i = 0; i < tEnd - t; i++) if (topic.charCodeAt(t + i) !== filter.charCodeAt(f + i)) return false;
    }
    const topicDone = tEnd === topic.length;
    const filterDone = fEnd === filter.length;
    if (filterDone) return topicDone;
    t = topicDone ? topic.length + 1 : tEnd + 1;
    f = fEnd + 1;
  }
}

/** The registry changed a device (disabled, deleted, re-keyed): every node re-reads it and closes
 *  its connection if it must go. Devices cannot subscribe to `$` topics (topic-acl.ts). */
export const DEVICE_CHANGED_TOPIC = '$GRID/devices/changed';
/** A node imported a region tree: every other node's hub reads it again (payload: the origin node). */
export const REGIONS_CHANGED_TOPIC = '$GRID/regions/changed';
/** Notices other modules send to every node (RunningBroker.bus): texts to JT/T 808 terminals. */
export const NODE_BUS_FILTER = '$GRID/jt808/+';

/** Aedes' takeover notice, published at every connect (aedes.js `_finishRegisterClient`). */
const TAKEOVER_FILTER = '$SYS/+/new/clients';
/**
 * The takeover notices of one event-loop turn, in one Redis message that every node turns back into
 * Aedes' own notices. One Redis message per connect cost 54 µs of node CPU (a write on the sending
 * node, a read and a decode on each node) and 10 µs of Redis at 2 nodes; in a reconnect storm a busy
 * node registers tens of clients per turn (.scratch/takeover-notice.mts).
 */
export const TAKEOVERS_TOPIC = '$GRID/new/clients';

interface Notice {
  topic: string;
  payload: Buffer;
}

export function crossingFilters(topicRoot: string): string[] {
  return ['$SYS/+/new/clients', `${topicRoot}/devices/+/tasks`, DEVICE_CHANGED_TOPIC, REGIONS_CHANGED_TOPIC, NODE_BUS_FILTER];
}

export interface RoutedMq {
  /** What Aedes gets as `mq`. */
  mq: MQEmitter;
  /** The in-process emitter (the publish backlog guard wraps it). */
  local: MQEmitter;
}

export function createRoutedMq(opts: { topicRoot: string; redisUrl: string; concurrency: number; onError(err: Error): void }): RoutedMq {
  const local = mqemitter({ concurrency: opts.concurrency, matchEmptyLevels: true });
  const shared = new (MQEmitterRedis as unknown as new (o: object) => MQEmitter & { state: NodeJS.EventEmitter })({
    connectionString: opts.redisUrl,
    concurrency: opts.concurrency,
    matchEmptyLevels: true,
    // Redis away: keep trying, and let the callers wait (ioredis queues commands meanwhile).
    maxRetriesPerRequest: null,
  });
  // ioredis reports every failed retry: say it once per outage.
  let down = false;
  shared.state.on('error', (err: Error) => {
    if (!down) opts.onError(err);
    down = true;
  });
  shared.state.on('pubConnect', () => (down = false));
  const crossing = crossingFilters(opts.topicRoot);
  const crosses = (filter: string) => crossing.some((c) => filtersOverlap(filter, c));
  const topicCrosses = (topic: string) => {
    for (const c of crossing) if (topicMatchesFilter(topic, c)) return true;
    return false;
  };

  // Takeover notices wait for the end of the turn and cross together; each node (this one too)
  // emits them in the process, where Aedes listens. `$SYS/+/new/clients` is still heard from Redis
  // (crossingFilters): a node of the version before this one sends each notice on its own.
  let batch: { notices: Notice[]; dones: ((err?: Error) => void)[] } | null = null;
  const flush = () => {
    const { notices, dones } = batch!;
    batch = null;
    shared.emit({ topic: TAKEOVERS_TOPIC, payload: Buffer.alloc(0), notices } as Message, (err?: Error) => {
      for (const done of dones) done(err);
    });
  };
  shared.on(TAKEOVERS_TOPIC, (message, done) => {
    const notices = (message as Message & { notices?: Notice[] }).notices ?? [];
    let n = notices.length + 1;
    const one = () => --n === 0 && done();
    for (const { topic, payload } of notices) local.emit({ topic: String(topic), payload: Buffer.from(payload) }, one);
    one();
  });

  const mq = {
    get current() {
      return local.current;
    },
    get concurrent() {
      return local.concurrent;
    },
    on(topic: string, listener: Listener, done?: () => void) {
      if (!crosses(topic)) return (local.on(topic, listener, done), mq);
      let n = 2;
      const both = () => --n === 0 && done?.();
      local.on(topic, listener, both);
      shared.on(topic, listener, both);
      return mq;
    },
    removeListener(topic: string, listener: Listener, done?: () => void) {
      if (!crosses(topic)) return local.removeListener(topic, listener, done);
      let n = 2;
      const both = () => --n === 0 && done?.();
      local.removeListener(topic, listener, both);
      shared.removeListener(topic, listener, both);
    },
    emit(message: Message, done?: (err?: Error) => void) {
      if (topicMatchesFilter(message.topic, TAKEOVER_FILTER)) {
        if (!batch) {
          batch = { notices: [], dones: [] };
          setImmediate(flush);
        }
        batch.notices.push({ topic: message.topic, payload: message.payload as Buffer });
        if (done) batch.dones.push(done);
        return;
      }
      // An exact topic crosses when it matches a crossing filter.
      (topicCrosses(message.topic) ? shared : local).emit(message, done);
    },
    close(done: () => void) {
      local.close(() => shared.close(done));
    },
  } as unknown as MQEmitter;
  return { mq, local };
}

/** A notice on the emitter; resolves once it is sent (to Redis, when the emitter crosses nodes). */
export function emitOn(mq: MQEmitter, topic: string, payload: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => mq.emit({ topic, payload }, (err?: Error) => (err ? reject(err) : resolve())));
}

/** The emitter as the cross-node bus other modules use (common/node-bus.ts). */
export function nodeBusOn(mq: MQEmitter): NodeBus {
  return {
    emit: (topic, payload) => emitOn(mq, topic, payload),
    on: (topic, handler) =>
      void mq.on(topic, (packet, done) => {
        handler(Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
        done();
      }),
  };
}
