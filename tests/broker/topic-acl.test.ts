// The publish ACL remembers the topics each connection was allowed, never across connections.
import type { Client, PublishPacket } from 'aedes';
import { expect, it } from 'vitest';
import { TopicAcl } from '../../broker/topic-acl.js';
import type { Identity } from '../../broker/device-auth.js';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';

it("remembers a connection's allowed topics for that connection only, and decides QoS 2 afresh", () => {
  const a = { id: 'hs-a' } as Client;
  const b = { id: 'hs-b' } as Client;
  const ids = new Map<Client, Identity>([
    [a, { service: false, deviceId: 'hs-a', kind: 'handset', protocol: 'native' } as Identity],
    [b, { service: false, deviceId: 'hs-b', kind: 'handset', protocol: 'native' } as Identity],
  ]);
  const metrics = new Metrics();
  const acl = new TopicAcl('grid/v1', (c) => ids.get(c), metrics, silentLogger);
  const publish = (topic: string, qos: 0 | 1 | 2) => ({ cmd: 'publish', topic, qos, payload: Buffer.alloc(0) }) as unknown as PublishPacket;
  const topic = 'grid/v1/devices/hs-a/location';
  expect(acl.checkPublish(a, publish(topic, 1))).toBeNull();
  expect(acl.checkPublish(a, publish(topic, 1))).toBeNull();
  expect(acl.checkPublish(b, publish(topic, 1))?.message).toBe('publish refused: foreign_device');
  expect(acl.checkPublish(a, publish(topic, 2))?.message).toBe('publish refused: qos2');
  expect(acl.checkPublish(null, publish(topic, 1))?.message).toBe('publish refused: orphan_will');
  expect(metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'foreign_device' })).toBe(1);
});
