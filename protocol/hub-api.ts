// The hub's own HTTP routes as zod (issue 17 item 4): login, logout and who the page is; the
// page's settings; the live snapshot a screen starts from (the Socket.IO snapshot's shape); the
// dead letters. Served by hub/auth/auth-plugin.ts and hub/http/http-server.ts.
import { z } from 'zod';
import { epochMs, isoTime, noQuery, okReply, route } from './http-contract.js';
import { deviceProtocolSchema } from './device-api.js';
import { alarmViewSchema, incidentViewSchema } from './incident-api.js';

export const USER_ROLES = ['admin', 'operator', 'viewer'] as const;

/** A signed-in user as the page sees them (never a password hash or a session token). */
export const publicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(USER_ROLES),
  scope: z.string(),
  scopeName: z.string().nullable(),
  scopeLevel: z.string().nullable(),
});

export const workerLiveSchema = z.object({
  workerId: z.string(),
  deviceId: z.string(),
  name: z.string(),
  role: z.string(),
  gridCode: z.string().nullable(),
  /** Last fix, WGS-84. Null until the first fix arrives. */
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  /** Fix time, epoch ms. */
  ts: epochMs.nullable(),
  battery: z.number().nullable(),
  duty: z.enum(['on', 'off']),
  online: z.boolean(),
  /** Seconds the handset's clock ran ahead of the hub's at its last live location message (0: right; null: unknown). */
  clockAheadS: z.number().nullable().optional(),
  /** How the worker's handset talks to the hub (the worker card shows it); from the device registry. */
  protocol: deviceProtocolSchema.optional(),
});

export const alertViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceKind: z.string(),
  type: z.string(),
  severity: z.string().nullable(),
  ts: epochMs,
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  gridCode: z.string().nullable(),
});

export const liveSnapshotSchema = z.object({
  serverTime: epochMs,
  workers: z.array(workerLiveSchema),
  alerts: z.array(alertViewSchema),
  /** Open incidents (and those closed in the last hour). */
  incidents: z.array(incidentViewSchema),
  /** Alarms not yet acknowledged. */
  alarms: z.array(alarmViewSchema),
});

export const HUB_ROUTES = {
  login: route('POST', '/api/auth/login', {
    summary: 'Sign in (10 attempts a minute per address); sets the session cookie, and returns the token with `bearer: true`',
    querystring: noQuery,
    body: z.strictObject({
      username: z.string().min(1).max(64),
      password: z.string().min(1).max(256),
      /** Tools ask for the token in the reply (then sent as `Authorization: Bearer`); the page does not. */
      bearer: z.boolean().optional(),
    }),
    response: { 200: z.object({ user: publicUserSchema, expiresAt: epochMs, token: z.string().optional() }) },
  }),
  logout: route('POST', '/api/auth/logout', {
    summary: 'End the session and clear its cookie',
    querystring: noQuery,
    response: { 200: okReply },
  }),
  me: route('GET', '/api/auth/me', {
    summary: 'Who the page is: `user` null means anonymous (only with login off)',
    querystring: noQuery,
    response: { 200: z.object({ authRequired: z.boolean(), user: publicUserSchema.nullable(), expiresAt: epochMs.nullable() }) },
  }),
  config: route('GET', '/api/config', {
    summary: "The page's settings: the base map's tile server",
    querystring: noQuery,
    response: { 200: z.object({ tileUrl: z.string().nullable(), tileAttribution: z.string().nullable() }) },
  }),
  live: route('GET', '/api/live', {
    summary: "The live snapshot, cut to the caller's scope (the Socket.IO `snapshot` event's shape)",
    querystring: noQuery,
    response: { 200: liveSnapshotSchema },
  }),
  deadLetters: route('GET', '/api/dead-letters', {
    summary: 'The newest dead letters of the whole hub (payload preview: 512 bytes)',
    querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    response: {
      200: z.object({
        items: z.array(
          z.object({
            // bigserial: node-postgres hands it over as text.
            id: z.union([z.string(), z.number()]),
            received_at: isoTime,
            topic: z.string().nullable(),
            device_id: z.string().nullable(),
            reason: z.string(),
            size: z.number().int(),
            preview: z.string().nullable(),
          }),
        ),
      }),
    },
  }),
  docs: route('GET', '/api/docs', {
    summary: 'This list of routes as a page (no script; the document itself is openapi.json)',
    querystring: noQuery,
    response: { 200: z.string() },
  }),
  openApi: route('GET', '/api/docs/openapi.json', {
    summary: 'The OpenAPI 3.1 document of every /api route, generated from this contract',
    querystring: noQuery,
    response: {
      200: z.object({
        openapi: z.string(),
        info: z.object({ title: z.string(), version: z.string(), description: z.string() }),
        paths: z.record(z.string(), z.record(z.string(), z.unknown())),
      }),
    },
  }),
} as const;
