// The dispatch HTTP API (issue 3): residents file complaints (12345) and rate; operators list,
// inspect and act on incidents, acknowledge alarms and edit the category/SLA table. Schemas on every
// route; errors through the one registry (common/error-codes.ts). A screen only lists what its
// user's scope covers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { AppError, type ErrorCode } from '../../common/error-codes.js';
import { incidentView, recordFromRow } from './incident-record.js';
import { alarmFromRow, offerFromRow } from './incident-store.js';
import { alarmView, DispatchFailure, type DispatchService } from './dispatch-service.js';
import type { Actor } from './incident-state-machine.js';
import type { ActionInput } from './dispatch-plan.js';
import { saveCategory } from './category-store.js';
import { hashToken } from './dispatch-intake.js';
import { slaCategorySchema } from './sla-policy.js';
import { PRIORITIES } from '../../protocol/incident-vocabulary.js';
import { CRS } from '../../protocol/schemas.js';
import { toWgs84 } from '../../common/crs.js';
import type { IncidentDetailView } from '../../protocol/http-api.js';
import { areaOf } from '../auth/request-area.js';
import { z } from 'zod';
import { incidentActionBodySchema, isOnBehalfAction, type IncidentActionBody } from '../../protocol/incident-actions.js';

type Crs = (typeof CRS)[number];

const point = { lat: { type: 'number', minimum: -90, maximum: 90 }, lon: { type: 'number', minimum: -180, maximum: 180 } };
const category = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z_]+(\\.[a-z_]+)*$' };
const STATUS: Partial<Record<ErrorCode, number>> = { ACTOR_NOT_ALLOWED: 403, NOT_ASSIGNEE: 403, NOT_REPORTER: 403, SELF_VERIFICATION: 403, REASON_REQUIRED: 422 };

function asAppError(err: unknown): unknown {
  if (err instanceof DispatchFailure) return new AppError(err.error.code, STATUS[err.error.code] ?? 409);
  return err;
}

/** Who acts, for the audit log: the signed-in user, or 'operator' with auth off. */
function actorId(req: FastifyRequest): string {
  const v = (req as FastifyRequest & { viewer?: { user: { id: string } | null } | null }).viewer;
  return v?.user?.id ?? 'operator';
}

// PUT /api/categories/:code takes the SLA row's zod schema as its body schema (the code comes
// from the URL, a `code` in the body must match it); accept ≤ arrive ≤ resolve is a refinement
// JSON Schema cannot say, so zod judges the whole row again in the handler (422).
const { $schema: _meta, ...categoryBodySchema } = z.toJSONSchema(slaCategorySchema.partial({ code: true }), { target: 'draft-7' });
const { $schema: _meta2, ...actionBodySchema } = z.toJSONSchema(incidentActionBodySchema, { target: 'draft-7' });

const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
// Residents: no session, the receipt token is the key; operators: their area (hub/auth/request-area.ts).
const resident = { access: 'public' } as const;

export async function incidentRoutes(app: FastifyInstance, opts: { pool: pg.Pool; dispatch: DispatchService }): Promise<void> {
  const { pool, dispatch } = opts;
  const { intake, actions } = dispatch;
  const { config } = dispatch.deps;

  // The resident endpoints are public: a flood gets 429 (rate limiter registered in http-server.ts).
  const residentLimit = { ...resident, rateLimit: { max: config.COMPLAINTS_PER_MIN, timeWindow: 60_000 } };

  app.post<{ Body: { category: string; description?: string; lat: number; lon: number; crs?: Crs; name?: string; phone?: string; priority?: (typeof PRIORITIES)[number] } }>(
    '/api/complaints',
    {
      config: residentLimit,
      schema: {
        querystring: emptyQuery,
        body: {
          type: 'object', required: ['category', 'lat', 'lon'], additionalProperties: false,
          properties: { category, ...point, crs: { type: 'string', enum: [...CRS] }, description: { type: 'string', maxLength: 4000 }, name: { type: 'string', maxLength: 64 }, phone: { type: 'string', maxLength: 32 }, priority: { type: 'string', enum: [...PRIORITIES] } },
        },
      },
    },
    async (req, reply) => {
      // WeChat and map apps in China report GCJ-02 (or Baidu's BD-09); we store WGS-84 (DESIGN §3).
      const { crs, ...body } = req.body;
      const [lon, lat] = toWgs84(body.lon, body.lat, crs);
      const { incident, token } = await intake.fileComplaint({ ...body, lat, lon }).catch((e) => Promise.reject(asAppError(e)));
      void reply.status(201);
      // The token is the resident's receipt: shown once, needed to follow and rate the case.
      return { id: incident.id, token, gridCode: incident.gridCode, state: incident.state, resolveBy: incident.resolveBy };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { token: string } }>(
    '/api/complaints/:id/status',
    { config: residentLimit, schema: { params: idParams, querystring: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 8, maxLength: 200 } } } } },
    async (req) => {
      const r = await pool.query('SELECT * FROM incidents WHERE id = $1', [req.params.id]);
      const x = r.rows[0] ? recordFromRow(r.rows[0]) : null;
      if (!x || !x.reporterTokenHash) throw new AppError('INCIDENT_NOT_FOUND', 404);
      if (hashToken(req.query.token) !== x.reporterTokenHash) throw new AppError('BAD_RECEIPT', 403);
      return { id: x.id, state: x.state, version: x.version, category: x.category, rating: x.rating, ratingScore: x.ratingScore, createdAt: x.createdAt, resolvedAt: x.resolvedAt, resolveBy: x.resolveBy };
    },
  );

  app.post<{ Params: { id: string }; Body: { token: string; score: number; comment?: string } }>(
    '/api/complaints/:id/rating',
    {
      config: residentLimit,
      schema: {
        params: idParams,
        querystring: emptyQuery,
        body: {
          type: 'object', required: ['token', 'score'], additionalProperties: false,
          properties: { token: { type: 'string', minLength: 8, maxLength: 200 }, score: { type: 'integer', minimum: 1, maximum: 5 }, comment: { type: 'string', maxLength: 400 } },
        },
      },
    },
    async (req) => {
      const x = await actions.rate(req.params.id, req.body.token, req.body.score, req.body.comment).catch((e) => Promise.reject(asAppError(e)));
      return { id: x.id, state: x.state, version: x.version, rating: x.rating };
    },
  );

  app.get<{ Querystring: { state?: string; category?: string; grid?: string; overdue?: boolean; limit?: number } }>(
    '/api/incidents',
    {
      config: { access: 'read', areaParam: 'grid' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', maxLength: 200 }, category: { type: 'string', maxLength: 64 }, grid: { type: 'string', maxLength: 64 },
            overdue: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
          },
        },
      },
    },
    async (req) => {
      const p: unknown[] = [];
      const where = [areaOf(req).sql('grid_code', p)];
      if (req.query.state) {
        p.push(req.query.state.split(','));
        where.push(`state = ANY($${p.length})`);
      }
      if (req.query.category) {
        p.push(req.query.category);
        where.push(`category = $${p.length}`);
      }
      if (req.query.grid) {
        p.push(req.query.grid);
        where.push(`grid_code = $${p.length}`);
      }
      if (req.query.overdue !== undefined) where.push(req.query.overdue ? `cardinality(overdue_stages) > 0` : `cardinality(overdue_stages) = 0`);
      p.push(req.query.limit ?? 200);
      const r = await pool.query(`SELECT * FROM incidents WHERE ${where.join(' AND ')} ORDER BY created_at DESC LIMIT $${p.length}`, p);
      return { items: r.rows.map((row) => incidentView(recordFromRow(row))) };
    },
  );

  app.get<{ Params: { id: string } }>('/api/incidents/:id', { config: { access: 'read', target: 'incident' }, schema: { params: idParams, querystring: emptyQuery } }, async (req) => {
    const p: unknown[] = [req.params.id];
    const r = await pool.query(`SELECT * FROM incidents WHERE id = $1 AND ${areaOf(req).sql('grid_code', p)}`, p);
    if (!r.rows[0]) throw new AppError('INCIDENT_NOT_FOUND', 404);
    const x = recordFromRow(r.rows[0]);
    const audit = await pool.query('SELECT * FROM incident_audit WHERE incident_id = $1 ORDER BY version', [x.id]);
    const offers = await pool.query('SELECT * FROM incident_offers WHERE incident_id = $1 ORDER BY offered_at', [x.id]);
    return {
      incident: { ...incidentView(x), description: x.description, photos: x.photos, reopenCount: x.reopenCount, ratingScore: x.ratingScore, acceptedAt: x.acceptedAt, arrivedAt: x.arrivedAt, resolvedAt: x.resolvedAt, closedAt: x.closedAt },
      audit: audit.rows.map((a) => ({
        version: a.version, at: a.at.getTime(), actorKind: a.actor_kind, actorId: a.actor_id, actorRole: a.actor_role ?? null,
        action: a.action, fromState: a.from_state, toState: a.to_state, reason: a.reason, detail: a.detail,
      })),
      offers: offers.rows.map((o) => {
        const x2 = offerFromRow(o);
        return { ...x2, answeredAt: o.answered_at ? o.answered_at.getTime() : null, publishedAt: o.published_at ? o.published_at.getTime() : null };
      }),
      assigneeReach: x.assigneeId ? dispatch.roster.reachOf(x.assigneeId) : null,
    } satisfies IncidentDetailView;
  });

  app.post<{ Body: { category: string; description?: string; lat: number; lon: number; priority?: (typeof PRIORITIES)[number] } }>(
    '/api/incidents',
    {
      config: { access: 'operate' },
      schema: {
        querystring: emptyQuery,
        body: {
          type: 'object', required: ['category', 'lat', 'lon'], additionalProperties: false,
          properties: { category, ...point, description: { type: 'string', maxLength: 4000 }, priority: { type: 'string', enum: [...PRIORITIES] } },
        },
      },
    },
    async (req, reply) => {
      // An operator registers cases in the area it answers for; the owning grid decides.
      const area = areaOf(req);
      if (!area.all && !area.covers(dispatch.gridLocator().locate(req.body.lon, req.body.lat).gridCode)) throw new AppError('OUT_OF_SCOPE', 403);
      const x = await intake.operatorReport(actorId(req), req.body).catch((e) => Promise.reject(asAppError(e)));
      void reply.status(201);
      return { incident: incidentView(x) };
    },
  );

  // An operator acts as themselves, or records the assignee's answer on their behalf when the
  // assignee's handset cannot answer (accept_for …, decision 013): the same version check, the same
  // state machine, the operator in the audit with the worker in `onBehalfOf`.
  app.post<{ Params: { id: string }; Body: IncidentActionBody }>(
    '/api/incidents/:id/actions',
    {
      config: { access: 'operate', target: 'incident' },
      schema: { params: idParams, querystring: emptyQuery, body: actionBodySchema },
    },
    async (req) => {
      const parsed = incidentActionBodySchema.safeParse(req.body);
      // What JSON Schema could not say (workerId exactly with the on-behalf actions): refused as a schema miss.
      if (!parsed.success) throw Object.assign(new Error(`body/${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`), { statusCode: 400, code: 'FST_ERR_VALIDATION', validationContext: 'body' });
      const body = parsed.data;
      const actor: Actor = { kind: 'operator', id: actorId(req) };
      const x = isOnBehalfAction(body.type) && body.workerId !== undefined
        ? await actions.actFor(req.params.id, { ...body, type: body.type, workerId: body.workerId }, actor).catch((e) => Promise.reject(asAppError(e)))
        : await actions.act(req.params.id, body as ActionInput & { expectedVersion: number }, actor).catch((e) => Promise.reject(asAppError(e)));
      return { incident: incidentView(x) };
    },
  );

  app.get('/api/alarms', { config: { access: 'read' }, schema: { querystring: emptyQuery } }, async (req) => {
    const p: unknown[] = [];
    const r = await pool.query(
      `SELECT a.*, i.grid_code FROM incident_alarms a JOIN incidents i ON i.id = a.incident_id
        WHERE a.acknowledged_at IS NULL AND ${areaOf(req).sql('i.grid_code', p)}
        ORDER BY a.raised_at DESC LIMIT 500`,
      p,
    );
    return { items: r.rows.map((row) => alarmView(alarmFromRow(row), row.grid_code)) };
  });

  app.post<{ Params: { id: number } }>(
    '/api/alarms/:id/ack',
    {
      config: { access: 'operate', target: 'alarm', body: 'none' },
      schema: { params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'integer', minimum: 1 } } }, querystring: emptyQuery },
    },
    async (req) => {
      const row = await actions.acknowledgeAlarm(req.params.id, actorId(req));
      const g = await pool.query('SELECT grid_code FROM incidents WHERE id = $1', [row.incidentId]);
      const view = alarmView(row, g.rows[0]?.grid_code ?? '');
      dispatch.deps.notify.alarm(view);
      return { alarm: view };
    },
  );

  app.get('/api/categories', { config: { access: 'read' }, schema: { querystring: emptyQuery } }, async () => ({ items: dispatch.categories }));

  // The SLA table is the whole hub's: an admin of the whole tree, refused before the body is read.
  app.put<{ Params: { code: string }; Body: unknown }>('/api/categories/:code', {
    config: { access: 'system' },
    schema: { params: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: category } }, querystring: emptyQuery, body: categoryBodySchema },
  }, async (req) => {
    const body = req.body as { code?: string };
    const parsed = body.code !== undefined && body.code !== req.params.code
      ? slaCategorySchema.safeParse({ ...body, code: `${req.params.code} ≠ ${body.code}` })
      : slaCategorySchema.safeParse({ ...body, code: req.params.code });
    if (!parsed.success) throw Object.assign(new AppError('CATEGORY_INVALID', 422), { detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    await saveCategory(pool, parsed.data);
    await dispatch.reload();
    return { category: parsed.data };
  });
}
