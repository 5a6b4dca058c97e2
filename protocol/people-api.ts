// The people HTTP API as zod (issue 17 item 4): the workers in the caller's area with their live
// position and load, one worker, an operator's duty change, and the roster imported in bulk.
// Served by hub/people/worker-routes.ts.
import { z } from 'zod';
import { idParams, isoTime, noQuery, regionCode, route } from './http-contract.js';
import { workerRoleSchema } from './worker-roles.js';

export const DUTIES = ['on', 'off'] as const;
export const dutySchema = z.enum(DUTIES);

/** A worker as the people routes answer it: the roster's row with its live position and load. */
export const workerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: workerRoleSchema,
  gridCodes: z.array(z.string()),
  categories: z.array(z.string()),
  duty: dutySchema,
  dutySince: isoTime.nullable(),
  online: z.boolean(),
  deviceId: z.string().nullable(),
  position: z.object({ lat: z.number(), lon: z.number(), ts: isoTime, ageMs: z.number(), battery: z.number().nullable() }).nullable(),
  /** Open cases the worker carries (the states dispatch counts). */
  load: z.number(),
});
export type WorkerView = z.infer<typeof workerViewSchema>;

/** One worker of PUT /api/workers. */
export const workerInputSchema = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(200),
  role: workerRoleSchema,
  gridCodes: z.array(regionCode).max(1000).default([]),
  categories: z.array(z.string().min(1).max(64)).max(200).default(['*']),
});

export const PEOPLE_ROUTES = {
  listWorkers: route('GET', '/api/workers', {
    summary: "Workers in the caller's area (a worker belongs to its first grid), with live position and load",
    querystring: z.strictObject({ grid: regionCode.optional(), role: workerRoleSchema.optional(), duty: dutySchema.optional() }),
    response: { 200: z.object({ serverTime: isoTime, workers: z.array(workerViewSchema) }) },
  }),
  worker: route('GET', '/api/workers/:id', {
    summary: 'One worker',
    params: idParams,
    querystring: noQuery,
    response: { 200: workerViewSchema },
  }),
  setDuty: route('PUT', '/api/workers/:id/duty', {
    summary: "An operator puts a worker on or off duty (counted as a report of each of the worker's handsets)",
    params: idParams,
    querystring: noQuery,
    body: z.strictObject({ duty: dutySchema }),
    response: { 200: z.object({ ok: z.literal(true), id: z.string(), duty: dutySchema, dutySince: isoTime, changed: z.boolean() }) },
  }),
  importWorkers: route('PUT', '/api/workers', {
    summary: 'Create or update workers in bulk (the roster); 422 WORKERS_INVALID with the problems, nothing changed',
    querystring: noQuery,
    body: z.strictObject({ workers: z.array(workerInputSchema).min(1).max(50_000) }),
    response: { 200: z.object({ ok: z.literal(true), created: z.number().int(), updated: z.number().int() }) },
  }),
} as const;
