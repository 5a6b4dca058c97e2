import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { DISPATCH_ERRORS } from '../../../hub/dispatch/dispatch-errors.js';
import {
  actionsFrom,
  createIncident,
  INCIDENT_STATES,
  incidentActionSchema,
  transition,
  type ActionType,
  type Actor,
  type Incident,
  type IncidentAction,
  type IncidentState,
} from '../../../hub/dispatch/incident-state-machine.js';
import { anIncident, operator, resident, system, T0, worker } from './builders.js';

// The expected table, written out by hand (not derived from TRANSITIONS) so a change there shows here.
const LEGAL: Record<IncidentState, Partial<Record<ActionType, IncidentState>>> = {
  reported: { dispatch: 'dispatched', escalate: 'escalated', cancel: 'cancelled', new_round: 'escalated' },
  dispatched: { accept: 'accepted', decline: 'reported', offer_timeout: 'reported', escalate: 'escalated', cancel: 'cancelled' },
  accepted: { arrive: 'on_site', resolve: 'resolved', escalate: 'escalated', cancel: 'cancelled' },
  on_site: { resolve: 'resolved', escalate: 'escalated', cancel: 'cancelled' },
  resolved: { verify: 'verified', reject_resolution: 'accepted', reopen: 'reopened' },
  verified: { close: 'closed', reopen: 'reopened' },
  closed: { reopen: 'reopened' },
  escalated: { dispatch: 'dispatched', escalate: 'escalated', cancel: 'cancelled', new_round: 'escalated' },
  reopened: { dispatch: 'dispatched', escalate: 'escalated', cancel: 'cancelled', new_round: 'escalated' },
  cancelled: {},
};
const ACTIONS: ActionType[] = [
  'dispatch',
  'accept',
  'decline',
  'offer_timeout',
  'arrive',
  'resolve',
  'reject_resolution',
  'verify',
  'close',
  'reopen',
  'escalate',
  'cancel',
  'new_round',
];

/** An actor entitled to each action on an incident assigned to w1 and reported by r1. */
const ENTITLED: Record<ActionType, Actor> = {
  dispatch: system,
  accept: worker('w1'),
  decline: worker('w1'),
  offer_timeout: system,
  arrive: worker('w1'),
  resolve: worker('w1'),
  reject_resolution: worker('leader', 'grid_leader'),
  verify: worker('leader', 'grid_leader'),
  close: system,
  reopen: resident('r1'),
  escalate: system,
  cancel: operator,
  new_round: system,
};

function act(type: ActionType, version = 5, extra: Record<string, unknown> = {}): IncidentAction {
  const payload = type === 'dispatch' ? { assigneeId: 'w2' } : {};
  return incidentActionSchema.parse({ type, expectedVersion: version, reason: '理由 reason', ...payload, ...extra });
}

const clock = new ManualClock(T0 + 60_000);
const inState = (state: IncidentState, over: Partial<Incident> = {}): Incident =>
  anIncident({ state, version: 5, assigneeId: 'w1', triedWorkerIds: ['w1'], ...over });

describe('incident state machine: the full table', () => {
  const cases = INCIDENT_STATES.flatMap((s) => ACTIONS.map((a) => [s, a] as const));
  it.each(cases)('%s + %s', (state, action) => {
    const r = transition(inState(state), act(action), ENTITLED[action], clock);
    const to = LEGAL[state][action];
    if (to) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (!r.ok) return;
      expect(r.incident.state).toBe(to);
      expect(r.incident.version).toBe(6);
      expect(r.audit).toMatchObject({ at: T0 + 60_000, from: state, to, action, version: 6, reason: '理由 reason' });
      expect(r.audit.actor).toEqual(ENTITLED[action]);
    } else {
      expect(r).toMatchObject({ ok: false, error: { code: 'ILLEGAL_TRANSITION' } });
    }
  });

  it('lists the legal actions per state, matching the table', () => {
    for (const s of INCIDENT_STATES) expect(actionsFrom(s).sort()).toEqual(Object.keys(LEGAL[s]).sort());
  });
});

describe('incident state machine: rules', () => {
  it('creates a reported case at version 1 with its first audit entry', () => {
    const { incident, audit } = createIncident(
      { id: 'i9', source: 'resident', category: 'drain', priority: 'normal', lat: 27.8, lon: 113.1, gridCode: 'G1', reporterId: 'r1' },
      resident('r1'),
      clock,
    );
    expect(incident).toMatchObject({ state: 'reported', version: 1, escalationLevel: 0, assigneeId: null, slaStartedAt: T0 + 60_000 });
    expect(audit).toMatchObject({ from: null, to: 'reported', action: 'report', version: 1 });
  });

  it('refuses a stale version (optimistic concurrency) before anything else', () => {
    const r = transition(inState('dispatched'), act('accept', 4), worker('w1'), clock);
    expect(r).toMatchObject({ ok: false, error: { code: 'VERSION_CONFLICT' } });
  });

  it('never mutates its input', () => {
    const before = inState('dispatched');
    const copy = structuredClone(before);
    transition(before, act('decline'), worker('w1'), clock);
    expect(before).toEqual(copy);
  });

  it.each([
    ['accept by another worker', 'dispatched', 'accept', worker('w9'), 'NOT_ASSIGNEE'],
    ['arrive by an operator', 'accepted', 'arrive', operator, 'NOT_ASSIGNEE'],
    ['offer_timeout by an operator', 'dispatched', 'offer_timeout', operator, 'ACTOR_NOT_ALLOWED'],
    ['dispatch by a worker', 'reported', 'dispatch', worker('w1'), 'ACTOR_NOT_ALLOWED'],
    ['verify by the worker who resolved it', 'resolved', 'verify', worker('w1', 'grid_leader'), 'SELF_VERIFICATION'],
    ['verify by an unrelated grid worker', 'resolved', 'verify', worker('w5'), 'ACTOR_NOT_ALLOWED'],
    ['verify by another resident', 'resolved', 'verify', resident('r2'), 'ACTOR_NOT_ALLOWED'],
    ['reopen by another resident', 'closed', 'reopen', resident('r2'), 'NOT_REPORTER'],
    ['close by an unrelated worker', 'verified', 'close', worker('w5'), 'ACTOR_NOT_ALLOWED'],
    ['cancel by a worker', 'accepted', 'cancel', worker('w1'), 'ACTOR_NOT_ALLOWED'],
    ['escalate by an unrelated worker', 'accepted', 'escalate', worker('w5'), 'ACTOR_NOT_ALLOWED'],
  ] as const)('refuses %s', (_label, state, action, actor, code) => {
    expect(transition(inState(state), act(action), actor, clock)).toMatchObject({ ok: false, error: { code } });
  });

  it('lets the reporter verify and close, and the assignee ask for escalation', () => {
    expect(transition(inState('resolved'), act('verify'), resident('r1'), clock).ok).toBe(true);
    expect(transition(inState('verified'), act('close'), resident('r1'), clock).ok).toBe(true);
    expect(transition(inState('on_site'), act('escalate'), worker('w1'), clock).ok).toBe(true);
  });

  it.each(['cancel', 'reopen', 'escalate', 'reject_resolution'] as const)('needs a reason to %s', (action) => {
    const from: Record<typeof action, IncidentState> = {
      cancel: 'reported',
      reopen: 'closed',
      escalate: 'reported',
      reject_resolution: 'resolved',
    };
    const a = incidentActionSchema.parse({ type: action, expectedVersion: 5 });
    expect(transition(inState(from[action]), a, ENTITLED[action], clock)).toMatchObject({ ok: false, error: { code: 'REASON_REQUIRED' } });
  });

  it('dispatch records the offer; decline frees the case but remembers who was tried', () => {
    const d = transition(inState('reported', { assigneeId: null, triedWorkerIds: [] }), act('dispatch'), system, clock);
    if (!d.ok) throw new Error(d.error.code);
    expect(d.incident).toMatchObject({ assigneeId: 'w2', triedWorkerIds: ['w2'] });
    const back = transition(d.incident, act('decline', 6), worker('w2'), clock);
    if (!back.ok) throw new Error(back.error.code);
    expect(back.incident).toMatchObject({ state: 'reported', assigneeId: null, triedWorkerIds: ['w2'] });
    expect(back.audit.detail).toEqual({ workerId: 'w2' });
    expect(transition(back.incident, act('dispatch', 7), system, clock)).toMatchObject({
      ok: false,
      error: { code: 'WORKER_ALREADY_TRIED' },
    });
  });

  it('climbs one rung per escalation, may skip rungs, and stops at street command', () => {
    const one = transition(inState('accepted'), act('escalate'), system, clock);
    if (!one.ok) throw new Error(one.error.code);
    expect(one.incident).toMatchObject({ escalationLevel: 1, assigneeId: null, state: 'escalated' });
    const skip = transition(inState('reported'), act('escalate', 5, { toLevel: 3 }), system, clock);
    expect(skip.ok && skip.incident.escalationLevel).toBe(3);
    expect(transition(inState('reported', { escalationLevel: 2 }), act('escalate', 5, { toLevel: 2 }), system, clock)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ESCALATION_LEVEL' },
    });
    expect(transition(inState('escalated', { escalationLevel: 3 }), act('escalate'), system, clock)).toMatchObject({
      ok: false,
      error: { code: 'ESCALATION_AT_TOP' },
    });
  });

  it('群众不满意，坚决不销号: an unsatisfied rating cannot close, it reopens with a fresh SLA clock', () => {
    expect(transition(inState('verified'), act('close', 5, { satisfied: false }), resident('r1'), clock)).toMatchObject({
      ok: false,
      error: { code: 'UNSATISFIED_CANNOT_CLOSE' },
    });
    const closed = transition(inState('verified'), act('close', 5, { satisfied: true }), resident('r1'), clock);
    expect(closed.ok && closed.incident.rating).toBe('satisfied');

    const later = new ManualClock(T0 + 5 * 86_400_000);
    const r = transition(inState('closed', { escalationLevel: 1 }), act('reopen'), resident('r1'), later);
    if (!r.ok) throw new Error(r.error.code);
    expect(r.incident).toMatchObject({
      state: 'reopened',
      rating: 'unsatisfied',
      reopenCount: 1,
      assigneeId: null,
      triedWorkerIds: [],
      slaStartedAt: T0 + 5 * 86_400_000,
      escalationLevel: 1,
    });
    expect(transition(r.incident, act('dispatch', 6, { assigneeId: 'w1' }), system, later).ok).toBe(true);
  });

  it('walks the happy path with one audit entry per step, timed by the injected clock', () => {
    const c = new ManualClock(T0);
    let { incident } = createIncident(
      { id: 'i1', source: 'patrol_report', category: 'drain', priority: 'normal', lat: 27.8, lon: 113.1, gridCode: 'G1', reporterId: 'w7' },
      worker('w7'),
      c,
    );
    const steps: [ActionType, Actor, Record<string, unknown>?][] = [
      ['dispatch', system, { assigneeId: 'w1' }],
      ['accept', worker('w1')],
      ['arrive', worker('w1')],
      ['resolve', worker('w1')],
      ['verify', worker('w7')],
      ['close', system],
    ];
    const trail: string[] = [];
    for (const [type, actor, extra] of steps) {
      c.advance(10 * 60_000);
      const r = transition(incident, incidentActionSchema.parse({ type, expectedVersion: incident.version, ...extra }), actor, c);
      if (!r.ok) throw new Error(`${type}: ${r.error.code}`);
      trail.push(`${r.audit.from}→${r.audit.to}@${(r.audit.at - T0) / 60_000}`);
      incident = r.incident;
    }
    expect(trail).toEqual([
      'reported→dispatched@10',
      'dispatched→accepted@20',
      'accepted→on_site@30',
      'on_site→resolved@40',
      'resolved→verified@50',
      'verified→closed@60',
    ]);
    expect(incident.version).toBe(7);
  });

  it('has a zh and en message for every error code', () => {
    for (const [code, m] of Object.entries(DISPATCH_ERRORS)) {
      expect(m.zh, code).toMatch(/[\u4e00-\u9fff]/);
      expect(m.en.length, code).toBeGreaterThan(5);
    }
  });

  it('validates actions coming from outside', () => {
    expect(incidentActionSchema.safeParse({ type: 'teleport', expectedVersion: 1 }).success).toBe(false);
    expect(incidentActionSchema.safeParse({ type: 'dispatch', expectedVersion: 1 }).success).toBe(false);
    expect(incidentActionSchema.safeParse({ type: 'escalate', expectedVersion: 1, toLevel: 4, reason: 'x' }).success).toBe(false);
  });
});

// Decision 013: an operator records the assignee's answer when the handset cannot answer (JT/T 808
// screen, OwnTracks phone). Only the assignee's own steps, only for the assignee.
describe("incident state machine: answers recorded on the assignee's behalf", () => {
  const forW1: Actor = { kind: 'operator', id: 'op-7', onBehalfOf: 'w1' };

  it.each([
    ['dispatched', 'accept', 'accepted'],
    ['dispatched', 'decline', 'reported'],
    ['accepted', 'arrive', 'on_site'],
    ['on_site', 'resolve', 'resolved'],
  ] as const)("lets an operator %s → %s for the assignee, audited as the operator on the worker's behalf", (state, action, to) => {
    const r = transition(inState(state), act(action), forW1, clock);
    if (!r.ok) throw new Error(r.error.code);
    expect(r.incident.state).toBe(to);
    expect(r.audit.actor).toEqual(forW1);
    expect(r.audit.detail).toMatchObject({ onBehalfOf: 'w1' });
  });

  it('keeps the worker of a decline beside the one it was recorded for', () => {
    const r = transition(inState('dispatched'), act('decline'), forW1, clock);
    if (!r.ok) throw new Error(r.error.code);
    expect(r.audit.detail).toEqual({ workerId: 'w1', onBehalfOf: 'w1' });
  });

  it('refuses it for anyone but the assignee, and an operator acting as themselves', () => {
    expect(transition(inState('dispatched'), act('accept'), { ...forW1, onBehalfOf: 'w5' }, clock)).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNEE' },
    });
    expect(transition(inState('dispatched'), act('accept'), operator, clock)).toMatchObject({ ok: false, error: { code: 'NOT_ASSIGNEE' } });
    expect(transition(inState('dispatched', { assigneeId: null }), act('accept'), forW1, clock)).toMatchObject({
      ok: false,
      error: { code: 'NOT_ASSIGNEE' },
    });
  });

  it("is not a way to do anything else on someone's behalf", () => {
    expect(transition(inState('resolved'), act('verify'), forW1, clock)).toMatchObject({ ok: false, error: { code: 'ACTOR_NOT_ALLOWED' } });
    expect(transition(inState('accepted'), act('cancel'), forW1, clock)).toMatchObject({ ok: false, error: { code: 'ACTOR_NOT_ALLOWED' } });
    // Still refused where the state forbids it, whoever asks.
    expect(transition(inState('accepted'), act('accept'), forW1, clock)).toMatchObject({
      ok: false,
      error: { code: 'ILLEGAL_TRANSITION' },
    });
  });
});
