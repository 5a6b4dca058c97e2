// The OwnTracks HTTP routes as zod (issue 17 item 4): the app's POST in HTTP mode (mode 3, Basic
// auth with the device's id and secret) and the setup link an admin makes for one phone. Served by
// gateways/owntracks/owntracks-http.ts. Kept apart from owntracks-config.ts, which the command
// screen bundles and which must carry no zod.
import { z } from 'zod';
import { noQuery, route } from './http-contract.js';
import type { OwnTracksSetup, OwnTracksSetupDefaults } from './owntracks-config.js';
import { OWNTRACKS_NAME_PATTERN } from './owntracks-topics.js';
import { DEVICE_ID_PATTERN } from './topics.js';

/** POST /api/owntracks/setup. Types meet owntracks-config.ts's OwnTracksSetup (checked by `satisfies`). */
export const ownTracksSetupBodySchema = z
  .object({
    deviceId: z.string().regex(DEVICE_ID_PATTERN),
    secret: z.string().min(1).max(256),
    mode: z.enum(['mqtt', 'http']).default('mqtt'),
    host: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or address')
      .optional(),
    port: z.number().int().min(1).max(65535).optional(),
    tls: z.boolean().optional(),
    url: z.string().url().max(500).optional(),
    appDevice: z.string().regex(OWNTRACKS_NAME_PATTERN).optional(),
    tid: z.string().trim().min(1).max(2).optional(),
    monitoring: z.union([z.literal(-1), z.literal(0), z.literal(1), z.literal(2)]).optional(),
    locatorInterval: z.number().int().min(5).max(3600).optional(),
  })
  .strict() satisfies z.ZodType<OwnTracksSetup>;

export const ownTracksSetupDefaultsSchema = z.object({
  mqtt: z.object({ host: z.string(), port: z.number().int().nullable(), tls: z.boolean() }),
  http: z.object({ url: z.string() }),
  appDevice: z.string(),
}) satisfies z.ZodType<OwnTracksSetupDefaults>;

export const OWNTRACKS_ROUTES = {
  post: route('POST', '/api/owntracks', {
    summary:
      "The OwnTracks app's POST in HTTP mode (Basic auth: device id and secret); the body is kept as bytes and judged by the translation",
    querystring: z.strictObject({ u: z.string().max(64).optional(), d: z.string().max(64).optional() }),
    body: z.unknown(),
    /** Always an empty list: the hub sends the app no cards or commands. */
    response: { 200: z.array(z.unknown()) },
  }),
  setupDefaults: route('GET', '/api/owntracks/setup', {
    summary: 'What the page needs to build a setup link without sending the secret anywhere',
    querystring: noQuery,
    response: { 200: ownTracksSetupDefaultsSchema },
  }),
  setup: route('POST', '/api/owntracks/setup', {
    summary: "One phone's setup: the OwnTracks configuration, its owntracks:/// link and the QR code as SVG (cache-control: no-store)",
    querystring: noQuery,
    body: ownTracksSetupBodySchema,
    response: { 200: z.object({ configuration: z.record(z.string(), z.unknown()), link: z.string(), svg: z.string() }) },
  }),
} as const;
