// One simulated handset on a real MQTT connection: HandsetModel decides, this file talks MQTT.
// Time comes from the injected clock; the caller drives tick() (district-sim runs one timer for all).
import { EventEmitter } from 'node:events';
import type { Polygon } from 'geojson';
import type { MqttClient } from 'mqtt';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { taskMessageSchema, type TaskMessage, type TaskReplyPayload } from '../protocol/schemas.js';
import { deviceTopic, type UpstreamChannel } from '../protocol/topics.js';
import type { DemoHandset } from './demo-district.js';
import { closeDevice, connectDevice, dropDevice } from './device-connection.js';
import { HandsetModel, type HandsetModelOptions, type HandsetOutput } from './handset-model.js';
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
}

const CHANNEL: Record<'fix' | 'batch' | 'status' | 'reply' | 'report', UpstreamChannel> = {
  fix: 'location', batch: 'location', status: 'status', reply: 'task-replies', report: 'reports',
};

export class HandsetSim extends EventEmitter<HandsetSimEvents> {
  readonly id: string;
  private model: HandsetModel | null = null;
  private client: MqttClient | null = null;
  private stopped = false;
  private readonly log: Logger;
  private connectedOnce: Promise<void>;
  private resolveConnected: () => void = () => undefined;
  readonly stats = { fixes: 0, batches: 0, batchedFixes: 0, outages: 0, tasks: 0, replies: 0, reports: 0, connectErrors: 0 };

  constructor(private readonly o: HandsetSimOptions) {
    super();
    this.id = o.handset.id;
    this.log = o.logger.child({ mod: 'handset-sim', device: this.id });
    this.connectedOnce = new Promise((resolve) => {
      this.resolveConnected = resolve;
    });
  }

  get online(): boolean {
    return this.model?.online ?? false;
  }

  /** The worker's task behaviour (answers, walk, reports), once started. */
  get agent(): HandsetModel['agent'] | null {
    return this.model?.agent ?? null;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    if (this.model) return;
    this.model = new HandsetModel({ ...this.o.model, handset: this.o.handset, polygon: this.o.polygon, rng: this.o.rng, startMs: this.o.clock.now(), fixEveryS: this.o.fixEveryS });
    this.connect();
  }

  /** Resolves once the first connection is up. */
  whenConnected(): Promise<void> {
    return this.connectedOnce;
  }

  /** Runs everything due by the clock's now. */
  tick(): void {
    if (!this.model || this.stopped) return;
    for (const out of this.model.tick(this.o.clock.now())) this.perform(out);
  }

  /** Publishes a task reply (accept / decline / arrived / resolved); used by task behaviours. */
  reply(payload: TaskReplyPayload): void {
    this.client?.publish(deviceTopic(this.o.topicRoot, this.id, 'task-replies'), JSON.stringify(payload), { qos: 1 });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    this.client = null;
    if (client) await closeDevice(client, this.o.topicRoot, this.id, this.o.clock);
  }

  private perform(out: HandsetOutput): void {
    this.emit('output', out);
    switch (out.kind) {
      case 'go-offline': {
        this.stats.outages++;
        this.log.debug({ untilMs: out.untilMs }, 'out of coverage');
        const client = this.client;
        this.client = null;
        if (client) void dropDevice(client);
        return;
      }
      case 'go-online':
        this.log.debug('back in coverage');
        this.connect();
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
    // Published while a (re)connect is under way, MQTT.js queues QoS 1 messages until it is up.
    this.client?.publish(deviceTopic(this.o.topicRoot, this.id, CHANNEL[out.kind]), JSON.stringify(out.payload), { qos: 1 });
  }

  private connect(): void {
    if (this.stopped) return;
    const client = connectDevice({ mqttUrl: this.o.mqttUrl, topicRoot: this.o.topicRoot, id: this.id, secret: this.o.handset.secret, clock: this.o.clock });
    this.client = client;
    const tasks = deviceTopic(this.o.topicRoot, this.id, 'tasks');
    client.on('connect', () => {
      if (this.client !== client) return;
      client.subscribe(tasks, { qos: 1 });
      this.resolveConnected();
      this.emit('connect');
      for (const out of this.model?.onConnected(this.o.clock.now()) ?? []) this.perform(out);
    });
    client.on('message', (topic, payload) => {
      if (topic !== tasks) return;
      this.onTask(payload);
    });
    client.on('error', (err) => {
      // Errors of a connection closed on purpose (stop, simulated outage) say nothing.
      if (this.stopped || this.client !== client) return;
      // Bad credentials and refused connections repeat every reconnect; count them, log quietly.
      this.stats.connectErrors++;
      if (this.stats.connectErrors === 1) this.log.warn({ err: err.message }, 'handset connection error');
    });
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
