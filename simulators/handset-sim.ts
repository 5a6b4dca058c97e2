// One simulated handset on a real connection: HandsetModel decides, a transport speaks the handset's
// protocol (handset-transport.ts): native MQTT, the OwnTracks app's MQTT, or a JT/T 808 terminal.
// Time comes from the injected clock; the caller drives tick() (district-sim runs one timer for all).
import { EventEmitter } from 'node:events';
import type { Polygon } from 'geojson';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { TextMessage } from '../gateways/jt808/jt808-messages.js';
import { taskMessageSchema, type TaskMessage, type TaskReplyPayload } from '../protocol/schemas.js';
import type { DeviceProtocol } from '../protocol/device-api.js';
import type { DemoHandset } from './demo-district.js';
import { HandsetModel, type HandsetModelOptions, type HandsetOutput } from './handset-model.js';
import type { HandsetTransport, TransportContext } from './handset-transport.js';
import { Jt808Transport } from './jt808-transport.js';
import { NativeTransport } from './native-transport.js';
import { OwnTracksTransport } from './owntracks-transport.js';
import type { Rng } from './rng.js';

export interface HandsetSimOptions {
  mqttUrl: string;
  topicRoot: string;
  handset: DemoHandset;
  polygon: Polygon;
  clock: Clock;
  logger: Logger;
  rng: Rng;
  fixEveryS: number;
  /** Outage, battery, batch and task-behaviour knobs of the model. */
  model?: Partial<Omit<HandsetModelOptions, 'handset' | 'polygon' | 'rng' | 'startMs' | 'fixEveryS'>>;
  /** Let the simulated worker answer offers (task-behaviour.ts). Default true; false leaves it to a listener. */
  answerTasks?: boolean;
  /** The node's JT/T 808 port, for a handset whose protocol is jt808. */
  jt808?: { host: string; port: number };
}

export interface HandsetSimEvents {
  /**
   * A valid message arrived on this handset's `tasks` topic. The model's task behaviour answers it
   * (unless answerTasks is false, when a listener decides and calls reply()).
   */
  task: [TaskMessage];
  /** Everything the handset decided to do, as it happens (fixes, batches, outages). */
  output: [HandsetOutput];
  connect: [];
  /** A JT/T 808 terminal's screen showed a text (0x8300): how its worker hears of a task. */
  text: [TextMessage];
}

function createTransport(ctx: TransportContext): HandsetTransport {
  switch (ctx.handset.protocol) {
    case 'owntracks':
      return new OwnTracksTransport(ctx);
    case 'jt808':
      return new Jt808Transport(ctx);
    default:
      return new NativeTransport(ctx);
  }
}

export class HandsetSim extends EventEmitter<HandsetSimEvents> {
  readonly id: string;
  private model: HandsetModel | null = null;
  private readonly transport: HandsetTransport;
  private stopped = false;
  private readonly log: Logger;
  private connectedOnce: Promise<void>;
  private resolveConnected: () => void = () => undefined;
  /** `unsent`: replies and reports the handset's protocol cannot carry (OwnTracks, JT/T 808). */
  readonly stats = {
    fixes: 0,
    batches: 0,
    batchedFixes: 0,
    outages: 0,
    tasks: 0,
    replies: 0,
    reports: 0,
    connectErrors: 0,
    texts: 0,
    unsent: 0,
  };

  constructor(private readonly o: HandsetSimOptions) {
    super();
    this.id = o.handset.id;
    this.log = o.logger.child({ mod: 'handset-sim', device: this.id, protocol: this.protocol });
    this.connectedOnce = new Promise((resolve) => {
      this.resolveConnected = resolve;
    });
    this.transport = createTransport({
      handset: o.handset,
      mqttUrl: o.mqttUrl,
      topicRoot: o.topicRoot,
      clock: o.clock,
      ...(o.jt808 ? { jt808: o.jt808 } : {}),
      hooks: {
        up: () => this.onUp(),
        task: (payload) => this.onTask(payload),
        text: (t) => {
          this.stats.texts++;
          this.log.debug({ text: t.text }, 'text on the terminal screen');
          this.emit('text', t);
        },
        error: (reason) => {
          // Bad credentials and refused connections repeat every reconnect; count them, log quietly.
          this.stats.connectErrors++;
          if (this.stats.connectErrors === 1) this.log.warn({ err: reason }, 'handset connection error');
        },
      },
    });
  }

  get protocol(): DeviceProtocol {
    return this.o.handset.protocol;
  }

  get online(): boolean {
    return this.model?.online ?? false;
  }

  /** The worker's task behaviour (answers, walk, reports), once started. */
  get agent(): HandsetModel['agent'] | null {
    return this.model?.agent ?? null;
  }

  get connected(): boolean {
    return this.transport.connected;
  }

  start(): void {
    if (this.model) return;
    this.model = new HandsetModel({
      ...this.o.model,
      handset: this.o.handset,
      polygon: this.o.polygon,
      rng: this.o.rng,
      startMs: this.o.clock.now(),
      fixEveryS: this.o.fixEveryS,
    });
    this.transport.open();
  }

  /** Resolves once the first connection is up. */
  whenConnected(): Promise<void> {
    return this.connectedOnce;
  }

  /** Runs everything due by the clock's now. */
  tick(): void {
    if (!this.model || this.stopped) return;
    for (const out of this.model.tick(this.o.clock.now())) this.perform(out);
    this.transport.tick();
  }

  /** Sends a task reply (accept / decline / arrived / resolved); only a native handset can. */
  reply(payload: TaskReplyPayload): void {
    if (!this.transport.send({ kind: 'reply', payload })) this.stats.unsent++;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.transport.close();
  }

  private perform(out: HandsetOutput): void {
    this.emit('output', out);
    switch (out.kind) {
      case 'go-offline':
        this.stats.outages++;
        this.log.debug({ untilMs: out.untilMs }, 'out of coverage');
        this.transport.drop();
        return;
      case 'go-online':
        this.log.debug('back in coverage');
        if (!this.stopped) this.transport.open();
        return;
      case 'batch':
        this.stats.batches++;
        this.stats.batchedFixes += out.payload.fixes.length;
        break;
      case 'fix':
        this.stats.fixes++;
        break;
      case 'reply':
        this.stats.replies++;
        break;
      case 'report':
        this.stats.reports++;
        break;
      case 'status':
        break;
    }
    if (!this.transport.send(out)) this.stats.unsent++;
  }

  /** The connection is up: the model's reconnect work (status, buffered trail, waiting answers). */
  private onUp(): void {
    this.resolveConnected();
    this.emit('connect');
    for (const out of this.model?.onConnected(this.o.clock.now()) ?? []) this.perform(out);
  }

  private onTask(payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn('task message is not JSON; ignored');
      return;
    }
    const parsed = taskMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.log.warn({ issues: parsed.error.issues.length }, 'task message fails the schema; ignored');
      return;
    }
    this.stats.tasks++;
    if (this.o.answerTasks !== false) this.model?.onTask(parsed.data, this.o.clock.now());
    this.emit('task', parsed.data);
  }
}
