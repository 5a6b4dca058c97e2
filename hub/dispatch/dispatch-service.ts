// Dispatch, wired: start()/stop() for the hub, and the work it offers. Every decision is one unit
// (dispatch-unit.ts: one version-checked transaction built from a pure plan, dispatch-plan.ts, then
// task messages and screen pushes). Work arrives from the inbox (alerts, patrol reports, task
// replies, committed by ingest: inbox-work.ts), from due deadlines (swept from the database, so a
// restart neither forgets nor doubles them: deadline-work.ts) and from the HTTP API (intake-work.ts,
// action-work.ts). Within a hub, decisions run one at a time; across hubs, row claims (SKIP LOCKED)
// and incident versions decide.
import type { GridLocator } from '../regions/grid-locator.js';
import { ActionWork } from './action-work.js';
import { seedCategories } from './category-store.js';
import { DeadlineWork } from './deadline-work.js';
import { DispatchFailure } from './dispatch-plan.js';
import { DispatchReference } from './dispatch-reference.js';
import { alarmView, DispatchUnits, type DispatchDeps } from './dispatch-unit.js';
import { InboxWork } from './inbox-work.js';
import { IntakeWork } from './intake-work.js';
import { incidentView, recordFromRow } from './incident-record.js';
import { alarmFromRow, offerIncidentFromRow, pendingOffersOf, unpublishedOffers, type OfferIncident } from './incident-store.js';
import type { OfferRecord } from './dispatch-plan.js';
import type { SlaCategory } from './sla-policy.js';
import { WorkerRoster } from './worker-roster.js';
import type { Logger } from '../../common/logger.js';

export type { DispatchNotify, Outcome } from './dispatch-unit.js';
export type DispatchServiceDeps = DispatchDeps;

export class DispatchService {
  readonly roster: WorkerRoster;
  readonly reference = new DispatchReference();
  readonly units: DispatchUnits;
  readonly intake: IntakeWork;
  readonly inbox: InboxWork;
  readonly deadlines: DeadlineWork;
  readonly actions: ActionWork;
  readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private pokeQueued = false;
  /** Handsets waiting for their open offers again (resendPendingOffers), and the queued run for them. */
  private readonly resendWaiting = new Set<string>();
  private resendQueued: Promise<number> | null = null;

  constructor(readonly deps: DispatchServiceDeps) {
    this.log = deps.logger.child({ mod: 'dispatch' });
    this.roster = new WorkerRoster(deps.pool, deps.regions, deps.live, deps.clock, 2000, (id) => deps.publisher?.reach(id) ?? 'device');
    this.units = new DispatchUnits(deps, this.reference, this.roster, this.log);
    this.intake = new IntakeWork(this.units);
    this.inbox = new InboxWork(this.units, this.intake);
    this.deadlines = new DeadlineWork(this.units);
    this.actions = new ActionWork(this.units);
  }

  async start(): Promise<void> {
    await seedCategories(this.deps.pool);
    await this.reload();
    await this.republishOutbox();
    await this.primeLive();
    this.timer = setInterval(() => this.poke(), this.deps.config.DISPATCH_SWEEP_MS);
    this.log.info({ categories: this.reference.categories.length, grids: this.reference.gridCount }, 'dispatch started');
  }

  /** Re-reads categories, regions and the roster (after an import or an admin change). */
  async reload(): Promise<void> {
    await this.reference.load(this.deps.pool, this.deps.regions);
    await this.roster.load();
    if (this.reference.ready) await this.units.serial(() => this.deadlines.relocateOrphans());
  }

  get categories(): readonly SlaCategory[] {
    return this.reference.categories;
  }

  gridLocator(): GridLocator {
    return this.reference.gridLocator();
  }

  /** Runs due deadlines and pending inbox rows soon (after a commit that brought work). */
  poke(): void {
    if (this.pokeQueued || this.units.stopped) return;
    this.pokeQueued = true;
    void this.units
      .serial(async () => {
        this.pokeQueued = false;
        await this.inbox.drainInbox();
        await this.deadlines.sweepDue();
      })
      .catch((err) => this.log.error({ err: (err as Error).message }, 'dispatch tick failed'));
  }

  /** Resolves once everything queued so far has run (tests and sim:day wait on it). */
  async settled(): Promise<void> {
    await this.units.serial(async () => undefined);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.units.stop();
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
      if (!inc.rows[0]) continue;
      await this.sendOffer(o.deviceId, o, offerIncidentFromRow(inc.rows[0]));
    }
    if (offers.length) this.log.info({ offers: offers.length }, 'unsent offers sent again');
  }

  /**
   * A handset listens for tasks with no session on this node (broker onTasksListener): an offer
   * queued for it elsewhere (another node, or this one before a restart) or published while it had
   * a clean session never reaches it, so its offers still open go out again, once more each (the
   * same task id: a handset takes a repeated offer as the same one, as MQTT's at-least-once asks).
   * Run in the dispatch queue, so an offer withdrawn meanwhile is not sent after its withdrawal;
   * handsets that come back together (a node restarted) share one query while the queue is busy.
   */
  resendPendingOffers(deviceId: string): Promise<number> {
    if (this.deps.publisher?.reach(deviceId) !== 'device' || this.units.stopped) return Promise.resolve(0);
    this.resendWaiting.add(deviceId);
    if (this.resendQueued) return this.resendQueued;
    const run = this.units.serial(async () => {
      const ids = [...this.resendWaiting];
      this.resendWaiting.clear();
      this.resendQueued = null;
      const offers = await pendingOffersOf(this.deps.pool, ids, this.deps.clock.now());
      for (const o of offers) await this.sendOffer(o.deviceId!, o, o);
      if (offers.length > 0) {
        this.deps.metrics.inc('dispatch_offers_resent_total', undefined, offers.length);
        this.log.info({ handsets: ids.length, offers: offers.length }, 'open offers sent again to handsets with no session here');
      }
      return offers.length;
    });
    // A run that never started (the queue stopped under it) must not hold later handsets back.
    run.catch(() => {
      if (this.resendQueued === run) this.resendQueued = null;
    });
    this.resendQueued = run;
    return run;
  }

  private sendOffer(deviceId: string, o: OfferRecord, x: OfferIncident): Promise<void> {
    return this.units.send(
      deviceId,
      {
        ts: this.deps.clock.now(),
        kind: 'offer',
        taskId: o.taskId,
        incidentId: o.incidentId,
        category: x.category,
        title: x.title,
        lat: x.lat,
        lon: x.lon,
        acceptBy: o.acceptBy,
      },
      { category: x.category, gridCode: x.gridCode },
    );
  }
}

export { alarmView, DispatchFailure };
