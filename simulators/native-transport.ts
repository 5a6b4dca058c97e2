// The native handset: the wire contract (DESIGN §3) on MQTT.js. Fixes, batches, status, task
// replies and reports on the device's own topics, QoS 1, persistent session; subscribes to its own
// `tasks` topic on every connect.
import type { MqttClient } from 'mqtt';
import { deviceTopic, type UpstreamChannel } from '../protocol/topics.js';
import { closeDevice, connectDevice, dropDevice } from './device-connection.js';
import type { HandsetTransport, TransportContext, UpstreamOutput } from './handset-transport.js';

const CHANNEL: Record<UpstreamOutput['kind'], UpstreamChannel> = {
  fix: 'location',
  batch: 'location',
  status: 'status',
  reply: 'task-replies',
  report: 'reports',
};

export class NativeTransport implements HandsetTransport {
  private client: MqttClient | null = null;
  private closed = false;

  constructor(private readonly c: TransportContext) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  open(): void {
    if (this.closed) return;
    const { c } = this;
    const id = c.handset.id;
    const client = connectDevice({ mqttUrl: c.mqttUrl, topicRoot: c.topicRoot, id, secret: c.handset.secret, clock: c.clock });
    this.client = client;
    const tasks = deviceTopic(c.topicRoot, id, 'tasks');
    client.on('connect', () => {
      if (this.client !== client) return;
      client.subscribe(tasks, { qos: 1 });
      c.hooks.up();
    });
    client.on('message', (topic, payload) => {
      if (topic === tasks) c.hooks.task(payload);
    });
    client.on('error', (err) => {
      // Errors of a connection closed on purpose (stop, simulated outage) say nothing.
      if (this.closed || this.client !== client) return;
      c.hooks.error(err.message);
    });
  }

  send(out: UpstreamOutput): boolean {
    // Published while a (re)connect is under way, MQTT.js queues QoS 1 messages until it is up.
    this.client?.publish(deviceTopic(this.c.topicRoot, this.c.handset.id, CHANNEL[out.kind]), JSON.stringify(out.payload), { qos: 1 });
    return true;
  }

  drop(): void {
    const client = this.client;
    this.client = null;
    if (client) void dropDevice(client);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client) await closeDevice(client, this.c.topicRoot, this.c.handset.id, this.c.clock);
  }

  tick(): void {}
}
