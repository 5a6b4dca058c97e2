// The unit of dispatch work: one transaction, version-checked, one at a time inside this hub, and
// what follows its commit (Socket.IO pushes, task messages, metrics). Every piece of work (intake,
// inbox, deadlines, people's actions) runs through here and nothing here knows which piece it runs:
// the work modules import this one, never the other way round (issue 17).
import { withTransaction } from '../../storage/database-transaction.js';
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { AlarmView, IncidentView } from '../../protocol/socket-events.js';
import type { LiveState } from '../live/live-state.js';
import { newTaskId } from './dispatch-intake.js';
import { CALL_WORKER, type PlanBuilder, type Plan, type PlanContext } from './dispatch-plan.js';
import type { DispatchReference } from './dispatch-reference.js';
import { incidentView, type IncidentRecord } from './incident-record.js';
import {
  commitPlan,
  loadIncident,
  loadOffer,
  markOfferPublished,
  raiseAlarm,
  VersionConflict,
  type AlarmRow,
  type Queryable,
} from './incident-store.js';
import type { TaskDelivery, TaskPublisher } from './task-publisher.js';
import { taskText } from './task-text.js';
import type { WorkerRoster } from './worker-roster.js';
import type { RegionDirectory } from '../regions/region-directory.js';

export interface DispatchNotify {
  incident(view: IncidentView): void;
  alarm(view: AlarmView): void;
}

export interface DispatchDeps {
  pool: pg.Pool;
  clock: Clock;
  config: Config;
  live: LiveState;
  notify: DispatchNotify;
  publisher: Pick<TaskPublisher, 'send' | 'reach'> | null;
  metrics: Metrics;
  logger: Logger;
  /** The hub's region directory, loaded by the hub; dispatch takes the tree and the grid locator from it on reload(). */
  regions: RegionDirectory;
}

/** What a unit of work did, for the after-commit side effects. */
export interface Outcome {
  plans: Plan[];
  alarms: AlarmRow[];
  touched: IncidentRecord[];
}

export type TaskMessageOut = Plan['messages'][number]['message'];

export const alarmView = (a: AlarmRow, gridCode: string): AlarmView => ({ ...a, gridCode });

export class DispatchUnits {
  private chain: Promise<unknown> = Promise.resolve();
  private halted = false;

  constructor(
    readonly deps: DispatchDeps,
    readonly reference: DispatchReference,
    readonly roster: WorkerRoster,
    readonly log: Logger,
  ) {}

  get now(): number {
    return this.deps.clock.now();
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** No new side work after this (a text's call alarm); resolves once the queued units have run. */
  async stop(): Promise<void> {
    this.halted = true;
    await this.chain.catch(() => undefined);
  }

  /** One decision at a time inside this hub. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async context(q: Queryable): Promise<PlanContext> {
    const tree = this.reference.tree;
    if (!tree || !this.reference.ready) throw new Error('no regions loaded: import the region tree first (PUT /api/regions)');
    const c = this.deps.config;
    return {
      clock: this.deps.clock,
      sla: this.reference.categories,
      tree,
      index: await this.roster.current(q),
      deviceOf: (w) => this.roster.deviceOf(w),
      reachOf: (d) => this.deps.publisher?.reach(d) ?? 'device',
      newTaskId,
      offerTimeoutMs: c.DISPATCH_OFFER_TIMEOUT_S * 1000,
      holdRetryMs: c.DISPATCH_HOLD_RETRY_MIN * 60_000,
      neighbourRadiusM: c.DISPATCH_NEIGHBOUR_RADIUS_M,
    };
  }

  /**
   * One transaction: `work` reads, plans and commits through the given client. A version conflict
   * (another hub moved the incident) rolls back and runs `work` again on fresh rows.
   */
  async unit(work: (q: Queryable, out: Outcome) => Promise<void>): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const out: Outcome = { plans: [], alarms: [], touched: [] };
      try {
        await withTransaction(this.deps.pool, (client) => work(client, out));
      } catch (err) {
        if (err instanceof VersionConflict && attempt < 3) {
          this.deps.metrics.inc('dispatch_version_conflicts_total');
          continue;
        }
        throw err;
      }
      await this.afterCommit(out);
      return out;
    }
  }

  /** Commits a plan inside a unit (records what to push and send afterwards). */
  async commit(q: Queryable, out: Outcome, b: PlanBuilder): Promise<IncidentRecord> {
    const alarms = await commitPlan(q, b.plan);
    out.plans.push(b.plan);
    out.alarms.push(...alarms);
    return b.plan.incident;
  }

  private async afterCommit(out: Outcome): Promise<void> {
    const { notify, metrics } = this.deps;
    for (const x of out.touched) notify.incident(incidentView(x));
    for (const p of out.plans) {
      notify.incident(incidentView(p.incident));
      for (const a of p.audits) metrics.inc('dispatch_transitions_total', { action: a.action });
      if (p.newOffers.length) this.roster.addLoad(p.newOffers[0].workerId, 1);
    }
    for (const a of out.alarms) {
      const inc = out.plans.find((p) => p.incident.id === a.incidentId)?.incident ?? out.touched.find((x) => x.id === a.incidentId);
      // Settled in the plan (the call it asked for was answered): the screens drop it.
      if (a.acknowledgedAt === null) {
        metrics.inc('dispatch_alarms_total', { stage: a.stage });
        if (a.stage === CALL_WORKER)
          this.log.info({ incident: a.incidentId, level: a.level }, 'offer needs a phone call: the operators are asked');
        else this.log.warn({ incident: a.incidentId, stage: a.stage, level: a.level }, 'incident overdue: alarm raised');
      }
      notify.alarm(alarmView(a, inc?.gridCode ?? ''));
    }
    for (const p of out.plans) for (const m of p.messages) await this.send(m.deviceId, m.message, p.incident);
  }

  /** A task message to a handset or terminal, after its commit (or again from the outbox at start). */
  async send(deviceId: string, message: TaskMessageOut, inc: Pick<IncidentRecord, 'category' | 'gridCode'>): Promise<void> {
    const publisher = this.deps.publisher;
    if (!publisher) return;
    const text = () =>
      taskText(message, { categoryName: this.reference.categoryName(inc.category), placeName: this.reference.placeName(inc.gridCode) });
    const sent = publisher
      .send(deviceId, message, text)
      .then(
        (d) => this.delivered(deviceId, message, d),
        (err: Error) => {
          // The offer stays in the outbox (published_at null) and goes out at the next start.
          this.deps.metrics.inc('dispatch_publish_failures_total');
          this.log.warn({ device: deviceId, task: message.taskId, err: err.message }, 'task message not sent');
        },
      )
      .catch((err: Error) =>
        this.log.error({ device: deviceId, task: message.taskId, err: err.message }, 'task message sent, not recorded'),
      );
    // The broker takes an MQTT message at once; a terminal answers a text within its reply timeout
    // (30 s), and dispatch must not stand still meanwhile: the answer is handled when it comes.
    if (publisher.reach(deviceId) === 'device') await sent;
  }

  /**
   * Published (MQTT) or delivered (the terminal shows it) marks the offer sent. A text the terminal
   * did not show (away from this node, no screen, no answer) asks the operators to phone the worker
   * while the offer is still theirs (decision 013). It is never an acceptance: that is the worker's.
   */
  private async delivered(deviceId: string, message: TaskMessageOut, d: TaskDelivery): Promise<void> {
    if (message.kind !== 'offer') return;
    if (d === 'published' || d === 'delivered') {
      await markOfferPublished(this.deps.pool, message.taskId, this.now);
      return;
    }
    if (d === 'no_channel' || this.halted) return; // no_channel: a phone to call, the plan raised the alarm with the offer
    this.log.warn({ device: deviceId, task: message.taskId, outcome: d }, 'offer text not shown on the terminal: operators asked to call');
    await this.serial(() =>
      this.unit(async (q, out) => {
        const offer = await loadOffer(q, message.taskId);
        const inc = offer?.status === 'pending' ? await loadIncident(q, offer.incidentId) : null;
        if (inc?.state !== 'dispatched' || inc.assigneeId !== offer?.workerId) return;
        const alarm = await raiseAlarm(q, inc.id, CALL_WORKER, inc.escalationLevel, this.now);
        if (alarm) out.alarms.push(alarm), out.touched.push(inc);
      }),
    ).catch((err: Error) => this.log.error({ err: err.message, task: message.taskId }, 'call alarm not raised'));
  }
}
