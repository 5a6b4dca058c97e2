// Dispatch, wired: intake → plan → commit → (after commit) task messages and screen pushes.
// Every decision is one transaction built from a pure plan (dispatch-plan.ts). Work arrives from the
// inbox (alerts, patrol reports, task replies, committed by ingest), from due deadlines (swept from
// the database, so a restart neither forgets nor doubles them) and from the HTTP API. Within a hub,
// decisions run one at a time; across hubs, row claims (SKIP LOCKED) and incident versions decide.
import { isAbandonedQuery } from '../../storage/database.js';
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { AlarmView, IncidentView } from '../../protocol/socket-events.js';
import type { LiveState } from '../live/live-state.js';
import { gridLocatorFromTree, type GridLocator } from '../regions/grid-locator.js';
import { bboxOf } from '../regions/geo-measure.js';
import { parseRegions, type RegionTree } from '../regions/region-tree.js';
import { loadCategories, seedCategories } from './category-store.js';
import { newTaskId } from './dispatch-intake.js';
import { CALL_WORKER, DispatchFailure, PlanBuilder, type Plan, type PlanContext } from './dispatch-plan.js';
import { incidentView, recordFromRow, type IncidentRecord } from './incident-record.js';
import { alarmFromRow, commitPlan, loadIncident, loadOffer, markOfferPublished, raiseAlarm, unpublishedOffers, VersionConflict, type AlarmRow, type Queryable } from './incident-store.js';
import type { SlaCategory } from './sla-policy.js';
import type { TaskDelivery, TaskPublisher } from './task-publisher.js';
import { taskText } from './task-text.js';
import { WorkerRoster } from './worker-roster.js';
import { DispatchWork } from './dispatch-work.js';

export interface DispatchNotify {
  incident(view: IncidentView): void;
  alarm(view: AlarmView): void;
}

export interface DispatchServiceDeps {
  pool: pg.Pool;
  clock: Clock;
  config: Config;
  live: LiveState;
  notify: DispatchNotify;
  publisher: Pick<TaskPublisher, 'send' | 'reach'> | null;
  metrics: Metrics;
  logger: Logger;
}

/** What a unit of work did, for the after-commit side effects. */
export interface Outcome {
  plans: Plan[];
  alarms: AlarmRow[];
  touched: IncidentRecord[];
}

export const alarmView = (a: AlarmRow, gridCode: string): AlarmView => ({ ...a, gridCode });

export class DispatchService {
  readonly roster: WorkerRoster;
  readonly work: DispatchWork;
  private sla: SlaCategory[] = [];
  private tree: RegionTree | null = null;
  private locator: GridLocator | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private pokeQueued = false;
  readonly log: Logger;

  constructor(readonly deps: DispatchServiceDeps) {
    this.log = deps.logger.child({ mod: 'dispatch' });
    this.roster = new WorkerRoster(deps.pool, deps.live, deps.clock, 2000, (id) => deps.publisher?.reach(id) ?? 'device');
    this.work = new DispatchWork(this);
  }

  async start(): Promise<void> {
    await seedCategories(this.deps.pool);
    await this.reload();
    await this.republishOutbox();
    await this.primeLive();
    this.timer = setInterval(() => this.poke(), this.deps.config.DISPATCH_SWEEP_MS);
    this.log.info({ categories: this.sla.length, grids: this.locator?.size ?? 0 }, 'dispatch started');
  }

  /** Re-reads categories, regions and the roster (after an import or an admin change). */
  async reload(): Promise<void> {
    this.sla = await loadCategories(this.deps.pool);
    const r = await this.deps.pool.query('SELECT code, parent_code, level, name, geometry FROM regions');
    if (r.rows.length > 0) {
      const fc = { type: 'FeatureCollection', features: r.rows.map((x) => ({ type: 'Feature', properties: { code: x.code, parent: x.parent_code, level: x.level, name: x.name }, geometry: x.geometry })) };
      const { tree } = parseRegions(fc, { skipGeometry: true });
      this.tree = tree;
      this.locator = tree.regions.some((g) => g.level === 'grid') ? gridLocatorFromTree(tree) : null;
    }
    await this.roster.load();
    if (this.locator) await this.serial(() => this.work.relocateOrphans());
  }

  get categories(): readonly SlaCategory[] {
    return this.sla;
  }

  /** Runs due deadlines and pending inbox rows soon (after a commit that brought work). */
  poke(): void {
    if (this.pokeQueued || this.stopped) return;
    this.pokeQueued = true;
    void this.serial(async () => {
      this.pokeQueued = false;
      await this.work.drainInbox();
      await this.work.sweepDue();
    }).catch((err) => this.log.error({ err: (err as Error).message }, 'dispatch tick failed'));
  }

  /** Resolves once everything queued so far has run (tests and sim:day wait on it). */
  async settled(): Promise<void> {
    await this.serial(async () => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain.catch(() => undefined);
  }

  /** One decision at a time inside this hub. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async context(q: Queryable): Promise<PlanContext> {
    if (!this.tree || !this.locator) throw new Error('no regions loaded: import the region tree first (PUT /api/regions)');
    const c = this.deps.config;
    return {
      clock: this.deps.clock,
      sla: this.sla,
      tree: this.tree,
      index: await this.roster.current(q),
      deviceOf: (w) => this.roster.deviceOf(w),
      reachOf: (d) => this.deps.publisher?.reach(d) ?? 'device',
      newTaskId,
      offerTimeoutMs: c.DISPATCH_OFFER_TIMEOUT_S * 1000,
      holdRetryMs: c.DISPATCH_HOLD_RETRY_MIN * 60_000,
      neighbourRadiusM: c.DISPATCH_NEIGHBOUR_RADIUS_M,
    };
  }

  /** Where to put an alert from a device registered with a grid but no coordinates. */
  gridCentre(code: string | null): { lat: number; lon: number } | null {
    const g = code ? this.tree?.byCode.get(code) : undefined;
    if (!g) return null;
    const b = bboxOf(g.geometry);
    return { lat: (b.minLat + b.maxLat) / 2, lon: (b.minLon + b.maxLon) / 2 };
  }

  gridLocator(): GridLocator {
    if (!this.locator) throw new Error('no grids loaded: import the region tree first (PUT /api/regions)');
    return this.locator;
  }

  /**
   * One transaction: `work` reads, plans and commits through the given client. A version conflict
   * (another hub moved the incident) rolls back and runs `work` again on fresh rows.
   */
  async unit(work: (q: Queryable, out: Outcome) => Promise<void>): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const out: Outcome = { plans: [], alarms: [], touched: [] };
      const client = await this.deps.pool.connect();
      try {
        await client.query('BEGIN');
        await work(client, out);
        await client.query('COMMIT');
      } catch (err) {
        // An abandoned statement still holds the connection: a ROLLBACK would wait behind it.
        if (!isAbandonedQuery(err)) await client.query('ROLLBACK').catch(() => undefined);
        if (err instanceof VersionConflict && attempt < 3) {
          this.deps.metrics.inc('dispatch_version_conflicts_total');
          continue;
        }
        throw err;
      } finally {
        client.release();
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
        if (a.stage === CALL_WORKER) this.log.info({ incident: a.incidentId, level: a.level }, 'offer needs a phone call: the operators are asked');
        else this.log.warn({ incident: a.incidentId, stage: a.stage, level: a.level }, 'incident overdue: alarm raised');
      }
      notify.alarm(alarmView(a, inc?.gridCode ?? ''));
    }
    for (const p of out.plans) for (const m of p.messages) await this.send(m.deviceId, m.message, p.incident);
  }

  private async send(deviceId: string, message: Plan['messages'][number]['message'], inc: Pick<IncidentRecord, 'category' | 'gridCode'>): Promise<void> {
    const publisher = this.deps.publisher;
    if (!publisher) return;
    const text = () => taskText(message, {
      categoryName: this.sla.find((c) => c.code === inc.category)?.nameZh ?? inc.category,
      placeName: this.tree?.byCode.get(inc.gridCode)?.name ?? null,
    });
    const sent = publisher.send(deviceId, message, text).then(
      (d) => this.delivered(deviceId, message, d),
      (err: Error) => {
        // The offer stays in the outbox (published_at null) and goes out at the next start.
        this.deps.metrics.inc('dispatch_publish_failures_total');
        this.log.warn({ device: deviceId, task: message.taskId, err: err.message }, 'task message not sent');
      },
    ).catch((err: Error) => this.log.error({ device: deviceId, task: message.taskId, err: err.message }, 'task message sent, not recorded'));
    // The broker takes an MQTT message at once; a terminal answers a text within its reply timeout
    // (30 s), and dispatch must not stand still meanwhile: the answer is handled when it comes.
    if (publisher.reach(deviceId) === 'device') await sent;
  }

  /**
   * Published (MQTT) or delivered (the terminal shows it) marks the offer sent. A text the terminal
   * did not show (away from this node, no screen, no answer) asks the operators to phone the worker
   * while the offer is still theirs (decision 013). It is never an acceptance: that is the worker's.
   */
  private async delivered(deviceId: string, message: Plan['messages'][number]['message'], d: TaskDelivery): Promise<void> {
    if (message.kind !== 'offer') return;
    if (d === 'published' || d === 'delivered') {
      await markOfferPublished(this.deps.pool, message.taskId, this.deps.clock.now());
      return;
    }
    if (d === 'no_channel' || this.stopped) return; // no_channel: a phone to call, the plan raised the alarm with the offer
    this.log.warn({ device: deviceId, task: message.taskId, outcome: d }, 'offer text not shown on the terminal: operators asked to call');
    await this.serial(() =>
      this.unit(async (q, out) => {
        const offer = await loadOffer(q, message.taskId);
        const inc = offer?.status === 'pending' ? await loadIncident(q, offer.incidentId) : null;
        if (!inc || inc.state !== 'dispatched' || inc.assigneeId !== offer?.workerId) return;
        const alarm = await raiseAlarm(q, inc.id, CALL_WORKER, inc.escalationLevel, this.deps.clock.now());
        if (alarm) (out.alarms.push(alarm), out.touched.push(inc));
      }),
    ).catch((err: Error) => this.log.error({ err: err.message, task: message.taskId }, 'call alarm not raised'));
  }

  /** After a restart the screens still see every open case and every alarm nobody acknowledged. */
  private async primeLive(): Promise<void> {
    const { pool, notify } = this.deps;
    const open = await pool.query(`SELECT * FROM incidents WHERE state NOT IN ('closed', 'cancelled') ORDER BY created_at DESC LIMIT 5000`);
    for (const row of open.rows) notify.incident(incidentView(recordFromRow(row)));
    const alarms = await pool.query(
      `SELECT a.*, i.grid_code FROM incident_alarms a JOIN incidents i ON i.id = a.incident_id WHERE a.acknowledged_at IS NULL ORDER BY a.raised_at LIMIT 1000`,
    );
    for (const row of alarms.rows) notify.alarm(alarmView(alarmFromRow(row), row.grid_code));
  }

  private async republishOutbox(): Promise<void> {
    const offers = await unpublishedOffers(this.deps.pool);
    for (const o of offers) {
      // Only MQTT handsets: their persistent session waits for the offer. A terminal's text went out
      // (or the operators were asked to call) when the offer was made; a phone never gets one.
      if (!o.deviceId || this.deps.publisher?.reach(o.deviceId) !== 'device') continue;
      const inc = await this.deps.pool.query('SELECT category, title, lat, lon, grid_code FROM incidents WHERE id = $1', [o.incidentId]);
      const x = inc.rows[0];
      if (!x) continue;
      await this.send(o.deviceId, { ts: this.deps.clock.now(), kind: 'offer', taskId: o.taskId, incidentId: o.incidentId, category: x.category, title: x.title ?? x.category, lat: x.lat, lon: x.lon, acceptBy: o.acceptBy }, { category: x.category, gridCode: x.grid_code });
    }
    if (offers.length) this.log.info({ offers: offers.length }, 'unsent offers sent again');
  }
}

export { DispatchFailure };
