// Sends task messages to handsets on their `tasks` topic at QoS 1 through the broker of this node
// (Hub's Downstream: the broker's own publish, no MQTT connection of the hub's). Offers are also an
// outbox in the database: one not yet taken by the broker is sent again at start.
import type { Metrics } from '../../common/metrics.js';
import type { TaskMessage } from '../../protocol/schemas.js';
import { deviceTopic } from '../../protocol/topics.js';

export interface TaskPublisherOptions {
  downstream: { publish(topic: string, payload: string | Buffer): Promise<void> };
  topicRoot: string;
  metrics: Metrics;
}

export class TaskPublisher {
  constructor(private readonly o: TaskPublisherOptions) {}

  /** Resolves when the broker has taken the message (queued for the device's session), so the
   *  outbox row can be marked sent. */
  async send(deviceId: string, message: TaskMessage): Promise<void> {
    await this.o.downstream.publish(deviceTopic(this.o.topicRoot, deviceId, 'tasks'), JSON.stringify(message));
    this.o.metrics.inc('dispatch_task_messages_total', { kind: message.kind });
  }
}
