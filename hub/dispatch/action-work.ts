// People acting on a case: an operator's action (verify, reject, close, reopen, escalate, cancel), an
// operator answering for a worker whose handset cannot (decision 013), the resident's rating (谁呼谁评),
// an alarm acknowledged. Each is one unit at the version the person saw: a stale screen gets a 409.
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../common/error-codes.js';
import type { OnBehalfAction } from '../../protocol/http-api.js';
import { ANSWER_OF, planAnswer } from './dispatch-answer.js';
import { hashToken } from './dispatch-intake.js';
import { PlanBuilder, type ActionInput } from './dispatch-plan.js';
import type { DispatchUnits } from './dispatch-unit.js';
import type { IncidentRecord } from './incident-record.js';
import type { Actor } from './incident-state-machine.js';
import { ackAlarm, liveOffer, loadIncident, type AlarmRow } from './incident-store.js';

const SYSTEM: Actor = { kind: 'system', id: 'dispatch' };

export class ActionWork {
  constructor(private readonly u: DispatchUnits) {}

  /** An operator's action (verify, reject, close, reopen, escalate, cancel) at an expected version. */
  async act(id: string, action: ActionInput & { expectedVersion: number }, actor: Actor): Promise<IncidentRecord> {
    const out = await this.u.serial(() =>
      this.u.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) throw new AppError('INCIDENT_NOT_FOUND');
        if (inc.version !== action.expectedVersion) throw new AppError('VERSION_CONFLICT');
        const ctx = await this.u.context(q);
        const b = new PlanBuilder(ctx, inc, false);
        const { expectedVersion: _v, ...step } = action;
        if (step.type === 'escalate' || step.type === 'cancel')
          b.withdraw(await liveOffer(q, id), 'withdrawn', '任务已撤回 / task withdrawn');
        b.apply(step as ActionInput, actor);
        if (step.type === 'verify') this.afterVerify(b);
        if (step.type === 'escalate' || step.type === 'reopen' || step.type === 'reject_resolution') b.route();
        await this.u.commit(q, o, b);
      }),
    );
    return out.plans[0].incident;
  }

  /**
   * An operator records the assignee's answer for them, at an expected version: their handset
   * cannot answer (decision 013). The audit keeps the operator as actor, the worker in `onBehalfOf`.
   */
  async actFor(
    id: string,
    body: { type: OnBehalfAction; workerId: string; expectedVersion: number; reason?: string },
    operator: Actor,
  ): Promise<IncidentRecord> {
    const out = await this.u.serial(() =>
      this.u.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) throw new AppError('INCIDENT_NOT_FOUND');
        if (inc.version !== body.expectedVersion) throw new AppError('VERSION_CONFLICT');
        const offer = await liveOffer(q, id);
        if (!offer || offer.workerId !== body.workerId || inc.assigneeId !== body.workerId) throw new AppError('NOT_ASSIGNEE');
        const b = new PlanBuilder(await this.u.context(q), inc, false);
        const answer = ANSWER_OF[body.type];
        const text = body.reason ? (answer === 'resolved' ? { note: body.reason } : { reason: body.reason }) : {};
        planAnswer(b, offer, answer, { kind: 'operator', id: operator.id, onBehalfOf: body.workerId }, text);
        await this.u.commit(q, o, b);
      }),
    );
    this.u.deps.metrics.inc('dispatch_answers_on_behalf_total', { type: body.type });
    return out.plans[0].incident;
  }

  /** Verified: a device or patrol case closes; a resident's case waits for the resident's rating. */
  private afterVerify(b: PlanBuilder): void {
    if (b.incident.source !== 'resident') {
      b.apply({ type: 'close' }, SYSTEM);
      return;
    }
    const waitMs = this.u.deps.config.DISPATCH_RATING_WAIT_H * 3600_000;
    b.plan.deadlines.push({ kind: 'close', dueAt: this.u.now + waitMs, ref: null });
  }

  /** 谁呼谁评: 1–2 is unsatisfied and reopens the case (seed 001); 3–5 verifies and closes it. */
  async rate(id: string, token: string, score: number, comment?: string): Promise<IncidentRecord> {
    const out = await this.u.serial(() =>
      this.u.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc?.reporterTokenHash) throw new AppError('INCIDENT_NOT_FOUND');
        const a = Buffer.from(inc.reporterTokenHash, 'hex');
        const given = Buffer.from(hashToken(token), 'hex');
        if (a.length !== given.length || !timingSafeEqual(a, given)) throw new AppError('BAD_RECEIPT');
        const resident: Actor = { kind: 'resident', id: inc.reporterId ?? 'resident' };
        const b = new PlanBuilder(await this.u.context(q), inc, false);
        const why = comment ? `: ${comment.slice(0, 400)}` : '';
        if (score <= 2) {
          if (!['resolved', 'verified', 'closed'].includes(inc.state)) throw new AppError('NOT_RATABLE');
          b.apply({ type: 'reopen', reason: `群众不满意（${score}分）/ resident unsatisfied (${score})${why}` }, resident);
          b.route();
        } else if (inc.state === 'resolved') {
          b.apply({ type: 'verify', reason: `群众评价 ${score} 分 / rated ${score}${why}` }, resident);
          b.apply({ type: 'close', satisfied: true }, resident);
        } else if (inc.state === 'verified') {
          b.apply({ type: 'close', satisfied: true, reason: `群众评价 ${score} 分 / rated ${score}${why}` }, resident);
        } else if (inc.state === 'closed') {
          b.plan.incident = { ...b.incident, rating: 'satisfied' };
        } else {
          throw new AppError('NOT_RATABLE');
        }
        b.plan.incident = { ...b.incident, ratingScore: score, updatedAt: this.u.now };
        await this.u.commit(q, o, b);
      }),
    );
    return out.plans[0].incident;
  }

  async acknowledgeAlarm(id: number, by: string): Promise<AlarmRow> {
    const row = await ackAlarm(this.u.deps.pool, id, by, this.u.now);
    if (!row) throw new AppError('ALARM_NOT_FOUND');
    return row;
  }
}
