// Which messages cross nodes (broker/routed-mq.ts): `emit` decides by the message's exact topic with
// `topicMatchesFilter`, which must say what `filtersOverlap` says of an exact topic. Aedes' takeover
// notices of one turn cross in one Redis message and reach every node's listeners, each once.
import { Redis } from 'ioredis';
import type { Message } from 'mqemitter';
import { describe, expect, it } from 'vitest';
import { createRoutedMq, crossingFilters, filtersOverlap, TAKEOVERS_TOPIC, topicMatchesFilter } from '../../broker/routed-mq.js';
import { startRedis } from '../../testkit/redis-server.js';

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

it("delivers a turn's takeover notices to every node once each, in one Redis message", async () => {
  const redis = await startRedis();
  const mk = () => createRoutedMq({ topicRoot: 'grid/v1', redisUrl: redis.url, concurrency: 100, onError: () => {} });
  const nodes = [mk(), mk()];
  const watcher = new Redis(redis.url);
  try {
    const heard: string[][] = [[], []];
    let resolveAll = () => {};
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    // Subscribed at once, as Aedes does at its start (a subscription sent while ioredis runs its
    // ready check fails it); each node's are made in order on one connection, so once these are
    // confirmed the batch subscription made at creation is in place too.
    const subscribed = Promise.all(
      nodes.map(
        (node, i) =>
          new Promise<void>((subscribed) =>
            node.mq.on(
              '$SYS/+/new/clients',
              (m: Message, done: () => void) => {
                heard[i]!.push(`${m.topic} ${String(m.payload)}`);
                if (heard[0]!.length === 3 && heard[1]!.length === 3) resolveAll();
                done();
              },
              subscribed,
            ),
          ),
      ),
    );
    await subscribed;
    let redisMessages = 0;
    watcher.on('message', () => redisMessages++);
    await watcher.subscribe(TAKEOVERS_TOPIC);
    const sent: Promise<void>[] = [];
    for (const id of ['hs-1', 'hs-2', 'hs-3'])
      sent.push(
        new Promise<void>((resolve, reject) =>
          nodes[0]!.mq.emit({ topic: '$SYS/node-a/new/clients', payload: Buffer.from(id) }, (err?: Error) =>
            err ? reject(err) : resolve(),
          ),
        ),
      );
    await Promise.all(sent);
    await all;
    const expected = ['hs-1', 'hs-2', 'hs-3'].map((id) => `$SYS/node-a/new/clients ${id}`);
    expect(heard).toEqual([expected, expected]);
    expect(redisMessages).toBe(1);
  } finally {
    watcher.disconnect();
    for (const node of nodes) await new Promise<void>((r) => node.mq.close(r));
    await redis.stop();
  }
});
