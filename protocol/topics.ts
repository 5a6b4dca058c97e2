// MQTT topics of the wire contract v1 (DESIGN §3). Every topic string is built and parsed here.

export const DEFAULT_TOPIC_ROOT = 'grid/v1';

/** What a device sends to the hub. */
export const UPSTREAM_CHANNELS = ['location', 'status', 'presence', 'events', 'reports', 'task-replies'] as const;
/** What the hub sends to a device. */
export const DOWNSTREAM_CHANNELS = ['tasks'] as const;

export type UpstreamChannel = (typeof UPSTREAM_CHANNELS)[number];
export type DownstreamChannel = (typeof DOWNSTREAM_CHANNELS)[number];
export type Channel = UpstreamChannel | DownstreamChannel;

export const DEVICE_KINDS = ['handset', 'door', 'camera', 'sensor'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** Channels each kind of device may publish on; everything else is refused by the broker ACL. */
export const PUBLISH_CHANNELS: Record<DeviceKind, readonly UpstreamChannel[]> = {
  // events: a handset's own alarms (SOS button, power cut, tamper), e.g. a JT/T 808 terminal's alarm flags.
  handset: ['location', 'status', 'presence', 'reports', 'task-replies', 'events'],
  door: ['presence', 'events', 'status'],
  camera: ['presence', 'events', 'status'],
  // Contact, smoke, water-leak sensors (issue 15): they raise events like doors do.
  sensor: ['presence', 'events', 'status'],
};

/** Device ids: letters, digits, dash, underscore, dot; no MQTT wildcards or separators. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function deviceTopic(root: string, deviceId: string, channel: Channel): string {
  return `${root}/devices/${deviceId}/${channel}`;
}

/**
 * The hub's subscriptions: every device, each upstream channel. Not `devices/+/+`, which would hand
 * the hub back its own `tasks` publishes (MQTT 3.1.1 has no "no local").
 */
export function hubSubscriptions(root: string): string[] {
  return UPSTREAM_CHANNELS.map((c) => `${root}/devices/+/${c}`);
}

export interface ParsedTopic {
  deviceId: string;
  channel: Channel;
}

/** Parses `{root}/devices/{id}/{channel}`; null for anything else (the caller rejects it). */
export function parseDeviceTopic(root: string, topic: string): ParsedTopic | null {
  const prefix = `${root}/devices/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2) return null;
  const [deviceId, channel] = rest as [string, string];
  if (!DEVICE_ID_PATTERN.test(deviceId)) return null;
  if (!(UPSTREAM_CHANNELS as readonly string[]).includes(channel) && !(DOWNSTREAM_CHANNELS as readonly string[]).includes(channel)) {
    return null;
  }
  return { deviceId, channel: channel as Channel };
}

/** Topic depth limit the broker enforces: root segments + devices/{id}/{channel}. */
export function maxTopicDepth(root: string): number {
  return root.split('/').length + 3;
}
