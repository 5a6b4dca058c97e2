// Sends task messages to a worker's handset by the way its protocol can take them (issue 15):
// - native handsets: the `tasks` topic at QoS 1 through the broker of this node (Hub's Downstream:
//   the broker's own publish, no MQTT connection of the hub's); resolved once the broker took it;
// - JT/T 808 terminals: the same message as Chinese text on the terminal's screen (0x8300, through
//   the injected `deviceText`, which system.ts wires to the gateway: hub/ never imports gateways/),
//   resolved with the terminal's 0x0001 answer: `delivered` means shown, never accepted;
// - OwnTracks phones: nothing can reach them (no general text notification in the app): dropped
//   here and counted; dispatch asks the operators' screen for a phone call instead (decision 013).
// Offers are also an outbox in the database: one not yet taken is sent again at start.
import type { Metrics } from '../../common/metrics.js';
import type { DeviceProtocol } from '../../protocol/device-api.js';
import type { TaskReach } from '../../protocol/http-api.js';
import type { TaskMessage } from '../../protocol/schemas.js';
import { deviceTopic } from '../../protocol/topics.js';

/** A terminal's answer to a text (the JT/T 808 gateway's sendText outcomes). */
export type DeviceTextOutcome = 'delivered' | 'failed' | 'unsupported' | 'no_reply' | 'not_connected';

/** `published`: the broker took it (MQTT); `delivered`: the terminal said it shows it; else why not. */
export type TaskDelivery = 'published' | DeviceTextOutcome | 'no_channel';

export interface TaskPublisherOptions {
  downstream: { publish(topic: string, payload: string | Buffer): Promise<void> };
  topicRoot: string;
  metrics: Metrics;
  /** The registry's protocol of a device (hub/rows/device-directory.ts); unknown counts as native. */
  protocolOf?(deviceId: string): DeviceProtocol | undefined;
  /** Text to a JT/T 808 terminal's screen; without it such terminals cannot be reached either. */
  deviceText?(deviceId: string, text: string): Promise<DeviceTextOutcome>;
}

/** How a device of this protocol takes offers, given whether text to terminals is wired. */
export function reachOfProtocol(protocol: DeviceProtocol | undefined, textWired: boolean): TaskReach {
  if (protocol === 'jt808') return textWired ? 'text' : 'call';
  if (protocol === 'owntracks') return 'call';
  return 'device';
}

export class TaskPublisher {
  constructor(private readonly o: TaskPublisherOptions) {
    o.metrics.describe('dispatch_task_messages_total', 'task messages handed to a handset, by kind and way (mqtt, text) and outcome');
  }

  reach(deviceId: string): TaskReach {
    return reachOfProtocol(this.o.protocolOf?.(deviceId), this.o.deviceText !== undefined);
  }

  /**
   * `text` renders the message for a screen (only asked for when the device takes text). An MQTT
   * publish the broker refuses rejects (the outbox keeps the offer); a text that did not arrive
   * resolves with the reason, since a terminal that is away is not an error of the hub's.
   */
  async send(deviceId: string, message: TaskMessage, text: () => string): Promise<TaskDelivery> {
    const reach = this.reach(deviceId);
    if (reach === 'device') {
      await this.o.downstream.publish(deviceTopic(this.o.topicRoot, deviceId, 'tasks'), JSON.stringify(message));
      this.o.metrics.inc('dispatch_task_messages_total', { kind: message.kind, via: 'mqtt', outcome: 'published' });
      return 'published';
    }
    if (reach === 'text' && this.o.deviceText) {
      const outcome = await this.o.deviceText(deviceId, text());
      this.o.metrics.inc('dispatch_task_messages_total', { kind: message.kind, via: 'text', outcome });
      return outcome;
    }
    this.o.metrics.inc('dispatch_task_messages_total', { kind: message.kind, via: 'none', outcome: 'no_channel' });
    return 'no_channel';
  }
}
