// Response shapes of the HTTP API that the command screen reads, typed once (STYLE: nobody
// re-declares a payload): the types come from the routes' zod schemas (incident-api.ts,
// analytics-api.ts) by type imports, and the constants here are plain, so the command screen
// imports this file without zod.
import type { z } from 'zod';
import type { kpiTilesSchema } from './analytics-api.js';
import type { auditEntryViewSchema, incidentDetailViewSchema, offerViewSchema } from './incident-api.js';

/** One step of an incident's append-only audit log. */
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>;
/** An offer made to a worker, with the score parts that chose them ("why this worker"). */
export type OfferView = z.infer<typeof offerViewSchema>;
/** GET /api/incidents/:id */
export type IncidentDetailView = z.infer<typeof incidentDetailViewSchema>;
/** GET /api/kpis/tiles?scope= : the command screen's live tiles (meanings in hub/README.md). */
export type KpiTiles = z.infer<typeof kpiTilesSchema>;

/** The parts of a candidate's score ("why this worker"). */
export const SCORE_PARTS = ['responsibility', 'distance', 'load', 'freshness', 'fitness'] as const;
export type ScorePart = (typeof SCORE_PARTS)[number];
/** Why the worker was a candidate: their own grid, the ladder rung's scope, or a neighbour nearby. */
export const OFFER_VIAS = ['own_grid', 'scope', 'neighbour'] as const;
export type OfferVia = (typeof OFFER_VIAS)[number];
export const OFFER_STATUSES = ['pending', 'accepted', 'declined', 'timed_out', 'withdrawn'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

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
