// The dispatch HTTP API (issue 3): residents file complaints (12345) and rate; operators list,
// inspect and act on incidents, acknowledge alarms and edit the category/SLA table. Each route's
// path, query, body and replies come from the contract (protocol/incident-api.ts, issue 17 item 4);
// errors from the one registry (common/error-codes.ts), whose codes carry their HTTP status. A
// screen only lists what its user's scope covers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { AppError } from '../../common/error-codes.js';
import { incidentView, recordFromRow } from './incident-record.js';
import { alarmFromRow, offerFromRow } from './incident-store.js';
import { alarmView, DispatchFailure, type DispatchService } from './dispatch-service.js';
import type { Actor } from './incident-state-machine.js';
import type { ActionInput } from './dispatch-plan.js';
import { saveCategory } from './category-store.js';
import { hashToken } from './dispatch-intake.js';
import { slaCategorySchema } from './sla-policy.js';
import { toWgs84 } from '../../common/crs.js';
import { areaOf } from '../auth/request-area.js';
import { isOnBehalfAction } from '../../protocol/incident-actions.js';
import { INCIDENT_ROUTES as R } from '../../protocol/incident-api.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';

/** The state machine's refusal, as the registry answers it (status by code). */
function asAppError(err: unknown): unknown {
  if (err instanceof DispatchFailure) return new AppError(err.error.code);
  return err;
}

/** Who acts, for the audit log: the signed-in user, or 'operator' with auth off. */
function actorId(req: FastifyRequest): string {
  const v = (req as FastifyRequest & { viewer?: { user: { id: string } | null } | null }).viewer;
  return v?.user?.id ?? 'operator';
}

// Residents: no session, the receipt token is the key; operators: their area (hub/auth/request-area.ts).
const resident = { access: 'public' } as const;

export async function incidentRoutes(fastify: FastifyInstance, opts: { pool: pg.Pool; dispatch: DispatchService }): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { pool, dispatch } = opts;
  const { intake, actions } = dispatch;
  const { config } = dispatch.deps;

  // The resident endpoints are public: a flood gets 429 (rate limiter registered in http-server.ts).
  const residentLimit = { ...resident, rateLimit: { max: config.COMPLAINTS_PER_MIN, timeWindow: 60_000 } };

  app.route({
    ...R.fileComplaint,
    config: residentLimit,
    handler: async (req, reply) => {
      // WeChat and map apps in China report GCJ-02 (or Baidu's BD-09); we store WGS-84 (DESIGN §3).
      const { crs, ...body } = req.body;
      const [lon, lat] = toWgs84(body.lon, body.lat, crs);
      const { incident, token } = await intake.fileComplaint({ ...body, lat, lon }).catch((e) => Promise.reject(asAppError(e)));
      // The token is the resident's receipt: shown once, needed to follow and rate the case.
      return reply
        .status(201)
        .send({ id: incident.id, token, gridCode: incident.gridCode, state: incident.state, resolveBy: incident.resolveBy });
    },
  });

  app.route({
    ...R.complaintStatus,
    config: residentLimit,
    handler: async (req) => {
      const r = await pool.query('SELECT * FROM incidents WHERE id = $1', [req.params.id]);
      const x = r.rows[0] ? recordFromRow(r.rows[0]) : null;
      if (!x?.reporterTokenHash) throw new AppError('INCIDENT_NOT_FOUND');
      if (hashToken(req.query.token) !== x.reporterTokenHash) throw new AppError('BAD_RECEIPT');
      return {
        id: x.id,
        state: x.state,
        version: x.version,
        category: x.category,
        rating: x.rating,
        ratingScore: x.ratingScore,
        createdAt: x.createdAt,
        resolvedAt: x.resolvedAt,
        resolveBy: x.resolveBy,
      };
    },
  });

  app.route({
    ...R.rateComplaint,
    config: residentLimit,
    handler: async (req) => {
      const x = await actions
        .rate(req.params.id, req.body.token, req.body.score, req.body.comment)
        .catch((e) => Promise.reject(asAppError(e)));
      return { id: x.id, state: x.state, version: x.version, rating: x.rating };
    },
  });

  app.route({
    ...R.listIncidents,
    config: { access: 'read', areaParam: 'grid' },
    handler: async (req) => {
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
      if (req.query.overdue !== undefined)
        where.push(req.query.overdue ? `cardinality(overdue_stages) > 0` : `cardinality(overdue_stages) = 0`);
      p.push(req.query.limit);
      const r = await pool.query(`SELECT * FROM incidents WHERE ${where.join(' AND ')} ORDER BY created_at DESC LIMIT $${p.length}`, p);
      return { items: r.rows.map((row) => incidentView(recordFromRow(row))) };
    },
  });

  app.route({
    ...R.incidentDetail,
    config: { access: 'read', target: 'incident' },
    handler: async (req) => {
      const p: unknown[] = [req.params.id];
      const r = await pool.query(`SELECT * FROM incidents WHERE id = $1 AND ${areaOf(req).sql('grid_code', p)}`, p);
      if (!r.rows[0]) throw new AppError('INCIDENT_NOT_FOUND');
      const x = recordFromRow(r.rows[0]);
      const audit = await pool.query('SELECT * FROM incident_audit WHERE incident_id = $1 ORDER BY version', [x.id]);
      const offers = await pool.query('SELECT * FROM incident_offers WHERE incident_id = $1 ORDER BY offered_at', [x.id]);
      return {
        incident: {
          ...incidentView(x),
          description: x.description,
          photos: x.photos,
          reopenCount: x.reopenCount,
          ratingScore: x.ratingScore,
          acceptedAt: x.acceptedAt,
          arrivedAt: x.arrivedAt,
          resolvedAt: x.resolvedAt,
          closedAt: x.closedAt,
        },
        audit: audit.rows.map((a) => ({
          version: a.version,
          at: a.at.getTime(),
          actorKind: a.actor_kind,
          actorId: a.actor_id,
          actorRole: a.actor_role ?? null,
          action: a.action,
          fromState: a.from_state,
          toState: a.to_state,
          reason: a.reason,
          detail: a.detail,
        })),
        offers: offers.rows.map((o) => {
          const x2 = offerFromRow(o);
          return {
            ...x2,
            answeredAt: o.answered_at ? o.answered_at.getTime() : null,
            publishedAt: o.published_at ? o.published_at.getTime() : null,
          };
        }),
        assigneeReach: x.assigneeId ? dispatch.roster.reachOf(x.assigneeId) : null,
      };
    },
  });

  app.route({
    ...R.registerIncident,
    config: { access: 'operate' },
    handler: async (req, reply) => {
      // An operator registers cases in the area it answers for; the owning grid decides.
      const area = areaOf(req);
      if (!area.all && !area.covers(dispatch.gridLocator().locate(req.body.lon, req.body.lat).gridCode)) throw new AppError('OUT_OF_SCOPE');
      const x = await intake.operatorReport(actorId(req), req.body).catch((e) => Promise.reject(asAppError(e)));
      return reply.status(201).send({ incident: incidentView(x) });
    },
  });

  // An operator acts as themselves, or records the assignee's answer on their behalf when the
  // assignee's handset cannot answer (accept_for …, decision 013): the same version check, the same
  // state machine, the operator in the audit with the worker in `onBehalfOf`. The contract's schema
  // has already refused a workerId with the wrong kind of action (400).
  app.route({
    ...R.actOnIncident,
    config: { access: 'operate', target: 'incident' },
    handler: async (req) => {
      const body = req.body;
      const actor: Actor = { kind: 'operator', id: actorId(req) };
      const x =
        isOnBehalfAction(body.type) && body.workerId !== undefined
          ? await actions
              .actFor(req.params.id, { ...body, type: body.type, workerId: body.workerId }, actor)
              .catch((e) => Promise.reject(asAppError(e)))
          : await actions
              .act(req.params.id, body as ActionInput & { expectedVersion: number }, actor)
              .catch((e) => Promise.reject(asAppError(e)));
      return { incident: incidentView(x) };
    },
  });

  app.route({
    ...R.listAlarms,
    config: { access: 'read' },
    handler: async (req) => {
      const p: unknown[] = [];
      const r = await pool.query(
        `SELECT a.*, i.grid_code FROM incident_alarms a JOIN incidents i ON i.id = a.incident_id
          WHERE a.acknowledged_at IS NULL AND ${areaOf(req).sql('i.grid_code', p)}
          ORDER BY a.raised_at DESC LIMIT 500`,
        p,
      );
      return { items: r.rows.map((row) => alarmView(alarmFromRow(row), row.grid_code)) };
    },
  });

  app.route({
    ...R.ackAlarm,
    config: { access: 'operate', target: 'alarm', body: 'none' },
    handler: async (req) => {
      const row = await actions.acknowledgeAlarm(req.params.id, actorId(req));
      const g = await pool.query('SELECT grid_code FROM incidents WHERE id = $1', [row.incidentId]);
      const view = alarmView(row, g.rows[0]?.grid_code ?? '');
      dispatch.deps.notify.alarm(view);
      return { alarm: view };
    },
  });

  app.route({ ...R.listCategories, config: { access: 'read' }, handler: async () => ({ items: [...dispatch.categories] }) });

  // The SLA table is the whole hub's: an admin of the whole tree, refused before the body is read.
  // accept ≤ arrive ≤ resolve is judged here on the whole row, so it answers 422 CATEGORY_INVALID.
  app.route({
    ...R.putCategory,
    config: { access: 'system' },
    handler: async (req) => {
      const body = req.body;
      const parsed =
        body.code !== undefined && body.code !== req.params.code
          ? slaCategorySchema.safeParse({ ...body, code: `${req.params.code} ≠ ${body.code}` })
          : slaCategorySchema.safeParse({ ...body, code: req.params.code });
      if (!parsed.success)
        throw new AppError('CATEGORY_INVALID', { detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      await saveCategory(pool, parsed.data);
      await dispatch.reload();
      return { category: parsed.data };
    },
  });
}
