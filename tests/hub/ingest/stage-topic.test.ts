// The topic stage: only `{root}/devices/{id}/{upstream channel}` gets in, and it names the device
// and the channel for the stages after it.
import { describe, expect, it } from 'vitest';
import { topicStage } from '../../../hub/ingest/stage-topic.js';
import { aContext } from './ingest-context.js';

const stage = topicStage('grid/v1');

describe('topic stage', () => {
  it('reads the device and the channel of every upstream topic', () => {
    for (const channel of ['location', 'status', 'presence', 'events', 'reports', 'task-replies']) {
      const ctx = aContext({ topic: `grid/v1/devices/hs-1/${channel}` });
      expect(stage.run(ctx)).toBeUndefined();
      expect(ctx.deviceId).toBe('hs-1');
      expect(ctx.channel).toBe(channel);
    }
  });

  it('refuses another root, another shape, an unknown channel and a device id with MQTT wildcards', () => {
    for (const topic of [
      'other/v1/devices/hs-1/location',
      'grid/v1/devices/hs-1',
      'grid/v1/devices/hs-1/location/extra',
      'grid/v1/devices/hs-1/firmware',
      'grid/v1/devices/+/location',
      'grid/v1/devices/#/location',
      'grid/v1/devices//location',
    ]) {
      const ctx = aContext({ topic });
      expect(stage.run(ctx), topic).toEqual({ reject: 'unknown_topic' });
      expect(ctx.channel, topic).toBeUndefined();
    }
  });

  it('reads a topic seen before the same way, and a refused one is refused again', () => {
    for (let round = 0; round < 2; round++) {
      const ok = aContext({ topic: 'grid/v1/devices/hs-7/status' });
      expect(stage.run(ok)).toBeUndefined();
      expect([ok.deviceId, ok.channel]).toEqual(['hs-7', 'status']);
      const other = aContext({ topic: 'grid/v1/devices/hs-8/status' });
      expect(stage.run(other)).toBeUndefined();
      expect(other.deviceId).toBe('hs-8');
      expect(stage.run(aContext({ topic: 'grid/v1/devices/hs-7/tasks' }))).toEqual({ reject: 'downstream_topic' });
      expect(stage.run(aContext({ topic: 'grid/v1/devices/hs-7/firmware' }))).toEqual({ reject: 'unknown_topic' });
    }
  });

  it("refuses the hub's own tasks topic as input, naming the device for the dead letter", () => {
    const ctx = aContext({ topic: 'grid/v1/devices/hs-1/tasks' });
    expect(stage.run(ctx)).toEqual({ reject: 'downstream_topic' });
    expect(ctx.deviceId).toBe('hs-1');
    expect(ctx.channel).toBeUndefined();
  });
});
