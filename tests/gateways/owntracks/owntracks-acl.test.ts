// The broker's ACL for OwnTracks phones, and its agreement with the sink's own topic grammar
// (broker/topic-acl.ts repeats it so the broker imports no gateway).
import { describe, expect, it } from 'vitest';
import { TopicAcl } from '../../../broker/topic-acl.js';
import type { Identity } from '../../../broker/device-auth.js';
import { Metrics } from '../../../common/metrics.js';
import { silentLogger } from '../../../common/logger.js';
import { OWNTRACKS_PUBLISH_SUBTOPICS, parseOwnTracksTopic } from '../../../protocol/owntracks-topics.js';

const acl = new TopicAcl('grid/v1', () => undefined, new Metrics(), silentLogger);
const phone: Identity = { service: false, deviceId: 'ot-1', kind: 'handset', protocol: 'owntracks' };
const native: Identity = { service: false, deviceId: 'hs-1', kind: 'handset', protocol: 'native' };
const service: Identity = { service: true, username: 'hub' };

describe('an OwnTracks phone publishes', () => {
  it.each([
    ['owntracks/ot-1/phone', null],
    ['owntracks/ot-1/phone/event', null],
    ...OWNTRACKS_PUBLISH_SUBTOPICS.map((s) => [`owntracks/ot-1/mi8/${s}`, null] as [string, null]),
    ['owntracks/ot-2/phone', 'foreign_device'],
    ['owntracks/ot-2/phone/event', 'foreign_device'],
    ['owntracks/ot-1/phone/cmd', 'channel_not_allowed'],
    ['owntracks/ot-1/phone/event/x', 'unknown_topic'],
    ['owntracks/ot-1', 'unknown_topic'],
    ['owntracks/ot-1/', 'unknown_topic'],
    ['grid/v1/devices/ot-1/location', 'unknown_topic'],
    ['$SYS/x', 'system_topic'],
  ])('%s → %s', (topic, reason) => {
    expect(acl.publishRefusal(phone, topic)).toBe(reason);
  });

  it('only what the sink can parse, and everything the sink can parse', () => {
    const topics = [
      'owntracks/ot-1/phone',
      'owntracks/ot-1/phone/cmd',
      'owntracks/ot-1/a b',
      'owntracks/ot-1/phone/x',
      ...OWNTRACKS_PUBLISH_SUBTOPICS.map((s) => `owntracks/ot-1/phone/${s}`),
    ];
    for (const t of topics) expect(acl.publishRefusal(phone, t) === null, t).toBe(parseOwnTracksTopic(t) !== null);
  });
});

describe('an OwnTracks phone subscribes', () => {
  it.each([
    ['owntracks/ot-1/phone/cmd', null],
    ['owntracks/ot-1/+/cmd', null],
    ['owntracks/+/+', 'foreign_topic'],
    ['owntracks/+/+/event', 'foreign_topic'],
    ['owntracks/ot-2/phone/cmd', 'foreign_topic'],
    ['owntracks/ot-1/#', 'foreign_topic'],
    ['owntracks/ot-1/phone', 'foreign_topic'],
    ['grid/v1/devices/ot-1/tasks', 'foreign_topic'],
    ['$SYS/#', 'system_topic'],
  ])('%s → %s', (topic, reason) => {
    expect(acl.subscribeRefusal(phone, topic)).toBe(reason);
  });
});

describe('others and OwnTracks topics', () => {
  it('a native device may not publish OwnTracks topics', () => {
    expect(acl.publishRefusal(native, 'owntracks/hs-1/phone')).toBe('unknown_topic');
    expect(acl.subscribeRefusal(native, 'owntracks/hs-1/phone/cmd')).toBe('foreign_topic');
  });

  it('the service account may watch them and send a phone its cmd', () => {
    expect(acl.subscribeRefusal(service, 'owntracks/#')).toBeNull();
    expect(acl.publishRefusal(service, 'owntracks/ot-1/phone/cmd')).toBeNull();
    expect(acl.publishRefusal(service, 'owntracks/ot-1/phone')).toBe('outside_root');
  });

  it('a last will with no live client may not speak for a phone', () => {
    expect(acl.orphanWillRefusal('owntracks/ot-1/phone')).toBe('orphan_will');
  });
});
