// The OwnTracks ingest sink without I/O: what it submits, in which order, when its promise resolves
// (only once every submit has: the PUBACK/200 wait for it), what it dead-letters, what it passes through.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import { OwnTracksIngest, type DeadLetter } from '../../../gateways/owntracks/owntracks-sink.js';
import { fixture, fixtureWith } from './owntracks-fixtures.js';

interface Pending {
  topic: string;
  body: Record<string, unknown>;
  commit(): void;
}

function rig(opts: { deadLetterFails?: boolean } = {}) {
  const clock = new ManualClock(Date.parse('2025-11-25T08:30:00Z'));
  const submitted: Pending[] = [];
  const raw: { topic: string; payload: Buffer }[] = [];
  const deadLetters: DeadLetter[] = [];
  const metrics = new Metrics();
  const ingest = new OwnTracksIngest({
    submit: (topic, payload) =>
      new Promise<void>((resolve) => {
        raw.push({ topic, payload });
        submitted.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, commit: resolve });
      }),
    topicRoot: 'grid/v1',
    deadLetter: async (d) => {
      if (opts.deadLetterFails) throw new Error('database away');
      deadLetters.push(d);
    },
    metrics,
    logger: silentLogger,
    clock,
  });
  return { ingest, submitted, raw, deadLetters, metrics, clock };
}

/** Whether the promise has settled by the time queued work has run. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('OwnTracksIngest', () => {
  it('submits online presence before the first fix, and resolves only when both are committed', async () => {
    const { ingest, submitted, clock } = rig();
    const p = ingest.sink('owntracks/ot-1/phone', fixture('location-android.json'));
    expect(submitted.map((s) => s.topic)).toEqual(['grid/v1/devices/ot-1/presence', 'grid/v1/devices/ot-1/location']);
    expect(submitted[0]!.body).toEqual({ online: true, ts: clock.now(), source: 'owntracks' });
    expect(submitted[1]!.body).toMatchObject({ ts: 1764057600_000, lat: 27.87123, speed: 1.39 });
    submitted[1]!.commit();
    expect(await settled(p)).toBe(false);
    submitted[0]!.commit();
    expect(await settled(p)).toBe(true);
  });

  it('sends presence once while online, again after a last will', async () => {
    const { ingest, submitted } = rig();
    const channels = () => submitted.map((s) => s.topic.split('/').pop());
    const all = async (p: Promise<void>) => {
      for (const s of submitted) s.commit();
      await p;
    };
    await all(ingest.sink('owntracks/ot-1/phone', fixture('location-minimal.json')));
    await all(ingest.sink('owntracks/ot-1/phone', fixtureWith('location-minimal.json', { tst: 1764057701 })));
    expect(channels()).toEqual(['presence', 'location', 'location']);
    await all(ingest.sink('owntracks/ot-1/phone', fixture('lwt.json')));
    expect(submitted.at(-1)!.body).toMatchObject({ online: false });
    await all(ingest.sink('owntracks/ot-1/phone', fixtureWith('location-minimal.json', { tst: 1764057702 })));
    expect(channels()).toEqual(['presence', 'location', 'location', 'presence', 'presence', 'location']);
    expect(submitted.at(-2)!.body).toMatchObject({ online: true });
  });

  it('turns a transition on /event into a device event', async () => {
    const { ingest, submitted } = rig();
    const p = ingest.sink('owntracks/ot-1/phone/event', fixture('transition-enter.json'));
    expect(submitted.map((s) => s.topic)).toEqual(['grid/v1/devices/ot-1/events']);
    expect(submitted[0]!.body).toMatchObject({ type: 'handset.geofence_enter', eventId: 'owntracks:enter:f7676c:1764057800' });
    submitted[0]!.commit();
    await p;
  });

  it('dead-letters what the hub cannot use, under the original topic, and counts it by reason', async () => {
    const { ingest, submitted, deadLetters, metrics } = rig();
    await ingest.sink('owntracks/ot-1/phone/waypoint', fixture('waypoint.json'));
    await ingest.sink('owntracks/ot-1/phone', fixture('truncated.txt'));
    await ingest.sink('owntracks/ot-1/phone/nonsense', fixture('location-minimal.json'));
    expect(submitted).toEqual([]);
    expect(deadLetters.map((d) => [d.topic, d.deviceId, d.reason.split(':')[0]])).toEqual([
      ['owntracks/ot-1/phone/waypoint', 'ot-1', 'owntracks_unsupported_type'],
      ['owntracks/ot-1/phone', 'ot-1', 'owntracks_bad_json'],
      ['owntracks/ot-1/phone/nonsense', null, 'owntracks_unknown_topic'],
    ]);
    expect(deadLetters[0]!.payload.equals(fixture('waypoint.json'))).toBe(true);
    expect(metrics.get('owntracks_rejected_total', { reason: 'owntracks_unsupported_type' })).toBe(1);
    expect(metrics.get('owntracks_messages_total', { type: 'waypoint', mode: 'mqtt' })).toBe(1);
  });

  it('rejects when the dead letter cannot be written, so nothing is acknowledged', async () => {
    const { ingest } = rig({ deadLetterFails: true });
    await expect(ingest.sink('owntracks/ot-1/phone', fixture('card.json'))).rejects.toThrow('database away');
  });

  it('passes native topics through untouched', async () => {
    const { ingest, raw } = rig();
    const payload = Buffer.from('{"ts":1,"lat":0}');
    const p = ingest.sink('grid/v1/devices/hs-1/location', payload);
    expect(raw).toEqual([{ topic: 'grid/v1/devices/hs-1/location', payload }]);
    expect(raw[0]!.payload).toBe(payload);
    expect(await settled(p)).toBe(false);
  });
});
