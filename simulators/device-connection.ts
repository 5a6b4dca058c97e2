// How every simulated device connects (DESIGN §3): username = clientId = device id, password =
// secret; last will = presence offline, retained, QoS 1; presence online, retained, on every connect.
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../common/clock.js';
import type { PresencePayload } from '../protocol/schemas.js';
import { deviceTopic } from '../protocol/topics.js';

export interface DeviceConnectionOptions {
  mqttUrl: string;
  topicRoot: string;
  id: string;
  secret: string;
  clock: Clock;
  /**
   * Persistent session by default: task offers sent while a handset is out of coverage are
   * delivered when it comes back, as a real handset app would want.
   */
  clean?: boolean;
  reconnectPeriodMs?: number;
}

export function presence(online: boolean, clock: Clock): string {
  const p: PresencePayload = { online, ts: clock.now() };
  return JSON.stringify(p);
}

export function connectDevice(o: DeviceConnectionOptions): MqttClient {
  const presenceTopic = deviceTopic(o.topicRoot, o.id, 'presence');
  const client = mqtt.connect(o.mqttUrl, {
    clientId: o.id,
    username: o.id,
    password: o.secret,
    clean: o.clean ?? false,
    keepalive: 30,
    reconnectPeriod: o.reconnectPeriodMs ?? 2000,
    connectTimeout: 10_000,
    // The will's ts is fixed when the connection is made, so it says when the device was last
    // seen connecting, not when it dropped; the hub stamps presence with its own receive time too.
    will: { topic: presenceTopic, payload: Buffer.from(presence(false, o.clock)), qos: 1, retain: true },
  });
  client.on('connect', () => {
    client.publish(presenceTopic, presence(true, o.clock), { qos: 1, retain: true });
  });
  return client;
}

/**
 * Says goodbye properly: presence offline (a clean DISCONNECT suppresses the will), then end.
 * Bounded, so a dead broker cannot hold up a shutdown.
 */
export async function closeDevice(client: MqttClient, topicRoot: string, id: string, clock: Clock, timeoutMs = 2000): Promise<void> {
  const bye = async (): Promise<void> => {
    if (client.connected)
      await client.publishAsync(deviceTopic(topicRoot, id, 'presence'), presence(false, clock), { qos: 1, retain: true });
    await client.endAsync();
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([bye().catch(() => undefined), timeout]);
  clearTimeout(timer);
  if (!client.disconnected) await client.endAsync(true).catch(() => undefined);
}

/** Drops the connection the way a lost signal does: no DISCONNECT, so the broker fires the will. */
export async function dropDevice(client: MqttClient): Promise<void> {
  await client.endAsync(true).catch(() => undefined);
}
