// An incident as stored: the state machine's Incident plus what the database keeps beside it
// (text, SLA deadlines, milestones, folding, the resident's receipt). One mapping from a row,
// one to the screen's view (which never carries the resident's contact or token).
import type { IncidentView } from '../../protocol/socket-events.js';
import type { Incident } from './incident-state-machine.js';
import type { Deadlines, OverdueStage } from './sla-policy.js';

export interface IncidentRecord extends Incident, Deadlines {
  title: string | null;
  description: string | null;
  photos: string[];
  locationFlag: 'outside' | null;
  reporterKind: 'worker' | 'resident' | 'device' | 'operator' | null;
  reporterContact: string | null;
  reporterTokenHash: string | null;
  ratingScore: number | null;
  foldKey: string | null;
  foldCount: number;
  lastSeenAt: number | null;
  acceptedAt: number | null;
  arrivedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  overdueStages: OverdueStage[];
}

const ms = (v: Date | null): number | null => (v ? v.getTime() : null);

/** A row of `incidents` (pg returns timestamptz as Date). */
export function recordFromRow(r: Record<string, unknown>): IncidentRecord {
  const d = (k: string): Date => r[k] as Date;
  return {
    id: r.id as string,
    source: r.source as IncidentRecord['source'],
    category: r.category as string,
    priority: r.priority as IncidentRecord['priority'],
    title: (r.title as string | null) ?? null,
    description: (r.description as string | null) ?? null,
    photos: (r.photos as string[] | null) ?? [],
    lat: r.lat as number,
    lon: r.lon as number,
    gridCode: r.grid_code as string,
    locationFlag: (r.location_flag as 'outside' | null) ?? null,
    state: r.state as IncidentRecord['state'],
    version: r.version as number,
    escalationLevel: r.escalation_level as number,
    assigneeId: (r.assignee_id as string | null) ?? null,
    triedWorkerIds: (r.tried_worker_ids as string[] | null) ?? [],
    reporterKind: (r.reporter_kind as IncidentRecord['reporterKind']) ?? null,
    reporterId: (r.reporter_id as string | null) ?? null,
    reporterContact: (r.reporter_contact as string | null) ?? null,
    reporterTokenHash: (r.reporter_token_hash as string | null) ?? null,
    reopenCount: r.reopen_count as number,
    rating: (r.rating as IncidentRecord['rating']) ?? null,
    ratingScore: (r.rating_score as number | null) ?? null,
    foldKey: (r.fold_key as string | null) ?? null,
    foldCount: r.fold_count as number,
    lastSeenAt: ms(r.last_seen_at as Date | null),
    createdAt: d('created_at').getTime(),
    updatedAt: d('updated_at').getTime(),
    slaStartedAt: d('sla_started_at').getTime(),
    acceptBy: d('accept_by').getTime(),
    arriveBy: d('arrive_by').getTime(),
    resolveBy: d('resolve_by').getTime(),
    acceptedAt: ms(r.accepted_at as Date | null),
    arrivedAt: ms(r.arrived_at as Date | null),
    resolvedAt: ms(r.resolved_at as Date | null),
    closedAt: ms(r.closed_at as Date | null),
    overdueStages: (r.overdue_stages as OverdueStage[] | null) ?? [],
  };
}

/** Columns in the order incident-store writes them; `recordParams` gives the values. */
export const RECORD_COLUMNS = [
  'id',
  'source',
  'category',
  'priority',
  'title',
  'description',
  'photos',
  'lat',
  'lon',
  'grid_code',
  'location_flag',
  'state',
  'version',
  'escalation_level',
  'assignee_id',
  'tried_worker_ids',
  'reporter_kind',
  'reporter_id',
  'reporter_contact',
  'reporter_token_hash',
  'reopen_count',
  'rating',
  'rating_score',
  'fold_key',
  'fold_count',
  'last_seen_at',
  'created_at',
  'updated_at',
  'sla_started_at',
  'accept_by',
  'arrive_by',
  'resolve_by',
  'accepted_at',
  'arrived_at',
  'resolved_at',
  'closed_at',
  'overdue_stages',
] as const;

const date = (v: number | null): Date | null => (v === null ? null : new Date(v));

export function recordParams(x: IncidentRecord): unknown[] {
  return [
    x.id,
    x.source,
    x.category,
    x.priority,
    x.title,
    x.description,
    JSON.stringify(x.photos),
    x.lat,
    x.lon,
    x.gridCode,
    x.locationFlag,
    x.state,
    x.version,
    x.escalationLevel,
    x.assigneeId,
    x.triedWorkerIds,
    x.reporterKind,
    x.reporterId,
    x.reporterContact,
    x.reporterTokenHash,
    x.reopenCount,
    x.rating,
    x.ratingScore,
    x.foldKey,
    x.foldCount,
    date(x.lastSeenAt),
    date(x.createdAt),
    date(x.updatedAt),
    date(x.slaStartedAt),
    date(x.acceptBy),
    date(x.arriveBy),
    date(x.resolveBy),
    date(x.acceptedAt),
    date(x.arrivedAt),
    date(x.resolvedAt),
    date(x.closedAt),
    x.overdueStages,
  ];
}

export function incidentView(x: IncidentRecord): IncidentView {
  return {
    id: x.id,
    source: x.source,
    category: x.category,
    priority: x.priority,
    title: x.title,
    state: x.state,
    version: x.version,
    lat: x.lat,
    lon: x.lon,
    gridCode: x.gridCode,
    locationFlag: x.locationFlag,
    escalationLevel: x.escalationLevel,
    assigneeId: x.assigneeId,
    foldCount: x.foldCount,
    createdAt: x.createdAt,
    updatedAt: x.updatedAt,
    acceptBy: x.acceptBy,
    arriveBy: x.arriveBy,
    resolveBy: x.resolveBy,
    overdue: [...x.overdueStages],
    rating: x.rating,
  };
}
