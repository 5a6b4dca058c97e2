// Aedes routes every publish through mqemitter, which lets `concurrency` (100) deliveries run at
// once and queues the rest. A queued message starts when a running one finishes, synchronously,
// from inside that delivery's callback (mqemitter's `released` → `_do`). When deliveries finish
// synchronously (no subscriber matches any more, e.g. the hub's connection has just closed), a
// backlog of N messages becomes N nested calls and overflows the stack (`RangeError: Maximum call
// stack size exceeded` in qlobber), taking the broker down: mcollina/mqemitter#204, still open.
// mqemitter's author suggests there to "test if this was called in the same tick more than x
// times and then use setImmediate just in that case"; that is what this guard does.
//
// Overload is then what it should be, backpressure: aedes reads a client's next packets only once
// the previous ones are delivered, so a backlog here stops reading publishers' sockets and TCP
// slows the devices down. The backlog is a gauge and a counter, and is logged when it builds up
// and when it clears.
import type { Aedes } from 'aedes';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';

/** Nested starts allowed in one synchronous stack before the next one waits for setImmediate. */
const MAX_SYNC_DEPTH = 64;

/**
 * First in, first out with O(1) shift. mqemitter keeps its backlog in two arrays and takes from
 * the front with Array#shift, which V8 makes O(n) on large arrays: with a backlog of 100,000 the
 * broker spent 22 % of its CPU moving array elements (profile of `bench:ingest`), so the deeper
 * the backlog the slower it drained.
 */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): number {
    this.items.push(item);
    return this.length;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** mqemitter's own fields we touch (mqemitter 7, as bundled with aedes 1.x). */
interface MqEmitterInternals {
  concurrency: number;
  current: number;
  readonly length: number;
  _messageQueue: unknown;
  _messageCallbacks: unknown;
  emit(message: { topic: string }, callback?: (err?: Error) => void): unknown;
  _do(message: { topic: string }, callback: () => void): unknown;
}

export interface PublishBacklogOptions {
  metrics: Metrics;
  logger: Logger;
  /** Backlog (messages) at which a warning is logged; it is logged clear again below half. */
  warnAt?: number;
  /** The in-process emitter to guard when Aedes' `mq` is routed (broker/routed-mq.ts); default aedes.mq. */
  mq?: unknown;
}

export function guardPublishBacklog(aedes: Aedes, opts: PublishBacklogOptions): void {
  const mq = (opts.mq ?? (aedes as unknown as { mq: MqEmitterInternals }).mq) as MqEmitterInternals;
  if (typeof mq?._do !== 'function') throw new Error('aedes.mq is not an mqemitter: the publish backlog guard needs updating');
  if (!Array.isArray(mq._messageQueue) || !Array.isArray(mq._messageCallbacks))
    throw new Error('mqemitter internals changed: the publish backlog guard needs updating');
  mq._messageQueue = new Fifo();
  mq._messageCallbacks = new Fifo();
  const start = mq._do;
  const emit = mq.emit;
  let depth = 0;

  mq.emit = function countedEmit(this: MqEmitterInternals, message, callback) {
    if (this.concurrency > 0 && this.current >= this.concurrency) opts.metrics.inc('mqtt_publish_backpressure_total');
    return emit.call(this, message, callback);
  };

  mq._do = function guardedDo(this: MqEmitterInternals, message, callback) {
    if (depth >= MAX_SYNC_DEPTH) {
      opts.metrics.inc('mqtt_publish_deferred_total');
      // Keep the slot taken while we wait, so a publish arriving meanwhile queues behind this
      // message instead of overtaking it (MQTT keeps one publisher's messages in order).
      this.current++;
      setImmediate(() => {
        this.current--;
        start.call(this, message, callback);
      });
      return this;
    }
    depth++;
    try {
      return start.call(this, message, callback);
    } finally {
      depth--;
    }
  };

  const warnAt = opts.warnAt ?? 1000;
  let warned = false;
  let peak = 0;
  opts.metrics.gauge('mqtt_publish_backlog', () => mq.length, 'publishes waiting for a delivery slot (publishers are held back meanwhile)');
  opts.metrics.describe(
    'mqtt_publish_backpressure_total',
    'publishes that waited for a delivery slot because subscribers were slower than publishers',
  );
  opts.metrics.describe('mqtt_publish_deferred_total', 'queued publishes started on a later tick to keep the stack flat (mqemitter#204)');
  const log = opts.logger.child({ mod: 'broker-backlog' });
  const timer = setInterval(() => {
    const queued = mq.length;
    peak = Math.max(peak, queued);
    if (!warned && queued >= warnAt) {
      warned = true;
      log.warn(
        { backlog: queued, inFlight: mq.current },
        'publish backlog: subscribers (the hub?) are slower than publishers; devices are being held back',
      );
    } else if (warned && queued < warnAt / 2) {
      warned = false;
      log.warn({ backlog: queued, peak }, 'publish backlog cleared');
      peak = 0;
    }
  }, 1000);
  timer.unref();
  aedes.once('closed', () => clearInterval(timer));
}
