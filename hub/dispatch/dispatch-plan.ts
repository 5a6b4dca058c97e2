// A plan is everything one decision changes, computed without I/O: the incident's next version, the
// audit entries that lead there, offers made or answered, deadlines set, alarms raised and task
// messages to send. The store commits a plan in one transaction (version-checked); the service
// sends the messages and pushes the views after the commit. Tests check plans with a manual clock.
import type { Clock } from '../../common/clock.js';
import type { OfferStatus, OfferView, TaskReach } from '../../protocol/http-api.js';
import type { TaskMessage } from '../../protocol/schemas.js';
import type { RegionTree } from '../regions/region-tree.js';
import { nextStep, onOverdue, scopeGridCodes, type EscalationLevel } from './dispatch-ladder.js';
import { rankCandidates, type CandidateVia, type ScoreParts } from './dispatch-matching.js';
import type { DispatchError } from './dispatch-errors.js';
import type { IncidentRecord } from './incident-record.js';
import { transition, type Actor, type AuditEntry, type IncidentAction } from './incident-state-machine.js';
import { deadlinesFor, overdueStages, type OverdueStage, type SlaCategory } from './sla-policy.js';
import type { WorkerIndex } from './worker-index.js';

export type DeadlineKind = 'offer' | 'accept' | 'arrive' | 'resolve' | 'retry' | 'close';
/** An offer as dispatch decides it: the screen's view (protocol) before it is answered or published. */
export type OfferRecord = Omit<OfferView, 'answeredAt' | 'publishedAt'>;

export interface Plan {
  /** The version the incident had when the plan was made; null for a new incident. */
  baseVersion: number | null;
  incident: IncidentRecord;
  audits: AuditEntry[];
  newOffers: OfferRecord[];
  offerStatus: { taskId: string; status: OfferStatus }[];
  deadlines: { kind: DeadlineKind; dueAt: number; ref: string | null }[];
  alarms: { stage: string; level: number; raisedAt: number }[];
  /** Open alarms of these stages on the incident are settled (acknowledged by `by`) in the same commit. */
  settleAlarms: { stage: string; by: string }[];
  messages: { deviceId: string; message: TaskMessage }[];
}

/**
 * The alarm that asks the operators' screen to phone a worker: their handset cannot take the offer
 * (an OwnTracks phone), or a JT/T 808 terminal's screen did not get it (decision 013).
 */
export const CALL_WORKER = 'call_worker';

export interface PlanContext {
  clock: Clock;
  sla: readonly SlaCategory[];
  tree: RegionTree;
  index: WorkerIndex;
  /** The handset a worker carries; workers without one cannot be offered a task. */
  deviceOf(workerId: string): string | null;
  newTaskId(): string;
  /** How long a worker has to answer an offer before the next candidate gets it. */
  offerTimeoutMs: number;
  /** How a device takes offers (decision 013); absent: every device answers by itself. */
  reachOf?(deviceId: string): TaskReach;
  /**
   * How long an offer that needs a phone call waits for the operator to record the answer.
   * Absent: half of offerTimeoutMs (still at least a minute).
   */
  callOfferTimeoutMs?: number;
  /** A case held at street command with nobody to take it is routed again after this long. */
  holdRetryMs: number;
  neighbourRadiusM: number;
}

export class DispatchFailure extends Error {
  constructor(readonly error: DispatchError) {
    super(`${error.code}: ${error.messageEn}${error.detail ? ` (${error.detail})` : ''}`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An action without its expected version: the builder chains steps on its own latest version. */
export type ActionInput = DistributiveOmit<IncidentAction, 'expectedVersion'>;

const ROUTABLE = new Set(['reported', 'escalated', 'reopened']);

/** Builds one plan step by step; each step goes through the state machine. */
export class PlanBuilder {
  readonly plan: Plan;

  constructor(
    private readonly ctx: PlanContext,
    incident: IncidentRecord,
    isNew: boolean,
    initialAudit?: AuditEntry,
  ) {
    this.plan = {
      baseVersion: isNew ? null : incident.version,
      incident,
      audits: initialAudit ? [initialAudit] : [],
      newOffers: [],
      offerStatus: [],
      deadlines: [],
      alarms: [],
      settleAlarms: [],
      messages: [],
    };
  }

  get incident(): IncidentRecord {
    return this.plan.incident;
  }

  private get now(): number {
    return this.ctx.clock.now();
  }

  /** One transition; throws DispatchFailure when the state machine refuses it. */
  apply(action: ActionInput, actor: Actor): void {
    const before = this.plan.incident;
    const r = transition(before, { ...action, expectedVersion: before.version } as IncidentAction, actor, this.ctx.clock);
    if (!r.ok) throw new DispatchFailure(r.error);
    const now = this.now;
    const next: IncidentRecord = { ...before, ...r.incident };
    switch (action.type) {
      case 'accept':
        next.acceptedAt ??= now;
        break;
      case 'arrive':
        next.arrivedAt ??= now;
        break;
      case 'resolve':
        next.resolvedAt = now;
        break;
      case 'close':
        next.closedAt = now;
        break;
      case 'reopen': {
        // A reopened case gets its whole SLA again (seed 001: not closed while the resident is unsatisfied).
        Object.assign(next, deadlinesFor(next.category, next.priority, next.slaStartedAt, this.ctx.sla));
        next.resolvedAt = null;
        next.closedAt = null;
        next.overdueStages = [];
        break;
      }
      default:
        break;
    }
    this.plan.incident = next;
    this.plan.audits.push(r.audit);
    if (action.type === 'reopen') this.setSlaDeadlines();
  }

  setSlaDeadlines(): void {
    const x = this.plan.incident;
    this.plan.deadlines = this.plan.deadlines.filter((d) => d.kind !== 'accept' && d.kind !== 'arrive' && d.kind !== 'resolve');
    this.plan.deadlines.push(
      { kind: 'accept', dueAt: x.acceptBy, ref: null },
      { kind: 'arrive', dueAt: x.arriveBy, ref: null },
      { kind: 'resolve', dueAt: x.resolveBy, ref: null },
    );
  }

  /**
   * Tell the handset holding the task (an offer pending, or accepted and being worked on) that it is
   * gone: timed out, escalated past it, cancelled. Its later replies are answered with a cancel too.
   */
  withdraw(offer: OfferRecord | null, status: OfferStatus, note: string): void {
    if (!offer || (offer.status !== 'pending' && offer.status !== 'accepted')) return;
    this.plan.offerStatus.push({ taskId: offer.taskId, status });
    if (offer.deviceId) this.message(offer.deviceId, { kind: 'cancel', taskId: offer.taskId, note });
    this.settleCall(offer, 'dispatch');
  }

  /** The offer was answered or is gone: a pending "phone the worker" alarm has nothing left to ask. */
  settleCall(offer: OfferRecord, by: string): void {
    if (offer.deviceId && this.reachOf(offer.deviceId) !== 'device' && !this.plan.settleAlarms.some((a) => a.stage === CALL_WORKER)) {
      this.plan.settleAlarms.push({ stage: CALL_WORKER, by });
    }
  }

  reachOf(deviceId: string): TaskReach {
    return this.ctx.reachOf?.(deviceId) ?? 'device';
  }

  message(deviceId: string, m: Omit<TaskMessage, 'ts' | 'incidentId'>): void {
    this.plan.messages.push({ deviceId, message: { ts: this.now, incidentId: this.plan.incident.id, ...m } as TaskMessage });
  }

  alarm(stage: string, raisedAt: number): void {
    this.plan.alarms.push({ stage, level: this.plan.incident.escalationLevel, raisedAt });
  }

  /**
   * Offer the case to the best candidate at its level, or climb the ladder until someone can be
   * offered it; at the top, street command holds it, alarms, and tries again later. A case is never
   * left with nobody responsible (seed 000).
   */
  route(): void {
    const system: Actor = { kind: 'system', id: 'dispatch' };
    for (let guard = 0; guard < 8 && ROUTABLE.has(this.incident.state); guard++) {
      const inc = this.incident;
      const level = inc.escalationLevel as EscalationLevel;
      const candidates = rankCandidates(
        inc,
        this.ctx.index,
        {
          scopeGridCodes: scopeGridCodes(this.ctx.tree, inc.gridCode, level),
          neighbourRadiusM: this.ctx.neighbourRadiusM,
        },
        this.ctx.clock,
      ).filter((c) => this.ctx.deviceOf(c.workerId) !== null);
      const step = nextStep(level, candidates);
      if (step.kind === 'offer') {
        const best = candidates[0];
        this.offer(best.workerId, level, best.via, 0, best.total, best.parts, best.distanceM, best.positionAgeMs);
        return;
      }
      if (step.kind === 'escalate') {
        this.apply({ type: 'escalate', toLevel: step.toLevel, reason: step.reason }, system);
        if (step.alarm) this.alarm(step.reason, this.now);
        continue;
      }
      // Held at street command: the screens alarm once; the case is routed again later.
      if (!this.plan.deadlines.some((d) => d.kind === 'retry')) {
        if (!this.heldBefore) this.alarm('unassigned', this.now);
        this.plan.deadlines.push({ kind: 'retry', dueAt: this.now + this.ctx.holdRetryMs, ref: null });
      }
      return;
    }
  }

  /** Set by the caller when the case was already held at command before this plan (no new alarm). */
  heldBefore = false;

  offer(
    workerId: string,
    level: number,
    via: CandidateVia,
    rank: number,
    total: number,
    parts: ScoreParts,
    distanceM: number | null,
    positionAgeMs: number | null,
  ): void {
    const deviceId = this.ctx.deviceOf(workerId);
    this.apply({ type: 'dispatch', assigneeId: workerId }, { kind: 'system', id: 'dispatch' });
    const now = this.now;
    const taskId = this.ctx.newTaskId();
    // A phone that cannot take the offer (OwnTracks): the operators' screen is asked to call, and
    // the offer waits for them less long, so an unattended screen does not hold the case (decision 013).
    const byCall = deviceId !== null && this.reachOf(deviceId) === 'call';
    const timeoutMs = byCall ? (this.ctx.callOfferTimeoutMs ?? this.ctx.offerTimeoutMs / 2) : this.ctx.offerTimeoutMs;
    if (byCall) this.alarm(CALL_WORKER, now);
    // Never give a worker longer to answer than the case has left to be accepted, but at least a minute.
    const acceptBy = now + Math.max(60_000, Math.min(timeoutMs, this.incident.acceptBy - now));
    this.plan.newOffers.push({
      taskId,
      incidentId: this.incident.id,
      workerId,
      deviceId,
      level,
      via,
      rank,
      total,
      parts,
      distanceM,
      positionAgeMs,
      offeredAt: now,
      acceptBy,
      status: 'pending',
    });
    this.plan.deadlines.push({ kind: 'offer', dueAt: acceptBy, ref: taskId });
    if (deviceId) {
      const inc = this.incident;
      this.message(deviceId, {
        kind: 'offer',
        taskId,
        category: inc.category,
        title: inc.title ?? inc.category,
        lat: inc.lat,
        lon: inc.lon,
        acceptBy,
      });
    }
  }
}

/**
 * The case's grid is gone (a region import removed it): the locator gives it a new owner, the audit
 * says so, and an unassigned case is routed in its new grid. Never left owned by a grid that is gone.
 */
export function planRelocate(b: PlanBuilder, gridCode: string, flagged: 'outside' | null, now: number): void {
  const before = b.incident;
  const version = before.version + 1;
  b.plan.incident = { ...before, gridCode, locationFlag: flagged, version, updatedAt: now };
  b.plan.audits.push({
    at: now,
    actor: { kind: 'system', id: 'regions' },
    from: before.state,
    to: before.state,
    action: 'relocate',
    version,
    reason: '所属网格已撤销，重新定位 / grid removed by a region import',
    detail: { fromGrid: before.gridCode, toGrid: gridCode },
  });
  b.route();
}

/** Which SLA stage a deadline row stands for, if it is still due for this incident (else stale). */
export function dueStage(incident: IncidentRecord, kind: DeadlineKind, dueAt: number, now: number): OverdueStage | null {
  if (kind !== 'accept' && kind !== 'arrive' && kind !== 'resolve') return null;
  const current = kind === 'accept' ? incident.acceptBy : kind === 'arrive' ? incident.arriveBy : incident.resolveBy;
  if (current !== dueAt) return null; // set for an earlier round (before a reopen)
  return overdueStages(incident.state, incident, now).includes(kind) ? kind : null;
}

/** Overdue: alarm, remember the stage, and climb one rung (seed 000: overdue → alarm → escalation). */
export function planOverdue(b: PlanBuilder, stage: OverdueStage, dueAt: number, held: OfferRecord | null): void {
  const inc = b.incident;
  b.plan.incident = { ...inc, overdueStages: [...new Set([...inc.overdueStages, stage])] };
  b.alarm(stage, dueAt);
  const step = onOverdue(inc.escalationLevel as EscalationLevel, stage);
  if (step.kind === 'escalate') {
    b.withdraw(held, 'withdrawn', `超时上报 / escalated: overdue ${stage}`);
    b.apply({ type: 'escalate', toLevel: step.toLevel, reason: step.reason }, { kind: 'system', id: 'sla' });
    b.route();
  }
}
