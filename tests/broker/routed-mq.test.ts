// Which messages cross nodes (broker/routed-mq.ts): `emit` decides by the message's exact topic with
// `topicMatchesFilter`, which must say what `filtersOverlap` says of an exact topic.
import { describe, expect, it } from 'vitest';
import { crossingFilters, filtersOverlap, topicMatchesFilter } from '../../broker/routed-mq.js';

const topics = [
  'grid/v1/devices/hs-1/tasks',
  'grid/v1/devices/hs-1/location',
  'grid/v1/devices/hs-1/presence',
  'grid/v1/devices//tasks',
  'grid/v1/devices/hs-1/tasks/x',
  'grid/v1/devices/tasks',
  'grid/v2/devices/hs-1/tasks',
  '$SYS/broker-1/new/clients',
  '$SYS/broker-1/disconnect/clients',
  '$SYS/broker-1/heartbeat',
  '$SYS//new/clients',
  '$GRID/devices/changed',
  '$GRID/regions/changed',
  '$GRID/devices',
  'owntracks/hs-1/phone/cmd',
  'a',
  'a/',
  '/a',
  '',
];
const filters = [...crossingFilters('grid/v1'), '#', '+', 'a/#', 'a/+', '+/+', '/+', 'a', '+/#', 'grid/+/devices/#', '$SYS/#'];

describe('routed mq', () => {
  it('matches exact topics against filters as filtersOverlap does', () => {
    for (const t of topics) for (const f of filters) expect([t, f, topicMatchesFilter(t, f)]).toEqual([t, f, filtersOverlap(t, f)]);
  });

  it('sends tasks, takeovers and registry notices across nodes, and keeps telemetry in the node', () => {
    const crossing = crossingFilters('grid/v1');
    const crosses = (t: string) => crossing.some((c) => topicMatchesFilter(t, c));
    expect(crosses('grid/v1/devices/hs-1/tasks')).toBe(true);
    expect(crosses('$SYS/b1/new/clients')).toBe(true);
    expect(crosses('$GRID/devices/changed')).toBe(true);
    expect(crosses('$GRID/regions/changed')).toBe(true);
    expect(crosses('grid/v1/devices/hs-1/location')).toBe(false);
    expect(crosses('grid/v1/devices/hs-1/presence')).toBe(false);
    expect(crosses('$SYS/b1/heartbeat')).toBe(false);
    expect(crosses('$SYS/b1/disconnect/clients')).toBe(false);
  });
});
