// The units of dispatch work, each one transaction through DispatchService.unit: take an inbox row
// (alert, patrol report, task reply), fire a due deadline, take a complaint or an operator's action,
// a resident's rating. Reading top to bottom gives the whole lifecycle (DESIGN §4).
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../common/error-codes.js';
import type { AlertPayload, ReportPayload, TaskReplyPayload } from '../../protocol/schemas.js';
import { hashToken, intakeRecord, newReceiptToken, type IntakeInput } from './dispatch-intake.js';
import type { OnBehalfAction } from '../../protocol/http-api.js';
import { ANSWER_OF, offerIsLive, planAnswer } from './dispatch-answer.js';
import { DispatchFailure, dueStage, PlanBuilder, planOverdue, planRelocate, type ActionInput } from './dispatch-plan.js';
import type { DispatchService, Outcome } from './dispatch-service.js';
import type { IncidentRecord } from './incident-record.js';
import type { Actor } from './incident-state-machine.js';
import {
  ackAlarm, claimDueDeadline, findOpenFold, foldAlert, loadIncident, loadOffer, markDeadline, liveOffer, type AlarmRow, type Queryable,
} from './incident-store.js';

const SYSTEM: Actor = { kind: 'system', id: 'dispatch' };

const pointOf = (lat: unknown, lon: unknown): { lat: number; lon: number } | null =>
  typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : null;

export class DispatchWork {
  constructor(private readonly s: DispatchService) {}

  private get now(): number {
    return this.s.deps.clock.now();
  }

  // ── intake ──────────────────────────────────────────────────────────────────────────────────

  /** A new incident, offered at once (or escalated until someone can take it). */
  private async intake(q: Queryable, out: Outcome, input: IntakeInput): Promise<IncidentRecord> {
    const ctx = await this.s.context(q);
    const { record, audit } = intakeRecord(input, this.s.gridLocator(), ctx.sla, ctx.clock);
    const b = new PlanBuilder(ctx, record, true, audit);
    b.setSlaDeadlines();
    b.route();
    return this.s.commit(q, out, b);
  }

  /** Door and camera alerts: repeats of one device and type fold into the open incident (DESIGN §4). */
  private async intakeAlert(q: Queryable, out: Outcome, deviceId: string, a: AlertPayload & { lat?: number | null; lon?: number | null; gridCode?: string | null }): Promise<void> {
    // A handset's own alarms become incidents only where the category table has them (handset.sos,
    // migration 032); power cut, low battery, tamper, GNSS faults stay events on the screen.
    const handset = a.type.startsWith('handset.');
    if (handset && !this.s.categories.some((c) => c.code === a.type)) {
      this.s.deps.metrics.inc('dispatch_alerts_event_only_total', { type: a.type });
      return;
    }
    const foldKey = `${deviceId}:${a.type}`;
    const open = await findOpenFold(q, foldKey);
    if (open) {
      out.touched.push(await foldAlert(q, open.id, a.ts));
      this.s.deps.metrics.inc('dispatch_alerts_folded_total');
      return;
    }
    // A handset has no fixed place: its alarm is where the report put it (data.lat/lon, the gateway
    // sets them), else at the worker's last live position.
    const worker = handset ? this.s.deps.live.byDevice(deviceId) : undefined;
    const at = pointOf(a.lat, a.lon) ?? (handset ? pointOf(a.data?.lat, a.data?.lon) ?? pointOf(worker?.lat, worker?.lon) : null) ?? this.s.gridCentre(a.gridCode ?? null);
    if (!at) {
      this.s.log.warn({ device: deviceId, type: a.type }, 'alert from a device with no position and no grid: register its location');
      this.s.deps.metrics.inc('dispatch_alerts_unplaced_total');
      return;
    }
    await this.intake(q, out, {
      source: 'device_alert', category: a.type, ...at, title: null, reporterKind: 'device', reporterId: deviceId, foldKey, seenAt: a.ts,
      // The worker who pressed SOS is not the one to send to it.
      ...(worker ? { excludeWorkerIds: [worker.workerId] } : {}),
    });
  }

  /** A resident's complaint (12345): the receipt token is shown once and lets them rate later. */
  async fileComplaint(input: { category: string; description?: string; lat: number; lon: number; name?: string; phone?: string; priority?: IntakeInput['priority'] }): Promise<{ incident: IncidentRecord; token: string }> {
    const token = newReceiptToken();
    const reporterId = `resident:${hashToken(token).slice(0, 12)}`;
    const out = await this.s.serial(() =>
      this.s.unit(async (q, o) => {
        await this.intake(q, o, {
          source: 'resident', category: input.category, priority: input.priority, lat: input.lat, lon: input.lon,
          title: input.description?.slice(0, 60) ?? null, description: input.description ?? null, reporterKind: 'resident', reporterId,
          reporterContact: [input.name, input.phone].filter(Boolean).join(' ') || null, reporterTokenHash: hashToken(token),
        });
      }),
    );
    return { incident: out.plans[0].incident, token };
  }

  /** An operator registers a case by hand (phone call, walk-in). */
  async operatorReport(operatorId: string, input: { category: string; description?: string; lat: number; lon: number; priority?: IntakeInput['priority'] }): Promise<IncidentRecord> {
    const out = await this.s.serial(() =>
      this.s.unit(async (q, o) => {
        await this.intake(q, o, { source: 'operator', category: input.category, priority: input.priority, lat: input.lat, lon: input.lon, title: input.description?.slice(0, 60) ?? null, description: input.description ?? null, reporterKind: 'operator', reporterId: operatorId });
      }),
    );
    return out.plans[0].incident;
  }

  // ── the inbox: what handsets and devices sent, committed by ingest ─────────────────────────────

  async drainInbox(max = 200): Promise<number> {
    let n = 0;
    for (; n < max; n++) {
      let found = false;
      await this.s.unit(async (q, out) => {
        const r = await q.query(
          `SELECT id, device_id, channel, body FROM hub_inbox WHERE processed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        );
        const row = r.rows[0];
        if (!row) return;
        found = true;
        try {
          await this.handleInbox(q, out, row.device_id, row.channel, row.body);
        } catch (err) {
          // A bad row must not block the queue: it is marked with its error, counted and logged.
          if (!(err instanceof AppError) && !(err instanceof DispatchFailure)) throw err;
          this.s.deps.metrics.inc('dispatch_inbox_rejected_total', { channel: row.channel });
          this.s.log.warn({ device: row.device_id, channel: row.channel, err: (err as Error).message }, 'inbox message refused');
        }
        await q.query('UPDATE hub_inbox SET processed_at = $2 WHERE id = $1', [row.id, new Date(this.now)]);
      });
      if (!found) break;
    }
    return n;
  }

  private async handleInbox(q: Queryable, out: Outcome, deviceId: string, channel: string, body: Record<string, unknown>): Promise<void> {
    const workerId = this.s.deps.live.byDevice(deviceId)?.workerId ?? null;
    if (channel === 'events') return this.intakeAlert(q, out, deviceId, body as unknown as AlertPayload);
    if (channel === 'reports') {
      const r = body as unknown as ReportPayload;
      await this.intake(q, out, {
        source: 'patrol_report', category: r.category, priority: r.priority, lat: r.lat, lon: r.lon, title: r.description?.slice(0, 60) ?? null,
        description: r.description ?? null, photos: r.photos ?? [], reporterKind: 'worker', reporterId: workerId ?? deviceId, seenAt: r.ts,
      });
      return;
    }
    if (channel === 'task-replies' && workerId) return this.reply(q, out, deviceId, workerId, body as unknown as TaskReplyPayload);
  }

  /** accept / decline / arrived / resolved from the handset holding the task. */
  private async reply(q: Queryable, out: Outcome, deviceId: string, workerId: string, r: TaskReplyPayload): Promise<void> {
    const offer = await loadOffer(q, r.taskId);
    if (!offer || offer.workerId !== workerId) {
      this.s.deps.metrics.inc('dispatch_replies_ignored_total', { why: 'unknown_task' });
      return;
    }
    const inc = await loadIncident(q, offer.incidentId, true);
    if (!inc) return;
    const ctx = await this.s.context(q);
    const b = new PlanBuilder(ctx, inc, false);
    const actor: Actor = { kind: 'worker', id: workerId, role: this.s.roster.roleOf(workerId) };
    if (!offerIsLive(offer, inc, workerId)) {
      // Too late (timed out, escalated, cancelled): tell the handset to drop it.
      this.s.deps.metrics.inc('dispatch_replies_ignored_total', { why: 'stale_task' });
      b.message(deviceId, { kind: 'cancel', taskId: r.taskId, note: '任务已失效 / task no longer yours' });
      out.plans.push({ ...b.plan, messages: b.plan.messages });
      return;
    }
    planAnswer(b, offer, r.reply, actor, { ...(r.reason ? { reason: r.reason } : {}), ...(r.note ? { note: r.note } : {}) });
    await this.s.commit(q, out, b);
  }

  // ── deadlines, swept from the database ──────────────────────────────────────────────────────

  async sweepDue(max = 200): Promise<number> {
    let n = 0;
    for (; n < max; n++) {
      let found = false;
      await this.s.unit(async (q, out) => {
        const now = this.now;
        const d = await claimDueDeadline(q, now);
        if (!d) return;
        found = true;
        const inc = await loadIncident(q, d.incidentId, true);
        const outcome = inc ? await this.fire(q, out, inc, d.kind, d.dueAt, d.ref) : 'gone';
        await markDeadline(q, d.id, now, outcome);
      });
      if (!found) break;
    }
    return n;
  }

  private async fire(q: Queryable, out: Outcome, inc: IncidentRecord, kind: string, dueAt: number, ref: string | null): Promise<string> {
    const ctx = await this.s.context(q);
    const b = new PlanBuilder(ctx, inc, false);
    if (kind === 'offer') {
      const offer = ref ? await loadOffer(q, ref) : null;
      if (!offer || offer.status !== 'pending' || inc.state !== 'dispatched' || inc.assigneeId !== offer.workerId) return 'stale';
      b.withdraw(offer, 'timed_out', '超时未响应，已转派 / no answer in time, offered to someone else');
      b.apply({ type: 'offer_timeout' }, SYSTEM);
      b.route();
      await this.s.commit(q, out, b);
      return 'offer_timed_out';
    }
    if (kind === 'retry') {
      if (!['reported', 'escalated', 'reopened'].includes(inc.state)) return 'stale';
      b.heldBefore = true;
      if (inc.escalationLevel >= 3 && inc.triedWorkerIds.length > 0) {
        b.apply({ type: 'new_round', reason: '街道指挥中心重新派单 / new round at street command' }, SYSTEM);
      }
      b.route();
      await this.s.commit(q, out, b);
      return 'rerouted';
    }
    if (kind === 'close') {
      if (inc.state !== 'verified') return 'stale';
      b.apply({ type: 'close', reason: '评价期满，默认满意 / rating window over, closed by default' }, SYSTEM);
      await this.s.commit(q, out, b);
      return 'closed_by_default';
    }
    const stage = dueStage(inc, kind as 'accept', dueAt, this.now);
    if (!stage) return 'stale';
    planOverdue(b, stage, dueAt, await liveOffer(q, inc.id));
    await this.s.commit(q, out, b);
    return `overdue_${stage}`;
  }

  /** After a region import: open cases whose grid no longer exists get a new owner (DESIGN §4). */
  async relocateOrphans(): Promise<number> {
    const r = await this.s.deps.pool.query(
      `SELECT id FROM incidents WHERE state NOT IN ('closed', 'cancelled')
          AND grid_code NOT IN (SELECT code FROM regions WHERE level = 'grid')`,
    );
    for (const { id } of r.rows) {
      await this.s.unit(async (q, out) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) return;
        const where = this.s.gridLocator().locate(inc.lon, inc.lat);
        const b = new PlanBuilder(await this.s.context(q), inc, false);
        planRelocate(b, where.gridCode, where.flagged, this.now);
        await this.s.commit(q, out, b);
      });
    }
    if (r.rows.length) this.s.log.warn({ incidents: r.rows.length }, 'open incidents moved to new grids after a region import');
    return r.rows.length;
  }

  // ── people acting on a case: operators, the grid leader, the resident ────────────────────────

  /** An operator's action (verify, reject, close, reopen, escalate, cancel) at an expected version. */
  async act(id: string, action: ActionInput & { expectedVersion: number }, actor: Actor): Promise<IncidentRecord> {
    const out = await this.s.serial(() =>
      this.s.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) throw new AppError('INCIDENT_NOT_FOUND', 404);
        if (inc.version !== action.expectedVersion) throw new AppError('VERSION_CONFLICT', 409);
        const ctx = await this.s.context(q);
        const b = new PlanBuilder(ctx, inc, false);
        const { expectedVersion: _v, ...step } = action;
        if (step.type === 'escalate' || step.type === 'cancel') b.withdraw(await liveOffer(q, id), 'withdrawn', '任务已撤回 / task withdrawn');
        b.apply(step as ActionInput, actor);
        if (step.type === 'verify') this.afterVerify(b);
        if (step.type === 'escalate' || step.type === 'reopen' || step.type === 'reject_resolution') b.route();
        await this.s.commit(q, o, b);
      }),
    );
    return out.plans[0].incident;
  }

  /**
   * An operator records the assignee's answer for them, at an expected version: their handset
   * cannot answer (decision 013). The audit keeps the operator as actor, the worker in `onBehalfOf`.
   */
  async actFor(id: string, body: { type: OnBehalfAction; workerId: string; expectedVersion: number; reason?: string }, operator: Actor): Promise<IncidentRecord> {
    const out = await this.s.serial(() =>
      this.s.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) throw new AppError('INCIDENT_NOT_FOUND', 404);
        if (inc.version !== body.expectedVersion) throw new AppError('VERSION_CONFLICT', 409);
        const offer = await liveOffer(q, id);
        if (!offer || offer.workerId !== body.workerId || inc.assigneeId !== body.workerId) throw new AppError('NOT_ASSIGNEE', 403);
        const b = new PlanBuilder(await this.s.context(q), inc, false);
        const answer = ANSWER_OF[body.type];
        const text = body.reason ? (answer === 'resolved' ? { note: body.reason } : { reason: body.reason }) : {};
        planAnswer(b, offer, answer, { kind: 'operator', id: operator.id, onBehalfOf: body.workerId }, text);
        await this.s.commit(q, o, b);
      }),
    );
    this.s.deps.metrics.inc('dispatch_answers_on_behalf_total', { type: body.type });
    return out.plans[0].incident;
  }

  /** Verified: a device or patrol case closes; a resident's case waits for the resident's rating. */
  private afterVerify(b: PlanBuilder): void {
    if (b.incident.source !== 'resident') {
      b.apply({ type: 'close' }, SYSTEM);
      return;
    }
    const waitMs = this.s.deps.config.DISPATCH_RATING_WAIT_H * 3600_000;
    b.plan.deadlines.push({ kind: 'close', dueAt: this.now + waitMs, ref: null });
  }

  /** 谁呼谁评: 1–2 is unsatisfied and reopens the case (seed 001); 3–5 verifies and closes it. */
  async rate(id: string, token: string, score: number, comment?: string): Promise<IncidentRecord> {
    const out = await this.s.serial(() =>
      this.s.unit(async (q, o) => {
        const inc = await loadIncident(q, id, true);
        if (!inc || !inc.reporterTokenHash) throw new AppError('INCIDENT_NOT_FOUND', 404);
        const a = Buffer.from(inc.reporterTokenHash, 'hex');
        const given = Buffer.from(hashToken(token), 'hex');
        if (a.length !== given.length || !timingSafeEqual(a, given)) throw new AppError('BAD_RECEIPT', 403);
        const resident: Actor = { kind: 'resident', id: inc.reporterId ?? 'resident' };
        const b = new PlanBuilder(await this.s.context(q), inc, false);
        const why = comment ? `: ${comment.slice(0, 400)}` : '';
        if (score <= 2) {
          if (!['resolved', 'verified', 'closed'].includes(inc.state)) throw new AppError('NOT_RATABLE', 409);
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
          throw new AppError('NOT_RATABLE', 409);
        }
        b.plan.incident = { ...b.incident, ratingScore: score, updatedAt: this.now };
        await this.s.commit(q, o, b);
      }),
    );
    return out.plans[0].incident;
  }

  async acknowledgeAlarm(id: number, by: string): Promise<AlarmRow> {
    const row = await ackAlarm(this.s.deps.pool, id, by, this.now);
    if (!row) throw new AppError('ALARM_NOT_FOUND', 404);
    return row;
  }
}
