// Login and the guard in front of /api/* (issue 4, item 6). Installed on the root instance (not
// an encapsulated plugin) so its onRequest hook covers every route registered after it.
// Public: /api/auth/*, /api/config, the resident endpoints (POST /api/complaints and
// /api/complaints/:id/*), /health, /metrics, and the static page itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/error-codes.js';
import { SESSION_COOKIE, tokenFrom, type AuthService, type Viewer } from './auth-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /api request; null on public routes with no session. */
    viewer: Viewer | null;
  }
}

function isPublic(method: string, path: string): boolean {
  if (!path.startsWith('/api/')) return true; // /health, /metrics, the page and its assets
  if (path.startsWith('/api/auth/') || path === '/api/config') return true;
  if (path === '/api/complaints') return method === 'POST';
  return /^\/api\/complaints\/[^/]+\/.+/.test(path);
}

interface LoginBody {
  username: string;
  password: string;
  /** Tools ask for the token in the reply (then sent as `Authorization: Bearer`); the page does not. */
  bearer?: boolean;
}

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

  app.addHook('onRequest', async (req: FastifyRequest) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (!path.startsWith('/api/')) return;
    const viewer = await auth.identify(tokenFrom(req.headers));
    req.viewer = viewer;
    if (isPublic(req.method, path)) return;
    if (viewer === null) throw new AppError('UNAUTHENTICATED', 401);
    // Viewers watch; changing anything (acknowledging an alarm, dispatching) takes an operator.
    if (viewer.user?.role === 'viewer' && req.method !== 'GET' && req.method !== 'HEAD') throw new AppError('READ_ONLY', 403);
  });

  app.post<{ Body: LoginBody }>(
    '/api/auth/login',
    {
      // Password guessing: a handful of tries a minute per address (the limiter lives in http-server.ts).
      config: { rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
            bearer: { type: 'boolean' },
          },
        },
      },
    },
    async (req, reply) => {
      const user = await auth.users.verify(req.body.username, req.body.password);
      if (!user) throw new AppError('BAD_CREDENTIALS', 401);
      const session = await auth.users.createSession(user.id, auth.ttlMs);
      void reply.header('set-cookie', sessionCookie(req, session.token, Math.floor(auth.ttlMs / 1000)));
      return { user, expiresAt: session.expiresAt, ...(req.body.bearer === true ? { token: session.token } : {}) };
    },
  );

  app.post('/api/auth/logout', async (req: FastifyRequest, reply: FastifyReply) => {
    const token = tokenFrom(req.headers);
    if (token !== null) await auth.endSession(token);
    void reply.header('set-cookie', sessionCookie(req, '', 0));
    return { ok: true };
  });

  /** Who the page is: `user` null means anonymous (only possible with auth off). */
  app.get('/api/auth/me', async (req: FastifyRequest) => {
    const v = req.viewer;
    return { authRequired: auth.settings.required, user: v?.user ?? null, expiresAt: v?.expiresAt ?? null };
  });
}

Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });

/** For route handlers: the scope the request may see (ALL_SCOPE when auth is off and anonymous). */
export function requestScope(req: FastifyRequest): string | null {
  return req.viewer?.scope ?? null;
}
