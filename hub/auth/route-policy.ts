// Every /api route declares, where it is registered, who may call it (`config.access`), how large
// its body may be (`config.body`), what its `:id` names (`config.target`) and which query
// parameter names a region (`config.areaParam`), and carries schemas for its query string, its
// path parameters and its body. The hub checks the declaration when the route is registered
// (fastify's onRoute hook) and keeps what is missing in its route table: the route walk test
// (tests/hub/auth/route-walk.test.ts) fails on any gap, and the hub logs it at start. A route that
// forgets its access gets the rule from before it had one (GET: any signed-in user; else
// operators), so a route under construction does not stop everyone's hub (issue 16 items 0, 10).
// The role is checked in the auth plugin's onRequest hook and the area in the route's own
// onRequest hooks installed here: both before the body is read, so a refusal never depends on it.
import type { FastifyRequest, RouteOptions } from 'fastify';
import type pg from 'pg';
import { areaParamHook, targetHook, type TargetKind } from './request-area.js';

/**
 * public: no session (login, the page's config, residents' complaints with their receipt);
 * read: any signed-in user, answers cut to the user's area; operate: operators and admins, on
 * things in their area; admin: admins, on things in their area (the device registry); system:
 * hub-wide settings and diagnostics (the region tree, bulk worker import, the SLA table, dead
 * letters): an admin whose area is the whole tree.
 */
export const ACCESS = ['public', 'read', 'operate', 'admin', 'system'] as const;
export type Access = (typeof ACCESS)[number];

/**
 * Body size per route class, in bytes. `none`: the route takes no body (`{}` from the page is
 * accepted); `form`: one object typed by hand (the longest, a complaint's 4,000-character
 * description, is ~24 KiB as \u escapes); `bulk`: a worker roster (3,400 workers ≈ 0.7 MiB);
 * `geojson`: a city's region tree with detailed polygons.
 */
export const BODY_LIMITS = { none: 256, form: 64 * 1024, bulk: 16 * 1024 * 1024, geojson: 64 * 1024 * 1024 } as const;
export type BodyClass = keyof typeof BODY_LIMITS;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Default: `none` for GET and HEAD, `form` for the rest. */
    body?: BodyClass;
    /** What the route's `:id` names; a thing outside the caller's area answers 404. */
    target?: TargetKind;
    /** A query parameter holding a region code; a region outside the caller's area answers 403. */
    areaParam?: string;
  }
}

type Hook = (req: FastifyRequest) => Promise<void>;

function append<T>(existing: T | T[] | undefined, hook: T): T[] {
  return existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
}

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null || body === '') return true;
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0;
}

/** A body-less route given a body: refused like a schema miss. */
const noBody = async (req: FastifyRequest): Promise<void> => {
  if (!isEmptyBody(req.body))
    throw Object.assign(new Error('body must be empty'), { statusCode: 400, code: 'FST_ERR_VALIDATION', validationContext: 'body' });
};

/** A registered /api route as declared: what the route walk test (tests/hub/http) enumerates. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  /** What the route forgot to declare; empty when it is complete. */
  problems: string[];
  body: BodyClass;
  bodyLimit: number;
  target?: TargetKind;
  areaParam?: string;
  /** The route's schemas as registered (zod from the contract): what the OpenAPI document is made of. */
  schema?: RouteOptions['schema'];
}

const tables = new WeakMap<object, RouteEntry[]>();

/** Every /api route registered on an app built with the policy, in registration order. */
export function apiRoutesOf(app: object): readonly RouteEntry[] {
  return tables.get(app) ?? [];
}

/**
 * The onRoute hook. `pool` answers the target lookups; `guarded` is false when the app has no
 * login service (every caller sees everything), and then no area hooks are installed.
 */
export function routePolicy(
  app: object,
  deps: { pool: Pick<pg.Pool, 'query'>; guarded: boolean; warn?: (msg: string) => void },
): (route: RouteOptions) => void {
  const table: RouteEntry[] = [];
  tables.set(app, table);
  return (route) => {
    if (!route.url.startsWith('/api/')) return;
    const methods = [route.method].flat().map((m) => String(m).toUpperCase());
    const problems: string[] = [];
    const config = (route.config ??= {});
    const writes = methods.some((m) => m !== 'GET' && m !== 'HEAD');
    if (config.access === undefined || !ACCESS.includes(config.access)) {
      problems.push(`config.access (one of ${ACCESS.join(', ')})`);
      config.access = writes ? 'operate' : 'read';
    }
    const schema = (route.schema ?? {}) as Record<
      string,
      { additionalProperties?: unknown; safeParse?: unknown; def?: { catchall?: { def?: { type?: string } } } } | undefined
    >;
    // Unknown parameters are refused, not stripped: a typo is an error, not a no-op.
    const q = schema.querystring;
    // A zod object refuses unknown keys when it is strict (its catchall is `never`): z.strictObject().
    const strict =
      q !== undefined && (typeof q.safeParse === 'function' ? q.def?.catchall?.def?.type === 'never' : q.additionalProperties === false);
    if (!strict) problems.push('schema.querystring with additionalProperties: false');
    if (route.url.includes(':') && schema.params === undefined) problems.push('schema.params');
    // The reply is declared too (issue 17 item 4): the OpenAPI document and the reply check read it.
    const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
    if (response === undefined || !Object.keys(response).some((k) => k.startsWith('2'))) problems.push('schema.response (a 2xx reply)');
    let cls: BodyClass = config.body ?? (writes ? 'form' : 'none');
    if (!(cls in BODY_LIMITS)) {
      problems.push(`config.body (one of ${Object.keys(BODY_LIMITS).join(', ')})`);
      cls = 'form';
    }
    if (writes && cls !== 'none' && schema.body === undefined) problems.push('schema.body (or config.body: "none")');
    if (config.target !== undefined && !route.url.includes(':id')) problems.push('an :id parameter for config.target');
    if (problems.length > 0)
      deps.warn?.(`${methods.join(',')} ${route.url} does not declare ${problems.join(', ')} (hub/auth/route-policy.ts)`);
    route.bodyLimit ??= BODY_LIMITS[cls];
    for (const method of methods) {
      table.push({
        method,
        url: route.url,
        access: config.access,
        problems,
        body: cls,
        bodyLimit: route.bodyLimit,
        target: config.target,
        areaParam: config.areaParam,
        schema: route.schema,
      });
    }
    if (writes && cls === 'none') route.preValidation = append(route.preValidation, noBody as never);

    if (!deps.guarded) return;
    const hooks: Hook[] = [];
    if (config.target !== undefined) hooks.push(targetHook(deps.pool, config.target));
    if (config.areaParam !== undefined) hooks.push(areaParamHook(config.areaParam));
    for (const h of hooks) route.onRequest = append(route.onRequest, h as never);
  };
}
