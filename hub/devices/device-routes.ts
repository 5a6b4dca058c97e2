// /api/devices (issue 15 §1): admins write, everyone signed in reads the devices of their scope.
// Paths, requests and replies are the contract's (protocol/device-api.ts DEVICE_ROUTES, issue 17
// item 4), so validation, types and the OpenAPI document come from one declaration. The role is checked in onRequest, before any body is read (issue 16:
// a refusal must not depend on the body).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_ROUTES as R } from '../../protocol/device-api.js';
import type { Metrics } from '../../common/metrics.js';
import { ALL_SCOPE } from '../auth/region-scope.js';
import { AppError, DEVICE_ERRORS, errorEnvelope, userMessage } from '../../common/error-codes.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
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

// Reads cut to the caller's area, writes for admins in their area (hub/auth/route-policy.ts).
const read = { access: 'read' } as const;
const admin = { access: 'admin' } as const;

export async function deviceRoutes(fastify: FastifyInstance, opts: DeviceRouteOptions): Promise<void> {
  const { registry, metrics } = opts;
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; issues?: string[]; validationContext?: string }, req, reply: FastifyReply) => {
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
        return reply.status(422).send({
          ok: false,
          error: { code: 'DEVICE_INVALID', message: `${userMessage('DEVICE_INVALID')}: ${issues.join('; ')}` },
          issues,
        });
      }
      throw err; // the hub's handler: one envelope, 5xx without internals
    },
  );

  // Writes take an admin (the route policy says so too, where the hub installs it); the auth plugin
  // has already turned away viewers and anonymous callers.
  app.addHook('onRequest', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const user = req.viewer?.user ?? null;
    if (user !== null && user.role !== 'admin') throw new AppError('DEVICE_ADMIN_ONLY');
  });

  app.route({
    ...R.listDevices,
    config: { ...read, areaParam: 'grid' },
    handler: async (req) => {
      const { total, items } = await registry.list(req.query, actorOf(req).scope);
      return { serverTime: new Date().toISOString(), total, items };
    },
  });

  app.route({
    ...R.device,
    config: read,
    handler: async (req) => {
      const found = await registry.get(req.params.id, actorOf(req).scope);
      if (!found) throw new AppError('DEVICE_NOT_FOUND', { id: req.params.id });
      return found;
    },
  });

  app.route({
    ...R.createDevice,
    bodyLimit: 16 * 1024,
    config: { ...admin, body: 'form' },
    handler: async (req, reply) => {
      const created = await registry.create(req.body, actorOf(req));
      // The secret is shown this once: never cached by a proxy or the browser.
      return reply.status(201).header('cache-control', 'no-store').send(created);
    },
  });

  app.route({
    ...R.patchDevice,
    bodyLimit: 16 * 1024,
    config: { ...admin, body: 'form' },
    handler: async (req) => registry.update(req.params.id, req.body, actorOf(req)),
  });

  app.route({
    ...R.deleteDevice,
    config: { ...admin, body: 'none' },
    handler: async (req) => {
      await registry.remove(req.params.id, actorOf(req));
      return { ok: true as const, id: req.params.id };
    },
  });

  app.route({
    ...R.rotateSecret,
    config: { ...admin, body: 'none' },
    handler: async (req, reply) => {
      const rotated = await registry.rotate(req.params.id, actorOf(req));
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  });
}
