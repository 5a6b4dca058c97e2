// Simulated workers answering the hub over a real broker. The test plays the hub's side: it logs in
// with the service account, publishes offers and cancels on a handset's `tasks` topic (QoS 1) and
// reads `task-replies`, `location` and `reports`. Devices log in with their demo secrets.
// Manual clock; every wait is on a message, never a sleep.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import {
  locationSchema,
  reportSchema,
  taskReplySchema,
  type Fix,
  type TaskMessage,
  type TaskReplyPayload,
} from '../../protocol/schemas.js';
import { deviceTopic } from '../../protocol/topics.js';
import { buildDemoDistrict, demoSecret, regionPolygon, type DemoHandset } from '../../simulators/demo-district.js';
import { fromLocal, gcj02ToWgs84, type LatLon } from '../../simulators/geo-local.js';
import { HandsetSim } from '../../simulators/handset-sim.js';
import { createRng } from '../../simulators/rng.js';
import type { TaskBehaviourOptions } from '../../simulators/task-behaviour.js';
import { distanceM } from '../../simulators/task-behaviour.js';
import { startTestBroker, type TestBroker } from './aedes-broker.js';
import { Collector } from './mqtt-collector.js';

const SEED = 31;
const T0 = Date.parse('2026-11-25T10:00:00+08:00');
const root = testConfig().TOPIC_ROOT;
const SERVICE = { username: 'hub', password: 'service-secret-for-tests' };
const district = buildDemoDistrict({ seed: SEED, handsets: 3 });
let broker: TestBroker;
let hub: Collector;

beforeAll(async () => {
  broker = await startTestBroker((client, username, password, done) => {
    const pw = password?.toString() ?? '';
    const ok =
      (username === SERVICE.username && pw === SERVICE.password) || (username === client.id && pw === demoSecret(SEED, username ?? ''));
    done(null, ok);
  });
  hub = await Collector.start(broker.url, root, { username: SERVICE.username, password: SERVICE.password });
});
afterAll(async () => {
  await hub?.stop();
  await broker?.close();
});

const clock = new ManualClock(T0);

async function handset(h: DemoHandset, tasks: Partial<TaskBehaviourOptions>): Promise<HandsetSim> {
  const sim = new HandsetSim({
    mqttUrl: broker.url,
    topicRoot: root,
    handset: h,
    polygon: regionPolygon(district, h.gridCode),
    clock,
    logger: silentLogger,
    rng: createRng(`answers:${h.id}`),
    fixEveryS: 5,
    model: { flakyShare: 0, tasks: { reportEveryS: 0, ...tasks } },
  });
  sim.start();
  await sim.whenConnected();
  return sim;
}

/** The hub's side: an offer on the handset's tasks topic; resolves once the handset has read it. */
async function offer(sim: HandsetSim, msg: Omit<TaskMessage, 'ts' | 'kind'> & Partial<TaskMessage>): Promise<void> {
  const got = once(sim, 'task');
  await hub.client.publishAsync(deviceTopic(root, sim.id, 'tasks'), JSON.stringify({ ts: clock.now(), kind: 'offer', ...msg }), { qos: 1 });
  await got;
}

/** Plays simulated time in 5 s steps, then waits until everything the handset sent has arrived. */
async function play(sims: HandsetSim[], seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s += 5) {
    clock.advance(5000);
    for (const x of sims) x.tick();
  }
  await hub.until(() =>
    sims.every(
      (x) =>
        hub.of(x.id, 'location').length >= x.stats.fixes &&
        hub.of(x.id, 'task-replies').length >= x.stats.replies &&
        hub.of(x.id, 'reports').length >= x.stats.reports,
    ),
  );
}

const repliesOf = (id: string): TaskReplyPayload[] => hub.of(id, 'task-replies').map((m) => taskReplySchema.parse(m.json));
const fixesOf = (id: string): Fix[] =>
  hub.of(id, 'location').flatMap((m) => {
    const p = locationSchema.parse(m.json);
    return 'fixes' in p ? (p.fixes as Fix[]) : [p as Fix];
  });
const wgs = (p: { lat: number; lon: number; crs?: string }): LatLon => (p.crs === 'gcj02' ? gcj02ToWgs84(p) : { lat: p.lat, lon: p.lon });

describe('simulated workers answer the hub over MQTT', () => {
  it('accepts an offer, walks there (fixes on the way), arrives within 30 m, resolves, and drops a cancelled task', async () => {
    const h = district.handsets[0] as DemoHandset;
    const sim = await handset(h, { acceptShare: 1, declineShare: 0 });
    await play([sim], 60);
    const here = sim.agent?.activeTask ?? null;
    expect(here).toBeNull();
    const lastFix = fixesOf(h.id).at(-1) as Fix;
    const place = fromLocal(wgs(lastFix), -250, 200);
    await offer(sim, {
      taskId: 'task-a',
      incidentId: 'inc-a',
      category: 'drain',
      title: '下水道堵塞',
      lat: place.lat,
      lon: place.lon,
      acceptBy: clock.now() + 5 * 60_000,
    });
    await play([sim], 3 * 3600);

    const replies = repliesOf(h.id);
    expect(replies.map((r) => `${r.taskId}:${r.reply}`)).toEqual(['task-a:accept', 'task-a:arrived', 'task-a:resolved']);
    const [accept, arrived, resolved] = replies as [TaskReplyPayload, TaskReplyPayload, TaskReplyPayload];
    expect(accept.ts).toBeLessThan(clock.now());
    const trail = fixesOf(h.id).filter((f) => f.ts >= accept.ts && f.ts <= arrived.ts);
    // ~320 m at walking pace with a fix every 5 s: dozens of fixes, each nearer than the last.
    expect(trail.length).toBeGreaterThan(30);
    const d = trail.map((f) => distanceM(wgs(f), place));
    for (let i = 2; i < d.length; i++) expect(d[i]).toBeLessThan(d[i - 1] as number);
    expect(d.at(-1)).toBeLessThanOrEqual(30);
    expect(distanceM(wgs(arrived as unknown as Fix), place)).toBeLessThanOrEqual(30);
    expect((resolved.ts - arrived.ts) / 60_000).toBeGreaterThanOrEqual(30); // a drain: 30-120 min
    expect(resolved.note).toBeTruthy();

    // A second offer, cancelled by the hub while the worker walks: no arrival, no resolution.
    const far = fromLocal(wgs(fixesOf(h.id).at(-1) as Fix), 600, 0);
    await offer(sim, {
      taskId: 'task-b',
      incidentId: 'inc-b',
      category: 'garbage',
      lat: far.lat,
      lon: far.lon,
      acceptBy: clock.now() + 5 * 60_000,
    });
    await play([sim], 200);
    expect(sim.agent?.activeTask).toEqual({ taskId: 'task-b', stage: 'travel' });
    const cancelled = once(sim, 'task');
    await hub.client.publishAsync(
      deviceTopic(root, h.id, 'tasks'),
      JSON.stringify({ ts: clock.now(), kind: 'cancel', taskId: 'task-b', incidentId: 'inc-b' }),
      { qos: 1 },
    );
    await cancelled;
    await play([sim], 3600);
    expect(
      repliesOf(h.id)
        .filter((r) => r.taskId === 'task-b')
        .map((r) => r.reply),
    ).toEqual(['accept']);
    expect(sim.agent?.busy).toBe(false);
    await sim.stop();
  });

  it('declines with a reason, or ignores the offer so the hub has to time it out', async () => {
    const [, h2, h3] = district.handsets as [DemoHandset, DemoHandset, DemoHandset];
    const decliner = await handset(h2, { acceptShare: 0, declineShare: 1 });
    const ignorer = await handset(h3, { acceptShare: 0, declineShare: 0 });
    await offer(decliner, { taskId: 'task-c', incidentId: 'inc-c', category: 'noise', acceptBy: clock.now() + 120_000 });
    await offer(ignorer, { taskId: 'task-d', incidentId: 'inc-d', category: 'noise', acceptBy: clock.now() + 120_000 });
    const offeredAt = clock.now();
    await play([decliner, ignorer], 600);
    const [decline] = repliesOf(h2.id);
    expect(decline?.reply).toBe('decline');
    expect(decline?.reason).toBeTruthy();
    // Answered inside the window (60 % of it at the latest).
    expect((decline?.ts ?? Infinity) - offeredAt).toBeLessThanOrEqual(72_000);
    // play() waited for every fix the ignorer sent, which MQTT orders after any earlier reply.
    expect(repliesOf(h3.id)).toEqual([]);
    expect(ignorer.agent?.stats.ignored).toBe(1);
    await Promise.all([decliner.stop(), ignorer.stop()]);
  });

  it('files patrol reports that validate against the contract', async () => {
    const h = district.handsets[2] as DemoHandset;
    const sim = await handset(h, { reportEveryS: 900 });
    const before = hub.of(h.id, 'reports').length;
    await play([sim], 4 * 3600);
    const reports = hub
      .of(h.id, 'reports')
      .slice(before)
      .map((m) => reportSchema.parse(m.json));
    expect(reports.length).toBeGreaterThan(6);
    expect(reports.length).toBe(sim.stats.reports);
    for (const r of reports) expect(r.reportId).toMatch(new RegExp(`^${h.id}-r\\d+$`));
    await sim.stop();
  });
});
