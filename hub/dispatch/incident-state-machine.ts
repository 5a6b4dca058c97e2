// The incident lifecycle as one pure function (DESIGN §1: report → register → dispatch → accept →
// handle → verify → close, then evaluation; §4 Closure). No I/O: the store persists the result with
// `UPDATE incidents SET … , version = version + 1 WHERE id = $id AND version = $expectedVersion`
// and appends the audit entry in the same transaction; 0 rows updated = someone else won (two hubs
// never assign the same incident twice, DESIGN §4).
import { z } from 'zod';
import type { Clock } from '../../common/clock.js';
import { INCIDENT_SOURCES, PRIORITIES } from '../../protocol/incident-vocabulary.js';
import { WORKER_ROLES } from '../../protocol/worker-roles.js';
import { DISPATCH_ERRORS, type DispatchError, type DispatchErrorCode } from './dispatch-errors.js';

export const INCIDENT_STATES = [
  'reported',
  'dispatched',
  'accepted',
  'on_site',
  'resolved',
  'verified',
  'closed',
  'escalated',
  'reopened',
  'cancelled',
] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];
/** 0 grid, 1 grid leader, 2 community, 3 street command (DESIGN §4 Dispatch ladder). */
export const MAX_ESCALATION_LEVEL = 3;

export const incidentSchema = z.object({
  id: z.string().min(1),
  source: z.enum(INCIDENT_SOURCES),
  category: z.string().min(1),
  priority: z.enum(PRIORITIES),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  gridCode: z.string().min(1), // never null: the grid locator always finds an owner
  state: z.enum(INCIDENT_STATES),
  version: z.number().int().nonnegative(),
  escalationLevel: z.number().int().min(0).max(MAX_ESCALATION_LEVEL),
  assigneeId: z.string().nullable(),
  /** Workers offered this case in the current round (offered, declined or timed out): not offered again. */
  triedWorkerIds: z.array(z.string()),
  reporterId: z.string().nullable(),
  reopenCount: z.number().int().nonnegative(),
  rating: z.enum(['satisfied', 'unsatisfied']).nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Start of the SLA clock: the report, or the last reopen (a reopened case gets its 72 h again). */
  slaStartedAt: z.number(),
});
export type Incident = z.infer<typeof incidentSchema>;

export const actorSchema = z.object({
  kind: z.enum(['worker', 'resident', 'operator', 'system']),
  id: z.string().min(1),
  role: z.enum(WORKER_ROLES).optional(),
  /**
   * An operator recording the assignee's answer for them (their handset cannot answer: a JT/T 808
   * screen or an OwnTracks phone, docs/decisions/013). Counts as the assignee for the assignee's
   * own steps only; the audit keeps the operator as actor and names the worker in its detail.
   */
  onBehalfOf: z.string().min(1).optional(),
});
export type Actor = z.infer<typeof actorSchema>;

const base = { expectedVersion: z.number().int().nonnegative(), reason: z.string().min(1).max(500).optional() };
export const incidentActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dispatch'), assigneeId: z.string().min(1), ...base }),
  z.object({ type: z.literal('accept'), ...base }),
  z.object({ type: z.literal('decline'), ...base }),
  z.object({ type: z.literal('offer_timeout'), ...base }),
  z.object({ type: z.literal('arrive'), ...base }),
  z.object({ type: z.literal('resolve'), ...base }),
  z.object({ type: z.literal('reject_resolution'), ...base }),
  z.object({ type: z.literal('verify'), ...base }),
  z.object({ type: z.literal('close'), satisfied: z.boolean().optional(), ...base }),
  z.object({ type: z.literal('reopen'), ...base }),
  z.object({ type: z.literal('escalate'), toLevel: z.number().int().min(1).max(MAX_ESCALATION_LEVEL).optional(), ...base }),
  z.object({ type: z.literal('cancel'), ...base }),
  z.object({ type: z.literal('new_round'), ...base }),
]);
export type IncidentAction = z.infer<typeof incidentActionSchema>;
export type ActionType = IncidentAction['type'];

type ActorRule = 'assignee' | 'verifier' | 'reporter_or_operator' | 'dispatcher' | 'system' | 'operator' | 'escalator' | 'closer';

interface Rule {
  from: readonly IncidentState[];
  to: IncidentState;
  who: ActorRule;
  reasonRequired: boolean;
}

/** Incidents a worker is carrying right now (offered or taken, not yet resolved): a worker's load. */
export const LOAD_STATES: readonly IncidentState[] = ['dispatched', 'accepted', 'on_site'];

const OPEN: readonly IncidentState[] = ['reported', 'dispatched', 'accepted', 'on_site', 'escalated', 'reopened'];

/** Every action, the states it may leave, where it goes, who may do it. Anything else is refused. */
export const TRANSITIONS: Readonly<Record<ActionType, Rule>> = {
  dispatch: { from: ['reported', 'escalated', 'reopened'], to: 'dispatched', who: 'dispatcher', reasonRequired: false },
  accept: { from: ['dispatched'], to: 'accepted', who: 'assignee', reasonRequired: false },
  // Decline and no-answer put the case back in the queue; the next candidate gets the next offer.
  decline: { from: ['dispatched'], to: 'reported', who: 'assignee', reasonRequired: false },
  offer_timeout: { from: ['dispatched'], to: 'reported', who: 'system', reasonRequired: false },
  arrive: { from: ['accepted'], to: 'on_site', who: 'assignee', reasonRequired: false },
  // Handsets may skip "arrived" (small jobs done on the spot); the audit still shows from=accepted.
  resolve: { from: ['accepted', 'on_site'], to: 'resolved', who: 'assignee', reasonRequired: false },
  reject_resolution: { from: ['resolved'], to: 'accepted', who: 'verifier', reasonRequired: true },
  verify: { from: ['resolved'], to: 'verified', who: 'verifier', reasonRequired: false },
  close: { from: ['verified'], to: 'closed', who: 'closer', reasonRequired: false },
  // "群众不满意，坚决不销号" (seed 001): an unsatisfied rating reopens, even after closing.
  reopen: { from: ['resolved', 'verified', 'closed'], to: 'reopened', who: 'reporter_or_operator', reasonRequired: true },
  escalate: { from: OPEN, to: 'escalated', who: 'escalator', reasonRequired: true },
  cancel: { from: OPEN, to: 'cancelled', who: 'operator', reasonRequired: true },
  // Held at street command with everyone tried: after a while everyone may be offered it again,
  // rather than the case waiting on an operator forever.
  new_round: { from: ['reported', 'escalated', 'reopened'], to: 'escalated', who: 'system', reasonRequired: true },
};

export interface AuditEntry {
  at: number;
  actor: Actor;
  from: IncidentState | null;
  to: IncidentState;
  /** 'report' opens the log; 'relocate' moves an open case whose grid a region import removed. */
  action: ActionType | 'report' | 'relocate';
  reason: string | null;
  /** The incident version this entry produced. */
  version: number;
  detail?: Record<string, string | number | boolean | null>;
}

export type TransitionResult = { ok: true; incident: Incident; audit: AuditEntry } | { ok: false; error: DispatchError };

export type NewIncident = Pick<Incident, 'id' | 'source' | 'category' | 'priority' | 'lat' | 'lon' | 'gridCode' | 'reporterId'> &
  Partial<Pick<Incident, 'escalationLevel'>>;

/** A new case in state `reported`, version 1, with its first audit entry. */
export function createIncident(input: NewIncident, actor: Actor, clock: Clock): { incident: Incident; audit: AuditEntry } {
  const now = clock.now();
  const incident: Incident = {
    ...input,
    escalationLevel: input.escalationLevel ?? 0,
    state: 'reported',
    version: 1,
    assigneeId: null,
    triedWorkerIds: [],
    reopenCount: 0,
    rating: null,
    createdAt: now,
    updatedAt: now,
    slaStartedAt: now,
  };
  return { incident, audit: { at: now, actor, from: null, to: 'reported', action: 'report', reason: null, version: 1 } };
}

function fail(code: DispatchErrorCode, detail?: string): TransitionResult {
  const e = DISPATCH_ERRORS[code];
  return { ok: false, error: { code, messageZh: e.zh, messageEn: e.en, ...(detail ? { detail } : {}) } };
}

function actorAllowed(rule: ActorRule, inc: Incident, actor: Actor): DispatchErrorCode | null {
  const isAssignee = actor.kind === 'worker' && actor.id === inc.assigneeId;
  const forAssignee = actor.kind === 'operator' && actor.onBehalfOf !== undefined && actor.onBehalfOf === inc.assigneeId;
  const isReporter = actor.kind !== 'system' && inc.reporterId !== null && actor.id === inc.reporterId;
  switch (rule) {
    case 'assignee':
      return isAssignee || forAssignee ? null : 'NOT_ASSIGNEE';
    case 'system':
      return actor.kind === 'system' ? null : 'ACTOR_NOT_ALLOWED';
    case 'dispatcher':
    case 'operator':
      return actor.kind === 'system' || actor.kind === 'operator' ? null : 'ACTOR_NOT_ALLOWED';
    case 'escalator':
      return actor.kind === 'system' || actor.kind === 'operator' || isAssignee ? null : 'ACTOR_NOT_ALLOWED';
    case 'verifier':
      // "the reporter or grid leader verifies" (DESIGN §4); never the worker who did the job.
      if (isAssignee) return 'SELF_VERIFICATION';
      if (actor.kind === 'operator' || isReporter) return null;
      return actor.kind === 'worker' && (actor.role === 'grid_leader' || actor.role === 'command') ? null : 'ACTOR_NOT_ALLOWED';
    case 'closer':
      return actor.kind === 'system' || actor.kind === 'operator' || isReporter ? null : 'ACTOR_NOT_ALLOWED';
    case 'reporter_or_operator':
      return actor.kind === 'operator' || (actor.kind === 'resident' && isReporter) ? null : 'NOT_REPORTER';
  }
}

export function transition(incident: Incident, action: IncidentAction, actor: Actor, clock: Clock): TransitionResult {
  if (action.expectedVersion !== incident.version) {
    return fail('VERSION_CONFLICT', `expected ${action.expectedVersion}, current ${incident.version}`);
  }
  const rule = TRANSITIONS[action.type];
  if (!rule.from.includes(incident.state)) return fail('ILLEGAL_TRANSITION', `${action.type} from ${incident.state}`);
  const denied = actorAllowed(rule.who, incident, actor);
  if (denied) return fail(denied, `${actor.kind}:${actor.id}${actor.onBehalfOf ? ` for ${actor.onBehalfOf}` : ''} cannot ${action.type}`);
  // On someone's behalf only for the assignee's own steps: anything else is the operator's own act.
  if (actor.onBehalfOf !== undefined && rule.who !== 'assignee')
    return fail('ACTOR_NOT_ALLOWED', `${action.type} is not done on anyone's behalf`);
  if (rule.reasonRequired && !action.reason) return fail('REASON_REQUIRED', action.type);

  const now = clock.now();
  const next: Incident = { ...incident, state: rule.to, version: incident.version + 1, updatedAt: now };
  let detail: AuditEntry['detail'];
  switch (action.type) {
    case 'dispatch':
      if (incident.triedWorkerIds.includes(action.assigneeId)) return fail('WORKER_ALREADY_TRIED', action.assigneeId);
      next.assigneeId = action.assigneeId;
      next.triedWorkerIds = [...incident.triedWorkerIds, action.assigneeId];
      detail = { assigneeId: action.assigneeId, escalationLevel: incident.escalationLevel };
      break;
    case 'decline':
    case 'offer_timeout':
      detail = { workerId: incident.assigneeId };
      next.assigneeId = null;
      break;
    case 'close':
      // An unsatisfied rating must go through `reopen`, never close the case (seed 001).
      if (action.satisfied === false) return fail('UNSATISFIED_CANNOT_CLOSE');
      if (action.satisfied) next.rating = 'satisfied';
      break;
    case 'reopen':
      // A fresh round: anyone may be offered again, and the SLA clock restarts.
      detail = { previousAssigneeId: incident.assigneeId };
      next.rating = 'unsatisfied';
      next.reopenCount = incident.reopenCount + 1;
      next.assigneeId = null;
      next.triedWorkerIds = [];
      next.slaStartedAt = now;
      break;
    case 'escalate': {
      if (incident.escalationLevel >= MAX_ESCALATION_LEVEL) return fail('ESCALATION_AT_TOP');
      const to = action.toLevel ?? incident.escalationLevel + 1;
      if (to <= incident.escalationLevel) return fail('INVALID_ESCALATION_LEVEL', `${incident.escalationLevel} → ${to}`);
      detail = { fromLevel: incident.escalationLevel, toLevel: to, previousAssigneeId: incident.assigneeId };
      next.escalationLevel = to;
      next.assigneeId = null;
      break;
    }
    case 'cancel':
      detail = { previousAssigneeId: incident.assigneeId };
      next.assigneeId = null;
      break;
    case 'new_round':
      detail = { triedBefore: incident.triedWorkerIds.length };
      next.triedWorkerIds = [];
      break;
    default:
      break;
  }
  if (actor.onBehalfOf !== undefined) detail = { ...detail, onBehalfOf: actor.onBehalfOf };
  const audit: AuditEntry = {
    at: now,
    actor,
    from: incident.state,
    to: next.state,
    action: action.type,
    reason: action.reason ?? null,
    version: next.version,
    ...(detail ? { detail } : {}),
  };
  return { ok: true, incident: next, audit };
}

/** Which actions are legal from a state (for the command screen's buttons and the tests). */
export function actionsFrom(state: IncidentState): ActionType[] {
  return (Object.keys(TRANSITIONS) as ActionType[]).filter((a) => TRANSITIONS[a].from.includes(state));
}
