// The simulators against a real (bare) Aedes broker: connect, presence, fixes, alerts, tasks,
// an outage with its last will and the store-and-forward upload. Manual clock, awaited messages.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { alertSchema, locationSchema, presenceSchema, type Fix, type TaskMessage } from '../../protocol/schemas.js';
import { deviceTopic } from '../../protocol/topics.js';
import { buildDemoDistrict, regionPolygon } from '../../simulators/demo-district.js';
import { startDistrictSim } from '../../simulators/district-sim.js';
import { HandsetSim } from '../../simulators/handset-sim.js';
import { createRng } from '../../simulators/rng.js';
import { startTestBroker, type TestBroker } from './aedes-broker.js';
import { Collector } from './mqtt-collector.js';

const T0 = Date.parse('2026-11-25T09:00:00+08:00');
const config = testConfig({ SIM_FIX_EVERY_S: '2', SIM_ALERT_EVERY_S: '20' });
const root = config.TOPIC_ROOT;
let broker: TestBroker;
let collector: Collector;

beforeAll(async () => {
  broker = await startTestBroker();
  collector = await Collector.start(broker.url, root);
});
afterAll(async () => {
  await collector?.stop();
  await broker?.close();
});

const presenceOf = (id: string) => collector.of(id, 'presence').map((m) => presenceSchema.parse(m.json).online);

describe('district simulator on a real broker', () => {
  it('runs 3 handsets, doors and cameras: presence, fixes, alerts, task offers, goodbye', async () => {
    const district = buildDemoDistrict({ seed: 11, handsets: 3, doorsPerGrid: 0.2, camerasPerGrid: 0.2 });
    const clock = new ManualClock(T0);
    const sim = await startDistrictSim({
      mqttUrl: broker.url,
      config,
      logger: silentLogger,
      clock,
      district,
      tickMs: false,
      waveSize: 10,
      waveGapMs: 5,
      handsetModel: { flakyShare: 0 },
    });
    await sim.whenConnected();
    const ids = sim.handsets.map((h) => h.id);
    expect(ids).toEqual(['hs-0001', 'hs-0002', 'hs-0003']);
    await collector.until(() => ids.every((id) => presenceOf(id).includes(true)));

    for (let i = 0; i < 5; i++) {
      clock.advance(2000);
      sim.tick();
    }
    for (const h of sim.handsets) expect(h.stats.fixes).toBeGreaterThanOrEqual(4);
    await collector.until(() => sim.handsets.every((h) => collector.of(h.id, 'location').length >= h.stats.fixes));
    for (const m of collector.messages.filter((x) => x.channel === 'location')) expect(locationSchema.safeParse(m.json).success).toBe(true);
    await collector.until(() => ids.every((id) => collector.of(id, 'status').length >= 1));

    // A couple of simulated minutes: the fixed devices raise their (seeded) alerts.
    clock.advance(180_000);
    sim.tick();
    const fixed = [...sim.doors, ...sim.cameras];
    const alerts = fixed.reduce((s, d) => s + d.stats.alerts, 0);
    expect(alerts).toBeGreaterThan(0);
    await collector.until(() => collector.messages.filter((m) => m.channel === 'events').length >= alerts);
    for (const m of collector.messages.filter((x) => x.channel === 'events')) expect(alertSchema.safeParse(m.json).success).toBe(true);

    // The seam for task answering: an offer on the handset's own tasks topic becomes a 'task' event.
    const hs = sim.handsets[0] as HandsetSim;
    const got = once(hs, 'task') as Promise<[TaskMessage]>;
    const offer = { ts: clock.now(), kind: 'offer', taskId: 't-1', incidentId: 'i-1', category: 'garbage' };
    await collector.client.publishAsync(deviceTopic(root, hs.id, 'tasks'), 'not json', { qos: 1 });
    await collector.client.publishAsync(deviceTopic(root, hs.id, 'tasks'), JSON.stringify(offer), { qos: 1 });
    const [task] = await got;
    expect(task.taskId).toBe('t-1');
    expect(hs.stats.tasks).toBe(1);

    await sim.stop();
    await collector.until(() => ids.every((id) => presenceOf(id).at(-1) === false));
  });

  it('drops off (the broker fires the will), buffers, reconnects and uploads out-of-order batches', async () => {
    const district = buildDemoDistrict({ seed: 12, handsets: 1 });
    const handset = district.handsets[0];
    if (!handset) throw new Error('no handset');
    const clock = new ManualClock(T0);
    const sim = new HandsetSim({
      mqttUrl: broker.url,
      topicRoot: root,
      handset,
      polygon: regionPolygon(district, handset.gridCode),
      clock,
      logger: silentLogger,
      rng: createRng('flaky'),
      fixEveryS: 2,
      model: { flakyShare: 1, outageEveryS: 20, outageS: [30, 40], batchSize: 5 },
    });
    sim.start();
    await sim.whenConnected();
    await collector.until(() => presenceOf(handset.id).at(-1) === true);

    const stepUntil = (kind: string): void => {
      for (let i = 0; i < 1000; i++) {
        clock.advance(2000);
        let seen = false;
        const spy = (o: { kind: string }) => (seen ||= o.kind === kind);
        sim.on('output', spy);
        sim.tick();
        sim.off('output', spy);
        if (seen) return;
      }
      throw new Error(`no ${kind} within 1000 steps`);
    };
    stepUntil('go-offline');
    await collector.until(() => presenceOf(handset.id).at(-1) === false); // the last will
    stepUntil('go-online');
    await once(sim, 'connect');
    const batched = sim.stats.batchedFixes;
    expect(batched).toBeGreaterThanOrEqual(10);
    // A fix carries no `fixes` key, so this picks out the store-and-forward batches.
    const batches = () =>
      collector.of(handset.id, 'location').filter((m) => typeof m.json === 'object' && m.json !== null && 'fixes' in m.json);
    const uploaded = () => batches().flatMap((m) => (locationSchema.parse(m.json) as { fixes: Fix[] }).fixes);
    await collector.until(() => uploaded().length >= batched);
    const fixes = uploaded();
    expect(batches().length).toBeGreaterThan(1);
    const ts = fixes.map((f) => f.ts);
    expect(ts).not.toEqual([...ts].sort((a, b) => a - b));
    expect(presenceOf(handset.id).at(-1)).toBe(true);
    await sim.stop();
  });
});
