// The inbox: what handsets and devices sent (door and camera alerts, patrol reports, task replies),
// committed by ingest into hub_inbox and taken here one row per unit, claimed with SKIP LOCKED so two
// hubs never take the same row. An alert or a report becomes an incident (intake-work.ts); a reply
// answers the offer the handset holds.
import type { z } from 'zod';
import { AppError } from '../../common/error-codes.js';
import { offerIsLive, planAnswer } from './dispatch-answer.js';
import { DispatchFailure, PlanBuilder } from './dispatch-plan.js';
import type { DispatchUnits, Outcome } from './dispatch-unit.js';
import type { Actor } from './incident-state-machine.js';
import { findOpenFold, foldAlert, loadIncident, loadOffer, type Queryable } from './incident-store.js';
import type { IntakeWork } from './intake-work.js';
import { INBOX_BODY_SCHEMAS, isInboxChannel, type InboxBody, type InboxChannel, type ParsedInbox } from '../rows/row-types.js';

const pointOf = (lat: unknown, lon: unknown): { lat: number; lon: number } | null =>
  typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : null;

/** The body against its channel's schema (beside the row type, hub/rows/row-types.ts). */
function parseInbox(channel: InboxChannel, body: unknown): ParsedInbox | { refused: string } {
  switch (channel) {
    case 'events': {
      const r = INBOX_BODY_SCHEMAS.events.safeParse(body);
      return r.success ? { channel, body: r.data } : refusal(channel, r.error);
    }
    case 'reports': {
      const r = INBOX_BODY_SCHEMAS.reports.safeParse(body);
      return r.success ? { channel, body: r.data } : refusal(channel, r.error);
    }
    case 'task-replies': {
      const r = INBOX_BODY_SCHEMAS['task-replies'].safeParse(body);
      return r.success ? { channel, body: r.data } : refusal(channel, r.error);
    }
  }
}

// The first few issues name the fields; the body itself stays out of the log (it may hold a phone number).
const refusal = (channel: InboxChannel, error: z.ZodError): { refused: string } => ({
  refused: `body does not fit ${channel}: ${error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(body)'} ${i.message}`)
    .join('; ')}`,
});

export class InboxWork {
  constructor(
    private readonly u: DispatchUnits,
    private readonly intake: IntakeWork,
  ) {}

  async drainInbox(max = 200): Promise<number> {
    let n = 0;
    for (; n < max; n++) {
      let found = false;
      await this.u.unit(async (q, out) => {
        const r = await q.query(
          `SELECT id, device_id, channel, body FROM hub_inbox WHERE processed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        );
        const row = r.rows[0];
        if (!row) return;
        found = true;
        let refused: string | null;
        try {
          refused = await this.handleInbox(q, out, row.device_id, row.channel, row.body);
        } catch (err) {
          if (!(err instanceof AppError) && !(err instanceof DispatchFailure)) throw err;
          refused = err.message;
        }
        if (refused !== null) {
          // A bad row must not block the queue: it is marked taken, counted and logged with its error.
          this.u.deps.metrics.inc('dispatch_inbox_rejected_total', { channel: row.channel });
          this.u.log.warn({ device: row.device_id, channel: row.channel, err: refused }, 'inbox message refused');
        }
        await q.query('UPDATE hub_inbox SET processed_at = $2 WHERE id = $1', [row.id, new Date(this.u.now)]);
      });
      if (!found) break;
    }
    return n;
  }

  /** Null when taken (or not dispatch's to take), else why the row is refused. */
  private async handleInbox(q: Queryable, out: Outcome, deviceId: string, channel: string, body: unknown): Promise<string | null> {
    if (!isInboxChannel(channel)) return null;
    const parsed = parseInbox(channel, body);
    if ('refused' in parsed) return parsed.refused;
    const workerId = this.u.deps.live.byDevice(deviceId)?.workerId ?? null;
    switch (parsed.channel) {
      case 'events':
        await this.intakeAlert(q, out, deviceId, parsed.body);
        return null;
      case 'reports': {
        const r = parsed.body;
        await this.intake.intake(q, out, {
          source: 'patrol_report',
          category: r.category,
          priority: r.priority,
          lat: r.lat,
          lon: r.lon,
          title: r.description?.slice(0, 60) ?? null,
          description: r.description ?? null,
          photos: r.photos ?? [],
          reporterKind: 'worker',
          reporterId: workerId ?? deviceId,
          seenAt: r.ts,
        });
        return null;
      }
      case 'task-replies':
        if (workerId) await this.reply(q, out, deviceId, workerId, parsed.body);
        return null;
    }
  }

  /** Door and camera alerts: repeats of one device and type fold into the open incident (DESIGN §4). */
  private async intakeAlert(q: Queryable, out: Outcome, deviceId: string, a: InboxBody<'events'>): Promise<void> {
    const { metrics, live } = this.u.deps;
    // A handset's own alarms become incidents only where the category table has them (handset.sos,
    // migration 032); power cut, low battery, tamper, GNSS faults stay events on the screen.
    const handset = a.type.startsWith('handset.');
    if (handset && !this.u.reference.categories.some((c) => c.code === a.type)) {
      metrics.inc('dispatch_alerts_event_only_total', { type: a.type });
      return;
    }
    const foldKey = `${deviceId}:${a.type}`;
    const open = await findOpenFold(q, foldKey);
    if (open) {
      out.touched.push(await foldAlert(q, open.id, a.ts));
      metrics.inc('dispatch_alerts_folded_total');
      return;
    }
    // A handset has no fixed place: its alarm is where the report put it (data.lat/lon, the gateway
    // sets them), else at the worker's last live position.
    const worker = handset ? live.byDevice(deviceId) : undefined;
    const at =
      pointOf(a.lat, a.lon) ??
      (handset ? (pointOf(a.data?.lat, a.data?.lon) ?? pointOf(worker?.lat, worker?.lon)) : null) ??
      this.u.reference.gridCentre(a.gridCode ?? null);
    if (!at) {
      this.u.log.warn({ device: deviceId, type: a.type }, 'alert from a device with no position and no grid: register its location');
      metrics.inc('dispatch_alerts_unplaced_total');
      return;
    }
    await this.intake.intake(q, out, {
      source: 'device_alert',
      category: a.type,
      ...at,
      title: null,
      reporterKind: 'device',
      reporterId: deviceId,
      foldKey,
      seenAt: a.ts,
      // The worker who pressed SOS is not the one to send to it.
      ...(worker ? { excludeWorkerIds: [worker.workerId] } : {}),
    });
  }

  /** accept / decline / arrived / resolved from the handset holding the task. */
  private async reply(q: Queryable, out: Outcome, deviceId: string, workerId: string, r: InboxBody<'task-replies'>): Promise<void> {
    const offer = await loadOffer(q, r.taskId);
    if (!offer || offer.workerId !== workerId) {
      this.u.deps.metrics.inc('dispatch_replies_ignored_total', { why: 'unknown_task' });
      return;
    }
    const inc = await loadIncident(q, offer.incidentId, true);
    if (!inc) return;
    const ctx = await this.u.context(q);
    const b = new PlanBuilder(ctx, inc, false);
    const actor: Actor = { kind: 'worker', id: workerId, role: this.u.roster.roleOf(workerId) };
    if (!offerIsLive(offer, inc, workerId)) {
      // Too late (timed out, escalated, cancelled): tell the handset to drop it.
      this.u.deps.metrics.inc('dispatch_replies_ignored_total', { why: 'stale_task' });
      b.message(deviceId, { kind: 'cancel', taskId: r.taskId, note: '任务已失效 / task no longer yours' });
      out.plans.push({ ...b.plan, messages: b.plan.messages });
      return;
    }
    planAnswer(b, offer, r.reply, actor, { ...(r.reason ? { reason: r.reason } : {}), ...(r.note ? { note: r.note } : {}) });
    await this.u.commit(q, out, b);
  }
}
