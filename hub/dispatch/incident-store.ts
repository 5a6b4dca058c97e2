// Incidents in the database. A plan is committed in one transaction: the incident row changes only
// if its version is still the one the plan was made from (optimistic concurrency: two hubs never
// assign or close the same incident twice, DESIGN §4), and the audit, offers, deadlines and alarms
// of the plan go in with it or not at all.
import type pg from 'pg';
import { RECORD_COLUMNS, recordFromRow, recordParams, type IncidentRecord } from './incident-record.js';
import type { DeadlineKind, OfferRecord, Plan } from './dispatch-plan.js';
import { LOAD_STATES } from './incident-state-machine.js';
import type { AlarmView } from '../../protocol/socket-events.js';

export type Queryable = Pick<pg.PoolClient, 'query'>;

export interface DeadlineRow {
  id: number;
  incidentId: string;
  kind: DeadlineKind;
  dueAt: number;
  ref: string | null;
}

/** An alarm as stored: the screen's view (protocol) without the grid, which is its incident's. */
export type AlarmRow = Omit<AlarmView, 'gridCode'>;

export class VersionConflict extends Error {
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} changed meanwhile`);
  }
}

const COLS = RECORD_COLUMNS.join(', ');
const PLACEHOLDERS = RECORD_COLUMNS.map((c, i) => (c === 'photos' ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(', ');
const UPDATE_SET = RECORD_COLUMNS.slice(1)
  .map((c, i) => `${c} = $${i + 2}${c === 'photos' ? '::jsonb' : ''}`)
  .join(', ');
const TERMINAL = `('resolved', 'verified', 'closed', 'cancelled')`;

export async function loadIncident(q: Queryable, id: string, forUpdate = false): Promise<IncidentRecord | null> {
  const r = await q.query(`SELECT * FROM incidents WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? recordFromRow(r.rows[0]) : null;
}

/** The open incident folding alerts of this key, if any. */
export async function findOpenFold(q: Queryable, foldKey: string): Promise<IncidentRecord | null> {
  const r = await q.query(`SELECT * FROM incidents WHERE fold_key = $1 AND state NOT IN ${TERMINAL} FOR UPDATE`, [foldKey]);
  return r.rows[0] ? recordFromRow(r.rows[0]) : null;
}

/** A repeat alert: one more on the count, no new case (DESIGN §4). */
export async function foldAlert(q: Queryable, id: string, seenAt: number): Promise<IncidentRecord> {
  const r = await q.query(
    `UPDATE incidents SET fold_count = fold_count + 1, last_seen_at = greatest(last_seen_at, $2) WHERE id = $1 RETURNING *`,
    [id, new Date(seenAt)],
  );
  return recordFromRow(r.rows[0]);
}

/** Writes a plan; throws VersionConflict if the incident moved on (or a fold twin was inserted first). */
export async function commitPlan(q: Queryable, plan: Plan): Promise<AlarmRow[]> {
  const x = plan.incident;
  if (plan.baseVersion === null) {
    const foldConflict = x.foldKey ? ` ON CONFLICT (fold_key) WHERE fold_key IS NOT NULL AND state NOT IN ${TERMINAL} DO NOTHING` : '';
    const r = await q.query(`INSERT INTO incidents (${COLS}) VALUES (${PLACEHOLDERS})${foldConflict}`, recordParams(x));
    if (r.rowCount === 0) throw new VersionConflict(x.id);
  } else {
    const params = recordParams(x);
    params.push(plan.baseVersion);
    const r = await q.query(`UPDATE incidents SET ${UPDATE_SET} WHERE id = $1 AND version = $${params.length}`, params);
    if (r.rowCount === 0) throw new VersionConflict(x.id);
  }
  for (const a of plan.audits) {
    await q.query(
      `INSERT INTO incident_audit (incident_id, version, at, actor_kind, actor_id, actor_role, action, from_state, to_state, reason, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        x.id,
        a.version,
        new Date(a.at),
        a.actor.kind,
        a.actor.id,
        a.actor.role ?? null,
        a.action,
        a.from,
        a.to,
        a.reason,
        a.detail ? JSON.stringify(a.detail) : null,
      ],
    );
  }
  for (const o of plan.newOffers) {
    await q.query(
      `INSERT INTO incident_offers (task_id, incident_id, worker_id, device_id, level, via, rank, total, parts, distance_m, position_age_ms, offered_at, accept_by, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        o.taskId,
        o.incidentId,
        o.workerId,
        o.deviceId,
        o.level,
        o.via,
        o.rank,
        o.total,
        JSON.stringify(o.parts),
        o.distanceM,
        o.positionAgeMs,
        new Date(o.offeredAt),
        new Date(o.acceptBy),
        o.status,
      ],
    );
  }
  const now = new Date(x.updatedAt);
  for (const s of plan.offerStatus) {
    await q.query(
      `UPDATE incident_offers SET status = $2, answered_at = coalesce(answered_at, $3) WHERE task_id = $1 AND status IN ('pending', 'accepted')`,
      [s.taskId, s.status, now],
    );
  }
  for (const d of plan.deadlines) {
    await q.query(`INSERT INTO incident_deadlines (incident_id, kind, due_at, ref) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
      x.id,
      d.kind,
      new Date(d.dueAt),
      d.ref,
    ]);
  }
  const alarms: AlarmRow[] = [];
  // Settled before the new ones go in: a plan that answers one call and asks for the next keeps the next open.
  for (const a of plan.settleAlarms) {
    const r = await q.query(
      `UPDATE incident_alarms SET acknowledged_at = $3, acknowledged_by = $4
        WHERE incident_id = $1 AND stage = $2 AND acknowledged_at IS NULL RETURNING *`,
      [x.id, a.stage, now, a.by],
    );
    alarms.push(...r.rows.map(alarmFromRow));
  }
  for (const a of plan.alarms) {
    const r = await q.query(
      `INSERT INTO incident_alarms (incident_id, stage, level, raised_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING *`,
      [x.id, a.stage, a.level, new Date(a.raisedAt)],
    );
    if (r.rows[0]) alarms.push(alarmFromRow(r.rows[0]));
  }
  return alarms;
}

export function offerFromRow(r: Record<string, unknown>): OfferRecord {
  return {
    taskId: r.task_id as string,
    incidentId: r.incident_id as string,
    workerId: r.worker_id as string,
    deviceId: (r.device_id as string | null) ?? null,
    level: r.level as number,
    via: r.via as OfferRecord['via'],
    rank: r.rank as number,
    total: r.total as number,
    parts: r.parts as OfferRecord['parts'],
    distanceM: (r.distance_m as number | null) ?? null,
    positionAgeMs: (r.position_age_ms as number | null) ?? null,
    offeredAt: (r.offered_at as Date).getTime(),
    acceptBy: (r.accept_by as Date).getTime(),
    status: r.status as OfferRecord['status'],
  };
}

export function alarmFromRow(r: Record<string, unknown>): AlarmRow {
  return {
    id: Number(r.id),
    incidentId: r.incident_id as string,
    stage: r.stage as string,
    level: r.level as number,
    raisedAt: (r.raised_at as Date).getTime(),
    acknowledgedAt: r.acknowledged_at ? (r.acknowledged_at as Date).getTime() : null,
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
  };
}

export async function loadOffer(q: Queryable, taskId: string): Promise<OfferRecord | null> {
  const r = await q.query('SELECT * FROM incident_offers WHERE task_id = $1', [taskId]);
  return r.rows[0] ? offerFromRow(r.rows[0]) : null;
}

/** The offer someone holds now: pending, or accepted and being worked on. */
export async function liveOffer(q: Queryable, incidentId: string): Promise<OfferRecord | null> {
  const r = await q.query(
    `SELECT * FROM incident_offers WHERE incident_id = $1 AND status IN ('pending', 'accepted') ORDER BY offered_at DESC LIMIT 1`,
    [incidentId],
  );
  return r.rows[0] ? offerFromRow(r.rows[0]) : null;
}

/** Claims the earliest due deadline no other hub holds; the caller marks it fired in the same transaction. */
export async function claimDueDeadline(q: Queryable, now: number): Promise<DeadlineRow | null> {
  const r = await q.query(
    `SELECT id, incident_id, kind, due_at, ref FROM incident_deadlines
      WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [new Date(now)],
  );
  const row = r.rows[0];
  return row ? { id: Number(row.id), incidentId: row.incident_id, kind: row.kind, dueAt: row.due_at.getTime(), ref: row.ref } : null;
}

export async function markDeadline(q: Queryable, id: number, now: number, outcome: string): Promise<void> {
  await q.query('UPDATE incident_deadlines SET fired_at = $2, outcome = $3 WHERE id = $1', [id, new Date(now), outcome]);
}

export async function markOfferPublished(q: Queryable, taskId: string, now: number): Promise<void> {
  await q.query('UPDATE incident_offers SET published_at = $2 WHERE task_id = $1 AND published_at IS NULL', [taskId, new Date(now)]);
}

/** Pending offers the broker never took (a hub stopped between commit and publish). */
export async function unpublishedOffers(q: Queryable): Promise<OfferRecord[]> {
  const r = await q.query(`SELECT * FROM incident_offers WHERE published_at IS NULL AND status = 'pending' ORDER BY offered_at LIMIT 500`);
  return r.rows.map(offerFromRow);
}

/** These devices' offers still open at `now`, with what the offer message says of their incident. */
export async function pendingOffersOf(q: Queryable, deviceIds: string[], now: number): Promise<(OfferRecord & OfferIncident)[]> {
  const r = await q.query(
    `SELECT o.*, i.category, i.title, i.lat, i.lon, i.grid_code FROM incident_offers o JOIN incidents i ON i.id = o.incident_id
      WHERE o.device_id = ANY ($1) AND o.status = 'pending' AND o.accept_by > $2 ORDER BY o.offered_at`,
    [deviceIds, new Date(now)],
  );
  return r.rows.map((x) => ({ ...offerFromRow(x), ...offerIncidentFromRow(x) }));
}

/** What an offer message tells of its incident. */
export interface OfferIncident {
  category: string;
  title: string;
  lat: number;
  lon: number;
  gridCode: string;
}

export function offerIncidentFromRow(x: Record<string, unknown>): OfferIncident {
  return {
    category: x.category as string,
    title: (x.title as string | null) ?? (x.category as string),
    lat: x.lat as number,
    lon: x.lon as number,
    gridCode: x.grid_code as string,
  };
}

/** An alarm raised outside a plan (a text the terminal never showed); null if that one exists already. */
export async function raiseAlarm(q: Queryable, incidentId: string, stage: string, level: number, at: number): Promise<AlarmRow | null> {
  const r = await q.query(
    `INSERT INTO incident_alarms (incident_id, stage, level, raised_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *`,
    [incidentId, stage, level, new Date(at)],
  );
  return r.rows[0] ? alarmFromRow(r.rows[0]) : null;
}

export async function ackAlarm(q: Queryable, id: number, by: string, now: number): Promise<AlarmRow | null> {
  const r = await q.query(
    `UPDATE incident_alarms SET acknowledged_at = coalesce(acknowledged_at, $2), acknowledged_by = coalesce(acknowledged_by, $3)
      WHERE id = $1 RETURNING *`,
    [id, new Date(now), by],
  );
  return r.rows[0] ? alarmFromRow(r.rows[0]) : null;
}

/** Open assignments per worker: the "load" part of matching. */
export async function loadsByWorker(q: Queryable): Promise<Map<string, number>> {
  const r = await q.query(
    `SELECT assignee_id, count(*)::int AS n FROM incidents WHERE state = ANY($1) AND assignee_id IS NOT NULL GROUP BY 1`,
    [LOAD_STATES],
  );
  return new Map(r.rows.map((row) => [row.assignee_id as string, row.n as number]));
}
