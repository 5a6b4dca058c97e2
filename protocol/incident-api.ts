// The dispatch HTTP API as zod (issue 17 item 4): residents' complaints, the incident board and its
// actions, alarms and the SLA table, each route's path, query, body and replies declared once. The
// hub serves these (hub/dispatch/incident-routes.ts); the views also travel over Socket.IO, whose
// interfaces (socket-events.ts, http-api.ts) these schemas are checked against.
import { z } from 'zod';
import { epochMs, idParams, noQuery, queryFlag, route } from './http-contract.js';
import { OFFER_STATUSES, OFFER_VIAS, SCORE_PARTS, TASK_REACH } from './http-api.js';
import { incidentActionBodySchema } from './incident-actions.js';
import { CRS } from './schemas.js';
import { incidentSourceSchema, prioritySchema } from './incident-vocabulary.js';

const priority = prioritySchema.optional();

// --- the SLA table (hub/dispatch/sla-policy.ts holds the defaults and the rules that use it) ---

export const HANDLING_TIERS = ['grid', 'community', 'street'] as const;
export type HandlingTier = (typeof HANDLING_TIERS)[number];

const minutes = z.number().int().positive();
const deadlineFields = z.strictObject({ acceptMin: minutes, arriveMin: minutes, resolveMin: minutes });
export const deadlineMinutesSchema = deadlineFields.refine(
  (d) => d.acceptMin <= d.arriveMin && d.arriveMin <= d.resolveMin,
  'accept ≤ arrive ≤ resolve',
);
export type DeadlineMinutes = z.infer<typeof deadlineMinutesSchema>;

export const CATEGORY_CODE = /^[a-z]+(\.[a-z_]+)*$/;
const categoryFields = {
  code: z.string().regex(CATEGORY_CODE),
  nameZh: z.string().min(1),
  nameEn: z.string().min(1),
  defaultPriority: prioritySchema,
  tier: z.enum(HANDLING_TIERS),
};
export const slaCategorySchema = z.object({
  ...categoryFields,
  deadlines: z.object({
    low: deadlineMinutesSchema,
    normal: deadlineMinutesSchema,
    high: deadlineMinutesSchema,
    urgent: deadlineMinutesSchema,
  }),
});
export type SlaCategory = z.infer<typeof slaCategorySchema>;
export const slaTableSchema = z.array(slaCategorySchema).min(1);

/**
 * PUT /api/categories/:code: the row's fields (the code comes from the URL; one in the body must
 * match it). The order of the minutes is judged by the handler with slaCategorySchema, so a row
 * out of order answers 422 CATEGORY_INVALID, not 400.
 */
export const categoryPutBodySchema = z.strictObject({
  ...categoryFields,
  code: categoryFields.code.optional(),
  deadlines: z.strictObject({ low: deadlineFields, normal: deadlineFields, high: deadlineFields, urgent: deadlineFields }),
});

// --- views ---

export const incidentViewSchema = z.object({
  id: z.string(),
  source: incidentSourceSchema,
  category: z.string(),
  priority: prioritySchema,
  title: z.string().nullable(),
  state: z.string(),
  version: z.number().int(),
  lat: z.number(),
  lon: z.number(),
  gridCode: z.string(),
  /** 'outside': no grid contained the point; the nearest grid owns it until reviewed. */
  locationFlag: z.literal('outside').nullable(),
  escalationLevel: z.number().int(),
  assigneeId: z.string().nullable(),
  foldCount: z.number().int(),
  createdAt: epochMs,
  updatedAt: epochMs,
  acceptBy: epochMs,
  arriveBy: epochMs,
  resolveBy: epochMs,
  /** SLA stages already missed ('accept' | 'arrive' | 'resolve'): the screen paints these red. */
  overdue: z.array(z.string()),
  rating: z.enum(['satisfied', 'unsatisfied']).nullable(),
});

export const alarmViewSchema = z.object({
  id: z.number().int(),
  incidentId: z.string(),
  gridCode: z.string(),
  stage: z.string(),
  level: z.number().int(),
  raisedAt: epochMs,
  acknowledgedAt: epochMs.nullable(),
  acknowledgedBy: z.string().nullable(),
});

export const auditEntryViewSchema = z.object({
  version: z.number().int(),
  at: epochMs,
  actorKind: z.string(),
  actorId: z.string(),
  actorRole: z.string().nullable(),
  action: z.string(),
  fromState: z.string().nullable(),
  toState: z.string(),
  reason: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});

export const offerViewSchema = z.object({
  taskId: z.string(),
  incidentId: z.string(),
  workerId: z.string(),
  deviceId: z.string().nullable(),
  level: z.number().int(),
  via: z.enum(OFFER_VIAS),
  rank: z.number().int(),
  total: z.number(),
  parts: z.record(z.enum(SCORE_PARTS), z.number()),
  distanceM: z.number().nullable(),
  positionAgeMs: z.number().nullable(),
  offeredAt: epochMs,
  acceptBy: epochMs,
  status: z.enum(OFFER_STATUSES),
  answeredAt: epochMs.nullable(),
  publishedAt: epochMs.nullable(),
});

export const incidentDetailViewSchema = z.object({
  incident: incidentViewSchema.extend({
    description: z.string().nullable(),
    photos: z.array(z.string()),
    reopenCount: z.number().int(),
    ratingScore: z.number().int().nullable(),
    acceptedAt: epochMs.nullable(),
    arrivedAt: epochMs.nullable(),
    resolvedAt: epochMs.nullable(),
    closedAt: epochMs.nullable(),
  }),
  audit: z.array(auditEntryViewSchema),
  offers: z.array(offerViewSchema),
  /** How the assignee's handset takes offers; null when nobody has the case or no handset is known. */
  assigneeReach: z.enum(TASK_REACH).nullable().optional(),
});

const incidentReply = z.object({ incident: incidentViewSchema });
const point = { lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) };
const category = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z_]+(\.[a-z_]+)*$/);
const receipt = z.string().min(8).max(200);

// --- routes ---

export const INCIDENT_ROUTES = {
  fileComplaint: route('POST', '/api/complaints', {
    summary: 'A resident files a complaint (12345); the token in the reply is the receipt, shown once',
    querystring: noQuery,
    body: z.strictObject({
      category,
      ...point,
      /** WeChat and map apps in China report GCJ-02 (or BD-09); the hub stores WGS-84. */
      crs: z.enum(CRS).optional(),
      description: z.string().max(4000).optional(),
      name: z.string().max(64).optional(),
      phone: z.string().max(32).optional(),
      priority,
    }),
    response: { 201: z.object({ id: z.string(), token: z.string(), gridCode: z.string(), state: z.string(), resolveBy: epochMs }) },
  }),
  complaintStatus: route('GET', '/api/complaints/:id/status', {
    summary: "A complaint's state, rating and times, for its receipt token",
    params: idParams,
    querystring: z.strictObject({ token: receipt }),
    response: {
      200: z.object({
        id: z.string(),
        state: z.string(),
        version: z.number().int(),
        category: z.string(),
        rating: z.enum(['satisfied', 'unsatisfied']).nullable(),
        ratingScore: z.number().int().nullable(),
        createdAt: epochMs,
        resolvedAt: epochMs.nullable(),
        resolveBy: epochMs,
      }),
    },
  }),
  rateComplaint: route('POST', '/api/complaints/:id/rating', {
    summary: 'The resident rates the handling: 1–2 reopen the case, 3–5 verify and close it',
    params: idParams,
    querystring: noQuery,
    body: z.strictObject({ token: receipt, score: z.number().int().min(1).max(5), comment: z.string().max(400).optional() }),
    response: {
      200: z.object({
        id: z.string(),
        state: z.string(),
        version: z.number().int(),
        rating: z.enum(['satisfied', 'unsatisfied']).nullable(),
      }),
    },
  }),
  listIncidents: route('GET', '/api/incidents', {
    summary: "Incidents in the caller's area, newest first",
    querystring: z.strictObject({
      /** Comma-separated states. */
      state: z.string().max(200).optional(),
      category: z.string().max(64).optional(),
      grid: z.string().max(64).optional(),
      overdue: queryFlag.optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    response: { 200: z.object({ items: z.array(incidentViewSchema) }) },
  }),
  incidentDetail: route('GET', '/api/incidents/:id', {
    summary: 'One incident with its audit log, its offers ("why this worker") and how its assignee is reached',
    params: idParams,
    querystring: noQuery,
    response: { 200: incidentDetailViewSchema },
  }),
  registerIncident: route('POST', '/api/incidents', {
    summary: 'An operator registers a case by hand, in their area',
    querystring: noQuery,
    body: z.strictObject({ category, ...point, description: z.string().max(4000).optional(), priority }),
    response: { 201: incidentReply },
  }),
  actOnIncident: route('POST', '/api/incidents/:id/actions', {
    summary: "An operator acts on a case, or records the assignee's answer on their behalf (accept_for …); 409 on a stale version",
    params: idParams,
    querystring: noQuery,
    body: incidentActionBodySchema,
    response: { 200: incidentReply },
  }),
  listAlarms: route('GET', '/api/alarms', {
    summary: "Open overdue alarms in the caller's area",
    querystring: noQuery,
    response: { 200: z.object({ items: z.array(alarmViewSchema) }) },
  }),
  ackAlarm: route('POST', '/api/alarms/:id/ack', {
    summary: 'Acknowledge an alarm',
    params: z.strictObject({ id: z.coerce.number().int().min(1) }),
    querystring: noQuery,
    response: { 200: z.object({ alarm: alarmViewSchema }) },
  }),
  listCategories: route('GET', '/api/categories', {
    summary: 'The SLA table: minutes to accept, arrive and resolve per category and priority',
    querystring: noQuery,
    response: { 200: z.object({ items: z.array(slaCategorySchema) }) },
  }),
  putCategory: route('PUT', '/api/categories/:code', {
    summary: 'Replace one row of the SLA table (422 CATEGORY_INVALID when accept ≤ arrive ≤ resolve does not hold)',
    params: z.strictObject({ code: category }),
    querystring: noQuery,
    body: categoryPutBodySchema,
    response: { 200: z.object({ category: slaCategorySchema }) },
  }),
} as const;
