// Response shapes of the HTTP API that the command screen reads, typed once (STYLE: nobody
// re-declares a payload). The hub's routes check their replies against these with `satisfies`.
import type { IncidentView } from './socket-events.js';

/** One step of an incident's append-only audit log. */
export interface AuditEntryView {
  version: number;
  /** Epoch ms. */
  at: number;
  actorKind: string;
  actorId: string;
  actorRole: string | null;
  action: string;
  fromState: string | null;
  toState: string;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

export type ScorePart = 'responsibility' | 'distance' | 'load' | 'freshness' | 'fitness';
/** Why the worker was a candidate: their own grid, the ladder rung's scope, or a neighbour nearby. */
export const OFFER_VIAS = ['own_grid', 'scope', 'neighbour'] as const;
export type OfferVia = (typeof OFFER_VIAS)[number];
export const OFFER_STATUSES = ['pending', 'accepted', 'declined', 'timed_out', 'withdrawn'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

/** An offer made to a worker, with the score parts that chose them ("why this worker"). */
export interface OfferView {
  taskId: string;
  incidentId: string;
  workerId: string;
  deviceId: string | null;
  level: number;
  via: OfferVia;
  rank: number;
  total: number;
  parts: Record<ScorePart, number>;
  distanceM: number | null;
  positionAgeMs: number | null;
  offeredAt: number;
  acceptBy: number;
  status: OfferStatus;
  answeredAt: number | null;
  publishedAt: number | null;
}

/**
 * How a worker's handset takes a task offer (docs/decisions/013): `device` reads and answers it
 * itself (native MQTT handset); `text` shows it on its screen but cannot answer (a JT/T 808
 * terminal, 0x8300); `call` neither (an OwnTracks phone): the operator phones the worker. For
 * `text` and `call` the operator records the answers on the worker's behalf (ON_BEHALF_ACTIONS).
 */
export const TASK_REACH = ['device', 'text', 'call'] as const;
export type TaskReach = (typeof TASK_REACH)[number];

/** POST /api/incidents/:id/actions: what an operator does to a case as themselves. */
export const OPERATOR_ACTIONS = ['verify', 'reject_resolution', 'close', 'reopen', 'escalate', 'cancel'] as const;
/** …and what an operator records on behalf of the assignee whose handset cannot answer (with `workerId`). */
export const ON_BEHALF_ACTIONS = ['accept_for', 'decline_for', 'arrive_for', 'resolve_for'] as const;
export type OnBehalfAction = (typeof ON_BEHALF_ACTIONS)[number];

/** GET /api/incidents/:id */
export interface IncidentDetailView {
  incident: IncidentView & {
    description: string | null;
    photos: string[];
    reopenCount: number;
    ratingScore: number | null;
    acceptedAt: number | null;
    arrivedAt: number | null;
    resolvedAt: number | null;
    closedAt: number | null;
  };
  audit: AuditEntryView[];
  offers: OfferView[];
  /** How the assignee's handset takes offers; null when nobody has the case or no handset is known. */
  assigneeReach?: TaskReach | null;
}

/** GET /api/kpis/tiles?scope= : the command screen's live tiles. */
export interface KpiTiles {
  scope: string;
  /** Today in Asia/Shanghai, YYYY-MM-DD, and the instant the figures were read. */
  day: string;
  asOf: string;
  /** Created today, not cancelled. */
  incidentsToday: number;
  /** Open now (any day): not resolved, verified, closed or cancelled. */
  open: number;
  /** Of today's incidents, closed already. */
  closed: number;
  /** closed / incidentsToday; null before the first incident of the day. */
  closureRate: number | null;
  /** Of incidents resolved today, the share resolved by resolve_by; null when none. */
  onTimeRate: number | null;
  /** Median time from report (or reopen) to acceptance, over incidents accepted today. */
  medianAcceptMs: number | null;
  /** Median time from report (or reopen) to resolution, over incidents resolved today. */
  medianResolveMs: number | null;
  /** Workers in scope whose handset's last presence is online. */
  workersOnline: number;
  /** Of those, on duty (the later of the handset's duty status and an operator's change). */
  workersOnPatrol: number;
}
