// Topic ACL (DESIGN §3): a device publishes only on its own upstream channels and subscribes only
// to its own tasks; no wildcards, no `$` topics. The hub's service account may do anything under
// the topic root. Refusals are counted and logged; nothing else happens to the connection state.
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { PUBLISH_CHANNELS, deviceTopic, parseDeviceTopic, type UpstreamChannel } from '../protocol/topics.js';
import type { Identity } from './device-auth.js';

export class TopicAcl {
  constructor(
    private readonly root: string,
    private readonly identityOf: (client: Client) => Identity | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  authorizePublish = (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    const identity = client ? this.identityOf(client) : undefined;
    const reason = !client
      ? this.orphanWillRefusal(packet.topic)
      : packet.qos === 2 && identity && !identity.service
        ? 'qos2' // decision 009: a device has no use for it, and it parks messages in our memory
        : this.publishRefusal(identity, packet.topic);
    if (!reason) return done(null);
    this.metrics.inc('mqtt_acl_denied_total', { op: 'publish', reason });
    this.log.warn({ clientId: client?.id ?? null, topic: packet.topic.slice(0, 200), reason }, 'mqtt publish refused');
    done(new Error(`publish refused: ${reason}`));
  };

  authorizeSubscribe = (client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void => {
    const reason = this.subscribeRefusal(this.identityOf(client), sub.topic);
    if (!reason) return done(null, sub);
    this.metrics.inc('mqtt_acl_denied_total', { op: 'subscribe', reason });
    this.log.warn({ clientId: client.id, topic: sub.topic.slice(0, 200), reason }, 'mqtt subscribe refused');
    // null → SUBACK with failure code 0x80 for this topic; the connection stays up.
    done(null, null);
  };

  publishRefusal(identity: Identity | undefined, topic: string): string | null {
    if (!identity) return 'unauthenticated';
    if (topic.startsWith('$')) return 'system_topic';
    if (identity.service) return topic.startsWith(`${this.root}/`) ? null : 'outside_root';
    const parsed = parseDeviceTopic(this.root, topic);
    if (!parsed) return 'unknown_topic';
    if (parsed.deviceId !== identity.deviceId) return 'foreign_device';
    if (!(PUBLISH_CHANNELS[identity.kind] as readonly string[]).includes(parsed.channel as UpstreamChannel)) return 'channel_not_allowed';
    return null;
  }

  /**
   * Aedes calls authorizePublish with no client only for the will of a client it no longer holds
   * (`_clearWills`: a session whose node died). Such a will may say only what a will is for here,
   * that a device went offline: its own presence topic, nothing else (issue 16, item 7).
   */
  orphanWillRefusal(topic: string): string | null {
    const parsed = parseDeviceTopic(this.root, topic);
    return parsed?.channel === 'presence' ? null : 'orphan_will';
  }

  subscribeRefusal(identity: Identity | undefined, topic: string): string | null {
    if (!identity) return 'unauthenticated';
    if (topic.startsWith('$')) return 'system_topic';
    if (identity.service) return topic.startsWith(`${this.root}/`) ? null : 'outside_root';
    if (topic.includes('+') || topic.includes('#')) return 'wildcard';
    if (topic !== deviceTopic(this.root, identity.deviceId, 'tasks')) return 'foreign_topic';
    return null;
  }
}
