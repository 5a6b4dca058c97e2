// Subscribes to every device topic and lets a test await what arrives (no sleeps).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  deviceId: string;
  channel: string;
  json: unknown;
  retain: boolean;
}

export class Collector {
  readonly messages: Received[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private constructor(readonly client: MqttClient) {}

  /** `options`: credentials when the broker authenticates (e.g. the hub's service account). */
  static async start(url: string, root = 'grid/v1', options: IClientOptions = {}): Promise<Collector> {
    const client = await mqtt.connectAsync(url, { clientId: `collector-${process.pid}-${Date.now()}`, reconnectPeriod: 0, ...options });
    const c = new Collector(client);
    client.on('message', (topic, payload, packet) => {
      const [, deviceId = '', channel = ''] = topic.slice(root.length + 1).split('/');
      c.messages.push({ topic, deviceId, channel, json: parseOrNull(payload.toString('utf8')), retain: packet.retain });
      c.waiters = c.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
    });
    await client.subscribeAsync(`${root}/devices/+/+`, { qos: 1 });
    return c;
  }

  of(deviceId: string, channel: string): Received[] {
    return this.messages.filter((m) => m.deviceId === deviceId && m.channel === channel);
  }

  /** Resolves as soon as the condition holds over what has arrived (the test timeout bounds it). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
