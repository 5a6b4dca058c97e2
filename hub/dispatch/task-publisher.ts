// Sends task messages to handsets on their `tasks` topic at QoS 1, as the hub's service account on a
// connection of its own (the ingest connection is a raw subscriber that acknowledges after commit).
// Offers are also an outbox in the database: one not yet taken by the broker is sent again at start.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { TaskMessage } from '../../protocol/schemas.js';
import { deviceTopic } from '../../protocol/topics.js';

export interface TaskPublisherOptions {
  host: string;
  port: number;
  clientId: string;
  username: string;
  password: string;
  topicRoot: string;
  metrics: Metrics;
  logger: Logger;
}

export class TaskPublisher {
  private client: MqttClient | null = null;
  private readonly log: Logger;

  constructor(private readonly o: TaskPublisherOptions) {
    this.log = o.logger.child({ mod: 'task-publisher' });
  }

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(`mqtt://${this.o.host}:${this.o.port}`, {
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.o.password,
      clean: true,
      reconnectPeriod: 1000,
    });
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'task publisher connection error'));
  }

  /** Resolves when the broker acknowledged (PUBACK), so the outbox row can be marked sent. */
  async send(deviceId: string, message: TaskMessage): Promise<void> {
    if (!this.client) throw new Error('task publisher not started');
    await this.client.publishAsync(deviceTopic(this.o.topicRoot, deviceId, 'tasks'), JSON.stringify(message), { qos: 1 });
    this.o.metrics.inc('dispatch_task_messages_total', { kind: message.kind });
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }
}
