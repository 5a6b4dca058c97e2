// Payload schemas of the wire contract v1 (DESIGN §3). Types are inferred from these, never re-declared.
// Fields may be added freely by devices (passthrough); none is renamed.
import { z } from 'zod';
import { prioritySchema } from './incident-vocabulary.js';

/** Largest payload the hub accepts on any topic; the broker's packet limit sits a little above. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Largest store-and-forward batch of fixes in one message. */
export const MAX_FIXES_PER_BATCH = 2000;

/** ISO-8601 string or epoch milliseconds, turned into epoch ms. Rejects nonsense years. */
export const timestamp = z.union([z.number().finite(), z.string().min(10).max(40)]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  // 2000-01-01 .. 2100-01-01: a handset with a dead RTC reports 1970; we refuse, not guess.
  if (!Number.isFinite(ms) || ms < 946684800000 || ms > 4102444800000) {
    ctx.addIssue({ code: 'custom', message: 'ts must be ISO-8601 or epoch milliseconds between 2000 and 2100' });
    return z.NEVER;
  }
  return Math.trunc(ms);
});

export const CRS = ['wgs84', 'gcj02', 'bd09'] as const;
export type Crs = (typeof CRS)[number];

export const fixSchema = z
  .object({
    ts: timestamp,
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    acc: z.number().min(0).max(100000).optional(),
    alt: z.number().min(-1000).max(20000).optional(),
    speed: z.number().min(0).max(1000).optional(),
    heading: z.number().min(0).max(360).optional(),
    battery: z.number().min(0).max(100).optional(),
    crs: z.enum(CRS).optional(),
    seq: z.number().int().nonnegative().optional(),
  })
  .passthrough();
export type Fix = z.infer<typeof fixSchema>;

/** The location topic carries one fix or a store-and-forward batch. */
export const locationSchema = z.union([z.object({ fixes: z.array(fixSchema).min(1).max(MAX_FIXES_PER_BATCH) }).passthrough(), fixSchema]);
export type LocationPayload = z.infer<typeof locationSchema>;

export const statusSchema = z
  .object({
    ts: timestamp,
    duty: z.enum(['on', 'off']),
    battery: z.number().min(0).max(100).optional(),
  })
  .passthrough();
export type StatusPayload = z.infer<typeof statusSchema>;

export const presenceSchema = z.object({ online: z.boolean(), ts: timestamp }).passthrough();
export type PresencePayload = z.infer<typeof presenceSchema>;

export const ALERT_TYPES = [
  'door.forced',
  'door.held_open',
  'door.stranger',
  'door.tailgating',
  'door.tamper',
  'camera.intrusion',
  'camera.smoke',
  'camera.fire',
  'camera.crowd',
  'camera.fall',
  'camera.garbage',
  'camera.parking',
] as const;

export const alertSchema = z
  .object({
    ts: timestamp,
    // Known types above; other `door.*` / `camera.*` types are accepted so new firmware is not refused.
    // `handset.*`: a handset's own alarms (handset.sos, handset.power_cut, …; gateways/jt808).
    type: z.string().regex(/^(door|camera|handset|sensor)\.[a-z_]{2,40}$/),
    eventId: z.string().min(1).max(128).optional(),
    severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
    confidence: z.number().min(0).max(1).optional(),
    snapshot: z.string().max(2048).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
export type AlertPayload = z.infer<typeof alertSchema>;

/** A grid worker's own patrol report from the handset: becomes an incident. */
export const reportSchema = z
  .object({
    ts: timestamp,
    reportId: z.string().min(1).max(128).optional(),
    category: z.string().min(1).max(64),
    description: z.string().max(4000).optional(),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    crs: z.enum(CRS).optional(),
    photos: z.array(z.string().max(2048)).max(20).optional(),
    priority: prioritySchema.optional(),
  })
  .passthrough();
export type ReportPayload = z.infer<typeof reportSchema>;

/** hub → handset on `tasks`. */
export const taskMessageSchema = z
  .object({
    ts: timestamp,
    kind: z.enum(['offer', 'update', 'cancel']),
    taskId: z.string(),
    incidentId: z.string(),
    category: z.string().optional(),
    title: z.string().optional(),
    lat: z.number().optional(),
    lon: z.number().optional(),
    acceptBy: timestamp.optional(),
    note: z.string().optional(),
  })
  .passthrough();
export type TaskMessage = z.infer<typeof taskMessageSchema>;

/** handset → hub on `task-replies`. */
export const taskReplySchema = z
  .object({
    ts: timestamp,
    taskId: z.string().min(1).max(128),
    reply: z.enum(['accept', 'decline', 'arrived', 'resolved']),
    note: z.string().max(4000).optional(),
    reason: z.string().max(500).optional(),
  })
  .passthrough();
export type TaskReplyPayload = z.infer<typeof taskReplySchema>;

/** Schema per upstream channel: the one table the hub validates against. */
export const UPSTREAM_SCHEMAS = {
  location: locationSchema,
  status: statusSchema,
  presence: presenceSchema,
  events: alertSchema,
  reports: reportSchema,
  'task-replies': taskReplySchema,
} as const;
