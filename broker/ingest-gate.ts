// Ingest inside the broker (docs/decisions/009-ingest-in-broker.md). A device's upstream message is
// handed to the ingest pipeline from Aedes' `authorizePublish` hook, and the hook answers only once
// the message's rows (or its dead letter) are committed. Aedes writes a QoS 1 PUBACK right after
// `authorizePublish` answers and before it publishes (aedes 1.2 lib/handlers/publish.js,
// `enqueuePublish`), so a PUBACK now means "in the database". Aedes reads a client's next packets
// only when the current ones are handled (lib/client.js, `nextBatch`), so while a commit waits (a slow
// or absent database) each connection simply stops being read: the backpressure reaches the handset,
// which keeps its store-and-forward buffer.
//
// The gate opens once the path to the database is in place and closes at the start of a stop: a
// publish that arrives while it is not open is refused (the connection closes without a PUBACK, the
// device sends it again to whichever node it reaches next).
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';

/** Takes one upstream message of the wire contract; resolves once it is committed. */
export type IngestSink = (topic: string, payload: Buffer) => Promise<void>;

export class IngestGate {
  private state: 'waiting' | 'open' | 'closed' = 'waiting';
  private inflight = 0;
  private idle: (() => void) | null = null;

  constructor(
    private readonly sink: IngestSink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    metrics.gauge(
      'mqtt_ingest_inflight',
      () => this.inflight,
      'device messages handed to ingest and not yet committed (their PUBACK waits)',
    );
  }

  get inFlight(): number {
    return this.inflight;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  open(): void {
    if (this.state === 'waiting') this.state = 'open';
  }

  /**
   * Stops taking messages and resolves once every message already taken is committed (its PUBACK
   * written), or after `timeoutMs` (a database that is away: those messages were never acknowledged,
   * so nothing is lost; the devices send them again). Returns how many were still waiting.
   */
  async close(timeoutMs: number): Promise<number> {
    this.state = 'closed';
    if (this.inflight === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.idle = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    if (this.inflight > 0)
      this.log.warn(
        { waiting: this.inflight, timeoutMs },
        'stop: messages still uncommitted; their devices were not acknowledged and will send them again',
      );
    return this.inflight;
  }

  /** Hands a message to ingest; `done` is Aedes' callback, called after the commit. */
  admit(topic: string, payload: Buffer, done: (err?: Error | null) => void): void {
    if (this.state !== 'open') {
      this.metrics.inc('mqtt_rejected_total', { reason: this.state === 'closed' ? 'stopping' : 'starting' });
      done(new Error(`ingest not open (${this.state}): publish not acknowledged`));
      return;
    }
    this.inflight++;
    this.sink(topic, payload).then(
      () => this.settle(done, null),
      // The sink commits or dead-letters; it rejects only on our own bug. Then no PUBACK: the
      // connection closes and the device sends the message again.
      (err: Error) => {
        this.log.error({ err: err.message, topic: topic.slice(0, 200) }, 'ingest failed: publish not acknowledged');
        this.settle(done, err);
      },
    );
  }

  private settle(done: (err?: Error | null) => void, err: Error | null): void {
    this.inflight--;
    if (this.inflight === 0 && this.idle) {
      this.idle();
      this.idle = null;
    }
    done(err);
  }
}
