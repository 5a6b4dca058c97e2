// Work the hub starts by itself: deadlines come due (an offer nobody answered, a held case to route
// again, a rating window that ran out, an SLA stage overdue), swept from incident_deadlines so a
// restart neither forgets nor doubles them (docs/decisions/003); and after a region import, open
// cases whose grid is gone get a new one.
import { dueStage, PlanBuilder, planOverdue, planRelocate } from './dispatch-plan.js';
import type { DispatchUnits, Outcome } from './dispatch-unit.js';
import type { IncidentRecord } from './incident-record.js';
import type { Actor } from './incident-state-machine.js';
import { claimDueDeadline, liveOffer, loadIncident, loadOffer, markDeadline, type Queryable } from './incident-store.js';

const SYSTEM: Actor = { kind: 'system', id: 'dispatch' };

export class DeadlineWork {
  constructor(private readonly u: DispatchUnits) {}

  async sweepDue(max = 200): Promise<number> {
    let n = 0;
    for (; n < max; n++) {
      let found = false;
      await this.u.unit(async (q, out) => {
        const now = this.u.now;
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
    const ctx = await this.u.context(q);
    const b = new PlanBuilder(ctx, inc, false);
    if (kind === 'offer') {
      const offer = ref ? await loadOffer(q, ref) : null;
      if (offer?.status !== 'pending' || inc.state !== 'dispatched' || inc.assigneeId !== offer.workerId) return 'stale';
      b.withdraw(offer, 'timed_out', '超时未响应，已转派 / no answer in time, offered to someone else');
      b.apply({ type: 'offer_timeout' }, SYSTEM);
      b.route();
      await this.u.commit(q, out, b);
      return 'offer_timed_out';
    }
    if (kind === 'retry') {
      if (!['reported', 'escalated', 'reopened'].includes(inc.state)) return 'stale';
      b.heldBefore = true;
      if (inc.escalationLevel >= 3 && inc.triedWorkerIds.length > 0) {
        b.apply({ type: 'new_round', reason: '街道指挥中心重新派单 / new round at street command' }, SYSTEM);
      }
      b.route();
      await this.u.commit(q, out, b);
      return 'rerouted';
    }
    if (kind === 'close') {
      if (inc.state !== 'verified') return 'stale';
      b.apply({ type: 'close', reason: '评价期满，默认满意 / rating window over, closed by default' }, SYSTEM);
      await this.u.commit(q, out, b);
      return 'closed_by_default';
    }
    const stage = dueStage(inc, kind as 'accept', dueAt, this.u.now);
    if (!stage) return 'stale';
    planOverdue(b, stage, dueAt, await liveOffer(q, inc.id));
    await this.u.commit(q, out, b);
    return `overdue_${stage}`;
  }

  /** After a region import: open cases whose grid no longer exists get a new owner (DESIGN §4). */
  async relocateOrphans(): Promise<number> {
    const r = await this.u.deps.pool.query(
      `SELECT id FROM incidents WHERE state NOT IN ('closed', 'cancelled')
          AND grid_code NOT IN (SELECT code FROM regions WHERE level = 'grid')`,
    );
    for (const { id } of r.rows) {
      await this.u.unit(async (q, out) => {
        const inc = await loadIncident(q, id, true);
        if (!inc) return;
        const where = this.u.reference.gridLocator().locate(inc.lon, inc.lat);
        const b = new PlanBuilder(await this.u.context(q), inc, false);
        planRelocate(b, where.gridCode, where.flagged, this.u.now);
        await this.u.commit(q, out, b);
      });
    }
    if (r.rows.length) this.u.log.warn({ incidents: r.rows.length }, 'open incidents moved to new grids after a region import');
    return r.rows.length;
  }
}
