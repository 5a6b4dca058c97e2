// Login and the guard in front of /api/* (issue 4, item 6; issue 16 item 0). Installed on the root
// instance (not an encapsulated plugin) so its onRequest hook covers every route registered after it.
// Who may call a route is the route's own declaration (`config.access`, route-policy.ts): checked
// here, in onRequest, before the body is read; the area checks run next (request-area.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HUB_ROUTES as R } from '../../protocol/hub-api.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
import { AppError } from '../../common/error-codes.js';
import { SESSION_COOKIE, tokenFrom, type AuthService, type Viewer } from './auth-service.js';
import { areaFor, NO_AREA, type Area } from './request-area.js';
import type { Access } from './route-policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /api request; null on public routes with no session. */
    viewer: Viewer | null;
  }
}

/** Why a signed-in viewer may not call a route of this access, or null when it may. */
export function roleRefusal(access: Access, viewer: Viewer, area: Area): AppError | null {
  const role = viewer.user?.role ?? null;
  // Anonymous with AUTH_REQUIRED=false: the all-seeing screen of a development hub.
  if (role === null || access === 'public' || access === 'read') return null;
  if (access === 'system' || access === 'admin') {
    if (role !== 'admin') return new AppError('ACTOR_NOT_ALLOWED');
    if (access === 'admin') return null;
    // A street's admin does not replace the district's region tree or SLA table.
    return area.whole() ? null : new AppError('OUT_OF_SCOPE');
  }
  // Viewers watch; changing anything (acknowledging an alarm, dispatching) takes an operator.
  return role === 'viewer' ? new AppError('READ_ONLY') : null;
}

/** Login attempts a minute per client address. */
export const LOGIN_PER_MIN = 10;

// Secure when the request came over TLS: directly, or through a proxy the hub trusts
// (TRUST_PROXY, then X-Forwarded-Proto decides req.protocol).
function sessionCookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/**
 * Register with `await app.register(authPlugin, { auth })` before any /api route. It skips
 * fastify's encapsulation (what fastify-plugin does), so the guard covers the whole app.
 */
export async function authPlugin(app: FastifyInstance, opts: { auth: AuthService }): Promise<void> {
  const { auth } = opts;
  app.decorateRequest('viewer', null);

  app.decorateRequest('area', null);

  app.addHook('onRequest', async (req: FastifyRequest) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith('/api/')) return;
    const viewer = await auth.identify(tokenFrom(req.headers));
    req.viewer = viewer;
    req.area = viewer === null ? NO_AREA : areaFor(viewer.scope, auth.scopes);
    // An unknown /api path (a 404, or the static files' wildcard) needs a session like any other,
    // so its 404 tells strangers nothing; a route without a declaration (only in apps built
    // without the route policy) is hub-wide.
    const route = req.routeOptions.url;
    const access: Access = req.is404 || !route?.startsWith('/api/') ? 'read' : (req.routeOptions.config.access ?? 'system');
    if (access === 'public') return;
    if (viewer === null) throw new AppError('UNAUTHENTICATED');
    const refusal = roleRefusal(access, viewer, req.area);
    if (refusal) throw refusal;
  });

  // The auth routes come from the contract (protocol/hub-api.ts); this plugin shares the root
  // instance (skip-override), so the zod compilers installed there by http-server.ts apply.
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.route({
    ...R.login,
    // Password guessing: a handful of tries a minute per address (the limiter lives in
    // http-server.ts; behind a proxy the address is the client's only with TRUST_PROXY set).
    config: { access: 'public', rateLimit: { max: LOGIN_PER_MIN, timeWindow: 60_000 } },
    handler: async (req, reply) => {
      const user = await auth.users.verify(req.body.username, req.body.password);
      if (!user) throw new AppError('BAD_CREDENTIALS');
      const session = await auth.users.createSession(user.id, auth.ttlMs);
      void reply.header('set-cookie', sessionCookie(req, session.token, Math.floor(auth.ttlMs / 1000)));
      return { user, expiresAt: session.expiresAt, ...(req.body.bearer === true ? { token: session.token } : {}) };
    },
  });

  r.route({
    ...R.logout,
    config: { access: 'public', body: 'none' },
    handler: async (req, reply) => {
      const token = tokenFrom(req.headers);
      if (token !== null) await auth.endSession(token);
      void reply.header('set-cookie', sessionCookie(req, '', 0));
      return { ok: true as const };
    },
  });

  /** Who the page is: `user` null means anonymous (only possible with auth off). */
  r.route({
    ...R.me,
    config: { access: 'public' },
    handler: async (req) => {
      const v = req.viewer;
      return { authRequired: auth.settings.required, user: v?.user ?? null, expiresAt: v?.expiresAt ?? null };
    },
  });
}

Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });

/** For route handlers: the scope the request may see (ALL_SCOPE when auth is off and anonymous). */
export function requestScope(req: FastifyRequest): string | null {
  return req.viewer?.scope ?? null;
}
