// Topic ACL (DESIGN §3): a device publishes only on its own upstream channels and subscribes only
// to its own tasks; no wildcards, no `$` topics. The hub's service account may do anything under
// the topic root. Refusals are counted and logged; nothing else happens to the connection state.
// An OwnTracks phone (protocol `owntracks`, gateways/owntracks) speaks the app's own topics instead:
// it publishes only under `owntracks/{its device id}/{app device}[/{subtopic}]` and subscribes only
// to its own `…/cmd`; the ingest sink translates what it publishes (gateways/owntracks/owntracks-sink.ts).
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { PUBLISH_CHANNELS, deviceTopic, parseDeviceTopic, type UpstreamChannel } from '../protocol/topics.js';
import type { Identity } from './device-auth.js';

export class TopicAcl {
  /**
   * Topics each connection has been allowed to publish on. The decision depends only on the
   * connection's identity, fixed at its CONNECT, and the topic, and a device uses a handful of
   * topics, so it is made once per topic and connection: parsing the topic on every fix was
   * 1.2 % of a node's busy time in `bench:nodes` at 3,000 handsets. QoS 2 is refused to devices
   * whatever the topic, so a QoS 2 publish is always decided afresh.
   */
  private readonly allowed = new WeakMap<Client, Set<string>>();

  constructor(
    private readonly root: string,
    private readonly identityOf: (client: Client) => Identity | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Conformance test mode only: clients let in without credentials (DeviceAuth.anonymous). */
    private readonly isAnonymous: (client: Client) => boolean = () => false,
  ) {}

  authorizePublish = (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    done(this.checkPublish(client, packet));
  };

  /** The ACL's answer to a publish: null when allowed, else the error Aedes gets (counted and logged). */
  checkPublish(client: Client | null, packet: PublishPacket): Error | null {
    const seen = client && packet.qos !== 2 ? this.allowed.get(client) : undefined;
    if (seen?.has(packet.topic)) return null;
    const identity = client ? this.identityOf(client) : undefined;
    const reason = !client
      ? this.orphanWillRefusal(packet.topic)
      : this.isAnonymous(client)
        ? conformancePublishRefusal(packet.topic)
        : packet.qos === 2 && identity && !identity.service
          ? 'qos2' // decision 009: a device has no use for it, and it parks messages in our memory
          : this.publishRefusal(identity, packet.topic);
    if (!reason) {
      if (client) this.remember(client, packet.topic);
      return null;
    }
    this.metrics.inc('mqtt_acl_denied_total', { op: 'publish', reason });
    this.log.warn({ clientId: client?.id ?? null, topic: packet.topic.slice(0, 200), reason }, 'mqtt publish refused');
    return new Error(`publish refused: ${reason}`);
  }

  private remember(client: Client, topic: string): void {
    let seen = this.allowed.get(client);
    if (!seen) this.allowed.set(client, (seen = new Set()));
    // A device has six channels at most; the service account and conformance clients may use
    // any number of topics, so their sets start again rather than grow.
    if (seen.size >= 16) seen.clear();
    seen.add(topic);
  }

  authorizeSubscribe = (client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void => {
    const reason = this.isAnonymous(client)
      ? conformanceSubscribeRefusal(sub.topic)
      : this.subscribeRefusal(this.identityOf(client), sub.topic);
    if (!reason) return done(null, sub);
    this.metrics.inc('mqtt_acl_denied_total', { op: 'subscribe', reason });
    this.log.warn({ clientId: client.id, topic: sub.topic.slice(0, 200), reason }, 'mqtt subscribe refused');
    // null → SUBACK with failure code 0x80 for this topic; the connection stays up.
    done(null, null);
  };

  publishRefusal(identity: Identity | undefined, topic: string): string | null {
    if (!identity) return 'unauthenticated';
    if (topic.startsWith('$')) return 'system_topic';
    if (identity.service) return topic.startsWith(`${this.root}/`) || isOwnTracksCmd(topic) ? null : 'outside_root';
    if (identity.protocol === 'owntracks') return ownTracksPublishRefusal(identity.deviceId, topic);
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
    // The service account may also watch the OwnTracks phones (a Recorder, Home Assistant).
    if (identity.service) return topic.startsWith(`${this.root}/`) || topic.startsWith(`${OWNTRACKS}/`) ? null : 'outside_root';
    if (identity.protocol === 'owntracks') return ownTracksSubscribeRefusal(identity.deviceId, topic);
    if (topic.includes('+') || topic.includes('#')) return 'wildcard';
    if (topic !== deviceTopic(this.root, identity.deviceId, 'tasks')) return 'foreign_topic';
    return null;
  }
}

// ---- OwnTracks phones (issue 15 §2) -------------------------------------------------------------
// The grammar is protocol/owntracks-topics.ts's, repeated here so the broker imports no
// gateway (the gateway's HTTP door uses the broker's backoff); tests/gateways/owntracks checks that
// the two agree.

const OWNTRACKS = 'owntracks';
/** What the apps publish under their base topic (booklet, JSON → Topics). Not `cmd`: that is ours. */
const OWNTRACKS_SUBTOPICS = new Set(['event', 'waypoint', 'waypoints', 'status', 'step', 'beacon', 'dump']);
/** The app's own device name (`deviceId` in its settings): no separators or wildcards. */
const OWNTRACKS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function isOwnTracksCmd(topic: string): boolean {
  const p = topic.split('/');
  return p.length === 4 && p[0] === OWNTRACKS && p[3] === 'cmd' && OWNTRACKS_NAME.test(p[1]!) && OWNTRACKS_NAME.test(p[2]!);
}

/** `owntracks/{own id}/{name}` or `owntracks/{own id}/{name}/{one of the app's subtopics}`. */
export function ownTracksPublishRefusal(deviceId: string, topic: string): string | null {
  const p = topic.split('/');
  if (p[0] !== OWNTRACKS || p.length < 3 || p.length > 4 || !OWNTRACKS_NAME.test(p[2]!)) return 'unknown_topic';
  if (p[1] !== deviceId) return 'foreign_device';
  if (p.length === 4 && !OWNTRACKS_SUBTOPICS.has(p[3]!)) return 'channel_not_allowed';
  return null;
}

/** Only its own commands: `owntracks/{own id}/{name}/cmd` or `owntracks/{own id}/+/cmd`. */
export function ownTracksSubscribeRefusal(deviceId: string, topic: string): string | null {
  if (topic.startsWith('$')) return 'system_topic';
  const p = topic.split('/');
  if (p.length !== 4 || p[0] !== OWNTRACKS || p[3] !== 'cmd') return 'foreign_topic';
  if (p[1] !== deviceId) return 'foreign_topic';
  if (p[2] !== '+' && !OWNTRACKS_NAME.test(p[2]!)) return 'wildcard';
  return null;
}

// ---- Conformance test mode (issue 16 item 6) ----------------------------------------------------
// The Paho interoperability tests (eclipse/paho.mqtt.testing, client_test.py) connect without
// credentials and use any topic; they expect a subscription to `test/nosubscribe` to be refused
// (SUBACK 0x80) and `$` topics to be publishable but never matched by a leading wildcard (Aedes).
// Only a broker started with `conformanceTest` has anonymous clients; production never does.

export const CONFORMANCE_NOSUBSCRIBE = 'test/nosubscribe';

export function conformancePublishRefusal(topic: string): string | null {
  return topic.startsWith('$SYS/') ? 'system_topic' : null;
}

export function conformanceSubscribeRefusal(topic: string): string | null {
  return topic === CONFORMANCE_NOSUBSCRIBE ? 'not_allowed' : null;
}
