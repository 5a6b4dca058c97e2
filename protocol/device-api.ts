// The device registry's HTTP contract (issue 15 §1): request and reply schemas of /api/devices,
// used by the hub's routes (validation), the CLI (CSV rows go through the same schema) and the
// command screen (types). Types are inferred here, never re-declared.
import { z } from 'zod';
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from './topics.js';
import { noQuery, route } from './http-contract.js';

export const DEVICE_PROTOCOLS = ['native', 'owntracks', 'jt808'] as const;
export type DeviceProtocol = (typeof DEVICE_PROTOCOLS)[number];

/** What the hub tells the broker after a registry change (system.ts wires it). */
export type DeviceChange = 'updated' | 'disabled' | 'deleted' | 'secret';

export const deviceKindSchema = z.enum(DEVICE_KINDS);
export const deviceProtocolSchema = z.enum(DEVICE_PROTOCOLS);
export const deviceIdSchema = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'letters, digits, "_", "." or "-", at most 64, starting with a letter or digit');

const optionalText = (max: number) => z.string().trim().min(1).max(max).nullable().optional();
const regionCode = z.string().trim().min(1).max(64);
const workerId = z.string().trim().min(1).max(128);

/** JT/T 808 terminal number: 12 BCD digits (2013) or up to 20 (2019); leading zeros kept. */
export const JT808_TERMINAL_PATTERN = /^\d{1,20}$/;
/** OwnTracks publishes `owntracks/{user}/{device}`: the pair, with no MQTT separators or wildcards. */
export const OWNTRACKS_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.-]{1,64}$/;

/** Why a protocol identity does not fit its protocol; null when it fits. */
export function protocolIdProblem(protocol: DeviceProtocol, protocolId: string | null | undefined, kind?: string): string | null {
  if (protocol === 'native') return protocolId ? 'protocolId is only for owntracks or jt808 devices' : null;
  if (protocol === 'jt808')
    return protocolId && JT808_TERMINAL_PATTERN.test(protocolId)
      ? null
      : 'a jt808 device needs its terminal number (1–20 digits) as protocolId';
  if (kind !== undefined && kind !== 'handset') return 'an owntracks device is a handset (a phone)';
  return protocolId == null || OWNTRACKS_ID_PATTERN.test(protocolId)
    ? null
    : 'an owntracks protocolId is "user/device" as the app publishes it';
}

const fields = {
  kind: deviceKindSchema,
  protocol: deviceProtocolSchema,
  protocolId: z.string().trim().min(1).max(128).nullable().optional(),
  name: optionalText(100),
  workerId: workerId.nullable().optional(),
  gridCode: regionCode.nullable().optional(),
  lat: z.number().min(-90).max(90).nullable().optional(),
  lon: z.number().min(-180).max(180).nullable().optional(),
  model: optionalText(100),
  firmware: optionalText(100),
  enabled: z.boolean().optional(),
};

/** A fixed device's position comes as lat and lon together or not at all. */
function positionPair(v: { lat?: number | null | undefined; lon?: number | null | undefined }, ctx: z.RefinementCtx): void {
  if ((v.lat == null) !== (v.lon == null)) ctx.addIssue({ code: 'custom', path: ['lat'], message: 'lat and lon come together' });
}

/** POST /api/devices (and each CSV row). Without `id` the hub makes one from the kind. */
export const deviceCreateSchema = z
  .object({ id: deviceIdSchema.optional(), ...fields, protocol: deviceProtocolSchema.default('native') })
  .strict()
  .superRefine((v, ctx) => {
    positionPair(v, ctx);
    const problem = protocolIdProblem(v.protocol, v.protocolId, v.kind);
    if (problem) ctx.addIssue({ code: 'custom', path: ['protocolId'], message: problem });
  });
export type DeviceCreate = z.infer<typeof deviceCreateSchema>;

/** PATCH /api/devices/:id: any of the fields; the protocol rule is checked on the merged device. */
export const devicePatchSchema = z
  .object({ ...fields })
  .partial()
  .strict()
  .superRefine((v, ctx) => {
    if (Object.keys(v).length === 0) ctx.addIssue({ code: 'custom', message: 'nothing to change' });
    if ('lat' in v !== 'lon' in v) ctx.addIssue({ code: 'custom', path: ['lat'], message: 'lat and lon come together' });
    else positionPair(v, ctx);
  });
export type DevicePatch = z.infer<typeof devicePatchSchema>;

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** GET /api/devices?kind=&protocol=&online=&enabled=&grid=&q=&limit=&offset= */
export const deviceListQuerySchema = z
  .object({
    kind: deviceKindSchema.optional(),
    protocol: deviceProtocolSchema.optional(),
    online: flag.optional(),
    enabled: flag.optional(),
    /** A region code: devices whose grid (or whose worker's grid) lies under it. */
    grid: regionCode.optional(),
    /** Part of the id or name. */
    q: z.string().trim().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(20_000).default(5000),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export type DeviceListQuery = z.infer<typeof deviceListQuerySchema>;

export const deviceParamsSchema = z.object({ id: deviceIdSchema }).strict();

const iso = z.string();

export const deviceViewSchema = z.object({
  id: z.string(),
  kind: deviceKindSchema,
  protocol: deviceProtocolSchema,
  protocolId: z.string().nullable(),
  name: z.string().nullable(),
  enabled: z.boolean(),
  workerId: z.string().nullable(),
  workerName: z.string().nullable(),
  /** The grid the device hangs in (fixed devices), as stored. */
  gridCode: z.string().nullable(),
  /** The grid it counts under: its own, else its worker's first (scope and the grid filter use all). */
  areaCode: z.string().nullable(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  createdAt: iso,
  updatedAt: iso,
  lastSeen: iso.nullable(),
  online: z.boolean(),
  lastFix: z.object({ lat: z.number(), lon: z.number(), ts: iso }).nullable(),
  /** 'scrypt' until the device's first connect after the upgrade rewrites its row (issue 14). */
  secretForm: z.enum(['hmac', 'scrypt']),
  secretChangedAt: iso.nullable(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const DEVICE_AUDIT_ACTIONS = ['create', 'update', 'enable', 'disable', 'delete', 'rotate_secret', 'import'] as const;

export const deviceAuditEntrySchema = z.object({
  at: iso,
  actor: z.string(),
  actorRole: z.string().nullable(),
  action: z.enum(DEVICE_AUDIT_ACTIONS),
  /** field → [before, after]; a secret change shows as `secret: ["(old)", "(new)"]`, never a value. */
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])),
});
export type DeviceAuditEntry = z.infer<typeof deviceAuditEntrySchema>;

export const deviceListReplySchema = z.object({ serverTime: iso, total: z.number().int(), items: z.array(deviceViewSchema) });
export type DeviceListReply = z.infer<typeof deviceListReplySchema>;

export const deviceDetailReplySchema = z.object({ device: deviceViewSchema, audit: z.array(deviceAuditEntrySchema) });
export type DeviceDetailReply = z.infer<typeof deviceDetailReplySchema>;

/** POST /api/devices and POST /api/devices/:id/secret: the secret, shown this once. */
export const deviceSecretReplySchema = z.object({ device: deviceViewSchema, secret: z.string() });
export type DeviceSecretReply = z.infer<typeof deviceSecretReplySchema>;

// --- routes (issue 17 item 4): served by hub/devices/device-routes.ts; refusals 422 DEVICE_INVALID with `issues` ---

const byId = { params: deviceParamsSchema, querystring: noQuery };

export const DEVICE_ROUTES = {
  listDevices: route('GET', '/api/devices', {
    summary: "Devices in the caller's area; `grid` takes any region under it",
    querystring: deviceListQuerySchema,
    response: { 200: deviceListReplySchema },
  }),
  device: route('GET', '/api/devices/:id', { summary: 'One device and its audit', ...byId, response: { 200: deviceDetailReplySchema } }),
  createDevice: route('POST', '/api/devices', {
    summary: 'Register a device; the secret is in the reply this once (cache-control: no-store)',
    querystring: noQuery,
    body: deviceCreateSchema,
    response: { 201: deviceSecretReplySchema },
  }),
  patchDevice: route('PATCH', '/api/devices/:id', {
    summary: 'Change a device; disabling closes its connection within a second',
    ...byId,
    body: devicePatchSchema,
    response: { 200: deviceViewSchema },
  }),
  deleteDevice: route('DELETE', '/api/devices/:id', {
    summary: 'Delete a device and close its connection; the audit stays',
    ...byId,
    response: { 200: z.object({ ok: z.literal(true), id: z.string() }) },
  }),
  rotateSecret: route('POST', '/api/devices/:id/secret', {
    summary: 'A new secret; the old one and its connection are gone',
    ...byId,
    response: { 200: deviceSecretReplySchema },
  }),
} as const;
