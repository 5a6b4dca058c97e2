// /api/devices (issue 15 §1): admins write, everyone signed in reads the devices of their scope.
// Request schemas are the zod ones of protocol/device-api.ts, plugged in through fastify's
// validator compiler for this plugin only (its documented seam), so validation and types come
// from one declaration. The role is checked in onRequest, before any body is read (issue 16:
// a refusal must not depend on the body).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';
import {
  deviceCreateSchema, deviceListQuerySchema, deviceParamsSchema, devicePatchSchema,
  type DeviceCreate, type DeviceDetailReply, type DeviceListQuery, type DeviceListReply, type DevicePatch, type DeviceSecretReply,
} from '../../protocol/device-api.js';
import type { Metrics } from '../../common/metrics.js';
import { ALL_SCOPE } from '../auth/region-scope.js';
import { AppError, DEVICE_ERRORS, errorEnvelope, userMessage } from '../../common/error-codes.js';
import type { Actor, DeviceRegistry } from './device-registry.js';

export interface DeviceRouteOptions {
  registry: DeviceRegistry;
  metrics: Metrics;
}

/** The caller as the registry sees them. With auth off (no user) the hub trusts its network. */
function actorOf(req: FastifyRequest): Actor {
  const user = req.viewer?.user ?? null;
  return { id: user?.id ?? 'anonymous', role: user?.role ?? null, scope: req.viewer?.scope ?? ALL_SCOPE };
}

// Every route states its query string (none here but the list's) so an unknown parameter is refused,
// and its access class for the hub's route policy (hub/auth/route-policy.ts): reads cut to the
// caller's area, writes for admins in their area.
const noQuery = z.object({}).strict();
const id = { params: deviceParamsSchema, querystring: noQuery };
const read = { access: 'read' } as const;
const admin = { access: 'admin' } as const;

export async function deviceRoutes(app: FastifyInstance, opts: DeviceRouteOptions): Promise<void> {
  const { registry, metrics } = opts;

  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const r = (schema as ZodType).safeParse(data);
    if (r.success) return { value: r.data };
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    return { error: Object.assign(new Error(issues.join('; ')), { issues }) };
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; issues?: string[]; validationContext?: string }, req, reply: FastifyReply) => {
    // Only the registry's device codes are answered here; the rest (auth, rate limit) go to the hub's handler.
    if (err instanceof AppError && err.code in DEVICE_ERRORS) {
      metrics.inc('devices_refused_total', { reason: err.code });
      return reply.status(err.statusCode).send(errorEnvelope(err.code, err.details));
    }
    if (err.code === 'FST_ERR_VALIDATION') {
      metrics.inc('devices_refused_total', { reason: 'DEVICE_INVALID' });
      req.log.warn({ url: req.url, issues: err.issues }, 'device request refused');
      const issues = (err.issues ?? [err.message]).map((i) => `${err.validationContext ?? ''} ${i}`.trim());
      // The reasons in the message too: a form shows the message as it comes.
      return reply.status(422).send({ ok: false, error: { code: 'DEVICE_INVALID', message: `${userMessage('DEVICE_INVALID')}: ${issues.join('; ')}` }, issues });
    }
    throw err; // the hub's handler: one envelope, 5xx without internals
  });

  // Writes take an admin (the route policy says so too, where the hub installs it); the auth plugin
  // has already turned away viewers and anonymous callers.
  app.addHook('onRequest', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const user = req.viewer?.user ?? null;
    if (user !== null && user.role !== 'admin') throw new AppError('DEVICE_ADMIN_ONLY');
  });

  app.get<{ Querystring: DeviceListQuery }>('/api/devices', { config: { ...read, areaParam: 'grid' }, schema: { querystring: deviceListQuerySchema } }, async (req): Promise<DeviceListReply> => {
    const { total, items } = await registry.list(req.query, actorOf(req).scope);
    return { serverTime: new Date().toISOString(), total, items };
  });

  app.get<{ Params: { id: string } }>('/api/devices/:id', { config: read, schema: id }, async (req): Promise<DeviceDetailReply> => {
    const found = await registry.get(req.params.id, actorOf(req).scope);
    if (!found) throw new AppError('DEVICE_NOT_FOUND', { id: req.params.id });
    return found;
  });

  app.post<{ Body: DeviceCreate }>('/api/devices', { bodyLimit: 16 * 1024, config: { ...admin, body: 'form' }, schema: { querystring: noQuery, body: deviceCreateSchema } }, async (req, reply): Promise<DeviceSecretReply> => {
    const created = await registry.create(req.body, actorOf(req));
    // The secret is shown this once: never cached by a proxy or the browser.
    void reply.status(201).header('cache-control', 'no-store');
    return created;
  });

  app.patch<{ Params: { id: string }; Body: DevicePatch }>('/api/devices/:id', { bodyLimit: 16 * 1024, config: { ...admin, body: 'form' }, schema: { ...id, body: devicePatchSchema } }, async (req) =>
    registry.update(req.params.id, req.body, actorOf(req)),
  );

  app.delete<{ Params: { id: string } }>('/api/devices/:id', { config: { ...admin, body: 'none' }, schema: id }, async (req) => {
    await registry.remove(req.params.id, actorOf(req));
    return { ok: true, id: req.params.id };
  });

  app.post<{ Params: { id: string } }>('/api/devices/:id/secret', { config: { ...admin, body: 'none' }, schema: id }, async (req, reply): Promise<DeviceSecretReply> => {
    const rotated = await registry.rotate(req.params.id, actorOf(req));
    void reply.header('cache-control', 'no-store');
    return rotated;
  });
}
