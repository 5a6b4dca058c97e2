// A fixed device (door access or camera) on a real MQTT connection: AlertModel decides when,
// this file publishes on the device's `events` topic. Driven by tick(), like the handsets.
import type { MqttClient } from 'mqtt';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { AlertPayload } from '../protocol/schemas.js';
import { deviceTopic } from '../protocol/topics.js';
import { AlertModel, type AlertProfile } from './alert-model.js';
import type { DemoFixedDevice } from './demo-district.js';
import { closeDevice, connectDevice } from './device-connection.js';
import type { Rng } from './rng.js';

export interface AlertDeviceSimOptions {
  mqttUrl: string;
  topicRoot: string;
  device: DemoFixedDevice;
  profile: AlertProfile;
  clock: Clock;
  logger: Logger;
  rng: Rng;
  /** Mean seconds between alerts of this device (config.SIM_ALERT_EVERY_S). */
  alertEveryS: number;
  /** Called with every alert published, for tests and tallies. */
  onAlert?: (alert: AlertPayload) => void;
}

export class AlertDeviceSim {
  readonly id: string;
  private model: AlertModel | null = null;
  private client: MqttClient | null = null;
  private stopped = false;
  private readonly log: Logger;
  readonly stats = { alerts: 0, connectErrors: 0 };

  constructor(private readonly o: AlertDeviceSimOptions) {
    this.id = o.device.id;
    this.log = o.logger.child({ mod: `${o.device.kind}-sim`, device: this.id });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    if (this.model || this.stopped) return;
    this.model = new AlertModel({
      deviceId: this.id,
      profile: this.o.profile,
      rng: this.o.rng,
      startMs: this.o.clock.now(),
      meanEveryS: this.o.alertEveryS,
    });
    // Fixed devices sit on wired networks: clean sessions, nothing to receive.
    const client = connectDevice({
      mqttUrl: this.o.mqttUrl,
      topicRoot: this.o.topicRoot,
      id: this.id,
      secret: this.o.device.secret,
      clock: this.o.clock,
      clean: true,
    });
    client.on('error', (err) => {
      if (this.stopped) return; // errors of a connection being closed on purpose say nothing
      this.stats.connectErrors++;
      if (this.stats.connectErrors === 1) this.log.warn({ err: err.message }, 'device connection error');
    });
    this.client = client;
  }

  /** Resolves once connected (immediately if already). */
  whenConnected(): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error(`${this.id} not started`));
    if (client.connected) return Promise.resolve();
    return new Promise((resolve) => client.once('connect', () => resolve()));
  }

  tick(): void {
    if (!this.model || this.stopped) return;
    for (const alert of this.model.tick(this.o.clock.now())) {
      this.stats.alerts++;
      this.client?.publish(deviceTopic(this.o.topicRoot, this.id, 'events'), JSON.stringify(alert), { qos: 1 });
      this.o.onAlert?.(alert);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    this.client = null;
    if (client) await closeDevice(client, this.o.topicRoot, this.id, this.o.clock);
  }
}
