// The planner without I/O: what one decision changes, with a manual clock.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { intakeRecord } from '../../../hub/dispatch/dispatch-intake.js';
import { CALL_WORKER, dueStage, PlanBuilder, planOverdue, type PlanContext } from '../../../hub/dispatch/dispatch-plan.js';
import { DEFAULT_SLA_TABLE } from '../../../hub/dispatch/sla-policy.js';
import { WorkerIndex, type DispatchWorker } from '../../../hub/dispatch/worker-index.js';
import { gridLocatorFromTree } from '../../../hub/regions/grid-locator.js';
import { parseRegions } from '../../../hub/regions/region-tree.js';

const rect = (w: number, s: number, e: number, n: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ],
  ],
});
const f = (code: string, parent: string | null, level: string, geometry: object) => ({
  type: 'Feature',
  properties: { code, parent, level, name: code },
  geometry,
});
const { tree } = parseRegions(
  {
    type: 'FeatureCollection',
    features: [
      f('D', null, 'district', rect(113.1, 27.86, 113.14, 27.88)),
      f('D01', 'D', 'street', rect(113.1, 27.86, 113.12, 27.88)),
      f('D01001', 'D01', 'community', rect(113.1, 27.86, 113.12, 27.88)),
      f('G1', 'D01001', 'grid', rect(113.1, 27.86, 113.11, 27.88)),
      f('G2', 'D01001', 'grid', rect(113.11, 27.86, 113.12, 27.88)),
    ],
  },
  { skipGeometry: true },
);
const locator = gridLocatorFromTree(tree);
const T0 = Date.parse('2026-11-25T02:00:00Z');

function worker(id: string, over: Partial<DispatchWorker> = {}): DispatchWorker {
  return {
    id,
    role: 'grid_worker',
    gridCodes: ['G1'],
    categories: ['*'],
    duty: 'on',
    online: true,
    position: { lat: 27.87, lon: 113.105, ts: T0 },
    load: 0,
    ...over,
  };
}

function setup(workers: DispatchWorker[], category = 'garbage', extra: Partial<PlanContext> = {}) {
  const clock = new ManualClock(T0);
  let n = 0;
  const ctx: PlanContext = {
    clock,
    sla: DEFAULT_SLA_TABLE,
    tree,
    index: WorkerIndex.build(workers, T0),
    deviceOf: (w) => `hs-${w}`,
    newTaskId: () => `T${++n}`,
    offerTimeoutMs: 180_000,
    holdRetryMs: 300_000,
    neighbourRadiusM: 1500,
    ...extra,
  };
  const { record, audit } = intakeRecord(
    { source: 'resident', category, lat: 27.87, lon: 113.105, reporterKind: 'resident', reporterId: 'resident:1' },
    locator,
    DEFAULT_SLA_TABLE,
    clock,
  );
  const b = new PlanBuilder(ctx, record, true, audit);
  b.setSlaDeadlines();
  return { clock, ctx, b };
}

describe('dispatch plan', () => {
  it('offers a new case to its own grid worker, with the offer, its deadline and the task message', () => {
    const { b } = setup([worker('w-2', { gridCodes: ['G2'] }), worker('w-1')]);
    b.route();
    const p = b.plan;
    expect(p.incident).toMatchObject({ gridCode: 'G1', state: 'dispatched', assigneeId: 'w-1', version: 2 });
    expect(p.newOffers).toHaveLength(1);
    expect(p.newOffers[0]).toMatchObject({ workerId: 'w-1', via: 'own_grid', acceptBy: T0 + 180_000 });
    expect(p.deadlines.map((d) => d.kind).sort()).toEqual(['accept', 'arrive', 'offer', 'resolve']);
    expect(p.messages).toEqual([
      { deviceId: 'hs-w-1', message: expect.objectContaining({ kind: 'offer', taskId: 'T1', acceptBy: T0 + 180_000 }) },
    ]);
  });

  it('with nobody on duty, climbs to street command, holds the case, alarms once and schedules a retry', () => {
    const { b } = setup([worker('w-1', { duty: 'off' })]);
    b.route();
    const p = b.plan;
    expect(p.incident).toMatchObject({ escalationLevel: 3, state: 'escalated', assigneeId: null });
    expect(p.audits.map((a) => a.action)).toEqual(['report', 'escalate', 'escalate', 'escalate']);
    expect(p.alarms).toEqual([{ stage: 'unassigned', level: 3, raisedAt: T0 }]);
    expect(p.deadlines.filter((d) => d.kind === 'retry')).toEqual([{ kind: 'retry', dueAt: T0 + 300_000, ref: null }]);
    // A retry that still finds nobody does not alarm again.
    const again = new PlanBuilder(b['ctx'], p.incident, false);
    again.heldBefore = true;
    again.route();
    expect(again.plan.alarms).toEqual([]);
  });

  it('never offers a worker an offer they cannot receive, nor the wrong category', () => {
    const { b } = setup([worker('w-1', { categories: ['noise'] }), worker('w-2')]);
    b.route();
    expect(b.incident.assigneeId).toBe('w-2');
  });

  it('overdue: alarm at the due time, withdraw the offer, climb one rung; at the top only the alarm', () => {
    const { b, clock, ctx } = setup([worker('w-1')]);
    b.route();
    const offer = b.plan.newOffers[0];
    const dispatched = b.incident;
    clock.set(dispatched.acceptBy + 1000);
    expect(dueStage(dispatched, 'accept', dispatched.acceptBy, clock.now())).toBe('accept');
    const o = new PlanBuilder(ctx, dispatched, false);
    planOverdue(o, 'accept', dispatched.acceptBy, offer);
    expect(o.plan.alarms[0]).toEqual({ stage: 'accept', level: 0, raisedAt: dispatched.acceptBy });
    // Nobody else here (w-1 was tried this round, no grid leader): it climbs on to be held at command.
    expect(o.plan.alarms.map((a) => a.stage)).toEqual(['accept', 'unassigned']);
    expect(o.plan.offerStatus).toEqual([{ taskId: offer.taskId, status: 'withdrawn' }]);
    expect(o.plan.messages[0].message).toMatchObject({ kind: 'cancel', taskId: offer.taskId });
    expect(o.incident.escalationLevel).toBeGreaterThanOrEqual(1);
    expect(o.incident.overdueStages).toEqual(['accept']);

    const top = new PlanBuilder(ctx, { ...o.incident, escalationLevel: 3 }, false);
    planOverdue(top, 'arrive', o.incident.arriveBy, null);
    expect(top.plan.audits).toEqual([]);
    expect(top.plan.alarms.map((a) => a.stage)).toEqual(['arrive']);
  });

  it('an accepted case escalated past its worker: the worker is told to stop', () => {
    const { b, clock, ctx } = setup([worker('w-1'), worker('lead', { role: 'grid_leader' })]);
    b.route();
    b.apply({ type: 'accept' }, { kind: 'worker', id: 'w-1' });
    const accepted = { ...b.plan.newOffers[0], status: 'accepted' as const };
    clock.set(b.incident.arriveBy);
    const o = new PlanBuilder(ctx, b.incident, false);
    planOverdue(o, 'arrive', b.incident.arriveBy, accepted);
    expect(o.plan.offerStatus).toEqual([{ taskId: accepted.taskId, status: 'withdrawn' }]);
    expect(o.plan.messages[0]).toMatchObject({ deviceId: 'hs-w-1', message: { kind: 'cancel', taskId: accepted.taskId } });
    expect(o.incident).toMatchObject({ escalationLevel: 1, assigneeId: 'lead', state: 'dispatched' });
  });

  it("a reopen restarts the SLA: the old round's deadlines become stale", () => {
    const { b, clock, ctx } = setup([worker('w-1')]);
    b.route();
    b.apply({ type: 'accept' }, { kind: 'worker', id: 'w-1' });
    b.apply({ type: 'resolve' }, { kind: 'worker', id: 'w-1' });
    const oldResolveBy = b.incident.resolveBy;
    clock.advance(3600_000);
    const r = new PlanBuilder(ctx, b.incident, false);
    r.apply({ type: 'reopen', reason: '不满意' }, { kind: 'resident', id: 'resident:1' });
    expect(r.incident.resolveBy).toBe(oldResolveBy + 3600_000);
    expect(r.incident).toMatchObject({ resolvedAt: null, rating: 'unsatisfied', reopenCount: 1 });
    expect(r.plan.deadlines.map((d) => d.kind).sort()).toEqual(['accept', 'arrive', 'resolve']);
    expect(dueStage(r.incident, 'resolve', oldResolveBy, oldResolveBy + 1)).toBeNull();
  });
});

// Decision 013: how an offer reaches the worker follows their handset's protocol.
describe('dispatch plan: offers to handsets that cannot answer', () => {
  const reach = { 'hs-w-phone': 'call', 'hs-w-screen': 'text' } as const;
  const reachOf = (d: string) => reach[d as keyof typeof reach] ?? 'device';

  it('a phone nobody can reach (OwnTracks): offered with a "call the worker" alarm and half the wait', () => {
    const { b } = setup([worker('w-phone')], 'garbage', { reachOf });
    b.route();
    expect(b.plan.newOffers[0]).toMatchObject({ workerId: 'w-phone', deviceId: 'hs-w-phone', acceptBy: T0 + 90_000 });
    expect(b.plan.deadlines.find((d) => d.kind === 'offer')?.dueAt).toBe(T0 + 90_000);
    expect(b.plan.alarms).toEqual([{ stage: CALL_WORKER, level: 0, raisedAt: T0 }]);
  });

  it('takes its own wait when one is set, never under a minute', () => {
    const own = setup([worker('w-phone')], 'garbage', { reachOf, callOfferTimeoutMs: 120_000 });
    own.b.route();
    expect(own.b.plan.newOffers[0]?.acceptBy).toBe(T0 + 120_000);
    const short = setup([worker('w-phone')], 'garbage', { reachOf, offerTimeoutMs: 60_000 });
    short.b.route();
    expect(short.b.plan.newOffers[0]?.acceptBy).toBe(T0 + 60_000);
  });

  it('a terminal screen (JT/T 808): the normal wait and no alarm; the message goes out to be shown', () => {
    const { b } = setup([worker('w-screen')], 'garbage', { reachOf });
    b.route();
    expect(b.plan.newOffers[0]?.acceptBy).toBe(T0 + 180_000);
    expect(b.plan.alarms).toEqual([]);
    expect(b.plan.messages.map((m) => [m.deviceId, m.message.kind])).toEqual([['hs-w-screen', 'offer']]);
  });

  it("the offer timed out or withdrawn settles its call alarm; an MQTT handset's settles nothing", () => {
    const { b, ctx } = setup([worker('w-phone'), worker('w-1')], 'garbage', { reachOf });
    b.route();
    const offer = b.plan.newOffers[0]!;
    expect(offer.workerId).toBe('w-1'); // ranked first (ties break on id); offered by MQTT
    const w = new PlanBuilder(ctx, b.incident, false);
    w.withdraw(offer, 'timed_out', 'x');
    w.apply({ type: 'offer_timeout' }, { kind: 'system', id: 'dispatch' });
    expect(w.plan.settleAlarms).toEqual([]);
    w.route(); // the phone is next: a new call alarm, kept open
    const phoneOffer = w.plan.newOffers[0]!;
    expect(phoneOffer.workerId).toBe('w-phone');
    expect(w.plan.alarms.map((a) => a.stage)).toEqual([CALL_WORKER]);

    const gone = new PlanBuilder(ctx, w.incident, false);
    gone.withdraw(phoneOffer, 'timed_out', 'x');
    expect(gone.plan.settleAlarms).toEqual([{ stage: CALL_WORKER, by: 'dispatch' }]);
  });
});
