// The simulated worker's task behaviour, pure and clocked: answers, the walk to the incident,
// arrival, handling, cancel, reports, and how they ride on the handset model (outages, determinism).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { fixSchema, reportSchema, taskReplySchema, type Fix, type TaskMessage, type TaskReplyPayload } from '../../protocol/schemas.js';
import { buildDemoDistrict, regionPolygon, type DemoHandset } from '../../simulators/demo-district.js';
import { fromLocal, gcj02ToWgs84, insidePolygon, samplePointIn, type LatLon } from '../../simulators/geo-local.js';
import { HandsetModel, type HandsetOutput } from '../../simulators/handset-model.js';
import { createRng } from '../../simulators/rng.js';
import { BUSY_REASON, DEFAULT_TASK_BEHAVIOUR, decideOffer, distanceM, handlingMs } from '../../simulators/task-behaviour.js';

const district = buildDemoDistrict({ seed: 7, handsets: 4 });
const T0 = Date.parse('2026-11-25T08:00:00+08:00');
const anOffer = (over: Partial<TaskMessage> = {}): TaskMessage => ({
  ts: T0,
  kind: 'offer',
  taskId: 't-1',
  incidentId: 'inc-1',
  category: 'garbage',
  title: '垃圾堆放',
  acceptBy: T0 + 5 * 60_000,
  ...over,
});

/** A handset whose worker always accepts (unless told otherwise), no outages, no reports. */
function model(handset: DemoHandset, extra: Partial<ConstructorParameters<typeof HandsetModel>[0]> = {}) {
  return new HandsetModel({
    handset,
    polygon: regionPolygon(district, handset.gridCode),
    rng: createRng(`t:${handset.id}`),
    startMs: T0,
    fixEveryS: 10,
    flakyShare: 0,
    tasks: { acceptShare: 1, declineShare: 0, reportEveryS: 0 },
    ...extra,
  });
}

function run(m: HandsetModel, clock: ManualClock, seconds: number, stepS = 1): HandsetOutput[] {
  const out: HandsetOutput[] = [];
  for (let i = 0; i < seconds; i += stepS) {
    clock.advance(stepS * 1000);
    for (const o of m.tick(clock.now())) {
      out.push(o);
      if (o.kind === 'go-online') out.push(...m.onConnected(clock.now()));
    }
  }
  return out;
}

const replies = (out: HandsetOutput[]): TaskReplyPayload[] => out.flatMap((o) => (o.kind === 'reply' ? [o.payload] : []));
const fixes = (out: HandsetOutput[]): Fix[] => out.flatMap((o) => (o.kind === 'fix' ? [o.payload] : []));
const wgs = (f: { lat: number; lon: number; crs?: string }): LatLon => (f.crs === 'gcj02' ? gcj02ToWgs84(f) : { lat: f.lat, lon: f.lon });

describe('offer decisions', () => {
  it('accepts most, declines some with a reason, ignores a few, and answers inside the accept window, most within a minute', () => {
    const rng = createRng('decide');
    const counts = { accept: 0, decline: 0, ignore: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const d = decideOffer(anOffer({ taskId: `t-${i}` }), T0, false, rng);
      counts[d.kind]++;
      if (d.kind === 'ignore') continue;
      expect(d.atMs - T0).toBeGreaterThanOrEqual(10_000);
      expect(d.atMs - T0).toBeLessThanOrEqual(150_000);
      delays.push(d.atMs - T0);
      if (d.kind === 'decline') expect(d.reason.length).toBeGreaterThan(0);
    }
    expect(counts.accept / 4000).toBeGreaterThan(0.82);
    expect(counts.accept / 4000).toBeLessThan(0.88);
    expect(counts.decline / 4000).toBeGreaterThan(0.08);
    expect(counts.ignore / 4000).toBeGreaterThan(0.03);
    expect(counts.ignore / 4000).toBeLessThan(0.07);
    // Most answer within a minute; a tail takes longer (capped by the window, 5 min here, at 60 %).
    delays.sort((a, b) => a - b);
    expect(delays[Math.floor(delays.length / 2)]).toBeGreaterThan(20_000);
    expect(delays[Math.floor(delays.length / 2)]).toBeLessThan(40_000);
    expect(delays.at(-1)).toBeGreaterThan(100_000);
  });

  it('answers a short window in time, ignores an offer delivered after its deadline, declines as busy', () => {
    const rng = createRng('window');
    for (let i = 0; i < 200; i++) {
      const d = decideOffer(anOffer({ acceptBy: T0 + 20_000 }), T0, false, rng, { ...DEFAULT_TASK_BEHAVIOUR, acceptShare: 1 });
      expect(d.kind).toBe('accept');
      if (d.kind === 'accept') expect(d.atMs).toBeLessThanOrEqual(T0 + 12_000);
    }
    expect(decideOffer(anOffer({ acceptBy: T0 - 1 }), T0, false, rng).kind).toBe('ignore');
    const busy = Array.from({ length: 400 }, () => decideOffer(anOffer(), T0, true, rng));
    expect(busy.some((d) => d.kind === 'accept')).toBe(true);
    expect(busy.filter((d) => d.kind === 'decline').every((d) => d.kind === 'decline' && d.reason === BUSY_REASON)).toBe(true);
    expect(busy.filter((d) => d.kind === 'decline').length).toBeGreaterThan(100);
  });

  it('draws handling time per category, with the family row for device alerts', () => {
    const rng = createRng('handling');
    for (let i = 0; i < 200; i++) {
      const drain = handlingMs('drain', rng) / 60_000;
      expect(drain).toBeGreaterThanOrEqual(30);
      expect(drain).toBeLessThanOrEqual(120);
      const door = handlingMs('door.held_open', rng) / 60_000;
      expect(door).toBeGreaterThanOrEqual(3);
      expect(door).toBeLessThanOrEqual(15);
      const unknown = handlingMs('weird', rng) / 60_000;
      expect(unknown).toBeGreaterThanOrEqual(10);
      expect(unknown).toBeLessThanOrEqual(45);
    }
  });
});

describe('a worker on a task', () => {
  const h = district.handsets[0] as DemoHandset;
  const grid = regionPolygon(district, h.gridCode);

  it('accepts, walks to the incident at walking speed with fixes flowing, arrives within 30 m, resolves, resumes patrol', () => {
    const clock = new ManualClock(T0);
    const m = model({ ...h, crs: 'gcj02' });
    run(m, clock, 60);
    // The incident ~400 m from the worker, outside its grid (a neighbour's, or off the district).
    const start = m.walker.state;
    const place = fromLocal(start, 300, -260);
    expect(insidePolygon(place, grid)).toBe(false);
    m.onTask(anOffer({ lat: place.lat, lon: place.lon }), clock.now());
    const out = run(m, clock, 3 * 3600);

    const r = replies(out);
    for (const x of r) expect(taskReplySchema.safeParse(x).success).toBe(true);
    expect(r.map((x) => x.reply)).toEqual(['accept', 'arrived', 'resolved']);
    const [accept, arrived, resolved] = r as [TaskReplyPayload, TaskReplyPayload, TaskReplyPayload];
    expect(accept.ts - (T0 + 60_000)).toBeGreaterThanOrEqual(10_000);
    expect(accept.ts - (T0 + 60_000)).toBeLessThanOrEqual(150_000);

    // Fixes keep flowing at 10 s; between accept and arrival each one is closer, by 12-15 m.
    const f = fixes(out);
    for (const x of f) expect(fixSchema.safeParse(x).success).toBe(true);
    const walk = f.filter((x) => x.ts > accept.ts + 10_000 && x.ts <= arrived.ts);
    expect(walk.length).toBeGreaterThan(20);
    for (let i = 1; i < walk.length; i++) {
      const step = distanceM(wgs(walk[i - 1] as Fix), wgs(walk[i] as Fix)) / (((walk[i] as Fix).ts - (walk[i - 1] as Fix).ts) / 1000);
      expect(step).toBeGreaterThan(1.15);
      expect(step).toBeLessThan(1.55);
      expect(distanceM(wgs(walk[i] as Fix), place)).toBeLessThan(distanceM(wgs(walk[i - 1] as Fix), place));
    }
    // From where the worker was on accepting (the last fix, ≤ 15 m before) to ≤ 15 m from the place, at 1.2-1.5 m/s.
    const d0 = distanceM(wgs(f.filter((x) => x.ts <= accept.ts).at(-1) as Fix), place);
    expect(d0).toBeGreaterThan(200);
    const walkS = (arrived.ts - accept.ts) / 1000;
    expect(walkS).toBeGreaterThanOrEqual((d0 - 30) / 1.5);
    expect(walkS).toBeLessThanOrEqual((d0 + 30) / 1.2 + 1);
    // Arrival: a fix at that moment, and the reply carries the position; both within 30 m.
    const arrivalFix = f.find((x) => x.ts === arrived.ts);
    expect(arrivalFix).toBeDefined();
    expect(distanceM(wgs(arrivalFix as Fix), place)).toBeLessThanOrEqual(30);
    expect(distanceM(wgs(arrived as unknown as Fix), place)).toBeLessThanOrEqual(30);
    expect((arrived as { crs?: string }).crs).toBe('gcj02');
    // Garbage: 10-40 minutes of work, standing at the place; then a note.
    const handlingMin = (resolved.ts - arrived.ts) / 60_000;
    expect(handlingMin).toBeGreaterThanOrEqual(10);
    expect(handlingMin).toBeLessThanOrEqual(40);
    for (const x of f.filter((y) => y.ts > arrived.ts && y.ts < resolved.ts)) expect(distanceM(wgs(x), place)).toBeLessThanOrEqual(30);
    expect(resolved.note).toMatch(/垃圾/);
    // Then back to the grid: the last fixes are inside it again.
    expect(insidePolygon(wgs(f.at(-1) as Fix), grid)).toBe(true);
    expect(m.agent.busy).toBe(false);
    expect(m.agent.stats).toMatchObject({ offers: 1, accepted: 1, arrived: 1, resolved: 1 });
  });

  it('drops a task on cancel, and answers a duplicated offer once', () => {
    const clock = new ManualClock(T0);
    const m = model(h);
    const place = fromLocal(m.walker.state, 500, 0);
    const offer = anOffer({ lat: place.lat, lon: place.lon });
    m.onTask(offer, clock.now());
    m.onTask(offer, clock.now()); // QoS 1 redelivery
    const first = run(m, clock, 240);
    expect(replies(first).map((x) => x.reply)).toEqual(['accept']);
    expect(m.agent.activeTask).toEqual({ taskId: 't-1', stage: 'travel' });
    m.onTask({ ts: clock.now(), kind: 'cancel', taskId: 't-1', incidentId: 'inc-1' }, clock.now());
    const rest = run(m, clock, 3600);
    expect(replies(rest)).toEqual([]);
    expect(m.agent.busy).toBe(false);
    expect(m.agent.stats.cancelled).toBe(1);
    expect(insidePolygon(wgs(fixes(rest).at(-1) as Fix), grid)).toBe(true);
  });

  it('queues a second accepted task and does them in turn', () => {
    const clock = new ManualClock(T0);
    const m = model(h, { tasks: { acceptShare: 1, declineShare: 0, busyAcceptShare: 1, reportEveryS: 0 } });
    const a = fromLocal(m.walker.state, 100, 0);
    const b = fromLocal(m.walker.state, -100, 50);
    m.onTask(anOffer({ taskId: 'a', lat: a.lat, lon: a.lon }), clock.now());
    const out = run(m, clock, 200);
    expect(m.agent.activeTask?.taskId).toBe('a');
    m.onTask(anOffer({ taskId: 'b', lat: b.lat, lon: b.lon, acceptBy: clock.now() + 300_000 }), clock.now());
    out.push(...run(m, clock, 4 * 3600));
    const seq = replies(out).map((x) => `${x.taskId}:${x.reply}`);
    expect(seq.filter((x) => x.startsWith('a:'))).toEqual(['a:accept', 'a:arrived', 'a:resolved']);
    expect(seq.filter((x) => x.startsWith('b:'))).toEqual(['b:accept', 'b:arrived', 'b:resolved']);
    // b waits for a: it is reached only after a is resolved.
    expect(seq.indexOf('b:arrived')).toBeGreaterThan(seq.indexOf('a:resolved'));
    expect(m.agent.stats).toMatchObject({ accepted: 2, arrived: 2, resolved: 2 });
  });

  it('keeps answers made out of coverage and sends them after the buffered trail', () => {
    const clock = new ManualClock(T0);
    const m = model(h, { flakyShare: 1, outageEveryS: 1, outageS: [600, 600] });
    const out1 = run(m, clock, 30);
    expect(out1.some((o) => o.kind === 'go-offline')).toBe(true);
    const place = fromLocal(m.walker.state, 50, 0);
    // Delivered while offline would not happen over MQTT; an offer read just before the drop would.
    m.onTask(anOffer({ lat: place.lat, lon: place.lon }), clock.now());
    const out = run(m, clock, 1200);
    const online = out.findIndex((o) => o.kind === 'go-online');
    expect(online).toBeGreaterThan(-1);
    expect(replies(out.slice(0, online))).toEqual([]);
    const after = out.slice(online);
    // Reconnected: status, the buffered trail, then the answers, in the order they were made.
    const firstReply = after.findIndex((o) => o.kind === 'reply');
    expect(after.slice(1, firstReply).map((o) => o.kind)).toEqual(expect.arrayContaining(['batch']));
    expect(after.slice(1, firstReply).every((o) => o.kind === 'status' || o.kind === 'batch')).toBe(true);
    expect(
      replies(after)
        .map((x) => x.reply)
        .slice(0, 2),
    ).toEqual(['accept', 'arrived']);
  });

  it('reports problems seen on patrol, valid against the contract, only while not on a task', () => {
    const clock = new ManualClock(T0);
    const m = model(h, { tasks: { reportEveryS: 600 } });
    const out = run(m, clock, 8 * 3600, 5);
    const reports = out.flatMap((o) => (o.kind === 'report' ? [o.payload] : []));
    // 8 h at one per 10 min on average: ~48.
    expect(reports.length).toBeGreaterThan(30);
    expect(reports.length).toBeLessThan(70);
    for (const r of reports) {
      expect(reportSchema.safeParse(r).success).toBe(true);
      expect(r.reportId).toMatch(/^hs-0001-r\d+$/);
      expect(r.photos?.length).toBe(1);
    }
    expect(new Set(reports.map((r) => r.category)).size).toBeGreaterThan(4);
    expect(new Set(reports.map((r) => r.reportId)).size).toBe(reports.length);
  });

  it('replays identically for the same seed, tasks included', () => {
    const play = (): string => {
      const clock = new ManualClock(T0);
      const m = model(h, { tasks: {}, flakyShare: 1, outageEveryS: 300 });
      const p = samplePointIn(grid, createRng('p'));
      const out = run(m, clock, 30);
      for (let i = 0; i < 5; i++) {
        m.onTask(anOffer({ taskId: `t${i}`, lat: p.lat, lon: p.lon, acceptBy: clock.now() + 300_000 }), clock.now());
        out.push(...run(m, clock, 1800, 3));
      }
      return JSON.stringify(out);
    };
    const a = play();
    expect(a).toBe(play());
    expect(a).toContain('"reply":"resolved"');
  });
});
