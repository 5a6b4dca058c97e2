// New incidents: the intake every source shares (locate, SLA deadlines, first offer), and the two
// sources that arrive over HTTP: a resident's complaint and an operator's report. Alerts and patrol
// reports arrive through the inbox (inbox-work.ts) and use `intake` inside their own unit.
import { hashToken, intakeRecord, newReceiptToken, type IntakeInput } from './dispatch-intake.js';
import { PlanBuilder } from './dispatch-plan.js';
import type { DispatchUnits, Outcome } from './dispatch-unit.js';
import type { IncidentRecord } from './incident-record.js';
import type { Queryable } from './incident-store.js';

export class IntakeWork {
  constructor(private readonly u: DispatchUnits) {}

  /** A new incident, offered at once (or escalated until someone can take it). */
  async intake(q: Queryable, out: Outcome, input: IntakeInput): Promise<IncidentRecord> {
    const ctx = await this.u.context(q);
    const { record, audit } = intakeRecord(input, this.u.reference.gridLocator(), ctx.sla, ctx.clock);
    const b = new PlanBuilder(ctx, record, true, audit);
    b.setSlaDeadlines();
    b.route();
    return this.u.commit(q, out, b);
  }

  /** A resident's complaint (12345): the receipt token is shown once and lets them rate later. */
  async fileComplaint(input: {
    category: string;
    description?: string;
    lat: number;
    lon: number;
    name?: string;
    phone?: string;
    priority?: IntakeInput['priority'];
  }): Promise<{ incident: IncidentRecord; token: string }> {
    const token = newReceiptToken();
    const reporterId = `resident:${hashToken(token).slice(0, 12)}`;
    const out = await this.u.serial(() =>
      this.u.unit(async (q, o) => {
        await this.intake(q, o, {
          source: 'resident',
          category: input.category,
          priority: input.priority,
          lat: input.lat,
          lon: input.lon,
          title: input.description?.slice(0, 60) ?? null,
          description: input.description ?? null,
          reporterKind: 'resident',
          reporterId,
          reporterContact: [input.name, input.phone].filter(Boolean).join(' ') || null,
          reporterTokenHash: hashToken(token),
        });
      }),
    );
    return { incident: out.plans[0].incident, token };
  }

  /** An operator registers a case by hand (phone call, walk-in). */
  async operatorReport(
    operatorId: string,
    input: { category: string; description?: string; lat: number; lon: number; priority?: IntakeInput['priority'] },
  ): Promise<IncidentRecord> {
    const out = await this.u.serial(() =>
      this.u.unit(async (q, o) => {
        await this.intake(q, o, {
          source: 'operator',
          category: input.category,
          priority: input.priority,
          lat: input.lat,
          lon: input.lon,
          title: input.description?.slice(0, 60) ?? null,
          description: input.description ?? null,
          reporterKind: 'operator',
          reporterId: operatorId,
        });
      }),
    );
    return out.plans[0].incident;
  }
}
